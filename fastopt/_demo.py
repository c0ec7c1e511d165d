"""The side-by-side demo behind ``python -m fastopt``.

Solves the documented examples with fastopt and with SciPy, checks that the
answers agree and prints the time each took and the speed-up.
"""
import argparse
import itertools
import statistics
import sys
import time

import numpy as np

from . import _examples as ex
from . import (approx_derivative, check_derivative, fsolve, group_columns,
               minimize, nnls, root)


def median_time(call, repeats):
    """Median seconds per call over ``repeats`` timed batches."""
    call()  # warm up: compile, fill caches
    start = time.perf_counter()
    call()
    once = time.perf_counter() - start
    number = max(1, int(2e-3 / max(once, 1e-9)))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            call()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def relative_difference(a, b):
    """max |a - b| / max(1, |b|), for arrays or sparse arrays."""
    from scipy.sparse import csr_array, issparse

    if issparse(a) or issparse(b):
        # Compare on the non-zeros of the difference, never densify.
        diff = csr_array(a - b).tocoo()
        if diff.nnz == 0:
            return 0.0
        scale = np.abs(np.asarray(csr_array(b)[diff.row, diff.col]).ravel())
        return float(np.max(np.abs(diff.data) / np.maximum(1.0, scale)))
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


def docs_example(x, c1, c2):
    """The example of approx_derivative's docstring."""
    return np.array([x[0] * np.sin(c1 * x[1]), x[0] * np.cos(c2 * x[1])])


def docs_example_jac(x, c1, c2):
    return np.array([[np.sin(c1 * x[1]), c1 * x[0] * np.cos(c1 * x[1])],
                     [np.cos(c2 * x[1]), -c2 * x[0] * np.sin(c2 * x[1])]])


def cases(quick):
    """(name, fastopt call, scipy call, how to compare) for each example."""
    from scipy.optimize._numdiff import approx_derivative as scipy_approx
    from scipy.optimize._numdiff import check_derivative as scipy_check
    from scipy.optimize._numdiff import group_columns as scipy_group

    x_docs = np.array([1.0, 0.5 * np.pi])
    yield ("docs example, Python, n=2",
           lambda: approx_derivative(docs_example, x_docs, args=(1, 2)),
           lambda: scipy_approx(docs_example, x_docs, args=(1, 2)),
           relative_difference)
    yield ("check_derivative, docs example",
           lambda: check_derivative(docs_example, docs_example_jac, x_docs,
                                    args=(1, 2)),
           lambda: scipy_check(docs_example, docs_example_jac, x_docs,
                               args=(1, 2)),
           lambda a, b: abs(a - b))
    for n in (2, 100):
        fun, fun_jit, x0 = ex.dense_problem(n)
        for label, f in (("Python", fun), ("@njit", fun_jit)):
            yield (f"dense 3-point, {label}, n={n}",
                   lambda f=f, x0=x0: approx_derivative(f, x0),
                   lambda f=f, x0=x0: scipy_approx(f, x0),
                   relative_difference)
    n = 10_000 if quick else 100_000
    for kind in ex.SPARSE_KINDS:
        fun, fun_jit, x0, structure = ex.sparse_problem(kind, n)
        for label, f in (("Python", fun), ("@njit", fun_jit)):
            yield (f"sparse {kind}, {label}, n={x0.size}",
                   lambda f=f, x0=x0, s=structure: approx_derivative(
                       f, x0, sparsity=s),
                   lambda f=f, x0=x0, s=structure: scipy_approx(
                       f, x0, sparsity=s),
                   relative_difference)
    n = 100_000 if quick else 1_000_000
    for kind in ("banded5", "laplacian2d"):
        structure = ex.sparse_problem(kind, n)[3].tocsc()
        yield (f"group_columns {kind}, n={structure.shape[1]}",
               lambda s=structure: group_columns(s),
               lambda s=structure: scipy_group(s),
               lambda a, b: f"{a.max() + 1} vs {b.max() + 1} groups")


def result_agreement(ours, theirs):
    """x agreement of two OptimizeResults, and whether success agrees."""
    flag = "" if ours.success == theirs.success else " (success differs)"
    return f"{relative_difference(ours.x, theirs.x):.1e}{flag}"


def root_cases():
    """root and fsolve examples: (name, fastopt, scipy, compare)."""
    import scipy.optimize as sopt

    yield ("root hybr, docs example, Python",
           lambda: root(ex.docs_system, [0.0, 0.0]),
           lambda: sopt.root(ex.docs_system, [0.0, 0.0]), result_agreement)
    yield ("fsolve, docs example, Python",
           lambda: fsolve(ex.docs_system, [0.0, 0.0]),
           lambda: sopt.fsolve(ex.docs_system, [0.0, 0.0]),
           relative_difference)
    for name in ("rosenbrock", "helical_valley"):
        fun, fun_jit, x0 = ex.root_problem(name)
        for method in ("hybr", "lm"):
            for label, f in (("Python", fun), ("@njit", fun_jit)):
                yield (f"root {method}, {name}, {label}",
                       lambda f=f, x0=x0, m=method: root(f, x0, method=m),
                       lambda f=f, x0=x0, m=method: sopt.root(f, x0,
                                                              method=m),
                       result_agreement)


def nonlin_root_cases(quick):
    """root's inexact-Newton and df-sane methods on large systems: (name,
    fastopt, scipy, compare)."""
    import scipy.optimize as sopt

    n = 1_000 if quick else 10_000
    contraction = (f"fixed point {n}", ex.fixed_point, ex.fixed_point_jit,
                   np.zeros(n))
    tridiagonal = (f"broyden tridiagonal {n}", ex.broyden_tridiagonal,
                   ex.broyden_tridiagonal_jit, -np.ones(n))
    examples = (("broyden1", {"jac_options": {"max_rank": 10}}, contraction),
                ("anderson", {}, contraction),
                ("krylov", {}, tridiagonal), ("df-sane", {}, tridiagonal))
    for method, options, (problem, fun, fun_jit, x0) in examples:
        for label, f in (("Python", fun), ("@njit", fun_jit)):
            yield (f"root {method}, {problem}, {label}",
                   lambda f=f, x0=x0, m=method, o=options: root(
                       f, x0, method=m, options=o),
                   lambda f=f, x0=x0, m=method, o=options: sopt.root(
                       f, x0, method=m, options=o),
                   result_agreement)


def slsqp_objective(x):
    """The objective of SciPy's SLSQP tutorial example."""
    return (x[0] - 1.0) ** 2 + (x[1] - 2.5) ** 2


def slsqp_constraints(x):
    """Its three linear inequality constraints, each >= 0."""
    return np.array([x[0] - 2.0 * x[1] + 2.0, -x[0] - 2.0 * x[1] + 6.0,
                     -x[0] + 2.0 * x[1] + 2.0])


def rosenbrock(x):
    """The n-dimensional Rosenbrock function."""
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2
                        + (1.0 - x[:-1]) ** 2))


def slsqp_cases():
    """SLSQP and nnls examples: (name, fastopt, scipy, compare)."""
    from numba import njit
    import scipy.optimize as sopt

    objective_jit = njit(slsqp_objective)
    constraints_jit = njit(slsqp_constraints)
    bounds = [(0, None), (0, None)]
    for label, f, c in (("Python", slsqp_objective, slsqp_constraints),
                        ("@njit", objective_jit, constraints_jit)):
        cons = {"type": "ineq", "fun": c}
        yield (f"SLSQP, docs example, {label}",
               lambda f=f, cons=cons: minimize(f, [2.0, 0.0], method="SLSQP",
                                               bounds=bounds,
                                               constraints=cons),
               lambda f=f, cons=cons: sopt.minimize(f, [2.0, 0.0],
                                                    method="SLSQP",
                                                    bounds=bounds,
                                                    constraints=cons),
               result_agreement)
    x0 = np.full(10, 0.5)
    # (radius sqrt(5): the unconstrained minimum, ones, lies outside, so the
    # constraint is active with a positive multiplier; on a radius of
    # sqrt(10) it sat on the boundary, degenerate, and SciPy's answer moved
    # 6e-8 with its BLAS thread count)
    ball = {"type": "ineq", "fun": lambda x: 5.0 - x.dot(x)}
    options = {"maxiter": 500, "ftol": 1e-10}
    yield ("SLSQP, Rosenbrock n=10 in a ball, Python",
           lambda: minimize(rosenbrock, x0, method="SLSQP", constraints=ball,
                            options=options),
           lambda: sopt.minimize(rosenbrock, x0, method="SLSQP",
                                 constraints=ball, options=options),
           result_agreement)
    rng = np.random.default_rng(0)
    A, b = rng.standard_normal((100, 50)), rng.standard_normal(100)
    yield ("nnls, 100 x 50",
           lambda: nnls(A, b)[0], lambda: sopt.nnls(A, b)[0],
           relative_difference)


def first_call_seconds():
    """Seconds for the first difference of a brand-new @njit function."""
    from numba import njit

    @njit
    def fresh(x):
        return np.array([x[0] * x[1], np.sin(x[0])])

    start = time.perf_counter()
    approx_derivative(fresh, np.array([1.0, 2.0]))
    return time.perf_counter() - start


def main(argv=None):
    """Run the demo; ``--quick`` keeps it under about 30 s."""
    parser = argparse.ArgumentParser(
        prog="python -m fastopt",
        description="fastopt and SciPy side by side on the documented "
                    "examples.")
    parser.add_argument("--quick", action="store_true",
                        help="smaller problems and fewer repeats")
    options = parser.parse_args(argv)
    repeats = 3 if options.quick else 7

    header = (f"{'example':50s} {'agreement':>16s} {'scipy':>10s} "
              f"{'fastopt':>10s} {'speed-up':>9s}")
    print(header)
    print("-" * len(header))
    speedups = []
    for name, ours, theirs, compare in itertools.chain(
            cases(options.quick), root_cases(),
            nonlin_root_cases(options.quick), slsqp_cases()):
        agreement = compare(ours(), theirs())
        agreement = (f"{agreement:.1e}" if isinstance(agreement, float)
                     else agreement)
        t_ours = median_time(ours, repeats)
        t_theirs = median_time(theirs, repeats)
        speedups.append(t_theirs / t_ours)
        print(f"{name:50s} {agreement:>16s} {_fmt(t_theirs):>10s} "
              f"{_fmt(t_ours):>10s} {t_theirs / t_ours:8.1f}x", flush=True)
    print("-" * len(header))
    print(f"median speed-up {statistics.median(speedups):.1f}x over "
          f"{len(speedups)} examples (agreement: max |fastopt - scipy| / "
          "max(1, |scipy|))")
    print(f"first call with a new @njit function: {first_call_seconds():.2f} s "
          "(includes numba compiling that function)")
    return 0


def _fmt(seconds):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


if __name__ == "__main__":
    sys.exit(main())
