"""``disk_full``: the file system under a path in a replica fills up until ``leave_mib`` remain.

Mechanism, for each victim: the harness opens the directory ``path`` *inside the container* from
the host, through ``/proc/<PID 1>/root`` (the container's root as its PID 1 sees it, mounts
included: a volume, a bind mount or a tmpfs at that path is what gets filled). Each component is
opened with ``O_NOFOLLOW`` relative to the previous one, so a symlink in the container can never
lead the harness to a host path (it is refused). In that directory it creates
``.harness-disk-full-<fault name>-<random>`` and allocates (``posix_fallocate``, in chunks,
smaller ones near the end) the free space ``statvfs`` reports minus ``leave_mib``. Nothing runs
inside the container, so it works for any image. A named volume is filled through the path where
the service mounts it (the volume's data lives on whatever the volume's driver uses).

Safety: the fill is refused (EnvironmentFailure, nothing written) when it would exceed
``max_fill_mib``: a path on the container's root file system (overlay2) or on a bind mount
shares the host's disk, and filling it would fill the host. Give such a path a size-limited
tmpfs or volume in the compose file (our sample ``redis`` has a 16 MiB tmpfs on its data dir).

What a client sees: whatever the service does when its writes fail with ENOSPC ("No space left
on device"): a database refusing writes, failing snapshots or logs, a crash. Reads and open
connections are not affected by the fault itself. With ``leave_mib`` > 0, only writes larger
than what is left fail. Processes in the container running as root may still have the file
system's reserved blocks (ext4), which ``statvfs``'s ``f_bavail`` excludes.

Effect evidence (how analysis knows the fault acted), read right before revert
(``effect_counters()``, summed over victims): ``filled_mib``, the space the fill files hold at
that moment (their allocated blocks, ``st_blocks`` x 512 bytes: the space taken from the file
system, whatever happened to it since) and ``free_mib``, what ``statvfs`` says is still available
to unprivileged writers. At least 1 MiB filled proves the fault took space away; less means the
file system was (almost) full already, and the fault changed next to nothing. Whether the
service *wrote* under that path during the fault (and hit ENOSPC) is not measured: analysis also
requires the victims to be on the requests' path (``victim_in_path``), and a service that never
writes there will "hold" for that reason.

Revert (idempotent): the fill file is unlinked through the directory descriptor kept open since
inject, so it is removed even if the container restarted meanwhile (a tmpfs of a stopped
container goes away by itself). Limits: space freed by the service itself during the fault is
not filled again; one file per victim.
"""

from __future__ import annotations

import errno
import os
import secrets
from dataclasses import dataclass
from pathlib import PurePosixPath

from harness.errors import EnvironmentFailure
from harness.faults._cgroup import MIB, container_main_pid
from harness.faults._effect import bounded_read
from harness.faults.base import Fault
from harness.faults.registry import register
from harness.faults.replica import choose_replicas
from harness.scenario.faults.disk_full import DiskFullSpec

CHUNK_BYTES = 64 * MIB
"""Largest single ``posix_fallocate`` call; smaller ones follow when ENOSPC comes early."""
MIN_CHUNK_BYTES = 4096
"""Smallest allocation tried before the file system is considered full."""


@dataclass
class _Fill:
    """One fill file: the directory it is in (an open O_PATH descriptor) and its name."""

    name: str
    dir_fd: int
    file_name: str
    created: bool = False
    bytes: int = 0


def open_dir_in_container(pid: int, path: str) -> int:
    """An ``O_PATH`` descriptor of directory ``path`` as the container of host PID ``pid`` sees
    it, opened component by component with ``O_NOFOLLOW`` under ``/proc/<pid>/root``.

    Raises:
        EnvironmentFailure: a component is missing, not a directory, or a symlink.
    """
    flags = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC
    try:
        fd = os.open(f"/proc/{pid}/root", flags)
    except OSError as exc:
        raise EnvironmentFailure(f"cannot open the root of pid {pid}: {exc.strerror or exc}") from None
    walked = ""
    for part in PurePosixPath(path).parts[1:]:
        walked += "/" + part
        try:
            nxt = os.open(part, flags | os.O_NOFOLLOW, dir_fd=fd)
        except OSError as exc:
            os.close(fd)
            why = "a symlink or not a directory" if exc.errno in (errno.ENOTDIR, errno.ELOOP) else exc.strerror
            raise EnvironmentFailure(f"{walked} in the container: {why}") from None
        os.close(fd)
        fd = nxt
    return fd


def fill(fd: int, want: int) -> int:
    """Allocate up to ``want`` bytes in the open file ``fd`` (``posix_fallocate`` in chunks of at
    most CHUNK_BYTES, down to MIN_CHUNK_BYTES when ENOSPC comes early). Returns the bytes
    allocated (less than ``want`` when the file system filled up first).

    Raises:
        OSError: any error other than ENOSPC.
    """
    done, chunk = 0, CHUNK_BYTES
    while done < want:
        n = min(chunk, want - done)
        try:
            os.posix_fallocate(fd, done, n)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
            if chunk <= MIN_CHUNK_BYTES:
                break
            chunk = max(MIN_CHUNK_BYTES, chunk // 8)
            continue
        done += n
    return done


@register
class DiskFullFault(Fault):
    """Fills the file system under ``path`` in each victim with one preallocated file."""

    spec_type = DiskFullSpec
    spec: DiskFullSpec

    def __init__(self, spec, ctx):
        super().__init__(spec, ctx)
        self._fills: list[_Fill] = []

    def inject(self) -> list[str]:
        """Fill the file system; return, per victim, its container name, then
        ``<container>:<path>`` (the bare name is what analysis matches with the container's
        traffic and events).

        Raises:
            EnvironmentFailure: no running replica, the path is unusable, the fill would exceed
                ``max_fill_mib``, or writing failed for another reason than ENOSPC.
        """
        touched = []
        for name in choose_replicas(self, self.spec):
            pid = container_main_pid(self.ctx.containers.container(name))
            dir_fd = open_dir_in_container(pid, self.spec.path)
            fill_ = _Fill(name, dir_fd, f".harness-disk-full-{self.spec.name}-{secrets.token_hex(4)}")
            self._fills.append(fill_)  # recorded before anything is written: revert unlinks it
            try:
                st = os.statvfs(dir_fd)
                want = st.f_bavail * st.f_frsize - int(self.spec.leave_mib * MIB)
                if want > self.spec.max_fill_mib * MIB:
                    raise EnvironmentFailure(
                        f"disk_full {self.spec.name}: {self.spec.path} in {name} has "
                        f"{st.f_bavail * st.f_frsize / MIB:.0f} MiB free; filling it would write more than "
                        f"max_fill_mib={self.spec.max_fill_mib} (is it on the host's disk? mount a size-limited "
                        "tmpfs or volume there)")
                fd = os.open(fill_.file_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                             0o600, dir_fd=dir_fd)
                fill_.created = True
                try:
                    fill_.bytes = fill(fd, max(0, want))
                finally:
                    os.close(fd)
            except OSError as exc:
                raise EnvironmentFailure(f"disk_full {self.spec.name}: filling {self.spec.path} in {name} failed: "
                                         f"{exc.strerror or exc}") from None
            touched += [name, f"{name}:{self.spec.path}"]
        return touched

    def effect_counters(self) -> dict[str, float]:
        """``filled_mib`` (MiB the fill files hold now, allocated blocks) and ``free_mib`` (MiB
        still available on their file systems), summed over victims; ``{}`` before inject or when
        nothing was readable. Never raises."""
        return bounded_read(self._measure, f"disk_full {self.spec.name}")

    def _measure(self) -> dict[str, float]:
        filled, free, read = 0, 0, 0
        for fill_ in list(self._fills):
            if not fill_.created:
                continue
            try:
                st = os.stat(fill_.file_name, dir_fd=fill_.dir_fd, follow_symlinks=False)
                vfs = os.statvfs(fill_.dir_fd)
            except OSError:
                continue  # removed meanwhile, or the descriptor is closed by a concurrent revert
            filled += st.st_blocks * 512  # st_blocks is in 512-byte units whatever the block size
            free += vfs.f_bavail * vfs.f_frsize
            read += 1
        if not read:
            return {}
        return {"filled_mib": round(filled / MIB, 2), "free_mib": round(free / MIB, 2)}

    def revert(self) -> list[str]:
        """Remove the fill files; return ``<container>:<path>`` per victim.

        Raises:
            EnvironmentFailure: a fill file exists but cannot be removed (after trying all).
        """
        touched, errors, left = [], [], []
        for fill_ in self._fills:
            if not fill_.created:
                os.close(fill_.dir_fd)
                continue
            try:
                os.unlink(fill_.file_name, dir_fd=fill_.dir_fd)
            except FileNotFoundError:
                pass
            except OSError as exc:
                errors.append(f"{fill_.name}:{self.spec.path}/{fill_.file_name}: {exc.strerror or exc}")
                left.append(fill_)  # kept (with its descriptor) for another revert
                continue
            os.close(fill_.dir_fd)
            touched.append(f"{fill_.name}:{self.spec.path}")
        self._fills = left
        if errors:
            raise EnvironmentFailure(f"disk_full {self.spec.name}: revert incomplete: {'; '.join(errors)}")
        return touched
