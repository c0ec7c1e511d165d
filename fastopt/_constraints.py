"""Bounds and constraints for SLSQP, normalised with SciPy's rules.

SciPy's ``minimize(method='SLSQP')`` accepts old-style constraint dicts,
``NonlinearConstraint`` and ``LinearConstraint`` objects (one or a list),
and bounds as a sequence of ``(min, max)`` pairs or a ``Bounds`` object.
This module turns all of them into one representation the SLSQP driver
evaluates, keeping SciPy's conversion rules, row order, warnings and
messages:

* a constraint *block* is one function (or a matrix, for a
  ``LinearConstraint``) whose raw output ``y`` gives the rows
  ``sign * (y[rows] - offset)`` of the constraint vector (``rows=None``:
  all of ``y``, sign 1, offset 0: an old-style dict);
* equality blocks come first, then inequality blocks, each in list order;
  a new-style constraint with both kinds of rows gives an equality block in
  its place and an inequality block appended at the end of the list, as
  SciPy's ``standardize_constraints`` does (which fixes the order of
  ``multipliers``).

The representation keeps the user's own function (not a Python closure
around it), so an ``@njit`` constraint function can be run by the compiled
driver, and a ``LinearConstraint`` is a matrix product, never a function
call.
"""
import warnings

import numpy as np

__all__ = ["Block", "normalize_bounds", "normalize_constraints"]


def _optimize_warning():
    from scipy.optimize import OptimizeWarning
    return OptimizeWarning


class Block:
    """One constraint function's rows of the SLSQP constraint vector.

    Attributes
    ----------
    kind : {'eq', 'ineq'}
    fun : callable or None
        ``fun(x, *args)``; None for a linear block (``A`` is used).
    jac : callable or None
        ``jac(x, *args)`` of the raw output; None: finite differences.
    args : tuple
    A : ndarray of float64, shape (k, n) or None
        The matrix of a ``LinearConstraint`` (densified).
    rows : ndarray of intp or None
        Rows of the raw output that this block uses (None: all).
    sign, offset : ndarray of float64 or None
        The block's value is ``sign * (y[rows] - offset)``.
    size : int
        Number of rows (known after :func:`normalize_constraints`).
    index : int
        Position of the constraint in the user's list (for messages).
    """

    def __init__(self, kind, fun, jac, args, index, A=None, rows=None,
                 sign=None, offset=None):
        self.kind = kind
        self.fun = fun
        self.jac = jac
        self.args = args
        self.index = index
        self.A = A
        self.rows = rows
        self.sign = sign
        self.offset = offset
        self.size = -1
        self.raw_size = -1
        self.last_raw = None

    @property
    def name(self):
        return f"constraint {self.index}"

    def raw_value(self, x):
        """The raw output ``y`` at ``x`` (1-D float64)."""
        if self.A is not None:
            return self.A @ x
        return self.as_raw(self.fun(x, *self.args))

    def as_raw(self, value):
        """The function's returned ``value`` as a 1-D float64 array."""
        if (type(value) is np.ndarray and value.ndim == 1
                and value.dtype == np.float64):
            return value        # the common case, without conversions
        value = np.asarray(value)
        if value.ndim > 1:
            raise ValueError(f"The function of {self.name} must return a "
                             f"scalar or a 1-D array, not an array of shape "
                             f"{value.shape}.")
        return np.atleast_1d(value).astype(np.float64, copy=False)

    def transform(self, y):
        """Rows of the constraint vector from the raw output ``y``."""
        if self.rows is None:
            return y
        return self.sign * (y[self.rows] - self.offset)

    def value(self, x):
        """The block's constraint values at ``x``, shape (size,)."""
        y = self.transform(self.raw_value(x))
        if self.size >= 0 and y.size != self.size:
            raise ValueError(f"The function of {self.name} returned "
                             f"{y.size} values, but {self.size} at `x0`.")
        return y

    def raw_jacobian(self, x, n):
        """The raw Jacobian from the user's ``jac`` (or ``A``), (k, n)."""
        if self.A is not None:
            return self.A
        return self.as_jacobian(self.jac(x, *self.args))

    def as_jacobian(self, J):
        """The user's returned Jacobian ``J`` as a 2-D float64 array."""
        if type(J) is np.ndarray and J.ndim == 2 and J.dtype == np.float64:
            return J            # the common case, without conversions
        from scipy.sparse import issparse
        if issparse(J):
            J = J.toarray()
        return np.atleast_2d(np.asarray(J, dtype=np.float64))

    def transform_jacobian(self, J):
        """Rows of the constraint Jacobian from the raw Jacobian."""
        if self.rows is None:
            return J
        return self.sign[:, None] * J[self.rows]


def _scalar(value, what):
    # SciPy's _arr_to_scalar: a 1-element array is item()'d; None is kept.
    if value is None:
        return None
    arr = np.asarray(value)
    if arr.size == 1:
        return float(arr.reshape(()))
    raise ValueError(f"Each entry of `bounds` must be a pair of scalars or "
                     f"None; got {what}.")


def normalize_bounds(bounds, n, from_minimize):
    """Lower and upper bounds as float64 arrays of length ``n``.

    Parameters
    ----------
    bounds : None, sequence of (min, max), or scipy.optimize.Bounds
        None or an infinite value: no bound.
    n : int
        Number of variables.
    from_minimize : bool
        Whether the bounds came through ``minimize``, which broadcasts them
        to ``x0`` (so one pair serves every variable) and uses its own
        messages; otherwise ``minimize_slsqp``'s stricter rules apply.

    Returns
    -------
    lb, ub : ndarray of float64, shape (n,)
        ``-inf``/``inf`` where there is no bound.
    """
    inf = np.inf
    if bounds is None:
        return np.full(n, -inf), np.full(n, inf)
    if type(bounds) in (list, tuple) and len(bounds) == n:
        # the common case, n pairs of numbers or None, in one conversion
        # (None becomes NaN)
        try:
            arr = np.array(bounds, dtype=np.float64)
        except (TypeError, ValueError):
            arr = None
        if arr is not None and arr.shape == (n, 2):
            nan = np.isnan(arr)
            if nan.any():
                for i, j in zip(*np.nonzero(nan)):
                    if bounds[i][j] is not None:
                        raise ValueError("`bounds` must not contain NaN (use "
                                         "None or an infinity for no "
                                         "bound).")
                arr[:, 0][nan[:, 0]] = -inf
                arr[:, 1][nan[:, 1]] = inf
            lb = np.ascontiguousarray(arr[:, 0])
            ub = np.ascontiguousarray(arr[:, 1])
            bad = lb > ub
            if bad.any():
                if from_minimize:
                    raise ValueError("An upper bound is less than the "
                                     "corresponding lower bound.")
                raise ValueError("SLSQP Error: lb > ub in bounds "
                                 f"{', '.join(str(b) for b in bad)}.")
            return lb, ub
    from scipy.optimize import Bounds
    if isinstance(bounds, Bounds):
        lb = np.asarray(bounds.lb, dtype=np.float64)
        ub = np.asarray(bounds.ub, dtype=np.float64)
        from_minimize = True
    else:
        try:
            pairs = list(bounds)
        except TypeError:
            raise TypeError("`bounds` must be None, a sequence of (min, max) "
                            "pairs or a scipy.optimize.Bounds.") from None
        if len(pairs) == 0:
            return np.full(n, -inf), np.full(n, inf)
        lbs, ubs = [], []
        for pair in pairs:
            try:
                lo, hi = pair
            except (TypeError, ValueError):
                raise ValueError(f"Each entry of `bounds` must be a pair "
                                 f"(min, max); got {pair!r}.") from None
            lo = _scalar(lo, repr(pair))
            hi = _scalar(hi, repr(pair))
            lbs.append(-inf if lo is None else lo)
            ubs.append(inf if hi is None else hi)
        lb = np.array(lbs, dtype=np.float64)
        ub = np.array(ubs, dtype=np.float64)
        if not from_minimize and lb.size != n:
            raise IndexError("SLSQP Error: the length of bounds is not "
                             "compatible with that of x0.")
    if np.isnan(lb).any() or np.isnan(ub).any():
        raise ValueError("`bounds` must not contain NaN (use None or an "
                         "infinity for no bound).")
    if from_minimize:
        if np.any(ub < lb):
            raise ValueError("An upper bound is less than the corresponding "
                             "lower bound.")
        try:
            lb = np.broadcast_to(lb, (n,))
            ub = np.broadcast_to(ub, (n,))
        except ValueError:
            raise ValueError("The number of bounds is not compatible with "
                             "the length of `x0`.") from None
    else:
        bad = lb > ub
        if bad.any():
            raise ValueError("SLSQP Error: lb > ub in bounds "
                             f"{', '.join(str(b) for b in bad)}.")
    return (np.ascontiguousarray(lb, dtype=np.float64).copy(),
            np.ascontiguousarray(ub, dtype=np.float64).copy())


def _dict_block(index, con):
    # SciPy's checks of an old-style constraint, with its messages.
    try:
        ctype = con["type"].lower()
    except KeyError as e:
        raise KeyError(f"Constraint {index} has no type defined.") from e
    except TypeError as e:
        raise TypeError("Constraints must be defined using a "
                        "dictionary.") from e
    except AttributeError as e:
        raise TypeError("Constraint's type must be a string.") from e
    if ctype not in ("eq", "ineq"):
        raise ValueError(f"Unknown constraint type '{con['type']}'.")
    if "fun" not in con:
        raise ValueError(f"Constraint {index} has no function defined.")
    fun = con["fun"]
    if not callable(fun):
        raise TypeError(f"The 'fun' of constraint {index} must be "
                        f"callable.")
    jac = con.get("jac")
    if jac is not None and not callable(jac):
        raise TypeError(f"The 'jac' of constraint {index} must be callable "
                        f"or None.")
    args = con.get("args", ())
    if not isinstance(args, tuple):
        args = (args,)
    return [Block(ctype, fun, jac, args, index)]


def _new_style_blocks(index, con, x0, n):
    # SciPy's new_constraint_to_old, without wrapping the user's function:
    # rows with lb == ub make an equality block; rows bounded below, then
    # rows bounded above (negated), make an inequality block.
    from scipy.optimize import BFGS, LinearConstraint
    warning = _optimize_warning()
    if isinstance(con, LinearConstraint):
        if np.any(con.keep_feasible):
            warnings.warn("Constraint option `keep_feasible` is ignored by "
                          "this method.", warning, stacklevel=4)
        A = con.A
        from scipy.sparse import issparse
        if issparse(A):
            A = A.toarray()
        A = np.atleast_2d(np.asarray(A, dtype=np.float64))
        if A.ndim != 2 or A.shape[1] != n:
            raise ValueError(f"The matrix `A` of constraint {index} has "
                             f"shape {A.shape}; expected (k, {n}).")
        A = np.ascontiguousarray(A)
        fun, jac, y0 = None, None, A @ x0
    else:
        if (con.finite_diff_jac_sparsity is not None
                or con.finite_diff_rel_step is not None
                or not isinstance(con.hess, BFGS)
                or np.any(con.keep_feasible)):
            warnings.warn("Constraint options `finite_diff_jac_sparsity`, "
                          "`finite_diff_rel_step`, `keep_feasible`, and "
                          "`hess`are ignored by this method.", warning,
                          stacklevel=4)
        A = None
        fun = con.fun
        jac = con.jac if callable(con.jac) else None
        y0 = np.asarray(fun(x0.copy()))
        if y0.ndim > 1:
            raise ValueError(f"The function of constraint {index} must "
                             f"return a scalar or a 1-D array, not an array "
                             f"of shape {y0.shape}.")
        y0 = np.atleast_1d(y0).astype(np.float64)
    k = y0.size
    try:
        lb = np.broadcast_to(np.asarray(con.lb, dtype=np.float64), (k,))
        ub = np.broadcast_to(np.asarray(con.ub, dtype=np.float64), (k,))
    except ValueError:
        raise ValueError(f"The bounds `lb`/`ub` of constraint {index} do not "
                         f"match its {k} values.") from None
    i_eq = lb == ub
    below = np.logical_xor(lb != -np.inf, i_eq)
    above = np.logical_xor(ub != np.inf, i_eq)
    if np.any((lb == -np.inf) & (ub == np.inf)):
        warnings.warn("At least one constraint is unbounded above and below. "
                      "Such constraints are ignored.", warning, stacklevel=4)
    blocks = []
    if i_eq.any():
        rows = np.flatnonzero(i_eq)
        blocks.append(Block("eq", fun, jac, (), index, A=A, rows=rows,
                            sign=np.ones(rows.size), offset=lb[rows].copy()))
    if below.any() or above.any():
        rb, ra = np.flatnonzero(below), np.flatnonzero(above)
        rows = np.concatenate([rb, ra])
        sign = np.concatenate([np.ones(rb.size), -np.ones(ra.size)])
        offset = np.concatenate([lb[rb], ub[ra]])
        blocks.append(Block("ineq", fun, jac, (), index, A=A, rows=rows,
                            sign=sign, offset=offset))
    if len(blocks) > 1:
        warnings.warn("Equality and inequality constraints are specified in "
                      "the same element of the constraint list. For "
                      "efficient use with this method, equality and "
                      "inequality constraints should be specified in "
                      "separate elements of the constraint list. ", warning,
                      stacklevel=4)
    return blocks


def normalize_constraints(constraints, x0):
    """Constraint blocks in SLSQP's order, sized at ``x0``.

    Parameters
    ----------
    constraints : dict, NonlinearConstraint, LinearConstraint, or a sequence
        of them (or None).
    x0 : ndarray of float64, shape (n,)
        The (clipped) starting point; every function is evaluated there
        once, to size the blocks.

    Returns
    -------
    blocks : list of Block
        Equality blocks first, then inequality blocks.
    values : list of ndarray
        Each block's values at ``x0``.
    """
    from scipy.optimize import LinearConstraint, NonlinearConstraint
    new_style = (NonlinearConstraint, LinearConstraint)
    if constraints is None:
        items = []
    elif isinstance(constraints, (dict,) + new_style):
        items = [constraints]
    else:
        try:
            items = list(constraints)
        except TypeError:
            raise TypeError("`constraints` must be a dict, a "
                            "NonlinearConstraint, a LinearConstraint, or a "
                            "sequence of them.") from None
    n = x0.size
    placed, appended = [], []
    for index, con in enumerate(items):
        if isinstance(con, new_style):
            blocks = _new_style_blocks(index, con, x0, n)
            placed.extend(blocks[:1])
            appended.extend(blocks[1:])
        else:
            placed.extend(_dict_block(index, con))
    ordered = placed + appended
    blocks = ([b for b in ordered if b.kind == "eq"]
              + [b for b in ordered if b.kind == "ineq"])
    values = []
    for block in blocks:
        raw = block.raw_value(x0.copy())
        y = block.transform(raw)
        block.raw_size = raw.size
        block.size = y.size
        block.last_raw = raw
        values.append(np.array(y, dtype=np.float64))
    return blocks, values
