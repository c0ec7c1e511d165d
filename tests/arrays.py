"""Arrays of unusual layouts for the tests of the Python layers' memoised
entry points (which are typed for writeable, aligned C arrays)."""
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
