"""harness.analysis.pages.small_pages: numpy's huge-page advice is off inside the block (and
in nested or concurrent blocks) and back as it was after the last one closes."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from harness.analysis import pages


def _current() -> bool:
    """numpy's setting now (setting it returns the previous one; put it back)."""
    previous = pages._set_madvise_hugepage(True)
    pages._set_madvise_hugepage(previous)
    return previous


pytestmark = pytest.mark.skipif(pages._set_madvise_hugepage is None, reason="this numpy has no such setting")


@pytest.mark.parametrize("before", [True, False])
def test_small_pages_inside_and_the_setting_back_after(before):
    pages._set_madvise_hugepage(before)
    try:
        with pages.small_pages():
            assert _current() is False
            with pages.small_pages():
                assert _current() is False
            assert _current() is False  # the outer block is still open
            assert np.arange(10.0).sum() == 45.0
        assert _current() is before
    finally:
        pages._set_madvise_hugepage(True)


def test_the_setting_comes_back_after_an_error_and_after_other_threads_blocks():
    pages._set_madvise_hugepage(True)
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with pages.small_pages():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(5)
    with pytest.raises(RuntimeError), pages.small_pages():
        raise RuntimeError("boom")
    assert _current() is False  # the other thread's block is still open
    release.set()
    thread.join(5)
    assert _current() is True
