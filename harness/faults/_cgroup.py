"""Private helpers of the resource faults (``oom``, ``memory_leak``, ``cpu``, ``disk_full``,
``fd_limit``): a container's cgroup v1 directories, its processes, and *helper processes* that
join a container's cgroups so that the memory or CPU they use is accounted to the container.

Why helpers: the faults must work whatever the image holds (no shell, no stress tool, ``FROM
scratch``). A helper is this file run as a host process (``python -I -S .../_cgroup.py CONFIG``,
started by :meth:`Helper.spawn`, never through a shell; it uses only the standard library). It
writes its own PID into the container's ``cgroup.procs`` files, so from then on the kernel
charges its memory and CPU time to the container: ``docker stats`` shows them, the container's
memory limit and CPU quota apply, and the memory cgroup's OOM killer considers it. It is not in
the container's PID or mount namespace.

A helper never outlives what it serves:

- it exits when the process it watches (the container's PID 1) exits (a ``pidfd``), so a stopped,
  killed or OOM-killed container releases it at once;
- it exits when its parent (the harness) is gone (``getppid()`` changes), checked at least every
  100 ms, so even a SIGKILLed harness leaves nothing running;
- :meth:`Helper.stop` (called by every revert) SIGKILLs it and reaps it, and an ``atexit`` hook
  stops any helper still alive when the harness exits normally.

Requirements: the harness runs as root on the Docker host, with cgroup v1 (the ``cgroupfs`` or
``systemd`` driver: the container's cgroup path must contain its full id, which is checked before
anything is written, the blast-radius guard at the cgroup level).
"""

from __future__ import annotations

import atexit
import errno
import json
import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
"""Bytes per MiB (every ``_mib`` parameter)."""

HELPER_READY_TIMEOUT_S = 20.0
"""How long :meth:`Helper.spawn` waits for a helper to have joined the cgroups (an isolated Python
start-up, ~30 ms idle, seconds on an overloaded host)."""

HELPER_STOP_TIMEOUT_S = 10.0
"""How long :meth:`Helper.stop` waits for a SIGKILLed helper to be reaped."""

_PERIOD_S = 0.1
"""A CPU helper's duty-cycle period and the longest a helper goes without checking its parent."""


def _failure(message: str) -> Exception:
    # Imported lazily: this module also runs as the helper process, which needs nothing of it.
    from harness.errors import EnvironmentFailure

    return EnvironmentFailure(message)


# -- cgroup v1 paths ---------------------------------------------------------------------------


def parse_proc_cgroup(text: str) -> dict[str, str]:
    """``/proc/<pid>/cgroup`` (v1 lines ``ID:controllers:path``) as controller -> path.

    Co-mounted controllers (``4:cpu,cpuacct:/docker/ID``) give one entry each; named hierarchies
    (``name=systemd``) and the v2 line (``0::/...``) are skipped.
    """
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3 or not parts[1]:
            continue
        for controller in parts[1].split(","):
            if controller and not controller.startswith("name="):
                out[controller] = parts[2]
    return out


def _unescape_mount(field: str) -> str:
    """Undo mountinfo's octal escapes (``\\040`` is a space)."""
    return field.encode().decode("unicode_escape") if "\\" in field else field


def parse_mountinfo(text: str) -> dict[str, str]:
    """``/proc/self/mountinfo`` as cgroup v1 controller -> mount point (the first one seen).

    A line is ``ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS``;
    for ``cgroup`` file systems the super options name the controllers (``rw,cpu,cpuacct``).
    """
    out: dict[str, str] = {}
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3 or tail[0] != "cgroup":
            continue
        for option in tail[2].split(","):
            if option not in ("rw", "ro") and not option.startswith("name=") and "=" not in option:
                out.setdefault(option, _unescape_mount(fields[4]))
    return out


def _read(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise _failure(f"cannot read {path}: {exc.strerror or exc}") from None


def container_cgroup_dirs(pid: int, container_id: str, controllers: list[str],
                          optional: tuple[str, ...] = ()) -> dict[str, Path]:
    """Host directories of the cgroups that host PID ``pid`` (a container's process) is in, one
    per controller in ``controllers`` (required) and ``optional`` (skipped when absent).

    Raises:
        EnvironmentFailure: the process is gone, a required controller is not mounted as cgroup v1,
            or a path does not contain ``container_id`` (the process is not that container's: we
            refuse to touch the cgroup).
    """
    membership = parse_proc_cgroup(_read(f"/proc/{pid}/cgroup"))
    mounts = parse_mountinfo(_read("/proc/self/mountinfo"))
    dirs: dict[str, Path] = {}
    for controller in [*controllers, *optional]:
        rel, mount = membership.get(controller), mounts.get(controller)
        if rel is None or mount is None:
            if controller in optional:
                continue
            raise _failure(f"cgroup v1 controller {controller!r} not found for pid {pid} "
                           "(the resource faults need cgroup v1, as on this project's Docker hosts)")
        if container_id not in rel:
            raise _failure(f"pid {pid}'s {controller} cgroup {rel!r} is not container {container_id[:12]}'s; "
                           "not touched")
        path = Path(mount) / rel.lstrip("/")
        if not path.is_dir():
            raise _failure(f"cgroup directory {path} does not exist (is pid {pid} still running?)")
        dirs[controller] = path
    return dirs


def read_cgroup_int(path: Path) -> int:
    """An integer cgroup file (``memory.limit_in_bytes``, ``cpu.cfs_quota_us`` ...).

    Raises:
        EnvironmentFailure: unreadable or not an integer.
    """
    text = _read(path).strip()
    try:
        return int(text)
    except ValueError:
        raise _failure(f"{path}: expected an integer, got {text[:40]!r}") from None


def write_cgroup(path: Path, value: int | str) -> None:
    """Write ``value`` to a cgroup (or ``/proc``) control file.

    Raises:
        EnvironmentFailure: the kernel refused the value (the message has its errno text).
    """
    try:
        with open(path, "w", encoding="ascii") as f:
            f.write(str(value))
    except OSError as exc:
        raise _failure(f"writing {value} to {path} failed: {exc.strerror or exc}") from None


def process_start_time(pid: int) -> int | None:
    """Field 22 of ``/proc/<pid>/stat`` (start time in clock ticks since boot), which tells a
    process apart from a later one that reuses its PID; None if the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    try:
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def process_gone(pid: int, start_time: int | None) -> bool:
    """True when the process that started at ``start_time`` (see :func:`process_start_time`) no
    longer runs: ``/proc/<pid>`` is gone, now belongs to a later process (another start time),
    or is a zombie (``Z``) or dead (``X``) task waiting to be reaped. A None ``start_time``
    (unknown at record time) counts as gone only when ``/proc/<pid>`` is."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        fields = stat.rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True
    if fields[:1] and fields[0] in ("Z", "X"):
        return True
    return start_time is not None and process_start_time(pid) != start_time


def process_cpu_s(pid: int) -> float | None:
    """CPU time host PID ``pid`` has run so far, s: the first field of ``/proc/<pid>/schedstat``
    (nanoseconds on a CPU, counted by the scheduler, finer than ``stat``'s 10 ms ticks); None when
    the process is gone or the kernel has no schedstat."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text(encoding="ascii").split()[0]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def parse_cpu_stat(text: str) -> dict[str, int]:
    """A cgroup v1 ``cpu.stat`` (``nr_periods N``, ``nr_throttled N``, ``throttled_time NS``,
    newer kernels also ``nr_bursts`` / ``burst_time``) as name -> integer; malformed lines are
    skipped."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    return out


def read_cpu_stat(cpu_dir: Path) -> dict[str, int]:
    """The ``cpu.stat`` of a cgroup v1 ``cpu`` directory (see :func:`parse_cpu_stat`).

    Raises:
        EnvironmentFailure: unreadable (the cgroup is gone: the container stopped).
    """
    return parse_cpu_stat(_read(cpu_dir / "cpu.stat"))


MEMFD_NAME = "harness-memory"
"""Name of the memfd a memory helper writes into (``/proc/<pid>/fd/N`` links to
``/memfd:harness-memory (deleted)``)."""


def memfd_bytes(pid: int, name: str = MEMFD_NAME) -> int:
    """Bytes held in host PID ``pid``'s memfds called ``name`` (their sizes, from ``stat`` on
    ``/proc/<pid>/fd/N``): what a memory helper has written and holds. 0 when the process is gone
    or holds none. Needs the same rights as reading the helper's ``/proc`` (root, or its owner)."""
    prefix = f"/memfd:{name}"
    total = 0
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return 0
    for fd in fds:
        path = f"/proc/{pid}/fd/{fd}"
        try:
            if os.readlink(path).startswith(prefix):
                total += os.stat(path).st_size
        except OSError:
            continue  # closed meanwhile
    return total


OOM_SCORE_ADJ_MAX = 1000
"""``oom_score_adj`` that makes a process the OOM killer's first choice in its cgroup."""


def make_oom_victim(pid: int) -> str:
    """Set host PID ``pid``'s ``oom_score_adj`` to OOM_SCORE_ADJ_MAX; return the old value (to
    give to :func:`restore_oom_score`). Raising it needs no privilege; lowering it back to the old
    value is allowed too (down to the process's ``oom_score_adj_min``, which unprivileged writes
    never change).

    Raises:
        EnvironmentFailure: the process is gone or the write was refused.
    """
    path = Path(f"/proc/{pid}/oom_score_adj")
    old = _read(path).strip()
    write_cgroup(path, OOM_SCORE_ADJ_MAX)
    return old


def restore_oom_score(pid: int, start_time: int | None, old: str) -> None:
    """Write ``old`` back to ``pid``'s ``oom_score_adj`` if it is still the process that started
    at ``start_time`` (see :func:`process_start_time`); a gone process is fine.

    Raises:
        EnvironmentFailure: the write was refused.
    """
    if start_time is not None and process_start_time(pid) == start_time:
        write_cgroup(Path(f"/proc/{pid}/oom_score_adj"), old)


def cgroup_pids(cgroup_dir: Path) -> list[int]:
    """Host PIDs listed in a cgroup's ``cgroup.procs`` (every process of the container)."""
    return sorted(int(x) for x in _read(cgroup_dir / "cgroup.procs").split() if x.strip().isdigit())


def container_main_pid(container: Any) -> int:
    """Host PID of a container's PID 1 from an SDK container object (``State.Pid``).

    Raises:
        EnvironmentFailure: the container is not running.
    """
    pid = int((container.attrs.get("State") or {}).get("Pid") or 0)
    if pid <= 0:
        raise _failure(f"{container.name} is not running (no pid)")
    return pid


# -- helper processes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HelperConfig:
    """What one helper does; serialised as JSON on its command line.

    Fields:
        mode: ``"cpu"`` (busy-loop at ``percent``) or ``"memory"`` (allocate and hold).
        watch_pid: host PID whose exit ends the helper (the container's PID 1).
        procs_files: ``cgroup.procs`` files the helper writes its own PID into, in order.
        percent: CPU mode: share of one core kept busy, 0 < percent <= 100, as CPU time per
            100 ms period.
        target_mib: memory mode: total MiB to allocate and keep (rounded up to whole MiB).
        rate_mib_s: memory mode: growth rate in MiB/s; 0 allocates as fast as possible.
        oom_control: memory mode: the cgroup's ``memory.oom_control``; once its ``oom_kill``
            count rises (the kernel OOM-killed something in the cgroup), the helper stops
            growing and only holds what it has. None: grow regardless.
    """

    mode: str
    watch_pid: int
    procs_files: tuple[str, ...]
    percent: float = 100.0
    target_mib: float = 0.0
    rate_mib_s: float = 0.0
    oom_control: str | None = None


_LIVE: set["Helper"] = set()
_atexit_registered = False


def _stop_all() -> None:
    for helper in list(_LIVE):
        helper.stop()


class Helper:
    """One running helper process (see the module docstring). Build with :meth:`spawn`."""

    def __init__(self, proc: subprocess.Popen, what: str):
        self.proc = proc
        self.what = what

    @property
    def pid(self) -> int:
        """Host PID of the helper."""
        return self.proc.pid

    @classmethod
    def spawn(cls, config: HelperConfig, what: str, timeout_s: float = HELPER_READY_TIMEOUT_S) -> "Helper":
        """Start a helper and wait until it has joined its cgroups (it prints ``ready``).

        Args:
            config: what it does.
            what: a short label for messages (``"cpu helper for shop-api-1"``).
            timeout_s: how long to wait for ``ready``.

        Raises:
            EnvironmentFailure: it could not start, exited early (its stderr's last line is in
                the message, e.g. a refused cgroup write), or was not ready in time (it is killed).
        """
        global _atexit_registered
        # This file run as a script, isolated (-I: no environment, no script directory on the path)
        # and without site-packages (-S): it needs only the standard library, starts in ~30 ms and
        # its own RSS stays ~10 MiB (the OOM killer compares RSS; see the memory mode).
        argv = [sys.executable, "-I", "-S", str(Path(__file__).resolve()), json.dumps(config.__dict__)]
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, close_fds=True)
        except OSError as exc:
            raise _failure(f"{what}: could not start: {exc}") from None
        helper = cls(proc, what)
        _LIVE.add(helper)
        if not _atexit_registered:
            atexit.register(_stop_all)
            _atexit_registered = True
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        line = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], max(0.0, min(0.2, deadline - time.monotonic())))
            if ready:
                line = proc.stdout.readline()
                break
            if proc.poll() is not None:
                break
        if line.strip() == b"ready":
            return helper
        timed_out = time.monotonic() >= deadline  # otherwise it closed stdout: it is exiting
        if timed_out:
            proc.kill()
        try:
            proc.wait(timeout=HELPER_STOP_TIMEOUT_S)
            err = (proc.stderr.read() if proc.stderr else b"").decode(errors="replace").strip().splitlines()
        except subprocess.TimeoutExpired:
            err = []
        helper.stop()
        reason = "not ready in time" if timed_out else (err[-1] if err else f"exit code {proc.returncode}")
        raise _failure(f"{what} failed: {reason}")

    def running(self) -> bool:
        """True while the helper process has not exited."""
        return self.proc.poll() is None

    def stop(self, timeout_s: float = HELPER_STOP_TIMEOUT_S) -> bool:
        """SIGKILL the helper (if still running) and reap it; idempotent.

        Returns True if it was still running. A helper that cannot be reaped in ``timeout_s``
        (e.g. stuck in a frozen cgroup) is left to exit on its own: it watches its parent and
        the container.
        """
        _LIVE.discard(self)
        was_running = self.proc.poll() is None
        if was_running:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                pass
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None and not stream.closed:
                stream.close()
        return was_running


# -- the helper process itself -------------------------------------------------------------------


def _oom_kills(oom_control: str | None) -> int:
    """The ``oom_kill`` count of a cgroup v1 ``memory.oom_control`` file (0 if unknown)."""
    if oom_control is None:
        return 0
    try:
        with open(oom_control, encoding="ascii") as f:
            for line in f:
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _helper_main(config: HelperConfig) -> None:  # pragma: no cover - runs in the child process
    parent = os.getppid()
    pidfd = os.pidfd_open(config.watch_pid)
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)

    def should_stop(wait_s: float) -> bool:
        """Wait up to ``wait_s`` for the watched process to exit; True if it did or the parent died."""
        if os.getppid() != parent:
            return True
        return bool(poller.poll(max(0, int(wait_s * 1000))))

    for procs in config.procs_files:
        with open(procs, "w", encoding="ascii") as f:
            f.write(str(os.getpid()))
    print("ready", flush=True)

    if config.mode == "cpu":
        # In each 100 ms period, spin until the helper has had `percent` % of it as CPU time (or
        # the period is over: on a contended host it gets what the scheduler gives it), then sleep.
        busy_s = _PERIOD_S * config.percent / 100
        while True:
            start, cpu_start = time.monotonic(), time.thread_time()
            while time.thread_time() - cpu_start < busy_s and time.monotonic() - start < _PERIOD_S:
                pass
            if should_stop(_PERIOD_S - (time.monotonic() - start)):
                return
    elif config.mode == "memory":
        # The memory is written into a memfd (shmem), not mapped: it is charged to the cgroup the
        # helper is in, but counted in no process's RSS, so the OOM killer never picks the helper
        # for it (it ranks processes by RSS) and kills the container's own processes instead.
        block = b"\x5a" * MIB
        memfd = os.memfd_create(MEMFD_NAME, os.MFD_CLOEXEC)
        held_mib = 0
        start = time.monotonic()
        target = int(-(-config.target_mib // 1))
        kills_at_start = _oom_kills(config.oom_control)
        while True:
            due = target if config.rate_mib_s <= 0 else min(target, int(config.rate_mib_s * (time.monotonic() - start)))
            while held_mib < due:
                if _oom_kills(config.oom_control) > kills_at_start:
                    # The kernel has killed for this memory: stop growing (writing on would only
                    # trigger the OOM killer again and again while the victim's container exits).
                    target = held_mib
                    break
                try:
                    os.write(memfd, block)
                except OSError as exc:
                    if exc.errno != errno.ENOMEM:
                        raise
                    break  # no OOM victim left to free memory: wait, maybe it was the container
                held_mib += 1
                if should_stop(0):
                    return
            if should_stop(_PERIOD_S):
                return
    else:
        raise SystemExit(f"unknown helper mode {config.mode!r}")


if __name__ == "__main__":  # pragma: no cover - the helper process
    raw = json.loads(sys.argv[1])
    raw["procs_files"] = tuple(raw.get("procs_files") or ())
    try:
        _helper_main(HelperConfig(**raw))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        sys.stderr.write(f"{exc.filename or ''}: {exc.strerror or exc}\n")
        sys.exit(1)
    os._exit(0)
