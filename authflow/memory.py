"""How a web process's C allocator returns freed memory, set once when the WSGI application loads.

Every token request checks a client secret with Argon2 (19 MiB, protocols/oidc/hashers.py).  glibc
serves a block that large with mmap and unmaps it when freed, but after the first such free it
raises its mmap threshold to that size (up to 32 MiB), so the next 19 MiB blocks come from the heap
and stay resident after free: about 19 MB of each worker held for nothing (measured: a worker at
118 MB after 20 logins, 99 MB with the threshold fixed).  Fixing the threshold at glibc's default
(128 KiB) keeps large blocks on mmap, returned when freed.  Without glibc (musl, macOS) this does
nothing; MALLOC_MMAP_THRESHOLD_ in the environment does the same for any process.
"""
from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
MMAP_THRESHOLD_BYTES = 128 * 1024


def keep_large_blocks_unmapped() -> bool:
    """Fix glibc's mmap threshold (setting it turns off its upward adjustment); False where there is no glibc."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
