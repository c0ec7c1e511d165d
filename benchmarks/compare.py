"""Median time ratio fastopt/SciPy for every asv case, measured in one run.

    python benchmarks/compare.py [--repeats 15] [--only Dense|Sparse|...]

Runs the ``time_*`` methods of the suites in this folder for both
implementations, interleaved (fastopt, scipy, fastopt, ...) so that both
see the same machine load, and prints each case's medians and their ratio,
then, per suite, the median ratio over its first parameter (the problem or
size) for each combination of the others: the figure the targets name.
Also times the fresh-interpreter ``Startup`` snippets.  ``peakmem_*``
methods run in a fresh interpreter per case and report the peak resident
memory the call adds over what the process held after ``setup``.
"""
import argparse
import itertools
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_numdiff  # noqa: E402


def _suites():
    # Every benchmark class in this folder with an ``impl`` axis, in file
    # order: a new bench_*.py file is compared without editing this script.
    import importlib
    import inspect
    import pathlib

    here = pathlib.Path(__file__).resolve().parent
    for path in sorted(here.glob("bench_*.py")):
        module = importlib.import_module(path.stem)
        classes = [obj for obj in vars(module).values()
                   if inspect.isclass(obj) and obj.__module__ == path.stem
                   and "impl" in getattr(obj, "param_names", ())]
        classes.sort(key=lambda c: inspect.getsourcelines(c)[1])
        yield from classes


def _per_call(call, min_seconds=0.02):
    # Seconds per call, looping until at least min_seconds have passed,
    # after one untimed call: the implementations alternate, and the first
    # call after the other one's may pay for the heap the other left (page
    # faults on memory that malloc handed back to the system, ~10 us each
    # here), which neither pays when called again and again.
    call()
    number, elapsed = 0, 0.0
    start = time.perf_counter()
    while elapsed < min_seconds:
        call()
        number += 1
        elapsed = time.perf_counter() - start
    return elapsed / number


_PEAK_SCRIPT = """
import resource, sys
sys.path.insert(0, {folder!r})
import {module} as module
suite = module.{suite}
args = {args!r}
instance = suite()
instance.setup(*args)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
getattr(instance, {method!r})(*args)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) * 1024)
"""


def _peak_bytes(suite, method, args):
    # The peak added by one call, in a fresh interpreter (ru_maxrss never
    # goes down, so each case needs its own process).
    code = _PEAK_SCRIPT.format(
        folder=os.path.dirname(os.path.abspath(__file__)),
        module=suite.__module__, suite=suite.__name__, args=list(args),
        method=method)
    done = subprocess.run([sys.executable, "-c", code], check=True,
                          capture_output=True, text=True)
    return float(done.stdout.split()[-1])


def compare_memory(suite, out):
    names = suite.param_names
    impl_axis = names.index("impl")
    others = [p for i, p in enumerate(suite.params) if i != impl_axis]
    methods = [m for m in dir(suite) if m.startswith("peakmem_")]
    for combo, method in itertools.product(itertools.product(*others),
                                           methods):
        peaks = {}
        for impl in ("fastopt", "scipy"):
            args = list(combo)
            args.insert(impl_axis, impl)
            peaks[impl] = _peak_bytes(suite, method, args)
        label = ", ".join(f"{n}={v}" for n, v in zip(
            [n for n in names if n != "impl"], combo))
        print(f"{suite.__name__}.{method}[{label}]  fastopt "
              f"{peaks['fastopt'] / 2**20:8.1f} MiB  scipy "
              f"{peaks['scipy'] / 2**20:8.1f} MiB  ratio "
              f"{peaks['fastopt'] / peaks['scipy']:6.3f}", file=out,
              flush=True)


def compare_suite(suite, repeats, out):
    names = suite.param_names
    impl_axis = names.index("impl")
    others = [p for i, p in enumerate(suite.params) if i != impl_axis]
    methods = [m for m in dir(suite) if m.startswith("time_")]
    if any(m.startswith("peakmem_") for m in dir(suite)):
        compare_memory(suite, out)
    ratios = {}  # (method, other parameters but the first) -> ratios
    for combo in itertools.product(*others):
        instances = {}
        for impl in ("fastopt", "scipy"):
            args = list(combo)
            args.insert(impl_axis, impl)
            instance = suite()
            instance.setup(*args)
            instances[impl] = (instance, args)
        for method in methods:
            samples = {"fastopt": [], "scipy": []}
            for _ in range(repeats):
                for impl, (instance, args) in instances.items():
                    call = getattr(instance, method)
                    samples[impl].append(_per_call(lambda: call(*args)))
            ours = statistics.median(samples["fastopt"])
            theirs = statistics.median(samples["scipy"])
            label = ", ".join(f"{n}={v}" for n, v in zip(
                [n for n in names if n != "impl"], combo))
            print(f"{suite.__name__}.{method}[{label}]  fastopt "
                  f"{ours * 1e6:10.1f} us  scipy {theirs * 1e6:10.1f} us  "
                  f"ratio {ours / theirs:6.3f}", file=out, flush=True)
            ratios.setdefault((method,) + combo[1:], []).append(
                ours / theirs)
    # The issues' targets are medians over the first axis (the problem).
    for key, values in ratios.items():
        label = ", ".join(f"{n}={v}" for n, v in zip(
            [n for n in names if n != "impl"][1:], key[1:]))
        print(f"{suite.__name__}.{key[0]}[{label}]  median ratio "
              f"{statistics.median(values):6.3f} over {len(values)} "
              f"{names[0]} values", file=out, flush=True)


def startup(out, runs=5):
    for name, code in bench_numdiff.STARTUP_SNIPPETS.items():
        subprocess.run([sys.executable, "-c", code], check=True)  # warm
        timed = f"import time\n_t = time.perf_counter()\n{code}\n" \
                "print(time.perf_counter() - _t)\n"
        samples = [float(subprocess.run([sys.executable, "-c", timed],
                                        check=True, capture_output=True,
                                        text=True).stdout.split()[-1])
                   for _ in range(runs)]
        print(f"Startup.{name}: median {statistics.median(samples):.3f} s "
              f"in-process over {runs} fresh interpreters", file=out,
              flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--only", default="",
                        help="run only suites whose name contains this")
    options = parser.parse_args()
    for suite in _suites():
        if options.only in suite.__name__:
            compare_suite(suite, options.repeats, sys.stdout)
    if options.only in "Startup":
        startup(sys.stdout)


if __name__ == "__main__":
    main()
