"""asv benchmarks: fastopt.group_columns vs SciPy's group_columns.

Both implementations get the same CSC input (float64 data, int32
indices, as SciPy builds it) and their default ``order``: ``'best'`` for
fastopt, the seeded random permutation ``order=0`` for SciPy.
"""
import math

import numpy as np
import scipy.sparse as sp


def _build(structure, n):
    """Jacobian sparsity structure, CSC, about `n` columns."""
    if structure == "tridiagonal":
        offsets = [-1, 0, 1]
    elif structure == "banded5":
        offsets = [-2, -1, 0, 1, 2]
    elif structure == "laplacian2d":
        # 5-point stencil on a k x k grid, k = sqrt(n).
        k = math.isqrt(n)
        d = sp.diags_array([np.ones(k - 1), -2.0 * np.ones(k),
                            np.ones(k - 1)], offsets=[-1, 0, 1])
        eye = sp.eye_array(k)
        return (sp.kron(eye, d) + sp.kron(d, eye)).tocsc()
    else:
        raise ValueError(structure)
    return sp.diags_array([np.ones(n - abs(k)) for k in offsets],
                          offsets=offsets, shape=(n, n), format="csc")


def _implementation(impl):
    if impl == "fastopt":
        from fastopt._group_columns import group_columns
    else:
        from scipy.optimize._numdiff import group_columns
    return group_columns


class GroupColumns:
    """Time and quality of the default column grouping."""

    params = (["tridiagonal", "banded5", "laplacian2d"],
              [10**4, 10**6],
              ["fastopt", "scipy"])
    param_names = ["structure", "n", "impl"]
    timeout = 300

    def setup(self, structure, n, impl):
        self.group_columns = _implementation(impl)
        # Warm-up: load (or compile) the kernels outside the timings.
        self.group_columns(_build(structure, 16))
        self.A = _build(structure, n)

    def time_group_columns(self, structure, n, impl):
        self.group_columns(self.A)

    def track_n_groups(self, structure, n, impl):
        return int(self.group_columns(self.A).max()) + 1

    track_n_groups.unit = "groups"
