"""The Moré-Garbow-Hillstrom test problems (ACM TOMS 7, 1981) shared by the
root-finder tests (test_hybr.py, test_lm.py).

One definition per problem: Rosenbrock, Powell singular and Broyden
tridiagonal are those of :mod:`fastopt._examples` (which the benchmarks and
the demo use); the others are defined here (the helical valley in MGH's
own form, with the branch of the angle chosen explicitly, which also takes
complex input).
Residuals keep the dtype of ``x`` (float32 in, float32 out; complex in,
complex out, so that :func:`complex_step_jac` can differentiate them).
"""
import numpy as np

from fastopt._examples import (broyden_tridiagonal, powell_singular,
                               rosenbrock_system as rosenbrock)

__all__ = ["rosenbrock", "powell_singular", "powell_badly_scaled", "wood",
           "helical_valley", "watson", "trigonometric", "boundary_value",
           "integral_equation", "extended_rosenbrock", "broyden_tridiagonal",
           "broyden_banded", "bvp_start", "rosenbrock_jac",
           "powell_singular_jac", "powell_badly_scaled_jac",
           "boundary_value_jac", "broyden_tridiagonal_jac", "wood_ls",
           "box3d", "box3d_jac", "bard", "bard_jac", "osborne1",
           "osborne1_jac", "linear", "linear_jac", "SQUARE_SYSTEMS",
           "complex_step_jac"]


# --------------------------------------------------------------------------
# Square systems (MINPACK's hybrd test set)
# --------------------------------------------------------------------------

def powell_badly_scaled(x):
    return np.array([1e4 * x[0] * x[1] - 1.0,
                     np.exp(-x[0]) + np.exp(-x[1]) - 1.0001])


def helical_valley(x):
    tpi = 8.0 * np.arctan(1.0)
    if x[0].real > 0:
        theta = np.arctan(x[1] / x[0]) / tpi
    elif x[0].real < 0:
        theta = np.arctan(x[1] / x[0]) / tpi + 0.5
    else:
        theta = 0.25 * np.sign(x[1].real) + 0 * x[1]
    return np.array([10.0 * (x[2] - 10.0 * theta),
                     10.0 * (np.sqrt(x[0] ** 2 + x[1] ** 2) - 1.0), x[2]])


def wood(x):
    """Wood's function as a system: the gradient of its sum of squares."""
    t1 = x[1] - x[0] ** 2
    t2 = x[3] - x[2] ** 2
    return np.array([-200.0 * x[0] * t1 - (1.0 - x[0]),
                     200.0 * t1 + 20.2 * (x[1] - 1.0) + 19.8 * (x[3] - 1.0),
                     -180.0 * x[2] * t2 - (1.0 - x[2]),
                     180.0 * t2 + 20.2 * (x[3] - 1.0) + 19.8 * (x[1] - 1.0)])


def watson(x):
    n = x.size
    f = np.zeros(n, dtype=x.dtype)
    for i in range(1, 30):
        ti = i / 29.0
        sum1 = 0.0 * x[0]
        temp = 1.0
        for j in range(1, n):
            sum1 = sum1 + j * temp * x[j]
            temp *= ti
        sum2 = 0.0 * x[0]
        temp = 1.0
        for j in range(n):
            sum2 = sum2 + temp * x[j]
            temp *= ti
        temp1 = sum1 - sum2 ** 2 - 1.0
        temp2 = 2.0 * ti * sum2
        temp = 1.0 / ti
        for k in range(n):
            f[k] = f[k] + temp * (k - temp2) * temp1
            temp *= ti
    temp = x[1] - x[0] ** 2 - 1.0
    f[0] = f[0] + x[0] * (1.0 - 2.0 * temp)
    f[1] = f[1] + temp
    return f


def trigonometric(x):
    n = x.size
    i = np.arange(1, n + 1)
    return n - np.sum(np.cos(x)) + i * (1.0 - np.cos(x)) - np.sin(x)


def _grid(n):
    h = 1.0 / (n + 1)
    return h, h * np.arange(1, n + 1)


def boundary_value(x):
    """The discrete boundary value problem."""
    n = x.size
    h, t = _grid(n)
    xp = np.concatenate([np.zeros(1, x.dtype), x, np.zeros(1, x.dtype)])
    return (2.0 * x - xp[:-2] - xp[2:]
            + h * h * (x + t + 1.0) ** 3 / 2.0)


def integral_equation(x):
    n = x.size
    h, t = _grid(n)
    c = (x + t + 1.0) ** 3
    f = np.empty(n, dtype=x.dtype)
    for i in range(n):
        s1 = np.sum(t[:i + 1] * c[:i + 1])
        s2 = np.sum((1.0 - t[i + 1:]) * c[i + 1:])
        f[i] = x[i] + h * ((1.0 - t[i]) * s1 + t[i] * s2) / 2.0
    return f


def extended_rosenbrock(x):
    f = np.empty_like(x)
    f[0::2] = 10.0 * (x[1::2] - x[0::2] ** 2)
    f[1::2] = 1.0 - x[0::2]
    return f


def broyden_banded(x):
    n = x.size
    f = np.empty(n, dtype=x.dtype)
    for i in range(n):
        s = 0.0 * x[0]
        for j in range(max(0, i - 5), min(n, i + 2)):
            if j != i:
                s = s + x[j] * (1.0 + x[j])
        f[i] = x[i] * (2.0 + 5.0 * x[i] ** 2) + 1.0 - s
    return f


def bvp_start(n):
    """Standard start of the boundary value and integral equation problems."""
    _, t = _grid(n)
    return t * (t - 1.0)


# name: (residual, standard start)
SQUARE_SYSTEMS = {
    "rosenbrock": (rosenbrock, np.array([-1.2, 1.0])),
    "powell_singular": (powell_singular, np.array([3.0, -1.0, 0.0, 1.0])),
    "powell_badly_scaled": (powell_badly_scaled, np.array([0.0, 1.0])),
    "wood": (wood, np.array([-3.0, -1.0, -3.0, -1.0])),
    "helical_valley": (helical_valley, np.array([-1.0, 0.0, 0.0])),
    "watson6": (watson, np.zeros(6)),
    "trigonometric": (trigonometric, np.full(10, 0.1)),
    "boundary_value": (boundary_value, bvp_start(10)),
    "integral_equation": (integral_equation, bvp_start(10)),
    "extended_rosenbrock": (extended_rosenbrock, np.tile([-1.2, 1.0], 5)),
    "broyden_tridiagonal": (broyden_tridiagonal, -np.ones(10)),
    "broyden_banded": (broyden_banded, -np.ones(10)),
}


# --------------------------------------------------------------------------
# Analytic Jacobians
# --------------------------------------------------------------------------

def rosenbrock_jac(x):
    return np.array([[-20.0 * x[0], 10.0], [-1.0, 0.0]])


def powell_singular_jac(x):
    s5, s10 = np.sqrt(5.0), np.sqrt(10.0)
    a = 2.0 * (x[1] - 2.0 * x[2])
    b = 2.0 * s10 * (x[0] - x[3])
    return np.array([[1.0, 10.0, 0.0, 0.0], [0.0, 0.0, s5, -s5],
                     [0.0, a, -2.0 * a, 0.0], [b, 0.0, 0.0, -b]])


def powell_badly_scaled_jac(x):
    return np.array([[1e4 * x[1], 1e4 * x[0]],
                     [-np.exp(-x[0]), -np.exp(-x[1])]])


def boundary_value_jac(x):
    n = x.size
    h, t = _grid(n)
    J = np.diag(2.0 + 1.5 * h * h * (x + t + 1.0) ** 2)
    J -= np.eye(n, k=1) + np.eye(n, k=-1)
    return J


def broyden_tridiagonal_jac(x):
    n = x.size
    return (np.diag(3.0 - 4.0 * x) - np.eye(n, k=-1)
            - 2.0 * np.eye(n, k=1))


def complex_step_jac(fun):
    """The Jacobian of ``fun`` by the complex step (exact to rounding)."""
    def jac(x, *args):
        n = x.size
        J = np.empty((n, n))
        h = 1e-30
        for j in range(n):
            z = x.astype(complex)
            z[j] += 1j * h
            J[:, j] = fun(z, *args).imag / h
        return J
    jac.__name__ = fun.__name__ + "_jac"
    return jac


# --------------------------------------------------------------------------
# Least-squares problems (MINPACK's lmdif test set): m >= n residuals
# --------------------------------------------------------------------------

def wood_ls(x):
    """Wood's function as 6 residuals."""
    return np.array([10.0 * (x[1] - x[0] ** 2), 1.0 - x[0],
                     np.sqrt(90.0) * (x[3] - x[2] ** 2), 1.0 - x[2],
                     np.sqrt(10.0) * (x[1] + x[3] - 2.0),
                     (x[1] - x[3]) / np.sqrt(10.0)])


BOX_T = 0.1 * np.arange(1, 11)


def box3d(x):
    t = BOX_T
    return (np.exp(-t * x[0]) - np.exp(-t * x[1])
            - x[2] * (np.exp(-t) - np.exp(-10.0 * t)))


def box3d_jac(x):
    t = BOX_T
    return np.column_stack((-t * np.exp(-t * x[0]), t * np.exp(-t * x[1]),
                            -(np.exp(-t) - np.exp(-10.0 * t))))


BARD_Y = np.array([0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37,
                   0.58, 0.73, 0.96, 1.34, 2.10, 4.39])


def bard(x, y=BARD_Y):
    u = np.arange(1.0, 16.0)
    v = 16.0 - u
    w = np.minimum(u, v)
    return y - (x[0] + u / (v * x[1] + w * x[2]))


def bard_jac(x, y=BARD_Y):
    u = np.arange(1.0, 16.0)
    v = 16.0 - u
    w = np.minimum(u, v)
    d = (v * x[1] + w * x[2]) ** 2
    return np.column_stack((-np.ones(15), u * v / d, u * w / d))


OSB_Y = np.array([0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.850,
                  0.818, 0.784, 0.751, 0.718, 0.685, 0.658, 0.628, 0.603,
                  0.580, 0.558, 0.538, 0.522, 0.506, 0.490, 0.478, 0.467,
                  0.457, 0.448, 0.438, 0.431, 0.424, 0.420, 0.414, 0.411,
                  0.406])


def osborne1(x):
    t = 10.0 * np.arange(33)
    return OSB_Y - (x[0] + x[1] * np.exp(-t * x[3])
                    + x[2] * np.exp(-t * x[4]))


def osborne1_jac(x):
    t = 10.0 * np.arange(33)
    e4, e5 = np.exp(-t * x[3]), np.exp(-t * x[4])
    return -np.column_stack((np.ones(33), e4, e5, -t * x[1] * e4,
                             -t * x[2] * e5))


_rng = np.random.default_rng(1234)
LIN_A = _rng.standard_normal((20, 4))
LIN_XSTAR = np.array([1.0, -2.0, 0.5, 3.0])
LIN_B = LIN_A @ LIN_XSTAR + 0.01 * _rng.standard_normal(20)


def linear(x):
    """A linear least-squares fit with known data (20 residuals)."""
    return LIN_A @ x - LIN_B


def linear_jac(x):
    return LIN_A.copy()
