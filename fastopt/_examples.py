"""Example problems shared by the demo (``python -m fastopt``), the
benchmarks and the documentation.

Each residual comes twice: as plain NumPy (a "Python callable") and as a
numba ``@njit`` function written with loops, computing the same values.
"""
import numpy as np
from numba import njit

__all__ = ["cyclic", "cyclic_jit", "broyden_tridiagonal",
           "broyden_tridiagonal_jit", "pentadiagonal", "pentadiagonal_jit",
           "poisson", "poisson_jit", "dense_problem", "sparse_problem",
           "SPARSE_KINDS"]


def cyclic(x):
    """Dense-Jacobian test map R^n -> R^n (cyclic neighbours):
    f_i = (x_i - 1)^2 x_{i+1} + x_{i-1} / 2, indices modulo n.

    Cheap to evaluate, so timings show the differencing machinery rather
    than the function.
    """
    f = (x - 1.0) ** 2
    f[:-1] *= x[1:]
    f[-1] *= x[0]
    f[1:] += 0.5 * x[:-1]
    f[0] += 0.5 * x[-1]
    return f


@njit
def cyclic_jit(x):
    n = x.size
    f = np.empty(n)
    for i in range(n):
        f[i] = (x[i] - 1.0) ** 2 * x[(i + 1) % n] + 0.5 * x[i - 1]
    return f


def broyden_tridiagonal(x):
    """Broyden's tridiagonal residual (3 - 2x_i)x_i - x_{i-1} - 2x_{i+1} + 1."""
    f = (3.0 - 2.0 * x) * x + 1.0
    f[1:] -= x[:-1]
    f[:-1] -= 2.0 * x[1:]
    return f


@njit
def broyden_tridiagonal_jit(x):
    n = x.size
    f = np.empty(n)
    for i in range(n):
        f[i] = (3.0 - 2.0 * x[i]) * x[i] + 1.0
        if i > 0:
            f[i] -= x[i - 1]
        if i < n - 1:
            f[i] -= 2.0 * x[i + 1]
    return f


def pentadiagonal(x):
    """Banded residual, bandwidth 5: (3 - 2x_i)x_i + 1 minus the two
    neighbours on each side, the nearer ones weighted 2."""
    f = (3.0 - 2.0 * x) * x + 1.0
    f[1:] -= 2.0 * x[:-1]
    f[:-1] -= 2.0 * x[1:]
    f[2:] -= x[:-2]
    f[:-2] -= x[2:]
    return f


@njit
def pentadiagonal_jit(x):
    n = x.size
    f = np.empty(n)
    for i in range(n):
        v = (3.0 - 2.0 * x[i]) * x[i] + 1.0
        if i >= 1:
            v -= 2.0 * x[i - 1]
        if i >= 2:
            v -= x[i - 2]
        if i + 1 < n:
            v -= 2.0 * x[i + 1]
        if i + 2 < n:
            v -= x[i + 2]
        f[i] = v
    return f


def poisson(x):
    """Nonlinear Poisson residual -Laplace(u) + u^3 - 1 on a k-by-k grid
    (5-point stencil, mesh width 1/(k+1), scaled by its square)."""
    k = int(round(np.sqrt(x.size)))
    u = x.reshape(k, k)
    h2 = 1.0 / (k + 1) ** 2
    f = 4.0 * u + h2 * (u * u * u - 1.0)
    f[1:, :] -= u[:-1, :]
    f[:-1, :] -= u[1:, :]
    f[:, 1:] -= u[:, :-1]
    f[:, :-1] -= u[:, 1:]
    return f.ravel()


@njit
def poisson_jit(x):
    k = int(round(np.sqrt(x.size)))
    h2 = 1.0 / (k + 1) ** 2
    f = np.empty(x.size)
    for r in range(k):
        for c in range(k):
            i = r * k + c
            v = 4.0 * x[i] + h2 * (x[i] ** 3 - 1.0)
            if r > 0:
                v -= x[i - k]
            if r < k - 1:
                v -= x[i + k]
            if c > 0:
                v -= x[i - 1]
            if c < k - 1:
                v -= x[i + 1]
            f[i] = v
    return f


def _banded_structure(n, half_width):
    from scipy.sparse import diags_array

    offsets = list(range(-half_width, half_width + 1))
    return diags_array([np.ones(n - abs(o)) for o in offsets],
                       offsets=offsets, format="csr")


def _laplacian_structure(k):
    from scipy.sparse import eye_array, kron

    band = _banded_structure(k, 1)
    return (kron(band, eye_array(k)) + kron(eye_array(k), band)).tocsr()


SPARSE_KINDS = ("tridiagonal", "banded5", "laplacian2d")


def dense_problem(n):
    """``(python_fun, njit_fun, x0)`` for the dense cyclic map of size n."""
    x0 = np.linspace(0.1, 1.0, n)
    return cyclic, cyclic_jit, x0


def sparse_problem(kind, n):
    """``(python_fun, njit_fun, x0, structure)`` of about n unknowns.

    kind is 'tridiagonal', 'banded5' or 'laplacian2d' (which rounds n down
    to a square grid).  The structure is a ``csr_array`` of the Jacobian's
    non-zeros.
    """
    if kind == "tridiagonal":
        funs, structure = ((broyden_tridiagonal, broyden_tridiagonal_jit),
                           _banded_structure(n, 1))
    elif kind == "banded5":
        funs, structure = ((pentadiagonal, pentadiagonal_jit),
                           _banded_structure(n, 2))
    elif kind == "laplacian2d":
        k = int(np.sqrt(n))
        n = k * k
        funs, structure = (poisson, poisson_jit), _laplacian_structure(k)
    else:
        raise ValueError(f"unknown kind {kind!r}; use one of {SPARSE_KINDS}")
    x0 = np.linspace(-1.0, 1.0, n)
    return funs[0], funs[1], x0, structure


# ----------------------------------------------------------------------------
# Small nonlinear systems (Moré, Garbow and Hillstrom 1981) for root.
# ----------------------------------------------------------------------------
def rosenbrock_system(x):
    """MGH 1: Rosenbrock as a 2-equation system; root (1, 1)."""
    return np.array([10.0 * (x[1] - x[0] ** 2), 1.0 - x[0]])


@njit
def rosenbrock_system_jit(x):
    return np.array([10.0 * (x[1] - x[0] ** 2), 1.0 - x[0]])


def powell_singular(x):
    """MGH 13: Powell's singular function; root 0 (singular Jacobian)."""
    return np.array([x[0] + 10.0 * x[1], np.sqrt(5.0) * (x[2] - x[3]),
                     (x[1] - 2.0 * x[2]) ** 2,
                     np.sqrt(10.0) * (x[0] - x[3]) ** 2])


@njit
def powell_singular_jit(x):
    return np.array([x[0] + 10.0 * x[1], np.sqrt(5.0) * (x[2] - x[3]),
                     (x[1] - 2.0 * x[2]) ** 2,
                     np.sqrt(10.0) * (x[0] - x[3]) ** 2])


def helical_valley(x):
    """MGH 7: helical valley; root (1, 0, 0).  (The angle by arctan2; the
    tests' MGH form, tests/mgh_problems.py, picks the branch explicitly.)"""
    theta = np.arctan2(x[1], x[0]) / (2.0 * np.pi)
    return np.array([10.0 * (x[2] - 10.0 * theta),
                     10.0 * (np.sqrt(x[0] ** 2 + x[1] ** 2) - 1.0), x[2]])


@njit
def helical_valley_jit(x):
    theta = np.arctan2(x[1], x[0]) / (2.0 * np.pi)
    return np.array([10.0 * (x[2] - 10.0 * theta),
                     10.0 * (np.sqrt(x[0] ** 2 + x[1] ** 2) - 1.0), x[2]])


def bratu(m, lam=1.0):
    """The 2-D Bratu residual ``-Laplace(u) = lam exp(u)`` (u = 0 on the
    boundary, 5-point stencil, scaled by h^2) on an m x m interior grid,
    as a function of the flattened u."""
    h2 = 1.0 / (m + 1) ** 2

    def F(u):
        U = u.reshape(m, m)
        f = 4.0 * U - h2 * lam * np.exp(U)
        f[1:, :] -= U[:-1, :]
        f[:-1, :] -= U[1:, :]
        f[:, 1:] -= U[:, :-1]
        f[:, :-1] -= U[:, 1:]
        return f.ravel()
    return F


def bratu_jit(m, lam=1.0):
    """The ``@njit`` loop form of :func:`bratu` (the same operation order
    for each entry)."""
    h2 = 1.0 / (m + 1) ** 2

    @njit
    def F(u):
        f = np.empty(m * m)
        for i in range(m):
            for j in range(m):
                k = i * m + j
                v = 4.0 * u[k] - h2 * lam * np.exp(u[k])
                if i > 0:
                    v -= u[k - m]
                if i < m - 1:
                    v -= u[k + m]
                if j > 0:
                    v -= u[k - 1]
                if j < m - 1:
                    v -= u[k + 1]
                f[k] = v
        return f
    return F


def docs_system(x):
    """The example of scipy.optimize.root's docstring."""
    return np.array([x[0] + 0.5 * (x[0] - x[1]) ** 3 - 1.0,
                     0.5 * (x[1] - x[0]) ** 3 + x[1]])


docs_system_jit = njit(docs_system)


def fixed_point(x):
    """x = 0.5 cos(x) + 0.1 x_{i-1} + 0.2 in residual form: a contraction,
    where the mixing methods converge."""
    return 0.5 * np.cos(x) + 0.1 * np.roll(x, 1) + 0.2 - x


@njit
def fixed_point_jit(x):
    n = x.size
    f = np.empty(n)
    for i in range(n):
        f[i] = 0.5 * np.cos(x[i]) + 0.1 * x[i - 1] + 0.2 - x[i]
    return f


def cheap_fixed_point(x):
    """x = 0.2 x_{i-1} + 0.1 x_i^2 + 0.5 in residual form: a contraction
    whose evaluation costs little next to a solver's own vector work."""
    return 0.2 * np.roll(x, 1) + 0.1 * x * x + 0.5 - x


@njit
def cheap_fixed_point_jit(x):
    n = x.size
    f = np.empty(n)
    for i in range(n):
        f[i] = 0.2 * x[i - 1] + 0.1 * x[i] * x[i] + 0.5 - x[i]
    return f


ROOT_PROBLEMS = {
    # name: (python function, @njit function, standard starting point)
    "rosenbrock": (rosenbrock_system, rosenbrock_system_jit, (-1.2, 1.0)),
    "powell_singular": (powell_singular, powell_singular_jit,
                        (3.0, -1.0, 0.0, 1.0)),
    "helical_valley": (helical_valley, helical_valley_jit, (-1.0, 0.0, 0.0)),
    "broyden_tridiagonal_10": (broyden_tridiagonal, broyden_tridiagonal_jit,
                               (-1.0,) * 10),
}


def root_problem(name):
    """``(python_fun, njit_fun, x0)`` of a small system in ROOT_PROBLEMS."""
    fun, fun_jit, x0 = ROOT_PROBLEMS[name]
    return fun, fun_jit, np.array(x0, dtype=float)
