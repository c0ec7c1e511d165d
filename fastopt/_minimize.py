"""``minimize``: SciPy's front end, for the methods fastopt implements.

The argument handling of ``scipy.optimize.minimize`` (x0, args, jac, tol,
options, the warnings about unused arguments, the callback convention,
fixed variables, StopIteration), dispatching to
:func:`fastopt._slsqp.minimize_slsqp`'s solver.
"""
import warnings

import numpy as np

from ._slsqp import FD_METHODS, STOPPED, EXIT_MODES, solve, wrap_callback, \
    _warn_unknown, _EPSILON

__all__ = ["minimize", "SUPPORTED_METHODS"]

SUPPORTED_METHODS = ("SLSQP",)

_SLSQP_OPTIONS = ("maxiter", "ftol", "iprint", "disp", "eps",
                  "finite_diff_rel_step", "workers")


def minimize(fun, x0, args=(), method=None, jac=None, hess=None, hessp=None,
             bounds=None, constraints=(), tol=None, callback=None,
             options=None):
    """Minimise a scalar function of one or more variables.

    ``scipy.optimize.minimize`` for ``method='SLSQP'`` (also chosen when
    ``method`` is None): same arguments, options, results and messages;
    see :func:`minimize_slsqp` for the options and the result fields
    (fastopt adds ``bound_multipliers`` and ``maxcv``).

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float`` with ``x`` of shape (n,).
    x0 : array_like, shape (n,)
        Starting point.
    args : tuple, optional
        Extra arguments (a non-tuple is wrapped as ``(args,)``).
    method : str, optional
        'SLSQP' (case-insensitive) or None; other methods raise
        ValueError.
    jac : callable, True, {'2-point', '3-point', 'cs'} or None, optional
        The gradient; any other falsy or unrecognised value means None.
    hess, hessp : optional
        Not used by SLSQP (a RuntimeWarning if given).
    bounds : sequence of (min, max) or scipy.optimize.Bounds, optional
        Broadcast to ``x0``; variables with ``min == max`` are fixed.
    constraints : dict, NonlinearConstraint, LinearConstraint or a list
    tol : float, optional
        Default for the ``ftol`` option.
    callback : callable, optional
        ``callback(xk)`` or ``callback(intermediate_result=OptimizeResult)``
        once per iteration; ``StopIteration`` ends the run with status 99.
    options : dict, optional
        :func:`minimize_slsqp`'s options.

    Returns
    -------
    OptimizeResult

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt import minimize
    >>> fun = lambda x: (x[0] - 1) ** 2 + (x[1] - 2.5) ** 2
    >>> cons = [{"type": "ineq", "fun": lambda x: x[0] - 2 * x[1] + 2}]
    >>> res = minimize(fun, [2, 0], method="SLSQP", constraints=cons,
    ...                bounds=[(0, None), (0, None)])
    >>> np.round(res.x, 4)
    array([1.4, 1.7])
    """
    if type(x0) is not np.ndarray or x0.ndim != 1:
        x0 = np.atleast_1d(np.asarray(x0))
        if x0.ndim != 1:
            raise ValueError("'x0' must only have one dimension.")
    if not isinstance(args, tuple):
        args = (args,)
    if method is None:
        method = "SLSQP"
    elif method != "SLSQP":     # (the common spelling checked cheaply)
        if callable(method) or not isinstance(method, str):
            raise ValueError(f"Unsupported method {method!r}: "
                             f"fastopt.minimize supports "
                             f"{', '.join(SUPPORTED_METHODS)}.")
        if method.lower() != "slsqp":
            raise ValueError(f"Unknown or unsupported method {method!r}: "
                             f"fastopt.minimize supports "
                             f"{', '.join(SUPPORTED_METHODS)}.")
    if not (callable(jac) or jac is True or jac in FD_METHODS):
        jac = None
    if (options is None and tol is None and hess is None and hessp is None
            and callback is None):
        # the common call, without the option handling below (no callback:
        # no StopIteration)
        return solve(fun, x0, args, jac, bounds, constraints, 100, 1.0e-6,
                     0, _EPSILON, None, None, None, from_minimize=True)
    options = {} if options is None else dict(options)
    if hess is not None:
        warnings.warn(f"Method {method} does not use Hessian information "
                      "(hess).", RuntimeWarning, stacklevel=2)
    if hessp is not None:
        warnings.warn(f"Method {method} does not use Hessian-vector product "
                      "information (hessp).", RuntimeWarning, stacklevel=2)
    if options.get("return_all", False):
        warnings.warn(f"Method {method} does not support the return_all "
                      "option.", RuntimeWarning, stacklevel=2)
    if tol is not None:
        options.setdefault("ftol", tol)
    known = {k: options.pop(k) for k in _SLSQP_OPTIONS if k in options}
    _warn_unknown(options)
    iprint = known.get("iprint", 1)
    if not known.get("disp", False):
        iprint = 0
    res = solve(fun, x0, args, jac, bounds, constraints,
                known.get("maxiter", 100), known.get("ftol", 1.0e-6), iprint,
                known.get("eps", _EPSILON), wrap_callback(callback),
                known.get("finite_diff_rel_step"), known.get("workers"),
                from_minimize=True)
    if res.get("status") == STOPPED:
        res.success = False
        res.message = EXIT_MODES[STOPPED]
    return res

