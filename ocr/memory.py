"""Give memory freed after a file back to the operating system.

onnxruntime runs with its arena off (see ``OcrOptions.disable_memory_arena``), so each inference
mallocs and frees its tensors. glibc keeps much of what is freed in its per-thread arenas, and
with pages of different sizes the resident size then swings by 200 MB from page to page (measured
by ``bench/bench_memory.py``). ``malloc_trim(0)`` hands the free pages back and keeps it flat.

Call it between files, not between the stages of one: memory given back is faulted in again by
the next large allocation, and trimming after each page made the analysis of that page (seal
detection, classification) 20 ms a page slower (``bench/bench_pipeline.py``). On a C library
without ``malloc_trim`` (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_freed_memory() -> bool:
    """Return freed heap memory to the OS; whether the C library could."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
