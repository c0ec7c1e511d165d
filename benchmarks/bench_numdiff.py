"""fastopt.approx_derivative against scipy.optimize._numdiff.approx_derivative.

Every suite has an ``impl`` parameter, 'fastopt' or 'scipy', and times the
two implementations on the same problem (see :mod:`common`).  ``fun kind``
'python' is a NumPy function called from Python by both libraries; 'njit'
is a Numba ``@njit`` function, which fastopt calls from compiled code and
SciPy calls from Python.

Run them against the current interpreter with::

    asv run -E existing --quick --dry-run --show-stderr --bench bench_numdiff
"""
import subprocess
import sys
import textwrap

try:
    from . import common
except ImportError:  # asv imports benchmark files as top-level modules
    import common

IMPLS = ("fastopt", "scipy")
FUN_KINDS = ("python", "njit")


class DenseDerivative:
    """Dense Jacobian of the cyclic map (see ``fastopt._examples.cyclic``)."""

    params = [list(common.DENSE_SIZES), list(FUN_KINDS),
              ["2-point", "3-point"], list(IMPLS)]
    param_names = ["n", "fun_kind", "method", "impl"]

    def setup(self, n, fun_kind, method, impl):
        self.fun, self.x0 = common.dense_problem(n, fun_kind)
        self.approx = common.implementations()[impl]
        self.method = method
        # The first call compiles (njit function, fastopt's adapter) or
        # loads fastopt's kernels from the disk cache.
        self.approx(self.fun, self.x0, method=method)
        self.approx(self.fun, self.x0, method=method)

    def time_approx_derivative(self, n, fun_kind, method, impl):
        self.approx(self.fun, self.x0, method=self.method)

    def track_nfev(self, n, fun_kind, method, impl):
        _, info = self.approx(self.fun, self.x0, method=self.method,
                              full_output=True)
        return info["nfev"]

    track_nfev.unit = "evaluations"


class SparseDerivative:
    """Sparse Jacobians, n = 10**5; each library groups the columns itself.

    ``time_approx_derivative`` passes the same structure object at every
    call, as a solver does (fastopt remembers the preparation of recently
    seen structures: groups, CSC/CSR layouts).
    ``time_approx_derivative_new_structure`` passes a fresh copy at every
    call, so both libraries group the columns every time; the copy (about
    a millisecond at this size) is timed for both.
    """

    params = [list(common.SPARSE_STRUCTURES), list(FUN_KINDS), list(IMPLS)]
    param_names = ["structure", "fun_kind", "impl"]
    timeout = 300

    def setup(self, structure, fun_kind, impl):
        self.fun, self.x0, self.sparsity = common.sparse_problem(structure,
                                                                 fun_kind)
        self.approx = common.implementations()[impl]
        self.approx(self.fun, self.x0, sparsity=self.sparsity)

    def time_approx_derivative(self, structure, fun_kind, impl):
        self.approx(self.fun, self.x0, sparsity=self.sparsity)

    def time_approx_derivative_new_structure(self, structure, fun_kind,
                                             impl):
        self.approx(self.fun, self.x0, sparsity=self.sparsity.copy())

    def track_nfev(self, structure, fun_kind, impl):
        _, info = self.approx(self.fun, self.x0, sparsity=self.sparsity,
                              full_output=True)
        return info["nfev"]

    track_nfev.unit = "evaluations"


# Code timed in a fresh interpreter by the Startup benchmarks (also used by
# demo scripts).  Interpreter start-up itself is not included.
STARTUP_SNIPPETS = {
    "import_fastopt": """
        import fastopt
    """,
    "first_call_python": """
        import numpy as np
        import fastopt

        def f(x):
            return np.array([x[0] ** 2 * x[1], np.sin(x[1]) + x[2],
                             np.exp(x[2])])

        fastopt.approx_derivative(f, np.array([1.0, 2.0, 0.5]))
    """,
    # Includes compiling the user's own function (and fastopt's small
    # adapter around it): the function is new in every process.
    "first_call_njit": """
        import numpy as np
        from numba import njit
        import fastopt

        @njit
        def f(x):
            out = np.empty(3)
            out[0] = x[0] ** 2 * x[1]
            out[1] = np.sin(x[1]) + x[2]
            out[2] = np.exp(x[2])
            return out

        fastopt.approx_derivative(f, np.array([1.0, 2.0, 0.5]))
    """,
    # The solvers' first call with a new @njit problem: the user's functions
    # compile in every process, fastopt's solver kernels load from disk.
    "first_call_slsqp_njit": """
        import numpy as np
        from numba import njit
        import fastopt

        @njit
        def f(x):
            return (x[0] - 1.0) ** 2 + (x[1] - 2.5) ** 2

        @njit
        def c(x):
            return np.array([x[0] - 2.0 * x[1] + 2.0, -x[0] - 2.0 * x[1] + 6.0])

        fastopt.minimize(f, np.array([2.0, 0.0]), method="SLSQP",
                         constraints={"type": "ineq", "fun": c},
                         bounds=[(0, None), (0, None)])
    """,
    "first_call_root_njit": """
        import numpy as np
        from numba import njit
        import fastopt

        @njit
        def f(x):
            return np.array([x[0] + 0.5 * (x[0] - x[1]) ** 3 - 1.0,
                             0.5 * (x[1] - x[0]) ** 3 + x[1]])

        fastopt.root(f, np.zeros(2), method="hybr")
        fastopt.root(f, np.zeros(2), method="broyden1")
        fastopt.root(f, np.zeros(2), method="df-sane")
    """,
    "import_scipy_numdiff": """
        import numpy as np
        import scipy.optimize
        from scipy.optimize._numdiff import approx_derivative

        def f(x):
            return np.array([x[0] ** 2 * x[1], np.sin(x[1]) + x[2],
                             np.exp(x[2])])

        approx_derivative(f, np.array([1.0, 2.0, 0.5]))
    """,
}
STARTUP_SNIPPETS = {k: textwrap.dedent(v).strip() + "\n"
                    for k, v in STARTUP_SNIPPETS.items()}


def _warm_disk_cache():
    # fastopt's kernels are cached on disk (numba cache=True): run every
    # snippet once so that the timed processes measure warm-cache starts.
    for name, code in STARTUP_SNIPPETS.items():
        proc = subprocess.run([sys.executable, "-c", code],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"Startup snippet {name!r} failed:\n"
                               f"{proc.stderr}")


class Startup:
    """Import and first call in a fresh interpreter, warm numba cache."""

    # Each sample is a new process; a few are enough.
    repeat = (3, 10, 30.0)
    timeout = 300

    def setup_cache(self):
        _warm_disk_cache()

    setup_cache.timeout = 900

    def timeraw_import_fastopt(self):
        return STARTUP_SNIPPETS["import_fastopt"]

    def timeraw_first_call_python(self):
        return STARTUP_SNIPPETS["first_call_python"]

    def timeraw_first_call_njit(self):
        return STARTUP_SNIPPETS["first_call_njit"]

    def timeraw_first_call_slsqp_njit(self):
        return STARTUP_SNIPPETS["first_call_slsqp_njit"]

    def timeraw_first_call_root_njit(self):
        return STARTUP_SNIPPETS["first_call_root_njit"]

    def timeraw_import_scipy_numdiff(self):
        return STARTUP_SNIPPETS["import_scipy_numdiff"]
