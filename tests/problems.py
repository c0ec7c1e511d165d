"""Test functions for the finite-difference tests.

Module-level (hence picklable) so process pools can evaluate them.
"""
import numpy as np
from numba import njit


def polynomial(x):
    return np.array([x[0] ** 3 + 2 * x[0] * x[1], x[1] ** 2 - x[0] * x[2] ** 2,
                     x[0] + x[1] + x[2] ** 4])


def trigonometric(x):
    return np.array([np.sin(x[0]) * np.cos(x[1]), np.tan(0.3 * x[2]) + x[0],
                     np.sin(x[0] * x[1] * x[2])])


def exponential(x):
    return np.array([np.exp(x[0]) - x[1], np.exp(-x[1] * x[2]),
                     np.exp(0.5 * x[2]) * x[0]])


def rational(x):
    return np.array([x[0] / (1 + x[1] ** 2), (x[1] + 1) / (2 + x[2] ** 2),
                     1 / (3 + x[0] ** 2 + x[2] ** 2)])


def scalar_valued(x):
    return np.sum(x ** 2) + np.prod(np.cos(x))


def with_args(x, a, b):
    return np.array([a * x[0] ** 2 + x[1], b * np.sin(x[0]) * x[1]])


def with_kwargs(x, a, *, scale=1.0):
    return scale * np.array([a * x[0] ** 2 + x[1], np.sin(x[0]) * x[1]])


def vector_of_one_variable(x):
    return np.array([x[0], x[0] ** 2, np.sin(x[0])])


CATALOGUE = [polynomial, trigonometric, exponential, rational, scalar_valued]


class UserError(Exception):
    """Raised by :func:`raises_far_out`."""


def raises_far_out(x):
    if x[0] > 1.0:
        raise UserError(f"x[0] = {x[0]} is too large")
    return np.array([x[0] ** 2, x[1]])


def structured(x, rows, cols):
    # f = A sin(x) + (A x)^2 with A's pattern given by (rows, cols): its
    # Jacobian has exactly A's sparsity structure.
    n = x.size
    m = int(rows.max()) + 1
    Ax = np.zeros(m)
    As = np.zeros(m)
    np.add.at(Ax, rows, (1 + cols / n) * x[cols])
    np.add.at(As, rows, np.sin(x[cols]))
    return As + Ax ** 2


def vectorised_map(f, points):
    # A map that evaluates every point in one call, as in SciPy's docs.
    stacked = np.array([p for p in points])
    return [f(p) for p in stacked]


@njit
def jit_polynomial(x):
    return np.array([x[0] ** 3 + 2 * x[0] * x[1], x[1] ** 2 - x[0] * x[2] ** 2,
                     x[0] + x[1] + x[2] ** 4])


@njit
def jit_with_args(x, a, b):
    return np.array([a * x[0] ** 2 + x[1], b[0] * np.sin(x[0]) * x[1]])


@njit
def jit_scalar(x):
    return np.sum(x ** 2) + np.cos(x[0])


@njit
def jit_raises(x):
    if x[0] > 1.0:
        raise ValueError("jit user error")
    return x * 2.0


@njit
def jit_tridiagonal(x):
    # Broyden's tridiagonal residual.
    n = x.size
    f = np.empty(n)
    for i in range(n):
        left = x[i - 1] if i > 0 else 0.0
        right = x[i + 1] if i < n - 1 else 0.0
        f[i] = (3.0 - 2.0 * x[i]) * x[i] - left - 2.0 * right + 1.0
    return f


def tridiagonal(x):
    f = (3.0 - 2.0 * x) * x + 1.0
    f[1:] -= x[:-1]
    f[:-1] -= 2.0 * x[1:]
    return f
