"""Project-level contracts: docs, benchmarks, demo, kernel caching, CI."""
import inspect
import os
import pathlib
import re
import subprocess
import sys

import pytest
from numba.core.dispatcher import Dispatcher

import fastopt._kernels as kernel_package

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run(*command, **kwargs):
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                          timeout=600, **kwargs)


def test_docs_build_without_warnings(tmp_path):
    proc = run(sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q",
               "-b", "html", "docs", str(tmp_path / "html"))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_asv_benchmarks_are_valid(tmp_path):
    # A fresh HOME: no asv machine file is needed for the check.
    env = dict(os.environ, HOME=str(tmp_path))
    proc = run(sys.executable, "-m", "asv", "check", "-E", "existing",
               env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No problems found" in proc.stdout


def test_demo_quick_runs_and_agrees():
    proc = run(sys.executable, "-m", "fastopt", "--quick")
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines()
            if re.search(r"\d+(\.\d+)?x$", line)]
    assert len(rows) >= 10
    for line in rows:
        agreement = line.split()[-6] if "groups" not in line else None
        if agreement is not None:
            assert float(agreement) <= 1e-8, line


def _kernels():
    import importlib
    import pkgutil
    for info in pkgutil.iter_modules(kernel_package.__path__):
        module = importlib.import_module(f"fastopt._kernels.{info.name}")
        for name, obj in vars(module).items():
            if isinstance(obj, Dispatcher) and obj.__module__ == module.__name__:
                yield f"{info.name}.{name}", obj


# Generic over a user's @njit function passed as a dispatcher: not cached
# (see fastopt._kernels._jit).
DRIVERS = {"dense.dense_difference", "dense.dense_difference_cs",
           "sparse.sparse_difference", "sparse.sparse_difference_cs",
           "hybrd.hybr_solve", "hybrd._solve_generic", "lmdif.lm_solve",
           "lmdif._solve_generic"}


@pytest.mark.parametrize("name,kernel", list(_kernels()),
                         ids=[name for name, _ in _kernels()])
def test_every_kernel_is_cached_on_disk(name, kernel):
    cached = kernel._cache.__class__.__name__ == "FunctionCache"
    assert cached == (name not in DRIVERS), name
    # reduction kernels may reorder sums and fuse multiply-adds; no kernel
    # may assume finite values (the solvers' isfinite tests need them)
    fastmath = kernel.targetoptions.get("fastmath")
    assert not fastmath or set(fastmath) == {"reassoc", "contract"}, name
    assert kernel.targetoptions.get("error_model") == "numpy", name
    assert inspect.getdoc(kernel.py_func) or name.split(".")[1].startswith("_")


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = re.search(r"# 2\. the tests.*\n(.+)\n", readme).group(1)
    assert command in ci.splitlines()


def test_user_functions_do_not_poison_the_kernel_cache(tmp_path):
    # A process that calls fastopt's compiled drivers with functions from a
    # module of its own must not leave cache entries that another process,
    # where that module does not exist, fails to load.
    module = tmp_path / "user_module_for_cache_test.py"
    module.write_text(
        "import numpy as np\n"
        "from numba import njit\n"
        "from fastopt import compiled\n"
        "@njit\n"
        "def f(x, a):\n"
        "    return np.array([x[0] ** 2 - a, x[0] * x[1] - 1.0])\n"
        "@njit\n"
        "def use(x0):\n"
        "    J = compiled.approx_jacobian(f, x0, (2.0,), compiled.METHOD_2POINT)\n"
        "    r = compiled.root_hybr(f, x0, (2.0,), 1e-10, 0)\n"
        "    s = compiled.root_lm(f, x0, (2.0,), 1e-10, 1e-10, 0)\n"
        "    return J[0, 0] + r[0][0] + s[0][0]\n")
    first = ("import sys, numpy as np; sys.path.insert(0, sys.argv[1]);"
             "import user_module_for_cache_test as m;"
             "print(m.use(np.array([1.0, 1.0])))")
    proc = run(sys.executable, "-c", first, str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    second = ("import numpy as np; from numba import njit; import fastopt\n"
              "@njit\n"
              "def g(x):\n"
              "    return np.array([x[0] ** 2 - 2.0, x[0] * x[1] - 1.0])\n"
              "print(fastopt.approx_derivative(g, np.array([1.0, 1.0])))\n"
              "print(fastopt.root(g, [1.0, 1.0]).success,"
              " fastopt.root(g, [1.0, 1.0], method='lm').success)\n")
    proc = run(sys.executable, "-c", second)
    assert proc.returncode == 0, proc.stderr
    assert "True True" in proc.stdout
