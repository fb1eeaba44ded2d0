"""Process-level settings for fast CPU runs, applied once by the CLI commands that train or evaluate.

glibc's malloc serves blocks above its mmap threshold (128 KiB at start, adapting up to 32 MiB) with fresh pages
from the kernel and hands them back on free, and trims the heap top above 128 KiB. SSR's activations are tens of
MB per batch ([T, B, L, 4D] float32 is 10 MiB at batch 128), so every batch would page-fault its buffers in again:
measured here, that costs about a third of a training step and half of an evaluation batch. Raising both
thresholds keeps the pages in the process. Elsewhere (not glibc) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory(mmap_threshold_bytes: int = 32 * 2**20, trim_threshold_bytes: int = 2**30) -> bool:
    """Tell glibc malloc to reuse freed large blocks instead of returning them to the OS; True if applied."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold_bytes)) and bool(mallopt(_M_TRIM_THRESHOLD,
                                                                                   trim_threshold_bytes))
