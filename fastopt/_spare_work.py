"""The work arrays of recent large solves, kept for the next ones.

A nonlin or Newton-Krylov solve at 10^5 unknowns works in a few megabytes
to a few tens of megabytes.  Allocated afresh, that memory is
faulted in page by page on every solve: glibc's malloc hands a block of
that size back to the system (or maps it afresh) as soon as other
allocations -- the user's NumPy code between two solves, say -- have
reshaped its heap.  Measured here with broyden1 (``max_rank=10``) at
n = 10^5, alternating with other NumPy work: 2,300 page faults and 40 ms
per solve, against 5 ms for the solve itself.  Keeping the arrays between
solves makes every later solve of the same or a smaller size fault-free,
for at most :data:`MAX_ENTRIES` doubles (64 MiB) held in all.
"""

import mmap
import threading

import numpy as np

__all__ = ["MAX_ENTRIES", "take", "give"]

# No more than this is kept: memory of that size should not outlive its
# solve, and a solve that large is long enough not to notice its page
# faults as much.
MAX_ENTRIES = 2 ** 23
# A solve takes up to three at once (the driver's state, the Jacobian's,
# the inner solver's workspace).
_MAX_KEPT = 4

_FREE = []
_LOCK = threading.Lock()


def take(size):
    """An uninitialised float64 vector of at least ``size`` entries: the
    smallest kept array that is large enough, else a new array of
    ``size``.  A taken array is no longer kept, so a nested solve (a
    residual that itself solves) or a concurrent one never shares it."""
    with _LOCK:
        fits = [i for i, a in enumerate(_FREE) if a.size >= size]
        if fits:
            return _FREE.pop(min(fits, key=lambda i: _FREE[i].size))
    return _mapped(size)


def give(work):
    """Keep ``work`` (as :func:`take` returned it, nothing else referring
    to it) for a later :func:`take`; the smallest kept arrays are dropped
    to stay within :data:`MAX_ENTRIES` entries and four arrays."""
    if work.size > MAX_ENTRIES:
        return
    with _LOCK:
        keep = []
        total = 0
        for a in sorted(_FREE + [work], key=len, reverse=True):
            if len(keep) < _MAX_KEPT and total + a.size <= MAX_ENTRIES:
                keep.append(a)
                total += a.size
        _FREE[:] = keep


def _mapped(size):
    # A mapping of its own, not a block of malloc's heap, so that keeping
    # it never splits the heap the user's own code allocates from.  Huge
    # pages where the system offers them: fewer faults the first time.
    if size * 8 < mmap.PAGESIZE:
        return np.empty(size)
    region = mmap.mmap(-1, size * 8)
    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    if advice is not None:
        try:
            region.madvise(advice)
        except OSError:
            pass
    return np.frombuffer(region, dtype=np.float64, count=size)
