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


@pytest.mark.parametrize("name,kernel", list(_kernels()),
                         ids=[name for name, _ in _kernels()])
def test_every_kernel_is_cached_on_disk(name, kernel):
    assert kernel._cache.__class__.__name__ == "FunctionCache", name
    assert not kernel.targetoptions.get("fastmath"), name
    assert kernel.targetoptions.get("error_model") == "numpy", name
    assert inspect.getdoc(kernel.py_func) or name.split(".")[1].startswith("_")


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = re.search(r"# 2\. the tests.*\n(.+)\n", readme).group(1)
    assert command in ci.splitlines()
