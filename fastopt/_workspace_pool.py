"""Spare work spaces of the Python drivers of hybr and lm.

Allocating a driver's state array and its views costs about a microsecond,
a tenth of a small solve's fixed cost, so a finished solve's space is kept
for the next solve of the same shape.  Only small spaces are kept (large
solves do not notice the allocation, and memory should not outlive them).
"""

__all__ = ["WorkspacePool"]


class WorkspacePool(dict):
    """Free work spaces by shape key: ``key -> [space, ...]``.

    A space is a tuple whose first item is the float64 state array; the
    rest are views of it (and its address) that the driver uses.

    Parameters
    ----------
    max_entries : int
        Spaces whose state has more float64 entries are not kept.
    max_keys : int
        The pool is emptied when a new key would exceed this many.
    per_key : int
        At most this many spaces are kept per key.
    """

    def __init__(self, max_entries=4096, max_keys=32, per_key=2):
        super().__init__()
        self.max_entries = max_entries
        self.max_keys = max_keys
        self.per_key = per_key

    def take(self, key):
        """A free space for ``key``, its state zeroed again, or None.

        ``pop`` takes a space atomically, so a nested or concurrent solve
        never shares one."""
        free = self.get(key)
        if free:
            try:
                space = free.pop()
            except IndexError:   # taken by another thread meanwhile
                return None
            space[0].fill(0.0)
            return space
        return None

    def give(self, key, space):
        """Keep a finished solve's ``space`` for a later :meth:`take`
        (nothing the caller was given may refer to it).  A solve that
        raised does not give its space back: it is dropped."""
        if space[0].size > self.max_entries:
            return
        free = self.get(key)
        if free is None:
            if len(self) >= self.max_keys:
                self.clear()
            free = self.setdefault(key, [])
        if len(free) < self.per_key:
            free.append(space)
