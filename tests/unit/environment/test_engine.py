"""harness.environment.engine: which engine the harness talks to (DOCKER_HOST, a docker context,
the local socket), whether it is local, where published ports are bound and dialled, and one-line
errors for bad values. Contexts are read from a fake ``~/.docker`` (``DOCKER_CONFIG``)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from harness.environment.engine import DEFAULT_HOST, Engine, EngineConfigError, resolve_engine
from harness.environment.project import CopyOptions, make_copy
from harness.errors import ExitCode


def fake_context(cfg: Path, name: str, host: str, current: bool = False, tls: bool = False) -> Path:
    """Write the files ``docker context create NAME --docker host=HOST`` writes under ``cfg``."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = cfg / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({"Name": name, "Metadata": {},
                                                "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}}}))
    if current:
        (cfg / "config.json").write_text(json.dumps({"auths": {}, "currentContext": name}))
    tls_dir = cfg / "contexts" / "tls" / digest / "docker"
    if tls:
        tls_dir.mkdir(parents=True)
        for f in ("ca.pem", "cert.pem", "key.pem"):
            (tls_dir / f).write_text("x")
    return tls_dir


@pytest.mark.parametrize("host, local, address, url_host", [
    ("unix:///var/run/docker.sock", True, "127.0.0.1", "127.0.0.1"),
    ("unix:///run/user/1000/docker.sock", True, "127.0.0.1", "127.0.0.1"),
    ("tcp://10.0.0.5:2375", False, "10.0.0.5", "10.0.0.5"),
    ("tcp://build-7.example.com:2376", False, "build-7.example.com", "build-7.example.com"),
    ("tcp://127.0.0.1:23750", False, "127.0.0.1", "127.0.0.1"),  # a forwarded socket counts as remote
    ("ssh://ops@far", False, "far", "far"),
    ("ssh://ops@far.example.com:2222", False, "far.example.com", "far.example.com"),
    ("tcp://[fd00::5]:2375", False, "fd00::5", "[fd00::5]"),
])
def test_docker_host_forms(host, local, address, url_host, tmp_path):
    engine = resolve_engine({"DOCKER_HOST": host, "DOCKER_CONFIG": str(tmp_path)})
    assert (engine.host, engine.source, engine.local) == (host, "DOCKER_HOST", local)
    assert (engine.address, engine.url_host) == (address, url_host)
    assert engine.publish_ip == ("127.0.0.1" if local else "0.0.0.0")
    assert engine.compose_env() == {"DOCKER_HOST": host}
    assert (engine.exposure_note() is None) == local


def test_docker_host_wins_over_a_context(tmp_path):
    fake_context(tmp_path, "far", "ssh://ops@far", current=True)
    env = {"DOCKER_HOST": "tcp://10.0.0.5:2375", "DOCKER_CONTEXT": "far", "DOCKER_CONFIG": str(tmp_path)}
    assert resolve_engine(env).host == "tcp://10.0.0.5:2375"


def test_the_current_context_of_config_json_and_docker_context_env(tmp_path):
    fake_context(tmp_path, "far", "ssh://ops@far", current=True)
    fake_context(tmp_path, "near", "tcp://10.0.0.7:2375")
    engine = resolve_engine({"DOCKER_CONFIG": str(tmp_path)})
    assert (engine.host, engine.source, engine.local, engine.address) == ("ssh://ops@far", "docker context 'far'",
                                                                          False, "far")
    engine = resolve_engine({"DOCKER_CONFIG": str(tmp_path), "DOCKER_CONTEXT": "near"})
    assert (engine.host, engine.address) == ("tcp://10.0.0.7:2375", "10.0.0.7")
    engine = resolve_engine({"DOCKER_CONFIG": str(tmp_path), "DOCKER_CONTEXT": "default"})
    assert (engine.host, engine.local) == (DEFAULT_HOST, True)


def test_no_docker_host_and_no_context_is_the_local_socket(tmp_path):
    engine = resolve_engine({"DOCKER_CONFIG": str(tmp_path / "nothing-here")})
    assert (engine.host, engine.local, engine.address, engine.publish_ip) == (DEFAULT_HOST, True, "127.0.0.1",
                                                                              "127.0.0.1")
    (tmp_path / "config.json").write_text(json.dumps({"auths": {}}))  # a config without currentContext
    assert resolve_engine({"DOCKER_CONFIG": str(tmp_path)}).host == DEFAULT_HOST


def test_a_context_with_tls_files_gives_them_to_compose_and_the_sdk(tmp_path):
    tls_dir = fake_context(tmp_path, "secure", "tcp://10.0.0.9:2376", tls=True)
    engine = resolve_engine({"DOCKER_CONFIG": str(tmp_path), "DOCKER_CONTEXT": "secure"})
    assert engine.compose_env() == {"DOCKER_HOST": "tcp://10.0.0.9:2376", "DOCKER_CERT_PATH": str(tls_dir),
                                    "DOCKER_TLS_VERIFY": "1"}
    kwargs = engine.client_kwargs()
    assert kwargs["base_url"] == "tcp://10.0.0.9:2376"
    assert kwargs["tls"].cert == (str(tls_dir / "cert.pem"), str(tls_dir / "key.pem"))
    assert (kwargs["tls"].ca_cert, kwargs["tls"].verify) == (str(tls_dir / "ca.pem"), True)


def test_ssh_goes_through_the_ssh_command():
    assert Engine("ssh://ops@far", "DOCKER_HOST").client_kwargs() == {"base_url": "ssh://ops@far",
                                                                     "use_ssh_client": True}


def test_harness_publish_ip_binds_and_dials_one_address_of_a_remote_engine(tmp_path):
    engine = resolve_engine({"DOCKER_HOST": "ssh://ops@far", "HARNESS_PUBLISH_IP": "10.0.0.5"})
    assert (engine.publish_ip, engine.address) == ("10.0.0.5", "10.0.0.5")
    engine = resolve_engine({"DOCKER_HOST": "ssh://ops@far", "HARNESS_PUBLISH_IP": "0.0.0.0"})
    assert (engine.publish_ip, engine.address) == ("0.0.0.0", "far")
    local = resolve_engine({"DOCKER_HOST": DEFAULT_HOST, "HARNESS_PUBLISH_IP": "10.0.0.5"})
    assert (local.publish_ip, local.address) == ("127.0.0.1", "127.0.0.1")  # a local engine keeps loopback


@pytest.mark.parametrize("env, message", [
    ({"DOCKER_HOST": "10.0.0.5:2375"}, "DOCKER_HOST='10.0.0.5:2375': no scheme; use tcp://HOST:PORT"),
    ({"DOCKER_HOST": "tpc://10.0.0.5:2375"}, "DOCKER_HOST='tpc://10.0.0.5:2375': unknown scheme 'tpc'"),
    ({"DOCKER_HOST": "tcp://:2375"}, "DOCKER_HOST='tcp://:2375': no host"),
    ({"DOCKER_HOST": "ssh://"}, "DOCKER_HOST='ssh://': no host"),
    ({"DOCKER_HOST": "tcp://10.0.0.5:99999"}, "DOCKER_HOST='tcp://10.0.0.5:99999': the port is not a number"),
    ({"DOCKER_HOST": "tcp://10.0.0.5:http"}, "the port is not a number from 1 to 65535"),
    ({"DOCKER_HOST": "unix://"}, "DOCKER_HOST='unix://': no socket path"),
    ({"DOCKER_HOST": "tcp://h:2375", "HARNESS_PUBLISH_IP": "everywhere"},
     "HARNESS_PUBLISH_IP='everywhere': not an IP address"),
])
def test_a_bad_value_is_one_line_naming_the_variable(env, message, tmp_path):
    with pytest.raises(EngineConfigError) as info:
        resolve_engine({**env, "DOCKER_CONFIG": str(tmp_path)})
    assert message in str(info.value) and "\n" not in str(info.value)
    assert info.value.exit_code == ExitCode.USAGE


def test_a_missing_or_broken_context_is_one_line_naming_the_file(tmp_path):
    with pytest.raises(EngineConfigError, match=r"docker context 'gone' \(from DOCKER_CONTEXT\) not found: no "):
        resolve_engine({"DOCKER_CONFIG": str(tmp_path), "DOCKER_CONTEXT": "gone"})
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "gone"}))
    with pytest.raises(EngineConfigError, match=r"config.json currentContext\) not found"):
        resolve_engine({"DOCKER_CONFIG": str(tmp_path)})
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(EngineConfigError, match=r"config.json: not readable JSON"):
        resolve_engine({"DOCKER_CONFIG": str(tmp_path)})
    (tmp_path / "config.json").unlink()
    meta = fake_context(tmp_path, "odd", "tcp://h:1").parent.parent.parent / "meta"
    meta_file = next(meta.glob("*/meta.json"))
    meta_file.write_text(json.dumps({"Name": "odd", "Endpoints": {}}))
    with pytest.raises(EngineConfigError, match=r"meta.json: docker context 'odd' has no Endpoints.docker.Host"):
        resolve_engine({"DOCKER_CONFIG": str(tmp_path), "DOCKER_CONTEXT": "odd"})
    meta_file.write_text(json.dumps({"Endpoints": {"docker": {"Host": "nowhere"}}}))
    with pytest.raises(EngineConfigError, match=r"meta.json: Endpoints.docker.Host='nowhere': no scheme"):
        resolve_engine({"DOCKER_CONFIG": str(tmp_path), "DOCKER_CONTEXT": "odd"})


# -- publishing --------------------------------------------------------------------------------

CONFIG = {
    "services": {
        "web": {"ports": [{"target": 8080, "published": "8080", "protocol": "tcp"}]},
        "nginx": {"ports": [{"target": 8080, "host_ip": "127.0.0.1", "protocol": "tcp"}]},
        "admin": {"ports": [{"target": 9000, "host_ip": "10.1.2.3", "protocol": "tcp"}]},
        "db": {},
    },
}


def host_ips(engine: Engine, narrow: bool = True) -> dict[str, list[str]]:
    options = CopyOptions(project="harness-r1", run_id="r1", loopback_only=narrow, publish_ip=engine.publish_ip,
                          publish=("db", 5432))
    config, _ = make_copy(json.loads(json.dumps(CONFIG)), options)
    return {name: [p.get("host_ip") for p in body.get("ports") or []] for name, body in config["services"].items()}


def test_a_local_engine_publishes_on_loopback_exactly_as_before():
    assert host_ips(Engine(DEFAULT_HOST)) == {"web": ["127.0.0.1"], "nginx": ["127.0.0.1"], "admin": ["10.1.2.3"],
                                             "db": ["127.0.0.1"]}
    assert host_ips(Engine(DEFAULT_HOST), narrow=False) == {"web": [None], "nginx": ["127.0.0.1"],
                                                           "admin": ["10.1.2.3"], "db": ["127.0.0.1"]}


def test_a_remote_engine_publishes_where_this_machine_can_reach_it():
    remote = Engine("tcp://10.0.0.5:2375", "DOCKER_HOST")
    # the file's loopback binding is moved too: the remote's loopback is out of reach from here
    assert host_ips(remote) == {"web": ["0.0.0.0"], "nginx": ["0.0.0.0"], "admin": ["10.1.2.3"], "db": ["0.0.0.0"]}
    assert host_ips(remote, narrow=False) == {"web": [None], "nginx": ["0.0.0.0"], "admin": ["10.1.2.3"],
                                              "db": ["0.0.0.0"]}
    one = Engine("tcp://10.0.0.5:2375", "DOCKER_HOST", publish_ip_override="10.0.0.5")
    assert host_ips(one)["nginx"] == ["10.0.0.5"] and host_ips(one)["web"] == ["10.0.0.5"]
