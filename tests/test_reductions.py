"""The vectorised long reductions (fastopt._kernels.reductions) against
exactly rounded sums."""
import math

import numpy as np
import pytest

from fastopt._kernels import reductions as R


@pytest.mark.parametrize("n", [0, 1, 7, R.LONG_VECTOR, 10 ** 5 + 3])
def test_long_dot_is_the_dot_product_to_rounding(n):
    rng = np.random.default_rng(n)
    a = rng.standard_normal(n)
    b = rng.standard_normal(n)
    exact = math.fsum(a * b)   # the products are exact to rounding too
    scale = math.fsum(np.abs(a * b)) + 1e-300
    assert abs(R.long_dot(a, b) - exact) <= 1e-13 * scale


def test_long_dot_is_deterministic():
    rng = np.random.default_rng(1)
    a = rng.standard_normal(12345)
    b = rng.standard_normal(12345)
    assert R.long_dot(a, b) == R.long_dot(a.copy(), b.copy())


@pytest.mark.parametrize("n", [1, 5, 10 ** 4 + 1])
def test_long_difference_dots(n):
    rng = np.random.default_rng(n)
    x1, x0, y1, y0 = rng.standard_normal((4, n))
    s = x1 - x0
    y = y1 - y0
    ss, sy = R.long_difference_dots(x1, x0, y1, y0)
    assert abs(ss - math.fsum(s * s)) <= 1e-13 * math.fsum(s * s)
    assert abs(sy - math.fsum(s * y)) <= 1e-13 * math.fsum(np.abs(s * y))


def test_long_dots4_are_four_dot_products():
    rng = np.random.default_rng(4)
    v, a, b, c, d = rng.standard_normal((5, 4099))
    for got, row in zip(R.long_dots4(v, a, b, c, d), (a, b, c, d)):
        exact = math.fsum(v * row)
        assert abs(got - exact) <= 1e-13 * math.fsum(np.abs(v * row))


@pytest.mark.parametrize("n", [0, 1, 5, 1000])
def test_abs_max_bits(n):
    rng = np.random.default_rng(n)
    v = rng.standard_normal(n) * 1e200
    m = R.abs_max_bits(v)
    assert m == (np.abs(v).max().view(np.int64) if n else 0)
    assert m < R.INF_BITS
    if n:
        w = v.copy()
        w[n // 2] = -np.inf
        assert R.abs_max_bits(w) == R.INF_BITS
        w[0] = np.nan
        assert R.abs_max_bits(w) > R.INF_BITS
