"""Memory freed after a file goes back to the operating system (``ocr.memory``)."""

from __future__ import annotations

import platform

import psutil
import pytest

from ocr import OcrEngine, OcrOptions
from ocr.memory import release_freed_memory

glibc = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's"
)


@glibc
def test_freed_heap_memory_is_returned_to_the_os() -> None:
    rss = lambda: psutil.Process().memory_info().rss  # noqa: E731
    # 200 MB in 100 kB blocks (below glibc's mmap threshold, so on the heap), then every block but
    # one in twenty freed: the survivors pin the heap, so glibc keeps the freed pages on its own.
    blocks = [bytearray(100_000) for _ in range(2000)]
    survivors = blocks[::20]
    del blocks
    before = rss()
    assert release_freed_memory() is True
    assert before - rss() > 100 * 2**20
    assert len(survivors) == 100


def test_trim_memory_does_not_change_the_fingerprint() -> None:
    assert OcrEngine(OcrOptions(trim_memory=False)).fingerprint == OcrEngine(OcrOptions()).fingerprint
