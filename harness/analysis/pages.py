"""Memory pages for the analysis's large arrays: :func:`small_pages`.

numpy asks the kernel for transparent huge pages (``madvise(MADV_HUGEPAGE)``) for every array of
4 MiB or more. Where the kernel's ``transparent_hugepage/defrag`` is ``madvise`` (the default of
many distributions, and of the benchmark machine), a fault in such an array compacts memory
synchronously whenever no free 2 MiB page is at hand, and on a machine whose memory is
fragmented by other work that stall is long and unpredictable: 40 MiB of new arrays took
0.01-0.14 s with huge pages and 0.025-0.03 s without, on the benchmark machine (a Firecracker
VM; ``bench/analysis_5m.py`` allocates ~1 GiB of them in all: reading, sorting, taking windows).
The values in the arrays are the same either way.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

try:
    from numpy._core.multiarray import _set_madvise_hugepage
except ImportError:  # another numpy: its default stays
    _set_madvise_hugepage = None

_LOCK = threading.Lock()
_users = [0, True]
"""How many :func:`small_pages` blocks are open, and numpy's setting before the first opened."""


@contextmanager
def small_pages() -> Iterator[None]:
    """Within the block, numpy's new large arrays get the kernel's ordinary 4 KiB pages (no
    ``MADV_HUGEPAGE``); numpy's previous setting comes back when the last open block (of any
    thread) closes. A process-wide numpy setting: other threads' arrays meanwhile get small pages
    too, which changes their speed, never their values. A numpy without the setting is left
    alone."""
    if _set_madvise_hugepage is None:
        yield
        return
    with _LOCK:
        if _users[0] == 0:
            _users[1] = _set_madvise_hugepage(False)
        _users[0] += 1
    try:
        yield
    finally:
        with _LOCK:
            _users[0] -= 1
            if _users[0] == 0:
                _set_madvise_hugepage(_users[1])
