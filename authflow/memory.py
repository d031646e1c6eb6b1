"""How a web process's C allocator returns freed memory, set once when the WSGI application loads.

Every token request checks a client secret with Argon2 (19 MiB, protocols/oidc/hashers.py).  glibc
serves a block that large with mmap and unmaps it when freed, but after the first such free it
raises its mmap threshold to that size (up to 32 MiB), so the next 19 MiB blocks come from the heap
and stay resident after free: about 19 MB of each worker held for nothing (measured: a worker at
118 MB after 20 logins, 99 MB with the threshold fixed).  Fixing the threshold at glibc's default
(128 KiB) keeps large blocks on mmap, returned when freed.  Without glibc (musl, macOS) this does
nothing; MALLOC_MMAP_THRESHOLD_ in the environment does the same for any process.

The price is that each check faults its block in afresh (issue 18): 4,865 page faults for a
client secret (measured: 21 ms of CPU with its block kept, 34-40 ms faulting it in), and 25,700 for
a password's 100 MiB (which glibc never keeps: it is over its 32 MiB ceiling).  Keeping the client
secret's block instead (both thresholds at 32 MiB) costs its 19 MB in each worker (115.7 MB after
200 logins against 97.0), possibly once more in each thread's arena.  GLIBC_TUNABLES=
glibc.malloc.hugetlb=1 in the web process's environment (glibc 2.35+; read when the process starts,
so it cannot be set from here) maps those blocks with transparent huge pages: 266 and 658 faults, a
client-secret check 40 -> 25 ms and a password check 230 -> 171 ms of CPU, the blocks still
returned (98.0 MB after 200 logins).  See README, "Running in production".
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
