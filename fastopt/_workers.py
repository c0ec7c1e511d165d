"""The ``workers`` argument: serial, a process pool, or a map-like callable."""
import multiprocessing
import numbers
from contextlib import contextmanager

__all__ = ["validate_workers", "worker_map", "Evaluator"]


class Evaluator:
    """``fun(x, *args, **kwargs)`` as a picklable one-argument callable.

    Parameters
    ----------
    fun : callable
    args : tuple
    kwargs : dict
    """

    def __init__(self, fun, args, kwargs):
        self.fun = fun
        self.args = args
        self.kwargs = kwargs

    def __call__(self, x):
        return self.fun(x, *self.args, **self.kwargs)


def validate_workers(workers):
    """Check ``workers``; return None for serial evaluation.

    Returns
    -------
    None, int or callable
        None means evaluate in this process; an int (-1 or >= 2) is the size
        of a process pool to create; a callable is a map-like
        ``workers(fun, iterable)``.
    """
    if workers is None:
        return None
    if isinstance(workers, bool):
        raise TypeError("`workers` must be None, an int or a map-like "
                        "callable, not bool.")
    if isinstance(workers, numbers.Integral):
        workers = int(workers)
        if workers in (0, 1):
            return None
        if workers == -1 or workers >= 2:
            return workers
        raise ValueError("`workers` must be -1, 0, 1, a larger int or a "
                         f"map-like callable; got {workers}.")
    if callable(workers):
        return workers
    if callable(getattr(workers, "map", None)):
        return workers.map
    raise TypeError("`workers` must be None, an int or a map-like callable "
                    "`workers(fun, iterable)`; got an object of type "
                    f"{type(workers).__name__}.")


@contextmanager
def worker_map(workers):
    """Context giving the map to evaluate with (None: serial).

    A process pool asked for by an int is created here and closed on exit.
    """
    if workers is None or callable(workers):
        yield workers
        return
    method = multiprocessing.get_start_method(allow_none=True)
    # forkserver avoids forking a process that has numba's (threaded)
    # runtime loaded, unless the user chose a start method.
    context = multiprocessing.get_context(method or "forkserver")
    pool = context.Pool(None if workers == -1 else workers)
    try:
        yield pool.map
    finally:
        pool.terminate()
        pool.join()
