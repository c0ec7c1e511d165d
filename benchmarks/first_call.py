"""Where the first solve of a new ``@njit`` problem spends its time.

    python benchmarks/first_call.py [--repeats 5]

Each repeat is a fresh interpreter (fastopt's kernels already in the disk
cache) that imports fastopt and scipy.optimize, then times the first SLSQP
solve of a new problem (an ``@njit`` objective and constraint) and the
first root('hybr') solve of a new ``@njit`` residual.  Each includes
compiling the user's functions, which any first call of them costs, and
fastopt's loading of its cached kernels.  Run twice: with the SLSQP solve
as the process's first numba compilation, and after numba's one-time
compiler set-up (compiling a trivial function).  Prints the medians over
the repeats.
"""
import argparse
import statistics
import subprocess
import sys

_SNIPPET = r"""
import time
t0 = time.perf_counter()
import numpy as np
from numba import njit
import fastopt
import scipy.optimize
t1 = time.perf_counter()
if WARM:
    njit(lambda x: x + 1.0)(1.0)    # numba's one-time compiler set-up
t2 = time.perf_counter()

@njit
def objective(x):
    return (x[0] - 1.0) ** 2 + (x[1] - 2.5) ** 2

@njit
def constraint(x):
    return np.array([x[0] - 2.0 * x[1] + 2.0, -x[0] - 2.0 * x[1] + 6.0])

@njit
def residual(x):
    return np.array([x[0] + 0.5 * (x[0] - x[1]) ** 3 - 1.0,
                     0.5 * (x[1] - x[0]) ** 3 + x[1]])

fastopt.minimize(objective, np.array([2.0, 0.0]), method="SLSQP",
                 constraints={"type": "ineq", "fun": constraint},
                 bounds=[(0, None), (0, None)])
t3 = time.perf_counter()
fastopt.root(residual, np.zeros(2), method="hybr")
t4 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3)
"""

_LABELS = ["import numpy, numba, fastopt, scipy.optimize",
           "numba's one-time compiler set-up (a trivial function)",
           "first SLSQP solve (compiles objective and constraint)",
           "first root('hybr') solve (compiles the residual)"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    subprocess.run([sys.executable, "-c", "WARM = True\n" + _SNIPPET],
                   check=True, capture_output=True)   # fills the cache
    for warm in (False, True):
        print("numba set up before the solves" if warm else
              "the SLSQP solve is the process's first numba compilation")
        runs = []
        for _ in range(options.repeats):
            out = subprocess.run(
                [sys.executable, "-c", f"WARM = {warm}\n" + _SNIPPET],
                check=True, capture_output=True, text=True).stdout
            runs.append([float(v) for v in out.split()])
        for k, label in enumerate(_LABELS):
            if k == 1 and not warm:
                continue
            median = statistics.median(run[k] for run in runs)
            print(f"  {label:56s} {median:7.3f} s")


if __name__ == "__main__":
    main()
