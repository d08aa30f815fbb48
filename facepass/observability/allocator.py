"""Make freed image buffers go back to the operating system (glibc only; a no-op elsewhere).

glibc serves large allocations with mmap, but raises that threshold to the size of each large
block freed (up to 32 MB), after which decoded images land in the heap and, freed, stay in the
process: a few large selfies left the server hundreds of MB bigger for good. A fixed threshold
keeps every buffer over 1 MB in its own mapping, returned whole when freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

logger = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # mallopt parameter numbers, from glibc's malloc.h
MMAP_THRESHOLD_BYTES = 1024 * 1024


def return_large_buffers_to_the_os(threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Fix glibc's mmap threshold for this process; False where there is no glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    if mallopt(M_MMAP_THRESHOLD, threshold) != 1:
        logger.warning("mallopt(M_MMAP_THRESHOLD) refused")
        return False
    return True
