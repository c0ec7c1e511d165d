"""Helpers shared by the tests of hybr's and lm's Python layers: arrays of
unusual layouts for their memoised entry points (which are typed for
writeable, aligned C arrays), and a function that does odd things with the
point array their drivers refill."""
import numpy as np


def unaligned_copy(values):
    """A writeable float64 copy of ``values`` that is not 8-byte aligned."""
    values = np.asarray(values, dtype=np.float64)
    raw = np.zeros(values.nbytes + 1, dtype=np.uint8)
    out = raw[1:].view(np.float64)
    out[:] = values
    assert not out.flags.aligned
    return out


def read_only_copy(values):
    """A read-only float64 copy of ``values``."""
    out = np.array(values, dtype=np.float64)
    out.setflags(write=False)
    return out


def point_user(base, behaviour, seen, kept):
    """``base`` wrapped in a function that records a copy of every point
    it gets and then keeps, overwrites or returns its argument (or a view
    of it) as ``behaviour`` says ('keep', 'keep_every_other', 'overwrite',
    'return_argument' (needs a square system), 'return_view'; anything
    else: none of these)."""
    def f(x):
        seen.append(x.copy())
        value = base(x)
        if behaviour == "keep":
            kept.append(x)
        elif behaviour == "keep_every_other" and len(seen) % 2:
            kept.append(x)
        elif behaviour == "overwrite":
            x[:] = np.nan
        elif behaviour == "return_argument":
            # the value computed into the argument itself
            x[:] = value
            kept.append(x)
            return x
        elif behaviour == "return_view":
            x[:] = value
            return x[:]
        return value
    return f
