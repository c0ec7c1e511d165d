"""The QP kernels behind SLSQP: Householder/Givens, packed LDL', LDP, LSI,
LSEI, HFTI and LSQ.

References: hand-derived solutions; a brute-force active-set enumeration
(solve the KKT system of every candidate active set, keep the one that is
feasible with non-negative multipliers) on strictly convex QPs with n <= 4;
dense NumPy recomputation for the LDL' utilities; numpy.linalg.lstsq for
HFTI.  Tolerances are stated at each assertion.
"""
import itertools

import numpy as np
import pytest

from fastopt._kernels import householder as H
from fastopt._kernels import ldl as LDL
from fastopt._kernels import lsq as Q

EPS = np.finfo(float).eps


# ------------------------------------------------------------- helpers

def packed(L, D):
    """Kraft's packed layout of L D L'."""
    n = D.size
    out = []
    for j in range(n):
        out.append(D[j])
        out.extend(L[j + 1:, j])
    return np.array(out, dtype=float)


def random_factor(rng, n, spread=2.0):
    L = np.tril(rng.standard_normal((n, n)), -1) * 0.5 + np.eye(n)
    D = rng.uniform(1.0 / spread, spread, n)
    return packed(L, D), L @ np.diag(D) @ L.T


def dense(ldl, n):
    B = np.empty((n, n))
    LDL.ldl_to_dense(ldl, B)
    return B


def run_lsq(ldl, g, C, d, meq, xl, xu, maxiter=None):
    n = g.size
    m = C.shape[0]
    s = np.full(n, np.nan)
    mult = np.full(m + 2 * n, np.nan)
    work = np.full(Q.lsq_work_size(m, meq, n), np.nan)
    if maxiter is None:
        mode = Q.lsq(ldl, g, C, d, meq, xl, xu, s, mult, work)
    else:
        mode = Q._lsq(ldl, g, C, d, meq, xl, xu, s, mult, work, maxiter)
    return mode, s, mult


def bruteforce_qp(B, g, Aeq, beq, Ain, bin_):
    """min 1/2 x'Bx + g'x s.t. Aeq x = beq, Ain x >= bin_ (B pos. def.).

    Returns (x, mu, lam) with B x + g = Aeq' mu + Ain' lam, lam >= 0.
    """
    n = g.size
    meq = Aeq.shape[0]
    mi = Ain.shape[0]
    for size in range(0, min(mi, n - meq) + 1):
        for active in itertools.combinations(range(mi), size):
            A = np.vstack([Aeq, Ain[list(active)]])
            k = A.shape[0]
            K = np.block([[B, -A.T], [A, np.zeros((k, k))]])
            if np.linalg.cond(K) > 1e10:
                continue
            rhs = np.concatenate([-g, beq, bin_[list(active)]])
            sol = np.linalg.solve(K, rhs)
            x = sol[:n]
            lam_active = sol[n + meq:]
            if np.any(lam_active < -1e-10):
                continue
            if np.any(Ain @ x - bin_ < -1e-10):
                continue
            lam = np.zeros(mi)
            lam[list(active)] = lam_active
            return x, sol[n:n + meq], lam
    raise AssertionError("no KKT point found")


def qp_constraints(C, d, meq, xl, xu):
    """The lsq problem's constraints as Aeq x = beq, Ain x >= bin."""
    n = C.shape[1]
    Aeq, beq = C[:meq], -d[:meq]
    rows, rhs = [C[meq:]], [-d[meq:]]
    I = np.eye(n)
    for i in range(n):
        if np.isfinite(xl[i]):
            rows.append(I[i:i + 1])
            rhs.append(xl[i:i + 1])
    for i in range(n):
        if np.isfinite(xu[i]):
            rows.append(-I[i:i + 1])
            rhs.append(-xu[i:i + 1])
    return Aeq, beq, np.vstack(rows), np.concatenate(rhs)


def random_qp(rng, n, m, meq, bound_kinds=True):
    """A random feasible lsq problem (s0 is strictly feasible for the
    inequalities)."""
    ldl, B = random_factor(rng, n)
    g = rng.standard_normal(n) * 2.0
    C = rng.standard_normal((m, n))
    s0 = rng.standard_normal(n) * 0.3
    d = -C @ s0
    d[meq:] += rng.uniform(0.0, 0.5, m - meq)
    xl = np.full(n, np.nan)
    xu = np.full(n, np.nan)
    for i in range(n):
        kind = rng.integers(0, 5) if bound_kinds else 0
        if kind == 1:
            xl[i] = s0[i] - rng.uniform(0.05, 1.0)
        elif kind == 2:
            xu[i] = s0[i] + rng.uniform(0.05, 1.0)
        elif kind == 3:
            xl[i] = s0[i] - rng.uniform(0.05, 1.0)
            xu[i] = s0[i] + rng.uniform(0.05, 1.0)
        elif kind == 4:
            xl[i] = -np.inf
            xu[i] = np.inf if rng.integers(2) else s0[i] + 0.5
    return ldl, B, g, C, d, xl, xu


def kkt_errors(B, g, C, d, meq, xl, xu, s, mult):
    """(stationarity, feasibility, complementarity, sign) violations."""
    m, n = C.shape
    lower, upper = mult[m:m + n], mult[m + n:]
    stat = B @ s + g - C.T @ mult[:m] - lower + upper
    ci = C[meq:] @ s + d[meq:]
    feas = max(np.abs(C[:meq] @ s + d[:meq]).max(initial=0.0),
               (-ci).max(initial=0.0),
               np.where(np.isfinite(xl), xl - s, 0.0).max(initial=0.0),
               np.where(np.isfinite(xu), s - xu, 0.0).max(initial=0.0))
    comp = max(np.abs(ci * mult[meq:m]).max(initial=0.0),
               np.abs(np.where(np.isfinite(xl), s - xl, 0.0)
                      * lower).max(initial=0.0),
               np.abs(np.where(np.isfinite(xu), xu - s, 0.0)
                      * upper).max(initial=0.0))
    sign = max(-mult[meq:].min(initial=0.0), 0.0)
    unbounded = max(np.abs(lower[~np.isfinite(xl)]).max(initial=0.0),
                    np.abs(upper[~np.isfinite(xu)]).max(initial=0.0))
    return np.abs(stat).max(initial=0.0), feas, comp, sign, unbounded


# --------------------------------------------------- Householder, Givens

def test_householder_reflection():
    rng = np.random.default_rng(1)
    for p, l, size in [(0, 1, 5), (2, 3, 6), (1, 4, 7), (0, 1, 1)]:
        v = rng.standard_normal(size)
        if size > 3:
            v[p] = -abs(v[p]) if p % 2 else abs(v[p])
        u = v.copy()
        up = H.house_make(u, p, l)
        # Q as a matrix, by applying the reflection to the unit vectors.
        Qm = np.eye(size)
        for j in range(size):
            H.house_apply(u, p, l, up, Qm[:, j])
        np.testing.assert_allclose(Qm.T @ Qm, np.eye(size), atol=1e-14)
        w = v.copy()
        H.house_apply(u, p, l, up, w)
        expected = v.copy()
        expected[l:] = 0.0
        expected[p] = u[p]
        np.testing.assert_allclose(w, expected, atol=1e-14)
        norm = np.sqrt(v[p] ** 2 + np.sum(v[l:] ** 2))
        assert abs(u[p]) == pytest.approx(norm, rel=1e-15)
        # Sign choice: the new pivot has the opposite sign of the old one
        # (no cancellation in up = v[p] - s).
        if size > 1:
            assert u[p] * v[p] <= 0.0


def test_householder_zero_vector_is_identity():
    v = np.zeros(4)
    assert H.house_make(v, 0, 1) == 0.0
    c = np.arange(4.0)
    H.house_apply(v, 0, 1, 0.0, c)
    assert np.array_equal(c, np.arange(4.0))


def test_householder_quad_is_pair_twice():
    # house_apply_quad computes each vector exactly as house_apply_pair
    # does (bit for bit), and both apply the reflection Q = I + u u'/(s up).
    rng = np.random.default_rng(7)
    for size, p, l in [(9, 2, 3), (10, 0, 1), (2, 0, 1), (64, 5, 6)]:
        u = rng.standard_normal(size)
        up = H.house_make(u, p, l)
        vectors = [rng.standard_normal(size) for _ in range(4)]
        quad = [v.copy() for v in vectors]
        H.house_apply_quad(u, p, l, up, *quad)
        pairs = [v.copy() for v in vectors]
        H.house_apply_pair(u, p, l, up, pairs[0], pairs[1])
        H.house_apply_pair(u, p, l, up, pairs[2], pairs[3])
        for a, b in zip(quad, pairs):
            assert np.array_equal(a, b)
        hv = np.zeros(size)
        hv[p] = up
        hv[l:] = u[l:]
        Qm = np.eye(size) + np.outer(hv, hv) / (u[p] * up)
        for v, a in zip(vectors, quad):
            np.testing.assert_allclose(a, Qm @ v, rtol=0, atol=1e-14 * size)


@pytest.mark.parametrize("a,b", [(3.0, 4.0), (-4.0, 3.0), (0.0, -2.0),
                                 (1e200, 1e200), (1e-200, -3e-200),
                                 (5.0, 0.0), (0.0, 0.0)])
def test_givens(a, b):
    c, s, r = H.givens(a, b)
    x, y = H.givens_apply(c, s, a, b)
    assert c * c + s * s == pytest.approx(1.0, rel=1e-15)
    assert x == pytest.approx(r, rel=1e-15)
    assert abs(y) <= 1e-15 * max(abs(a), abs(b))
    assert abs(r) == pytest.approx(np.hypot(a, b), rel=1e-15)


# ------------------------------------------------------------ LDL' utils

def test_ldl_identity_and_multiply():
    rng = np.random.default_rng(2)
    ldl = np.full(LDL.packed_size(5), np.nan)
    LDL.ldl_identity(ldl)
    np.testing.assert_array_equal(dense(ldl, 5), np.eye(5))
    for n in (1, 2, 4, 9):
        ldl, B = random_factor(rng, n)
        np.testing.assert_allclose(dense(ldl, n), B, rtol=1e-14, atol=1e-14)
        v = rng.standard_normal(n)
        out = np.empty(n)
        LDL.ldl_multiply(ldl, v, out)
        np.testing.assert_allclose(out, B @ v, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("n", [1, 3, 7])
def test_ldl_update_positive(n):
    rng = np.random.default_rng(n)
    ldl, B = random_factor(rng, n)
    for sigma in (0.3, 1.0, 50.0):
        z = rng.standard_normal(n)
        expected = B + sigma * np.outer(z, z)
        LDL.ldl_update(ldl, z.copy(), sigma, np.empty(n))
        B = dense(ldl, n)
        np.testing.assert_allclose(B, expected, rtol=1e-12,
                                   atol=1e-12 * np.abs(expected).max())


@pytest.mark.parametrize("n", [1, 3, 7])
def test_ldl_update_negative_keeps_positive_definite(n):
    rng = np.random.default_rng(10 + n)
    ldl, B = random_factor(rng, n)
    z = rng.standard_normal(n)
    q = z @ np.linalg.solve(B, z)
    # Still positive definite: compared with the dense update.
    sigma = -0.6 / q
    expected = B + sigma * np.outer(z, z)
    work = ldl.copy()
    LDL.ldl_update(work, z.copy(), sigma, np.empty(n))
    np.testing.assert_allclose(dense(work, n), expected, rtol=1e-11,
                               atol=1e-11 * np.abs(B).max())
    # Exactly singular or indefinite: the composite-t method keeps D > 0.
    for factor in (1.0, 1.5):
        work = ldl.copy()
        LDL.ldl_update(work, z.copy(), -factor / q, np.empty(n))
        Dpos = np.cumsum([0] + [n - j for j in range(n - 1)])
        assert np.all(work[Dpos] > 0.0)
        assert np.all(np.isfinite(work))


def test_ldl_bfgs_pair_matches_dense():
    # SLSQP's update: B + u u'/(s'u) - (Bs)(Bs)'/(s'Bs).
    rng = np.random.default_rng(5)
    n = 6
    ldl, B = random_factor(rng, n)
    for _ in range(5):
        s = rng.standard_normal(n)
        u = B @ s + rng.standard_normal(n) * 0.3
        if s @ u <= 0:
            u = B @ s
        bs = np.empty(n)
        LDL.ldl_multiply(ldl, s, bs)
        h1, h2 = s @ u, s @ bs
        expected = B + np.outer(u, u) / h1 - np.outer(bs, bs) / h2
        w = np.empty(n)
        LDL.ldl_update(ldl, u.copy(), 1.0 / h1, w)
        LDL.ldl_update(ldl, bs.copy(), -1.0 / h2, w)
        B = dense(ldl, n)
        np.testing.assert_allclose(B, expected, rtol=1e-10,
                                   atol=1e-10 * np.abs(expected).max())


# ------------------------------------------------------------------ LDP

def run_ldp(G, h):
    G = np.ascontiguousarray(G, float)
    h = np.asarray(h, float)
    x = np.full(G.shape[1], np.nan)
    mult = np.full(G.shape[0], np.nan)
    work = np.empty(Q.ldp_work_size(*G.shape))
    return Q.ldp(G, h, x, mult, work), x, mult


@pytest.mark.parametrize("G,h,x,mult", [
    ([[1.0, 1.0]], [2.0], [1.0, 1.0], [1.0]),
    ([[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0], [1.0, 0.0], [1.0, 0.0]),
    ([[2.0, 0.0], [0.0, 1.0]], [2.0, 3.0], [1.0, 3.0], [0.5, 3.0]),
    ([[1.0, 0.0], [0.0, 1.0]], [-1.0, -2.0], [0.0, 0.0], [0.0, 0.0]),
    ([[1.0], [1.0]], [1.0, 2.0], [2.0], [0.0, 2.0]),
])
def test_ldp_known(G, h, x, mult):
    mode, xs, ms = run_ldp(G, h)
    assert mode == 1
    np.testing.assert_allclose(xs, x, atol=1e-14)
    np.testing.assert_allclose(ms, mult, atol=1e-14)


def test_ldp_special_modes():
    assert run_ldp([[1.0], [-1.0]], [1.0, 0.0])[0] == 4   # x>=1, x<=0
    mode, x, mult = run_ldp(np.zeros((0, 3)), np.zeros(0))
    assert mode == 1 and np.array_equal(x, np.zeros(3))
    assert run_ldp(np.zeros((2, 0)), np.ones(2))[0] == 2


def test_ldp_iteration_limit():
    G = np.eye(3)
    h = np.ones(3)
    x = np.empty(3)
    mult = np.empty(3)
    work = np.empty(Q.ldp_work_size(3, 3))
    assert Q._ldp(G, h, x, mult, work, 1) == 3
    assert Q._ldp(G, h, x, mult, work, 0) == 1


# ------------------------------------------------------------ LSI, LSEI

def run_lsei(C, d, E, f, G, h):
    arrays = [np.ascontiguousarray(a, float) for a in (C, d, E, f, G, h)]
    C, d, E, f, G, h = arrays
    copies = [a.copy() for a in arrays]
    n = E.shape[1]
    x = np.full(n, np.nan)
    mult = np.full(C.shape[0] + G.shape[0], np.nan)
    work = np.full(Q.lsei_work_size(C.shape[0], E.shape[0], G.shape[0], n),
                   np.nan)
    mode = Q.lsei(C, d, E, f, G, h, x, mult, work)
    for a, b in zip(arrays, copies):
        assert np.array_equal(a, b)          # inputs untouched
    return mode, x, mult


def test_lsi_known():
    E = np.eye(2)
    f = np.array([3.0, 3.0])
    G = np.array([[-1.0, 0.0]])
    h = np.array([-1.0])
    x = np.empty(2)
    mult = np.empty(1)
    work = np.empty(Q.lsi_work_size(2, 1, 2))
    assert Q.lsi(E, f, G, h, x, mult, work) == 1
    np.testing.assert_allclose(x, [1.0, 3.0], atol=1e-14)
    np.testing.assert_allclose(mult, [2.0], atol=1e-14)
    # More columns than rows: E singular.
    E1 = np.ones((1, 2))
    assert Q.lsi(E1, f[:1], G, h, x, mult,
                 np.empty(Q.lsi_work_size(1, 1, 2))) == 5


def _kkt_problem(rng, me, n, mg, n_active, mc=0):
    # A strictly convex problem min ||E x - f|| s.t. C x = d, G x >= h
    # with a known solution: x*, the active rows of G (multipliers > 0)
    # and the equality multipliers are chosen, then f is built from the
    # stationarity condition E'(E x* - f) = C' mu + G' lam.
    E = rng.standard_normal((me, n))
    C = rng.standard_normal((mc, n))
    G = rng.standard_normal((mg, n))
    x = rng.standard_normal(n)
    lam = np.zeros(mg)
    active = rng.choice(mg, n_active, replace=False)
    lam[active] = rng.uniform(0.5, 2.0, n_active)
    mu = rng.standard_normal(mc)
    h = G @ x - rng.uniform(0.1, 1.0, mg)
    h[active] = G[active] @ x
    r = E @ np.linalg.solve(E.T @ E, C.T @ mu + G.T @ lam)
    return C, C @ x, E, E @ x - r, G, h, x, mu, lam


@pytest.mark.parametrize("me,n,mg", [(150, 130, 140), (70, 65, 3),
                                     (200, 64, 129)])
def test_lsi_several_blocks(me, n, mg):
    # Sizes beyond the 64-column blocks of the QR factorisation and of
    # the substitution G R^-1, and at their edges: the known solution
    # and multipliers, to a tolerance of 1e-9 relative (the problems are
    # well conditioned).
    rng = np.random.default_rng(me + n + mg)
    _, _, E, f, G, h, xs, _, lam = _kkt_problem(rng, me, n, mg,
                                                 min(mg, n) // 3)
    x = np.full(n, np.nan)
    mult = np.full(mg, np.nan)
    work = np.full(Q.lsi_work_size(me, mg, n), np.nan)
    assert Q.lsi(E, f, G, h, x, mult, work) == 1
    np.testing.assert_allclose(x, xs, rtol=0, atol=1e-9 * np.abs(xs).max())
    np.testing.assert_allclose(mult, lam, rtol=0,
                               atol=1e-9 * np.abs(lam).max())


def test_lsei_several_blocks():
    rng = np.random.default_rng(3)
    C, d, E, f, G, h, xs, mu, lam = _kkt_problem(rng, 160, 140, 150, 40,
                                                  mc=3)
    mode, x, mult = run_lsei(C, d, E, f, G, h)
    assert mode == 1
    np.testing.assert_allclose(x, xs, rtol=0, atol=1e-9 * np.abs(xs).max())
    expected = np.concatenate([mu, lam])
    np.testing.assert_allclose(mult, expected, rtol=0,
                               atol=1e-9 * np.abs(expected).max())


def test_lsei_known():
    C = np.ones((1, 3))
    d = np.zeros(1)
    E = np.eye(3)
    f = np.array([1.0, 2.0, 3.0])
    mode, x, mult = run_lsei(C, d, E, f, np.zeros((0, 3)), np.zeros(0))
    assert mode == 1
    np.testing.assert_allclose(x, [-1.0, 0.0, 1.0], atol=1e-14)
    np.testing.assert_allclose(mult, [-2.0], atol=1e-14)
    G = np.array([[0.0, 0.0, -1.0]])          # x3 <= 0.5
    mode, x, mult = run_lsei(C, d, E, f, G, np.array([-0.5]))
    assert mode == 1
    np.testing.assert_allclose(x, [-0.75, 0.25, 0.5], atol=1e-14)
    np.testing.assert_allclose(mult, [-1.75, 0.75], atol=1e-14)


def test_lsei_equalities_only_square():
    rng = np.random.default_rng(3)
    C = rng.standard_normal((3, 3))
    d = rng.standard_normal(3)
    E = rng.standard_normal((4, 3))
    f = rng.standard_normal(4)
    mode, x, mult = run_lsei(C, d, E, f, np.zeros((0, 3)), np.zeros(0))
    assert mode == 1
    np.testing.assert_allclose(x, np.linalg.solve(C, d), rtol=1e-12)
    np.testing.assert_allclose(C.T @ mult, E.T @ (E @ x - f), atol=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_lsei_vs_bruteforce(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(1, 5))
    mc = int(rng.integers(0, n + 1))
    mg = int(rng.integers(0, 5))
    me = n + int(rng.integers(0, 3))
    E = rng.standard_normal((me, n))
    f = rng.standard_normal(me)
    C = rng.standard_normal((mc, n))
    x0 = rng.standard_normal(n)
    d = C @ x0
    G = rng.standard_normal((mg, n))
    h = G @ x0 - rng.uniform(0.0, 0.5, mg)
    mode, x, mult = run_lsei(C, d, E, f, G, h)
    assert mode == 1
    xr, mur, lamr = bruteforce_qp(E.T @ E, -E.T @ f, C, d, G, h)
    np.testing.assert_allclose(x, xr, rtol=0, atol=1e-9)
    np.testing.assert_allclose(mult, np.concatenate([mur, lamr]), rtol=0,
                               atol=1e-8)


def test_lsei_modes():
    E = np.eye(2)
    f = np.ones(2)
    G0, h0 = np.zeros((0, 2)), np.zeros(0)
    assert run_lsei(np.ones((3, 2)), np.ones(3), E, f, G0, h0)[0] == 2
    assert run_lsei(np.zeros((1, 2)), np.ones(1), E, f, G0, h0)[0] == 6
    # Least-squares part rank deficient on the null space of C.
    mode, x, _ = run_lsei(np.array([[1.0, 0.0]]), np.ones(1),
                          np.array([[1.0, 0.0], [2.0, 0.0]]), f, G0, h0)
    assert mode == 7
    assert run_lsei(np.zeros((0, 2)), np.zeros(0), E, f,
                    np.array([[1.0, 0.0], [-1.0, 0.0]]),
                    np.array([1.0, 0.0]))[0] == 4


# ----------------------------------------------------------------- HFTI

@pytest.mark.parametrize("m,n,r", [(6, 4, 4), (6, 5, 3), (4, 6, 2),
                                   (5, 5, 1), (3, 3, 3)])
def test_hfti_minimum_length(m, n, r):
    rng = np.random.default_rng(m * 10 + n + r)
    A = rng.standard_normal((m, r)) @ rng.standard_normal((r, n))
    A[:, 0] *= 10.0
    b = rng.standard_normal(m)
    x = np.empty(n)
    rank = Q.hfti(A.copy(), b.copy(), x, Q.HFTI_RCOND,
                  np.empty(Q.hfti_work_size(m, n)))
    assert rank == r
    expected = np.linalg.lstsq(A, b, rcond=1e-10)[0]
    np.testing.assert_allclose(x, expected, rtol=0,
                               atol=1e-10 * max(1.0, np.abs(expected).max()))


# ------------------------------------------------------------------ LSQ

@pytest.mark.parametrize("seed", range(30))
def test_lsq_vs_bruteforce(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5))
    m = int(rng.integers(0, 4))
    meq = int(rng.integers(0, min(m, n) + 1))
    ldl, B, g, C, d, xl, xu = random_qp(rng, n, m, meq)
    mode, s, mult = run_lsq(ldl, g, C, d, meq, xl, xu)
    assert mode == 1
    Aeq, beq, Ain, bin_ = qp_constraints(C, d, meq, xl, xu)
    sr, mur, lamr = bruteforce_qp(B, g, Aeq, beq, Ain, bin_)
    np.testing.assert_allclose(s, sr, rtol=0, atol=1e-9)
    # Multipliers: equality and general-inequality ones directly; bound
    # ones scattered back to their variables.
    mi = m - meq
    np.testing.assert_allclose(mult[:m], np.concatenate([mur, lamr[:mi]]),
                               rtol=0, atol=1e-8)
    lower = np.zeros(n)
    upper = np.zeros(n)
    k = mi
    for i in range(n):
        if np.isfinite(xl[i]):
            lower[i] = lamr[k]
            k += 1
    for i in range(n):
        if np.isfinite(xu[i]):
            upper[i] = lamr[k]
            k += 1
    np.testing.assert_allclose(mult[m:m + n], lower, rtol=0, atol=1e-8)
    np.testing.assert_allclose(mult[m + n:], upper, rtol=0, atol=1e-8)


@pytest.mark.parametrize("seed", range(20))
def test_lsq_kkt_random(seed):
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(1, 13))
    m = int(rng.integers(0, 2 * n + 1))
    meq = int(rng.integers(0, min(m, n) + 1))
    ldl, B, g, C, d, xl, xu = random_qp(rng, n, m, meq)
    inputs = [a.copy() for a in (ldl, g, C, d, xl, xu)]
    mode, s, mult = run_lsq(ldl, g, C, d, meq, xl, xu)
    assert mode == 1
    for a, b in zip(inputs, (ldl, g, C, d, xl, xu)):
        np.testing.assert_array_equal(a, b)     # inputs untouched
    stat, feas, comp, sign, unbounded = kkt_errors(B, g, C, d, meq, xl, xu,
                                                   s, mult)
    scale = max(1.0, np.abs(g).max(), np.abs(mult).max())
    assert stat <= 1e-9 * scale
    assert feas <= 1e-10
    assert comp <= 1e-9 * scale
    assert sign == 0.0
    assert unbounded == 0.0
    # Clamped into the bounds exactly.
    assert np.all(np.where(np.isfinite(xl), s >= xl, True))
    assert np.all(np.where(np.isfinite(xu), s <= xu, True))


def test_lsq_unconstrained_is_newton_step():
    rng = np.random.default_rng(4)
    n = 5
    ldl, B, g, *_ = random_qp(rng, n, 0, 0, bound_kinds=False)
    none = np.full(n, np.nan)
    mode, s, mult = run_lsq(ldl, g, np.zeros((0, n)), np.zeros(0), 0,
                            none, none)
    assert mode == 1
    np.testing.assert_allclose(s, -np.linalg.solve(B, g), rtol=1e-12)
    assert np.array_equal(mult, np.zeros(2 * n))
    # +-inf bounds are no bounds.
    mode, s2, _ = run_lsq(ldl, g, np.zeros((0, n)), np.zeros(0), 0,
                          np.full(n, -np.inf), np.full(n, np.inf))
    assert mode == 1 and np.array_equal(s, s2)


def test_lsq_meq_equals_n_and_m():
    rng = np.random.default_rng(6)
    n = 3
    ldl, B, g, C, d, xl, xu = random_qp(rng, n, n, n, bound_kinds=False)
    mode, s, mult = run_lsq(ldl, g, C, d, n, xl, xu)
    assert mode == 1
    np.testing.assert_allclose(C @ s, -d, atol=1e-12)
    np.testing.assert_allclose(B @ s + g, C.T @ mult[:n], atol=1e-11)
    # Only equalities (meq == m < n), with bounds.
    ldl, B, g, C, d, xl, xu = random_qp(rng, 4, 2, 2)
    mode, s, mult = run_lsq(ldl, g, C, d, 2, xl, xu)
    assert mode == 1
    stat, feas, comp, sign, _ = kkt_errors(B, g, C, d, 2, xl, xu, s, mult)
    assert max(stat, feas, comp, sign) <= 1e-9


def test_lsq_augmented_variable_problem():
    # The shape SLSQP's inconsistent-linearisation fallback uses: n + 1
    # variables, the last in [0, 1] with a large weight rho.
    rng = np.random.default_rng(8)
    n = 3
    ldl, B = random_factor(rng, n)
    rho = 100.0
    L = np.eye(n + 1)
    D = np.append(np.ones(n), rho)
    ldl1 = packed(L, D)
    C = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])  # s0 >= 1, s0 <= -1
    d = np.array([-1.0, -1.0])
    C[1] *= -1.0
    Ca = np.hstack([C, np.maximum(-d, 0.0)[:, None]])
    g = np.append(rng.standard_normal(n), rho)
    xl = np.append(np.full(n, np.nan), 0.0)
    xu = np.append(np.full(n, np.nan), 1.0)
    mode, s, mult = run_lsq(ldl1, g, Ca, d, 0, xl, xu)
    assert mode == 1
    Bd = np.diag(D)
    stat, feas, comp, sign, _ = kkt_errors(Bd, g, Ca, d, 0, xl, xu, s, mult)
    assert max(stat, feas, comp, sign) <= 1e-9 * rho


def test_lsq_mode_2_more_equalities_than_variables():
    rng = np.random.default_rng(9)
    ldl, B, g, C, d, xl, xu = random_qp(rng, 2, 3, 2)
    assert run_lsq(ldl, g, C, d, 3, xl, xu)[0] == 2


def test_lsq_mode_3_iteration_limit():
    rng = np.random.default_rng(10)
    ldl, B, g, C, d, xl, xu = random_qp(rng, 3, 3, 0, bound_kinds=False)
    g = -C.T @ np.ones(3) * 10.0     # pushes against the inequalities
    assert run_lsq(ldl, g, C, d, 0, xl, xu, maxiter=1)[0] == 3
    assert run_lsq(ldl, g, C, d, 0, xl, xu)[0] == 1


def test_lsq_mode_4_incompatible():
    ldl = np.array([1.0])
    mode, s, mult = run_lsq(ldl, np.zeros(1), np.array([[1.0], [-1.0]]),
                            np.array([-1.0, 0.0]), 0,        # s>=1, s<=0
                            np.full(1, np.nan), np.full(1, np.nan))
    assert mode == 4
    assert np.array_equal(mult, np.zeros(4))
    # The same through bounds.
    mode, *_ = run_lsq(ldl, np.zeros(1), np.array([[1.0]]),
                       np.array([-1.0]), 0, np.full(1, np.nan),
                       np.zeros(1))
    assert mode == 4


def test_lsq_mode_5_singular_E():
    ldl = packed(np.eye(2), np.array([1e-40, 1.0]))
    mode, *_ = run_lsq(ldl, np.ones(2), np.zeros((0, 2)), np.zeros(0), 0,
                       np.zeros(2), np.full(2, np.nan))
    assert mode == 5


def test_lsq_mode_6_singular_C():
    ldl = packed(np.eye(2), np.ones(2))
    mode, *_ = run_lsq(ldl, np.ones(2), np.zeros((1, 2)), np.ones(1), 1,
                       np.full(2, np.nan), np.full(2, np.nan))
    assert mode == 6


def test_lsq_mode_7_rank_deficient():
    ldl = packed(np.eye(2), np.array([1.0, 1e-40]))
    mode, *_ = run_lsq(ldl, np.ones(2), np.zeros((0, 2)), np.zeros(0), 0,
                       np.full(2, np.nan), np.full(2, np.nan))
    assert mode == 7


def test_work_sizes_callable_from_python():
    assert Q.lsq_work_size(0, 0, 1) > 0
    assert isinstance(Q.lsq_work_size(5, 2, 4), int)
    assert Q.lsq_work_size(5, 2, 4) < Q.lsq_work_size(5, 2, 5)


def test_lsq_nan_gives_failure_modes():
    # NaN in the equality constraints counts as singular (as SciPy: NaN in
    # x0 with an equality constraint gives mode 6); NaN in B without
    # inequalities makes HFTI's rank deficient (mode 7).
    ldl = packed(np.eye(2), np.ones(2))
    none = np.full(2, np.nan)
    mode, *_ = run_lsq(ldl, np.ones(2), np.array([[np.nan, 1.0]]),
                       np.ones(1), 1, none, none)
    assert mode == 6
    bad = packed(np.eye(2), np.array([np.nan, 1.0]))
    mode, *_ = run_lsq(bad, np.ones(2), np.zeros((0, 2)), np.zeros(0), 0,
                       none, none)
    assert mode == 7
    mode, *_ = run_lsq(ldl, np.ones(2), np.array([[1.0, 0.0]]),
                       np.array([np.nan]), 0, none, none)
    assert mode == 4
