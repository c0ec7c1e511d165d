"""Finite-difference step sizes and their adjustment to bounds.

The rules are those of ``scipy.optimize._numdiff``: a relative step scaled
by ``max(1, |x0|)`` with the sign of ``x0`` (+1 at zero), a user relative or
absolute step replaced by the default where it vanishes in floating point,
and steps shrunk, flipped or made one-sided to keep every evaluation point
inside ``[lb, ub]``.
"""
import numpy as np
from ._jit import kernel

__all__ = ["STEP_DEFAULT", "STEP_RELATIVE", "STEP_ABSOLUTE",
           "absolute_steps", "adjust_one_sided", "adjust_two_sided",
           "difference_steps", "METHOD_2POINT", "METHOD_3POINT", "METHOD_CS"]

# How the caller specified the step.
STEP_DEFAULT = 0    # rstep * sign(x0) * max(1, |x0|)
STEP_RELATIVE = 1   # rel_step * sign(x0) * |x0|
STEP_ABSOLUTE = 2   # abs_step as given

# Difference methods; the integer codes are part of the compiled API.
METHOD_2POINT = 0
METHOD_3POINT = 1
METHOD_CS = 2


@kernel
def absolute_steps(x0, rstep, step, step_kind):
    """Absolute steps ``h`` for each coordinate.

    Parameters
    ----------
    x0 : ndarray of float64, shape (n,)
        Point of differentiation.
    rstep : float
        Default relative step (``EPS**(1/2)`` or ``EPS**(1/3)``).
    step : ndarray of float64, shape (n,)
        The user's relative or absolute step (ignored for STEP_DEFAULT).
    step_kind : int
        STEP_DEFAULT, STEP_RELATIVE or STEP_ABSOLUTE.

    Returns
    -------
    h : ndarray of float64, shape (n,)
    """
    n = x0.size
    h = np.empty(n)
    for i in range(n):
        sign = 1.0 if x0[i] >= 0 else -1.0
        default = rstep * sign * max(1.0, abs(x0[i]))
        if step_kind == STEP_DEFAULT:
            h[i] = default
            continue
        if step_kind == STEP_RELATIVE:
            hi = step[i] * sign * abs(x0[i])
        else:
            hi = step[i]
        # A step that vanishes when added to x0 falls back to the default.
        if (x0[i] + hi) - x0[i] == 0.0:
            hi = default
        h[i] = hi
    return h


@kernel
def adjust_one_sided(x0, h, num_steps, lb, ub):
    """Flip or shrink one-sided steps so ``x0 + num_steps*h`` stays feasible.

    A step is flipped when the opposite direction fits, and otherwise set to
    the larger distance to a bound divided by ``num_steps``.  Modifies and
    returns ``h``.
    """
    for i in range(x0.size):
        lower = x0[i] - lb[i]
        upper = ub[i] - x0[i]
        total = h[i] * num_steps
        x = x0[i] + total
        violated = x < lb[i] or x > ub[i]
        fitting = abs(total) <= max(lower, upper)
        if fitting:
            if violated:
                h[i] = -h[i]
        elif upper >= lower:
            h[i] = upper / num_steps
        else:
            h[i] = -lower / num_steps
    return h


@kernel
def adjust_two_sided(x0, h, num_steps, lb, ub, one_sided):
    """Make central steps one-sided (and shorter) near a bound.

    ``h`` becomes ``|h|``; coordinates too close to a bound for a central
    step switch to the one-sided second-order scheme towards the farther
    bound, unless the shrunken step would be no longer than the central one
    that fits, in which case a shorter central step is used.  Modifies and
    returns ``h``; fills the boolean ``one_sided``.
    """
    for i in range(x0.size):
        hi = abs(h[i])
        lower = x0[i] - lb[i]
        upper = ub[i] - x0[i]
        total = hi * num_steps
        one_sided[i] = False
        if lower >= total and upper >= total:
            h[i] = hi
            continue
        if upper >= lower:
            adjusted = min(hi, 0.5 * upper / num_steps)
        else:
            adjusted = -min(hi, 0.5 * lower / num_steps)
        min_dist = min(upper, lower) / num_steps
        if abs(adjusted) <= min_dist:
            h[i] = min_dist
        else:
            h[i] = adjusted
            one_sided[i] = True
    return h


@kernel
def difference_steps(x0, rstep, step, step_kind, lb, ub, bounded, method):
    """Steps and one-sided flags for a difference of the given method.

    Parameters
    ----------
    x0 : ndarray of float64, shape (n,)
    rstep : float
        Default relative step for the method and dtypes.
    step : ndarray of float64, shape (n,)
        User relative or absolute step, see :func:`absolute_steps`.
    step_kind : int
    lb, ub : ndarray of float64, shape (n,)
        Bounds (``-inf``/``inf`` where absent).
    bounded : bool
        False when every bound is infinite (no adjustment is needed).
    method : int
        METHOD_2POINT, METHOD_3POINT or METHOD_CS.

    Returns
    -------
    h : ndarray of float64, shape (n,)
        Signed steps.
    one_sided : ndarray of bool, shape (n,)
        For '3-point', where the one-sided second-order scheme is used.
    """
    h = absolute_steps(x0, rstep, step, step_kind)
    one_sided = np.zeros(x0.size, dtype=np.bool_)
    if method == METHOD_2POINT:
        one_sided[:] = True
        if bounded:
            adjust_one_sided(x0, h, 1, lb, ub)
    elif method == METHOD_3POINT:
        if bounded:
            adjust_two_sided(x0, h, 1, lb, ub, one_sided)
        else:
            for i in range(h.size):
                h[i] = abs(h[i])
    return h, one_sided
