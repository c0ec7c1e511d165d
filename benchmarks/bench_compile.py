"""Cold start: the first solve in a fresh interpreter with an empty numba
cache, as after ``pip install`` (every kernel the solve needs compiles).

Later processes load those kernels from disk (see ``Startup`` in
bench_numdiff.py for the warm-cache figures); these numbers are what a new
installation pays once per solver, and what a clean CI run pays in all.
"""
import textwrap

_PRELUDE = """
import os, tempfile
os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="fastopt-cold-")
import numpy as np
from numba import njit
import fastopt

@njit
def residual(x):
    return np.array([x[0] + 0.5 * (x[0] - x[1]) ** 3 - 1.0,
                     0.5 * (x[1] - x[0]) ** 3 + x[1]])
"""

COLD_SNIPPETS = {
    "root_hybr_njit": "fastopt.root(residual, np.zeros(2))",
    "root_lm_njit": "fastopt.root(residual, np.zeros(2), method='lm')",
    "root_broyden1_njit":
        "fastopt.root(residual, np.zeros(2), method='broyden1')",
    "root_df_sane_njit":
        "fastopt.root(residual, np.zeros(2), method='df-sane')",
    "minimize_slsqp_njit": textwrap.dedent("""
        @njit
        def objective(x):
            return (x[0] - 1.0) ** 2 + (x[1] - 2.5) ** 2

        fastopt.minimize(objective, np.zeros(2), method='SLSQP',
                         constraints={'type': 'ineq', 'fun': residual})
        """),
}


def _snippet(name):
    return textwrap.dedent(_PRELUDE).strip() + "\n" + COLD_SNIPPETS[name]


class ColdCompile:
    """First solve with an empty numba cache (each sample is a new
    process compiling every kernel the solve uses)."""

    repeat = (1, 3, 900.0)
    number = 1
    timeout = 900

    def timeraw_root_hybr_njit(self):
        return _snippet("root_hybr_njit")

    def timeraw_root_lm_njit(self):
        return _snippet("root_lm_njit")

    def timeraw_root_broyden1_njit(self):
        return _snippet("root_broyden1_njit")

    def timeraw_root_df_sane_njit(self):
        return _snippet("root_df_sane_njit")

    def timeraw_minimize_slsqp_njit(self):
        return _snippet("minimize_slsqp_njit")
