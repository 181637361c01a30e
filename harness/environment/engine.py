"""Which Docker engine the harness talks to, and how this machine reaches what it publishes.

The engine is found as the Docker CLI finds it, in this order:

1. ``DOCKER_HOST`` (``unix:///var/run/docker.sock``, ``tcp://HOST:PORT``, ``ssh://USER@HOST``,
   ``npipe://...``); ``DOCKER_TLS_VERIFY`` / ``DOCKER_CERT_PATH`` apply to ``tcp://`` as usual;
2. the current docker context: ``DOCKER_CONTEXT``, else ``currentContext`` of
   ``$DOCKER_CONFIG/config.json`` (default ``~/.docker``), read from
   ``contexts/meta/<sha256(name)>/meta.json`` (``Endpoints.docker.Host``) with its TLS files in
   ``contexts/tls/<sha256(name)>/docker/`` when there are any; the context ``default`` is the
   local socket;
3. the local socket ``unix:///var/run/docker.sock``.

An engine reached over ``unix://`` / ``npipe://`` / ``fd://`` is *local*: its containers'
processes and network namespaces are on this machine, and its published ports are bound to
127.0.0.1 and dialled there, as always. Any other engine is *remote*, even at ``tcp://127.0.0.1``
(the harness cannot tell a forwarded socket from another machine): a port bound to the remote's
loopback cannot be reached from here, so published ports are bound on ``0.0.0.0`` of the
engine's host (or on ``HARNESS_PUBLISH_IP`` when set) and dialled at the engine's host name
(the ``HOST`` of ``tcp://HOST:PORT`` or ``ssh://USER@HOST``; ``HARNESS_PUBLISH_IP`` when it
names one address). That widens who can reach the stack under test, which
:meth:`Engine.exposure_note` says in one line for the journal and ``--dry-run``.

Resolution reads environment variables and files only; it never connects. Bad input is one
line (:class:`EngineConfigError`, exit 2) naming the variable or file.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from harness.errors import ExitCode, HarnessError

DEFAULT_HOST = "unix:///var/run/docker.sock"
"""The local engine's socket, when neither ``DOCKER_HOST`` nor a context names another."""

LOCAL_SCHEMES = ("unix", "npipe", "fd")
"""``DOCKER_HOST`` schemes of an engine on this machine."""

REMOTE_SCHEMES = ("tcp", "ssh", "http", "https")
"""``DOCKER_HOST`` schemes of an engine reached over the network (possibly another machine)."""

LOOPBACK_IP = "127.0.0.1"
"""Where a local engine's published ports are bound and dialled."""

WILDCARD_IP = "0.0.0.0"
"""Where a remote engine's published ports are bound unless ``HARNESS_PUBLISH_IP`` says otherwise."""

PUBLISH_IP_ENV = "HARNESS_PUBLISH_IP"
"""Environment variable: the address of the engine's host that published ports are bound to
with a remote engine (an IP address; ignored for a local engine, which always uses loopback)."""


class EngineConfigError(HarnessError):
    """``DOCKER_HOST``, the docker context or ``HARNESS_PUBLISH_IP`` is unusable; one line naming
    the variable or file. Raised before anything is started (exit 2)."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Engine:
    """The Docker engine of a run.

    Attributes:
        host: its address in ``DOCKER_HOST`` form, e.g. ``unix:///var/run/docker.sock``,
            ``tcp://10.0.0.5:2376``, ``ssh://ops@build-7``.
        source: where it came from, for messages: ``"DOCKER_HOST"``, ``"docker context 'x'"``
            or ``"default socket"``.
        tls_dir: a context's TLS directory (``ca.pem``, ``cert.pem``, ``key.pem``), or None
            (``DOCKER_HOST`` takes its TLS from ``DOCKER_TLS_VERIFY`` / ``DOCKER_CERT_PATH``).
        skip_tls_verify: the context's ``SkipTLSVerify``.
        publish_ip_override: ``HARNESS_PUBLISH_IP``, validated, or None.
    """

    host: str
    source: str = "default socket"
    tls_dir: str | None = None
    skip_tls_verify: bool = False
    publish_ip_override: str | None = None

    @property
    def scheme(self) -> str:
        """The URL scheme of :attr:`host` (``unix``, ``tcp``, ``ssh``...)."""
        return urlsplit(self.host).scheme

    @property
    def local(self) -> bool:
        """True when the engine runs on this machine (a ``unix://``, ``npipe://`` or ``fd://`` socket)."""
        return self.scheme in LOCAL_SCHEMES

    @property
    def publish_ip(self) -> str:
        """The host address published ports are bound to: 127.0.0.1 for a local engine;
        ``HARNESS_PUBLISH_IP`` or 0.0.0.0 for a remote one."""
        if self.local:
            return LOOPBACK_IP
        return self.publish_ip_override or WILDCARD_IP

    @property
    def address(self) -> str:
        """Where this machine dials a published port: 127.0.0.1 for a local engine; for a
        remote one, ``HARNESS_PUBLISH_IP`` when it names one address, else the engine's host
        name or IP (from ``tcp://HOST:PORT`` / ``ssh://USER@HOST``; IPv6 without brackets)."""
        if self.local:
            return LOOPBACK_IP
        if self.publish_ip_override and not ipaddress.ip_address(self.publish_ip_override).is_unspecified:
            return self.publish_ip_override
        return urlsplit(self.host).hostname or LOOPBACK_IP

    @property
    def url_host(self) -> str:
        """:attr:`address` as it goes into a URL (an IPv6 address in brackets)."""
        return f"[{self.address}]" if ":" in self.address else self.address

    def compose_env(self) -> dict[str, str]:
        """Variables compose is run with so that it talks to this engine: ``DOCKER_HOST``, and
        for a context with TLS files ``DOCKER_TLS_VERIFY`` and ``DOCKER_CERT_PATH``."""
        env = {"DOCKER_HOST": self.host}
        if self.tls_dir is not None:
            env |= {"DOCKER_CERT_PATH": self.tls_dir}
            if not self.skip_tls_verify:
                env["DOCKER_TLS_VERIFY"] = "1"
        return env

    def client_kwargs(self, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Keyword arguments of ``docker.DockerClient`` for this engine: ``base_url``, ``tls``
        (a ``docker.tls.TLSConfig``) when TLS applies, ``use_ssh_client=True`` for ``ssh://``
        (the ``ssh`` command, as the Docker CLI uses it).

        Raises:
            EngineConfigError: ``DOCKER_CERT_PATH`` or the context's TLS files are unusable.
        """
        import docker.errors
        import docker.tls
        import docker.utils

        kwargs: dict[str, Any] = {"base_url": self.host}
        try:
            if self.tls_dir is not None:
                d = Path(self.tls_dir)
                cert = (str(d / "cert.pem"), str(d / "key.pem")) if (d / "cert.pem").is_file() else None
                ca = str(d / "ca.pem") if (d / "ca.pem").is_file() else None
                kwargs["tls"] = docker.tls.TLSConfig(client_cert=cert, ca_cert=ca, verify=not self.skip_tls_verify)
            elif self.source == "DOCKER_HOST" and self.scheme == "tcp":
                env = dict(os.environ if environ is None else environ)
                tls = docker.utils.kwargs_from_env(environment=env).get("tls")
                if tls:
                    kwargs["tls"] = tls
        except docker.errors.DockerException as exc:
            raise EngineConfigError(f"TLS of the Docker engine {self.host} ({self.source}): {exc}") from None
        if self.scheme == "ssh":
            kwargs["use_ssh_client"] = True
        return kwargs

    def client(self, timeout: float, **extra: Any) -> Any:
        """A ``docker.DockerClient`` for this engine with a per-call ``timeout`` (s); ``extra``
        goes to the client (e.g. ``max_pool_size``). It does not connect yet.

        Raises:
            EngineConfigError: the TLS files are unusable.
            docker.errors.DockerException: the SDK refused the address.
        """
        import docker

        return docker.DockerClient(timeout=timeout, **self.client_kwargs(), **extra)

    def describe(self) -> str:
        """One line: the engine, where it came from, local or remote, e.g. ``tcp://10.0.0.5:2375
        (DOCKER_HOST, remote)``."""
        return f"{self.host} ({self.source}, {'local' if self.local else 'remote'})"

    def exposure_note(self) -> str | None:
        """A one-line note when published ports are bound beyond loopback (a remote engine),
        else None."""
        if self.local:
            return None
        return (f"remote Docker engine {self.host} ({self.source}): the stack's published ports are bound on "
                f"{self.publish_ip} of the engine's host, not its loopback, so that this machine can reach them at "
                f"{self.url_host}; anyone who can reach that host can reach them too (set {PUBLISH_IP_ENV} to bind "
                "one address)")


def parse_host(value: str, what: str = "DOCKER_HOST") -> str:
    """Check a ``DOCKER_HOST``-style address and return it (stripped).

    Accepted: ``unix:///PATH``, ``npipe:////./pipe/NAME``, ``fd://``, ``tcp://HOST[:PORT]``,
    ``http(s)://HOST[:PORT]``, ``ssh://[USER@]HOST[:PORT]``.

    Raises:
        EngineConfigError: no scheme, an unknown scheme, no host, no socket path, or a bad port;
            the message names ``what`` and the value.
    """
    text = value.strip()
    hint = "use tcp://HOST:PORT, ssh://USER@HOST or unix:///PATH"
    if "://" not in text:
        raise EngineConfigError(f"{what}={value!r}: no scheme; {hint}")
    parts = urlsplit(text)
    if parts.scheme not in LOCAL_SCHEMES + REMOTE_SCHEMES:
        raise EngineConfigError(f"{what}={value!r}: unknown scheme {parts.scheme!r}; {hint}")
    if parts.scheme == "unix" and not parts.path:
        raise EngineConfigError(f"{what}={value!r}: no socket path; e.g. {DEFAULT_HOST}")
    if parts.scheme in REMOTE_SCHEMES:
        try:
            port, host = parts.port, parts.hostname
        except ValueError:
            raise EngineConfigError(f"{what}={value!r}: the port is not a number from 1 to 65535") from None
        if not host:
            raise EngineConfigError(f"{what}={value!r}: no host; {hint}")
        if port == 0:
            raise EngineConfigError(f"{what}={value!r}: the port is not a number from 1 to 65535")
    return text


def _publish_ip(environ: Mapping[str, str]) -> str | None:
    value = (environ.get(PUBLISH_IP_ENV) or "").strip()
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise EngineConfigError(f"{PUBLISH_IP_ENV}={value!r}: not an IP address (e.g. 0.0.0.0 or 10.0.0.5)") from None


def config_dir(environ: Mapping[str, str]) -> Path:
    """The Docker CLI's configuration directory: ``$DOCKER_CONFIG``, else ``~/.docker``."""
    return Path(environ.get("DOCKER_CONFIG") or Path.home() / ".docker")


def _current_context(environ: Mapping[str, str], cfg: Path) -> tuple[str, str] | None:
    """``(context name, where it was named)``, or None when no context is set."""
    if environ.get("DOCKER_CONTEXT", "").strip():
        return environ["DOCKER_CONTEXT"].strip(), "DOCKER_CONTEXT"
    config = cfg / "config.json"
    if not config.is_file():
        return None
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EngineConfigError(f"{config}: not readable JSON ({exc})") from None
    name = data.get("currentContext") if isinstance(data, dict) else None
    if name is not None and not isinstance(name, str):
        raise EngineConfigError(f"{config}: currentContext: expected a context name, got {name!r}")
    return (name.strip(), f"{config} currentContext") if name and name.strip() else None


def context_engine(name: str, named_by: str, cfg: Path, publish_ip: str | None = None) -> Engine:
    """The engine of the docker context ``name`` (``named_by`` says where it was named, for
    messages), from ``cfg/contexts/meta/<sha256(name)>/meta.json``.

    Raises:
        EngineConfigError: the context does not exist, its meta.json is not JSON or has no
            ``Endpoints.docker.Host``, or that host is not a valid address.
    """
    if name == "default":
        return Engine(DEFAULT_HOST, "docker context 'default'", publish_ip_override=publish_ip)
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = cfg / "contexts" / "meta" / digest / "meta.json"
    if not meta.is_file():
        raise EngineConfigError(f"docker context {name!r} (from {named_by}) not found: no {meta}; "
                                "`docker context ls` lists the contexts")
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        endpoint = data["Endpoints"]["docker"]
        host = endpoint["Host"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise EngineConfigError(f"{meta}: docker context {name!r} has no Endpoints.docker.Host ({exc})") from None
    if not isinstance(host, str) or not host.strip():
        raise EngineConfigError(f"{meta}: docker context {name!r}: Endpoints.docker.Host is empty")
    host = parse_host(host, f"{meta}: Endpoints.docker.Host")
    tls = cfg / "contexts" / "tls" / digest / "docker"
    return Engine(host, f"docker context {name!r}", tls_dir=str(tls) if tls.is_dir() else None,
                  skip_tls_verify=bool(endpoint.get("SkipTLSVerify")), publish_ip_override=publish_ip)


def resolve_engine(environ: Mapping[str, str] | None = None) -> Engine:
    """The engine the harness talks to (see the module docstring for the order). Reads
    environment variables and files; never connects.

    Args:
        environ: the environment to read (default ``os.environ``); tests pass their own, with
            ``DOCKER_CONFIG`` pointing at a fake ``~/.docker``.

    Raises:
        EngineConfigError: a bad ``DOCKER_HOST`` or ``HARNESS_PUBLISH_IP``, a context that does
            not exist, or an unreadable ``config.json`` / ``meta.json``.
    """
    env = os.environ if environ is None else environ
    publish_ip = _publish_ip(env)
    docker_host = (env.get("DOCKER_HOST") or "").strip()
    if docker_host:
        return Engine(parse_host(docker_host), "DOCKER_HOST", publish_ip_override=publish_ip)
    cfg = config_dir(env)
    current = _current_context(env, cfg)
    if current is not None:
        return context_engine(current[0], current[1], cfg, publish_ip)
    return Engine(DEFAULT_HOST, publish_ip_override=publish_ip)


__all__ = ["DEFAULT_HOST", "Engine", "EngineConfigError", "PUBLISH_IP_ENV", "config_dir", "context_engine",
           "parse_host", "resolve_engine"]
