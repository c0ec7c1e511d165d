"""Sequential Least Squares Programming: ``minimize_slsqp``, ``fmin_slsqp``.

The Python layer of SLSQP (D. Kraft, "A software package for sequential
quadratic programming", DFVLR-FB 88-28, 1988).  It normalises the problem
with SciPy's rules (:mod:`fastopt._constraints`), then runs the
reverse-communication kernel :func:`fastopt._kernels.slsqp.slsqp_iterate`,
evaluating the objective, its gradient, the constraints and their
Jacobians whenever the kernel asks; finite differences come from
:func:`fastopt.approx_derivative` (with ``workers`` for the objective
*and* the constraints).  When the objective and every constraint are
numba ``@njit`` functions the whole solve runs in compiled code
(:mod:`fastopt._kernels.slsqp_compiled`).
"""
import inspect
import math
import warnings
import weakref

import numba
import numpy as np
from numba import types
from numba.core.errors import TypingError

from ._compiled_fun import (FLOAT_VECTOR, _args_key, compiled_addresses,
                            compiled_entry, is_compiled)
from ._constraints import normalize_bounds, normalize_constraints
from ._kernels import slsqp as K
from ._kernels.dense import dense_assemble, dense_points
from ._kernels import slsqp_compiled as KC
from ._kernels.slsqp_compiled import slsqp_solve_at
from ._kernels.steps import (METHOD_2POINT, METHOD_3POINT, STEP_ABSOLUTE,
                             STEP_DEFAULT, STEP_RELATIVE, difference_steps)
from ._numdiff import approx_derivative
from ._workers import Evaluator, validate_workers, worker_map

__all__ = ["minimize_slsqp", "fmin_slsqp", "EXIT_MODES", "NON_FINITE",
           "STOPPED"]

_EPSILON = float(np.sqrt(np.finfo(float).eps))
_FLOAT64 = np.dtype(np.float64)
FD_METHODS = ("2-point", "3-point", "cs")

NON_FINITE = K.MODE_NONFINITE       # fastopt's status for nan/inf values
STOPPED = 99                        # the callback raised StopIteration

EXIT_MODES = {
    -1: "Gradient evaluation required (g & a)",
    0: "Optimization terminated successfully",
    1: "Function evaluation required (f & c)",
    2: "More equality constraints than independent variables",
    3: "More than 3*n iterations in LSQ subproblem",
    4: "Inequality constraints incompatible",
    5: "Singular matrix E in LSQ subproblem",
    6: "Singular matrix C in LSQ subproblem",
    7: "Rank-deficient equality constraint subproblem HFTI",
    8: "Positive directional derivative for linesearch",
    9: "Iteration limit reached",
    NON_FINITE: "The objective, its gradient, a constraint or a constraint "
                "Jacobian returned a non-finite value (inf or nan)",
    STOPPED: "`callback` raised `StopIteration`.",
}


_RESULT_CLASS = []


def _result_class():
    # scipy.optimize is imported lazily (it costs ~0.4 s), once: a repeat
    # import statement costs microseconds on every solve.
    if not _RESULT_CLASS:
        from scipy.optimize import OptimizeResult
        _RESULT_CLASS.append(OptimizeResult)
    return _RESULT_CLASS[0]


def _warn_unknown(options):
    if options:
        from scipy.optimize import OptimizeWarning
        warnings.warn("Unknown solver options: "
                      + ", ".join(map(str, options)), OptimizeWarning,
                      stacklevel=3)


class FunAndGrad:
    """``fun`` returning ``(f, g)`` (SciPy's ``jac=True``): one call per
    point gives both."""

    def __init__(self, fun):
        self.fun = fun
        self.x = None
        self.g = None

    def __call__(self, x, *args):
        value = self.fun(x, *args)
        try:
            f, g = value
        except (TypeError, ValueError):
            raise ValueError("With `jac=True` the objective must return a "
                             "pair (f, gradient).") from None
        self.x = np.array(x, copy=True)
        self.g = g
        return f

    def derivative(self, x, *args):
        if self.x is None or not np.array_equal(x, self.x):
            self(x, *args)
        return self.g


class _Expanded:
    """``fun(x_full, *args)`` of the free variables only (fixed variables
    removed from the problem); picklable when ``fun`` is, for ``workers``."""

    def __init__(self, fun, free, template):
        self.fun = fun
        self.free = free
        self.template = template

    def __call__(self, xr, *args):
        x = self.template.copy()
        x[self.free] = xr
        return self.fun(x, *args)


def wrap_callback(callback):
    """``callback(intermediate_result=...)`` for a callback whose only
    parameter is named ``intermediate_result``, else ``callback(xk)``
    (SciPy's rule); returns a function of ``(x, fun)``."""
    if callback is None:
        return None
    try:
        sig = inspect.signature(callback)
        names = set(sig.parameters)
    except (TypeError, ValueError):
        names = set()
    if names == {"intermediate_result"}:
        OptimizeResult = _result_class()

        def call(x, f):
            callback(intermediate_result=OptimizeResult(x=np.copy(x), fun=f))
    else:
        def call(x, f):
            callback(np.copy(x))
    return call


def _objective_value(value):
    # SciPy's rule: a scalar, or anything of size 1.
    if np.isscalar(value) and not isinstance(value, (str, bytes)):
        return value
    try:
        return np.asarray(value).item()
    except (TypeError, ValueError):
        raise ValueError("The user-provided objective function must return "
                         "a scalar value.") from None


def _prepare_x0(x0):
    if (type(x0) is np.ndarray and x0.ndim == 1 and x0.dtype == np.float64
            and x0.size and math.isfinite(x0.dot(x0))):
        return x0               # the common case, checked cheaply
    x = np.atleast_1d(np.asarray(x0))
    if x.dtype.kind not in "biuf":
        raise TypeError(f"`x0` must be real numbers, not {x.dtype}.")
    # Always float64 (SciPy keeps float32 and then fails in its compiled
    # core without bounds, quirk Q4).
    x = np.array(x, dtype=np.float64).ravel()
    if x.size == 0:
        raise ValueError("`x0` must have at least one entry.")
    if not np.isfinite(x).all():
        raise ValueError("`x0` must contain only finite values.")
    return x


def fixed_variables_result(fun, args, lb, blocks_of):
    """SciPy's result when every variable is fixed by ``lb == ub``."""
    x = lb.copy()
    success = True
    message = "All independent variables were fixed by bounds."
    blocks = blocks_of(x)
    if blocks:
        message = ("All independent variables were fixed by bounds at values"
                   " that satisfy the constraints.")
    maxcv = 0.0
    for block in blocks:
        y = block.value(x.copy())
        viol = np.abs(y) if block.kind == "eq" else np.maximum(-y, 0.0)
        if np.sum(viol):
            maxcv = max(maxcv, float(np.max(viol)))
            success = False
            message = (f"All independent variables were fixed by bounds, but "
                       f"the independent variables do not satisfy the "
                       f"constraints exactly. (Maximum violation: {maxcv}).")
    value = _objective_value(fun(x.copy(), *args))
    return _result_class()(x=x, fun=value, success=success, message=message,
                           nfev=1, njev=0, nhev=0, maxcv=maxcv)


def _fd_config(jac, eps, rel_step, n):
    """``(method, rstep, step, step_kind)`` of SciPy's differences for
    SLSQP: ``jac`` '2-point'/'3-point' with a relative step, otherwise
    '2-point' with the absolute step ``eps`` (kernels of :mod:`.steps`)."""
    if jac in ("2-point", "3-point"):
        method = METHOD_3POINT if jac == "3-point" else METHOD_2POINT
        rstep = (float(np.finfo(float).eps) ** (1 / 3) if jac == "3-point"
                 else _EPSILON)
        if rel_step is None:
            return method, rstep, np.zeros(n), STEP_DEFAULT
        step = np.ascontiguousarray(np.broadcast_to(
            np.asarray(rel_step, dtype=np.float64), (n,)))
        return method, rstep, step, STEP_RELATIVE
    return METHOD_2POINT, _EPSILON, np.full(n, float(eps)), STEP_ABSOLUTE


class _Problem:
    """Evaluations of the (reduced) problem for the kernel, with counts."""

    def __init__(self, fun, jac, args, blocks, lb, ub, free, template, eps,
                 rel_step, mapper, fd_config, last_raw, fd=True):
        self.fun = fun
        self.jac = jac
        self.args = args
        self.blocks = blocks
        self.free = free
        self.template = template
        self.n_full = template.size
        self.lb = lb
        self.ub = ub
        self.mapper = mapper
        self.nfev = 0
        self.njev = 0
        self.fd_bounds = (lb, ub)
        self.cs = jac == "cs"
        self.grad_of = isinstance(fun, FunAndGrad)
        self.f_value = None
        # each block's raw output at the last point (the f0 of its
        # differences); per solve, since blocks are shared by cached solves
        self.last_raw = last_raw
        if not fd:
            # every derivative is analytic (the caller knows): none of the
            # finite-difference set-up below is used
            return
        if jac in FD_METHODS:
            self.fd = {"method": jac, "rel_step": rel_step}
        else:
            self.fd = {"method": "2-point", "abs_step": eps}
        (self.fd_method, self.fd_rstep, self.fd_step, self.fd_kind,
         self.fd_bounded) = fd_config
        self.fd_at = None       # (x, points, one_sided) of the last stencil
        if free is None:
            self.obj_fd = fun
            self.con_fd = [b.fun for b in blocks]
        else:
            self.obj_fd = _Expanded(fun, free, template)
            self.con_fd = [None if b.fun is None
                           else _Expanded(b.fun, free, template)
                           for b in blocks]

    def full(self, x):
        if self.free is None:
            return x.copy()
        xf = self.template.copy()
        xf[self.free] = x
        return xf

    def objective(self, x):
        value = self.fun(self.full(x), *self.args)
        self.nfev += 1
        if type(value) is not float and type(value) is not np.float64:
            value = _objective_value(value)
        self.f_value = value
        return float(value)

    def gradient(self, x, f):
        self.njev += 1
        if self.grad_of or callable(self.jac):
            if self.grad_of:
                g = self.fun.derivative(self.full(x), *self.args)
            else:
                g = self.jac(self.full(x), *self.args)
            return self.gradient_array(g)
        return self._fd_gradient(x, f)

    def gradient_array(self, g):
        """The user's gradient ``g`` checked and converted (1-D float64,
        reduced to the free variables)."""
        if not (type(g) is np.ndarray and g.dtype == np.float64):
            g = np.asarray(g, dtype=np.float64)
        if g.shape != (self.n_full,):
            if g.size == self.n_full and g.ndim <= 2 and 1 in g.shape:
                g = g.ravel()
            else:
                raise ValueError(
                    f"The gradient (`jac`) must be an array of shape "
                    f"({self.n_full},), one entry per variable; got "
                    f"shape {g.shape}.")
        if self.free is not None:
            g = g[self.free]
        if not g.flags.c_contiguous:
            g = np.ascontiguousarray(g)
        return g

    def _fd_gradient(self, x, f):
        n = x.size
        if self.cs:
            g, info = approx_derivative(self.obj_fd, x, f0=f, args=self.args,
                                        bounds=self.fd_bounds,
                                        full_output=True,
                                        workers=self.mapper, **self.fd)
            self.nfev += info["nfev"]
            return np.asarray(g, dtype=np.float64).reshape(n)
        points, one_sided = self._stencil(x)
        values = self._values(self.obj_fd, self.args, points)
        f0 = np.empty(1)
        f0[0] = f
        column = np.empty((n, 1))
        dense_assemble(values, points, x, f0, one_sided, self.fd_method, 0,
                       column)
        self.nfev += points.shape[0]
        return column.reshape(n)

    def _stencil(self, x):
        # The difference points at x, shared by the objective and every
        # constraint differentiated at the same point.
        at = self.fd_at
        if at is not None and np.array_equal(at[0], x):
            return at[1], at[2]
        h, one_sided = difference_steps(x, self.fd_rstep, self.fd_step,
                                        self.fd_kind, self.fd_bounds[0],
                                        self.fd_bounds[1], self.fd_bounded,
                                        self.fd_method)
        points = dense_points(x, h, one_sided, self.fd_method, 0, x.size)
        self.fd_at = (x.copy(), points, one_sided)
        return points, one_sided

    def _values(self, fun, args, points, size=None):
        # fun at every row of points: (rows, 1) for the scalar objective
        # (size None) or (rows, size)
        k = points.shape[0]
        if self.mapper is None:
            results = [fun(points[r].copy(), *args) for r in range(k)]
        else:
            results = list(self.mapper(Evaluator(fun, args, {}),
                                       [points[r].copy() for r in range(k)]))
            if len(results) != k:
                raise ValueError("`workers` returned fewer results than "
                                 "points.")
        if size is None:
            values = np.empty((k, 1))
            for r, v in enumerate(results):
                values[r, 0] = float(_objective_value(v))
            return values
        values = np.empty((k, size))
        for r, v in enumerate(results):
            v = np.asarray(v, dtype=np.float64).ravel()
            if v.size != size:
                raise ValueError("A constraint function returned a "
                                 "different number of values than at "
                                 "`x0`.")
            values[r] = v
        return values

    def constraints(self, x, d):
        if not self.blocks:
            return
        xf = self.full(x)
        row = 0
        for k, block in enumerate(self.blocks):
            raw = block.raw_value(xf)
            if raw.size != block.raw_size:
                raise ValueError(f"The function of {block.name} returned "
                                 f"{raw.size} values, but {block.raw_size} "
                                 f"at `x0`.")
            self.last_raw[k] = raw
            size = block.size
            if block.rows is None:
                if size == 1:
                    d[row] = raw[0]
                else:
                    d[row:row + size] = raw
            else:
                d[row:row + size] = block.transform(raw)
            row += size

    def constraint_jacobian(self, x, C):
        if not self.blocks:
            return
        row = 0
        xf = None
        for k, block in enumerate(self.blocks):
            if block.A is not None or block.jac is not None:
                if xf is None:
                    xf = self.full(x)   # one copy shared by the blocks
                J = block.raw_jacobian(xf, self.n_full)
                if J.shape != (block.raw_size, self.n_full):
                    raise ValueError(
                        f"The Jacobian of {block.name} has shape {J.shape}; "
                        f"expected ({block.raw_size}, {self.n_full}) (one "
                        f"row per constraint value, one column per "
                        f"variable).")
                if self.free is not None:
                    J = J[:, self.free]
            elif self.cs:
                J = approx_derivative(self.con_fd[k], x, f0=self.last_raw[k],
                                      args=block.args, bounds=self.fd_bounds,
                                      workers=self.mapper, **self.fd)
                J = np.asarray(J, dtype=np.float64).reshape(block.raw_size,
                                                            x.size)
            else:
                points, one_sided = self._stencil(x)
                values = self._values(self.con_fd[k], block.args, points,
                                      block.raw_size)
                jac_t = np.empty((x.size, block.raw_size))
                dense_assemble(values, points, x, self.last_raw[k], one_sided,
                               self.fd_method, 0, jac_t)
                J = jac_t.T
            if block.rows is None:
                C[row:row + block.size] = J
            else:
                C[row:row + block.size] = block.transform_jacobian(J)
            row += block.size


def _max_violation(d, meq, x, lb, ub):
    # The largest violation of a constraint or a bound at the final point.
    return float(K.max_violation(d, meq, x, lb, ub))


class _Prepared:
    """Everything about a problem that does not depend on ``x0`` or on the
    objective: the constraint blocks, the bounds, the fixed variables, the
    finite-difference configuration and, for an all-``@njit`` problem, the
    packed arguments of the compiled solver.  Built by :func:`solve` and
    memoised (see :func:`_lookup`) so a repeat solve skips it."""

    __slots__ = ("n", "blocks", "lb", "ub", "free", "lbr", "ubr", "xl", "xu",
                 "meq", "m", "fd_config", "pack", "key", "fun", "jac", "args",
                 "con_snapshot", "bounds_copy", "args_key", "settings",
                 "all_jacobians", "unbounded", "entry")


def _prepare(fun, jac, args, x, lb, ub, blocks, eps, rel_step, maxiter,
             ftol, compiled_ok):
    P = _Prepared()
    n = x.size
    P.n = n
    P.blocks = blocks
    P.lb, P.ub = lb, ub
    fixed = lb == ub
    # whether every constraint block has its Jacobian (or a matrix)
    P.all_jacobians = all(b.A is not None or b.jac is not None
                          for b in blocks)
    fd_needed = not callable(jac) or not P.all_jacobians
    free = None
    if fixed.any() and fd_needed:
        free = np.flatnonzero(~fixed)
    P.free = free
    P.lbr = lb if free is None else lb[free]
    P.ubr = ub if free is None else ub[free]
    P.xl = np.where(np.isfinite(P.lbr), P.lbr, np.nan)
    P.xu = np.where(np.isfinite(P.ubr), P.ubr, np.nan)
    P.meq = sum(b.size for b in blocks if b.kind == "eq")
    P.m = sum(b.size for b in blocks)
    P.fd_config = _fd_config(jac, eps, rel_step, P.lbr.size) + (
        bool(np.isfinite(P.lbr).any() or np.isfinite(P.ubr).any()),)
    P.settings = (maxiter, ftol)
    # no bound at all (lb = -inf, ub = inf): clipping x0 is a copy
    P.unbounded = bool((lb == -np.inf).all() and (ub == np.inf).all())
    P.pack = None
    P.entry = None      # slsqp_solve_at's entry point (see _run_compiled)
    if compiled_ok and free is None:
        P.pack = _compiled_pack(fun, jac, args, blocks, n, lb, ub, P.xl,
                                P.xu, P.meq, P.m, ftol, maxiter, eps,
                                rel_step)
    return P


# ---------------------------------------------- memoised prepared problems
#
# A repeat solve of the same problem (the same objective, gradient,
# constraint dicts and bounds; typically a loop over starting points or
# over data passed in ``args``) reuses the _Prepared of the first solve.
# The key holds the identities of the objective and gradient and the
# settings; the entry keeps references to everything it was built from
# (so no id can be reused) and is verified on every call: the same args
# (identical objects, or equal scalars of the same type), the same
# constraint dicts content ('type' equal, 'fun'/'jac' identical, 'args'
# as for args, no other keys), the same bounds values.  Anything else
# (Bounds objects, new-style constraints, workers, finite_diff_rel_step)
# is prepared afresh every call.

_PREPARED = {}
_PREPARED_MAX = 32
_PLAIN = (float, int, bool, str, complex, type(None))


def _same_args(a, b):
    # whether two extra-argument tuples are interchangeable for a cached
    # problem: the same objects, or equal plain scalars of the same type
    if a is b:
        return True
    if type(a) is not tuple or len(a) != len(b):
        return False
    for u, v in zip(a, b):
        if u is not v and not (type(u) is type(v) and type(u) in _PLAIN
                               and u == v):
            return False
    return True


def _constraint_snapshot(constraints):
    # (len, type, fun, jac, args) per old-style dict, or None when the
    # constraints are not all plain dicts (then nothing is memoised)
    if constraints is None:
        return ()
    t = type(constraints)
    if t is dict:
        constraints = (constraints,)
    elif t is not list and t is not tuple:
        return None
    snap = []
    for c in constraints:
        if type(c) is not dict:
            return None
        snap.append((len(c), c.get("type"), c.get("fun"), c.get("jac"),
                     c.get("args", ())))
    return snap


def _same_constraints(constraints, snap):
    if constraints is None:
        return not snap
    t = type(constraints)
    if t is dict:
        constraints = (constraints,)
    elif t is not list and t is not tuple:
        return False
    if len(constraints) != len(snap):
        return False
    for c, (k, ctype, fun, jac, cargs) in zip(constraints, snap):
        if (type(c) is not dict or len(c) != k or c.get("fun") is not fun
                or c.get("jac") is not jac):
            return False
        t = c.get("type")
        if t is not ctype and not (type(t) is str and t == ctype):
            return False
        if not _same_args(c.get("args", ()), cargs):
            a = c.get("args", ())
            if not (a is cargs or (type(a) in _PLAIN and type(a) is
                                   type(cargs) and a == cargs)):
                return False
    return True


def _bounds_copy(bounds):
    # a copy of bounds to compare later, or False if not memoisable: None,
    # or a list/tuple of (min, max) tuples of plain numbers or None
    if bounds is None:
        return None
    if type(bounds) is not list and type(bounds) is not tuple:
        return False
    for pair in bounds:
        if type(pair) is not tuple or len(pair) != 2:
            return False
        for v in pair:
            if not (v is None or type(v) in (float, int, np.float64)):
                return False
    return list(bounds) if type(bounds) is list else bounds


def _same_bounds(bounds, copy):
    if copy is None:
        return bounds is None
    if bounds is copy:
        return True
    if type(bounds) is not type(copy):
        return False
    try:
        return bool(bounds == copy)
    except (TypeError, ValueError):
        return False


def _lookup(key, args, bounds, constraints):
    P = _PREPARED.get(key)
    if P is None:
        return None
    if not (_same_args(args, P.args) and _same_bounds(bounds, P.bounds_copy)
            and _same_constraints(constraints, P.con_snapshot)):
        return None
    if P.args_key is not None and _args_key(args) != P.args_key:
        return None
    return P


def _remember(P, key, fun, jac, args, bounds, constraints):
    snap = _constraint_snapshot(constraints)
    copy = _bounds_copy(bounds)
    if snap is None or copy is False:
        return
    if P.pack is not None and args:
        P.args_key = _args_key(args)
        if P.args_key is None:
            return
    else:
        P.args_key = None
    P.key, P.fun, P.jac, P.args = key, fun, jac, args
    P.con_snapshot = snap
    P.bounds_copy = copy
    if len(_PREPARED) >= _PREPARED_MAX:
        try:
            _PREPARED.pop(next(iter(_PREPARED)), None)
        except (RuntimeError, StopIteration):  # emptied by another thread
            pass
    _PREPARED[key] = P


def clear_cache():
    """Forget every memoised prepared problem (see :func:`solve`)."""
    _PREPARED.clear()


def solve(fun, x0, args, jac, bounds, constraints, maxiter, ftol, iprint,
          eps, callback, finite_diff_rel_step, workers, from_minimize):
    """The whole SLSQP solve; see :func:`minimize_slsqp`.

    ``callback`` is already wrapped (a function of ``(x, f)`` or None);
    ``from_minimize`` selects ``minimize``'s bounds rules and the handling
    of fixed variables.  The prepared problem is memoised for repeat
    solves (module comments above :func:`_same_args`).
    """
    if not callable(fun):
        raise TypeError("`fun` must be callable.")
    if not isinstance(args, tuple):
        args = (args,)
    key = None
    if workers is None and finite_diff_rel_step is None:
        key = (id(fun), jac if jac is True or type(jac) is str or jac is None
               else id(jac), maxiter, ftol, iprint, eps, from_minimize)
        try:
            P = _lookup(key, args, bounds, constraints)
        except TypeError:       # unhashable settings
            P = key = None
        if P is not None and P.fun is fun and (
                P.jac is jac or (type(jac) is str and P.jac == jac)):
            if P.pack is not None and callback is None:
                res = _run_compiled(P, x0, args, iprint)
                if res is not None:
                    return res
                x = None
            else:
                x = _prepare_x0(x0)
            if x is not None and x.size == P.n:
                if P.unbounded:     # (x0 is finite: the clip is a copy)
                    x = x.copy()
                else:
                    x = np.minimum(np.maximum(x, P.lb), P.ub)
                values = _values_at(P.blocks, x)
                if values is not None:
                    return _run_python(P, fun, jac, args, x, values,
                                       iprint, eps, None, callback, None)
            # stale sizes: prepare afresh below
            _PREPARED.pop(key, None)
    user_fun, user_jac = fun, jac
    if jac is True:
        fun = FunAndGrad(fun)
        jac = fun.derivative
    elif not (jac is None or callable(jac) or jac in FD_METHODS):
        raise ValueError(f"`jac` must be callable, True, None or one of "
                         f"{FD_METHODS}; got {jac!r}.")
    mapper_spec = validate_workers(workers)
    x = _prepare_x0(x0)
    n = x.size
    lb, ub = normalize_bounds(bounds, n, from_minimize)
    x = np.minimum(np.maximum(x, lb), ub)    # (np.clip is slower)
    fixed = lb == ub
    if fixed.all():
        return fixed_variables_result(
            fun, args, lb, lambda xf: normalize_constraints(constraints,
                                                            xf)[0])
    blocks, values = normalize_constraints(constraints, x)
    P = _prepare(fun, jac, args, x, lb, ub, blocks, eps,
                 finite_diff_rel_step, int(maxiter), float(ftol),
                 iprint < 2 and mapper_spec is None)
    if key is not None:
        _remember(P, key, user_fun, user_jac, args, bounds, constraints)
    if P.pack is not None and callback is None and iprint < 2:
        return _run_compiled(P, x, args, iprint, fresh=True)
    return _run_python(P, fun, jac, args, x, [b.last_raw for b in blocks],
                       iprint, eps, finite_diff_rel_step, callback,
                       mapper_spec)


def _values_at(blocks, x):
    # Each block's raw output at x0 (None if a size changed since the
    # problem was prepared: then it is prepared afresh).
    values = []
    for block in blocks:
        raw = block.raw_value(x.copy())
        if raw.size != block.raw_size:
            return None
        values.append(raw)
    return values


def _run_python(P, fun, jac, args, x, raws, iprint, eps, rel_step, callback,
                mapper_spec):
    """Solve a prepared problem from the clipped ``x`` by the Python driver;
    ``raws``: each block's raw output at ``x``."""
    maxiter, ftol = P.settings
    if jac is True:
        fun = FunAndGrad(fun)
        jac = fun.derivative
    free = P.free
    n = x.size
    # the template of the full x (only its size is used without fixed
    # variables; x is the caller's clipped copy, solved in place)
    template = x if free is None else x.copy()
    xr = x if free is None else x[free].copy()
    nr = xr.size
    m, meq = P.m, P.meq
    blocks = P.blocks
    d = np.empty(m)
    row = 0
    for block, raw in zip(blocks, raws):
        d[row:row + block.size] = block.transform(raw)
        row += block.size
    if mapper_spec is None:     # (no context manager: it costs ~2 us)
        analytic = P.all_jacobians and callable(jac)
        problem = _Problem(fun, jac, args, blocks, P.lbr, P.ubr, free,
                           template, eps, rel_step, None, P.fd_config,
                           list(raws), fd=not analytic)
        if callback is None and iprint < 2 and free is None and analytic:
            # (the kernel's entry point takes xr, P.xl, P.xu and d: this
            # function's and _prepare's own C vectors)
            out = _iterate_analytic(problem, xr, P.xl, P.xu, m, meq, maxiter,
                                    ftol, d)
        else:
            out = _iterate(problem, xr, P.xl, P.xu, m, meq, maxiter, ftol,
                           iprint, callback, d)
    else:
        with worker_map(mapper_spec) as mapper:
            problem = _Problem(fun, jac, args, blocks, P.lbr, P.ubr, free,
                               template, eps, rel_step, mapper, P.fd_config,
                               list(raws))
            out = _iterate(problem, xr, P.xl, P.xu, m, meq, maxiter, ftol,
                           iprint, callback, d)
    xr, f, g, d, mult, status, nit = out
    if free is not None:
        x = problem.full(xr)
        gf = np.full(n, np.nan)
        gf[free] = g
        g = gf
        bm = np.empty((2, n))
        bm[:, :] = np.nan
        bm[0, free] = mult[m:m + nr]
        bm[1, free] = mult[m + nr:m + 2 * nr]
        mult_eq_ineq = mult[:m].copy()
    else:
        # xr is solve's own clipped copy of x0 and mult this solve's: the
        # result takes them (and views of mult: the lower-bound
        # multipliers, then the upper) without copies
        x = xr
        bm = mult[m:].reshape(2, n)
        mult_eq_ineq = mult[:m]
    maxcv = _max_violation(d, meq, x, P.lb, P.ub)
    if iprint >= 1:
        print(EXIT_MODES[status] + f"    (Exit mode {status})")
        print("            Current function value:", problem.f_value)
        print("            Iterations:", nit)
        print("            Function evaluations:", problem.nfev)
        print("            Gradient evaluations:", problem.njev)
    return _result_class()(
        x=x, fun=problem.f_value, jac=g, nit=nit, nfev=problem.nfev,
        njev=problem.njev, status=status, message=EXIT_MODES[status],
        success=status == 0, multipliers=mult_eq_ineq,
        bound_multipliers=bm, maxcv=maxcv)


# ------------------------------------------------------- the compiled path

_NO_ADDRESS = (0, 0)


# constraint Jacobian dispatcher -> {args key: returns a 2-D array}
_MATRIX_JACOBIANS = weakref.WeakKeyDictionary()


def _returns_matrix(jac, args):
    # whether the compiled jac(x, *args) returns a 2-D array (memoised)
    per = _MATRIX_JACOBIANS.get(jac)
    if per is None:
        per = _MATRIX_JACOBIANS[jac] = {}
    key = _args_key(args)
    answer = per.get(key) if key is not None else None
    if answer is None:
        answer = _check_returns_matrix(jac, args)
        if key is not None:
            per[key] = answer
    return answer


def _check_returns_matrix(jac, args):
    try:
        key = (FLOAT_VECTOR,) + tuple(numba.typeof(args).types)
    except (ValueError, TypeError):
        return False
    own = jac.overloads.get(key)
    if own is None:
        try:
            jac.compile(key)
        except TypingError:
            return False
        own = jac.overloads.get(key)
    rtype = own.signature.return_type if own is not None else None
    return isinstance(rtype, types.Array) and rtype.ndim == 2


def _same_types(a, b):
    # whether two argument tuples have the same numba types
    ka, kb = _args_key(a), _args_key(b)
    if ka is not None and kb is not None:
        return ka == kb
    try:
        return numba.typeof(a) == numba.typeof(b)
    except (ValueError, TypeError):
        return False


def _compiled_pack(fun, jac, args, blocks, n, lb, ub, xl, xu, meq, m, ftol,
                   maxiter, eps, rel_step):
    """The packed arguments ``(ints, reals, A, cargs)`` of
    :func:`fastopt._kernels.slsqp_compiled.slsqp_solve_at` when every
    function is ``@njit`` (and compiles for its arguments); None
    otherwise."""
    if not is_compiled(fun):
        return None
    has_grad = callable(jac)
    if has_grad and not is_compiled(jac):
        return None
    if jac == "cs":
        return None
    cargs = None
    for block in blocks:
        if block.A is not None:
            continue
        if not is_compiled(block.fun) or (block.jac is not None
                                          and not is_compiled(block.jac)):
            return None
        if cargs is None:
            cargs = block.args
        elif not _same_types(block.args, cargs):
            return None
    if cargs is None:
        cargs = ()
    faddr = compiled_addresses(fun, args, scalar=True)
    if faddr is None:
        return None
    gaddr = _NO_ADDRESS
    if has_grad:
        gaddr = compiled_addresses(jac, args)
        if gaddr is None:
            return None
    functions, block_rows, lin = [], [], []
    rows, sign, offset = [], [], []
    nlin = 0
    for block in blocks:
        if block.A is not None:
            source = nlin
            lin.append(block.A)
            nlin += block.A.shape[0]
            kind = 1
        else:
            fa = compiled_addresses(block.fun, cargs)
            if fa is None:
                return None
            ja = _NO_ADDRESS
            if block.jac is not None:
                if not _returns_matrix(block.jac, cargs):
                    # e.g. a 1-D Jacobian row: the Python path accepts it
                    return None
                ja = compiled_addresses(block.jac, cargs, matrix=True)
                if ja is None:
                    return None
            source = len(functions)
            functions.append((fa[0], fa[1], ja[0], ja[1],
                              int(block.jac is not None)))
            kind = 0
        block_rows.append((kind, source, block.raw_size, len(rows),
                           block.size))
        if block.rows is None:
            rows.extend(range(block.size))
            sign.extend([1.0] * block.size)
            offset.extend([0.0] * block.size)
        else:
            rows.extend(block.rows.tolist())
            sign.extend(block.sign.tolist())
            offset.extend(block.offset.tolist())
    method, rstep, step, kind = _fd_config(jac, eps, rel_step, n)
    head = [0] * KC._NI
    head[KC.I_FC], head[KC.I_FJ] = faddr
    head[KC.I_GC], head[KC.I_GJ] = gaddr
    head[KC.I_HAS_GRAD] = int(has_grad)
    head[KC.I_MEQ] = meq
    head[KC.I_MAXITER] = maxiter
    head[KC.I_METHOD] = method
    head[KC.I_STEP_KIND] = kind
    head[KC.I_NF] = len(functions)
    head[KC.I_NB] = len(block_rows)
    head[KC.I_MROWS] = m
    ints = np.array(head + [v for row in functions for v in row]
                    + [v for row in block_rows for v in row] + rows,
                    dtype=np.int64)
    reals = np.concatenate([[ftol, rstep], sign, offset, lb, ub, xl, xu,
                            step]).astype(np.float64)
    A = (np.ascontiguousarray(np.vstack(lin)) if lin
         else np.zeros((0, n)))
    return ints, reals, A, cargs


def _run_compiled(P, x0, args, iprint, fresh=False):
    """Solve a prepared all-``@njit`` problem in compiled code; None when
    a constraint's output size changed since the problem was prepared
    (the caller prepares it afresh, which reports a real change)."""
    n = P.n
    if (type(x0) is np.ndarray and x0.ndim == 1 and x0.size == n
            and (x0.dtype is _FLOAT64 or x0.dtype == _FLOAT64)):
        x = x0.copy()
    else:
        x = _prepare_x0(x0)
        if x.size != n:
            return None
        if x is x0:
            x = x.copy()
    ints, reals, A, cargs = P.pack
    entry = P.entry
    if entry:
        # the packed arrays are P's, x a fresh C vector, and args of the
        # types the entry point was found for (_lookup compares them)
        out = entry(ints, reals, A, x, args, cargs)
    else:
        out = slsqp_solve_at(ints, reals, A, x, args, cargs)
        if entry is None:
            P.entry = _solve_entry(P.pack, args)
    # (one conversion of the scalars in front, not six indexings)
    status, nit, nfev, njev, f, maxcv = out[:KC._NO].tolist()
    status = int(status)
    if status < 0:
        _compiled_error(status, n, fresh)
        return None
    m = P.m
    nit = int(nit)
    nfev = int(nfev)
    njev = int(njev)
    f = _FLOAT64.type(f)    # (fun is a NumPy float64, as before)
    o = KC._NO
    mult = out[o + n + m:]
    if iprint >= 1:
        print(EXIT_MODES[status] + f"    (Exit mode {status})")
        print("            Current function value:", f)
        print("            Iterations:", nit)
        print("            Function evaluations:", nfev)
        print("            Gradient evaluations:", njev)
    return _result_class()(
        x=x, fun=f, jac=out[o:o + n], nit=nit, nfev=nfev, njev=njev,
        status=status, message=EXIT_MODES[status], success=status == 0,
        multipliers=mult[:m], bound_multipliers=mult[m:].reshape(2, n),
        maxcv=maxcv)


def _solve_entry(pack, args):
    """slsqp_solve_at's compiled entry point for the types of ``pack`` and
    ``args`` (and a C float64 ``x``), or False when the dispatcher has no
    exact overload for them.  Calling it directly skips the dispatcher's
    typing of two tuples and four arrays on each repeat solve."""
    ints, reals, A, cargs = pack
    try:
        signature = (numba.typeof(ints), numba.typeof(reals),
                     numba.typeof(A), FLOAT_VECTOR, numba.typeof(args),
                     numba.typeof(cargs))
    except (ValueError, TypeError):
        return False
    found = slsqp_solve_at.overloads.get(signature)
    return found.entry_point if found is not None else False


def _compiled_error(status, n, fresh):
    # Input errors found by the compiled solver.  A BAD_CONSTRAINT of a
    # memoised problem returns (its sizes may be stale: the caller
    # prepares it afresh); of a fresh one it is the user's error.
    if status == KC.BAD_CONSTRAINT and fresh:
        raise ValueError("A constraint function returned a different number "
                         "of values than at `x0`.")
    if status == KC.BAD_X0:
        raise ValueError("`x0` must contain only finite values.")
    if status == KC.BAD_GRADIENT:
        raise ValueError(f"The gradient (`jac`) must be an array of shape "
                         f"({n},), one entry per variable.")
    if status == KC.BAD_JACOBIAN:
        raise ValueError("The Jacobian of a constraint has the wrong shape; "
                         f"expected (number of values, {n}).")


# (n, m, meq, ftol, maxiter) -> the state arrays (rw, iw) of a solve as
# slsqp_init leaves them.  A solve starts from copies: two copies cost
# ~0.3 us, the size and init kernels' dispatches ~1 us, a tenth of the
# Python overhead of a small solve.
_WORK = {}
_WORK_MAX = 64


def _work_arrays(n, m, meq, ftol, maxiter):
    """Fresh state arrays ``(rw, iw)`` of :func:`slsqp_iterate`, as
    :func:`slsqp_init` leaves them."""
    key = (n, m, meq, ftol, maxiter)
    found = _WORK.get(key)
    if found is None:
        nrw, niw = K.slsqp_work_sizes(n, m, meq)
        rw = np.zeros(nrw)
        iw = np.zeros(niw, dtype=np.int64)
        K.slsqp_init(rw, iw, n, m, meq, ftol, maxiter)
        if len(_WORK) >= _WORK_MAX:
            _WORK.clear()
        found = _WORK[key] = (rw, iw)
    return found[0].copy(), found[1].copy()


# slsqp_iterate's compiled entry point for its only argument types (all
# arrays C-contiguous, aligned and writable float64, iw int64, f a float);
# None: not looked up yet.  Calling it directly skips the dispatcher's
# type resolution of ten arguments (~0.25 us of a ~0.8 us call, made
# twice per iteration).  The drivers pass their own state arrays, and the
# user's gradient only when it has exactly these types (else they call
# the dispatcher).
_ITERATE = None


def _iterate_entry():
    global _ITERATE
    if _ITERATE is None:
        vector = types.Array(types.float64, 1, "C")
        signature = (vector, types.Array(types.int64, 1, "C"), types.float64,
                     vector, types.Array(types.float64, 2, "C"), vector,
                     vector, vector, vector, vector)
        _ITERATE = compiled_entry(K.slsqp_iterate, signature)
    return _ITERATE


def _iterate(problem, x, xl, xu, m, meq, maxiter, ftol, iprint, callback,
             d):
    n = x.size
    rw, iw = _work_arrays(n, m, meq, ftol, maxiter)
    mult = np.zeros(m + 2 * n)
    C = np.zeros((m, n))
    if iprint >= 2:
        print(f"{'NIT':>5} {'FC':>5} {'OBJFUN':>16} {'GNORM':>16}")
    f = problem.objective(x)
    g = problem.gradient(x, f)
    problem.constraint_jacobian(x, C)
    iterate = K.slsqp_iterate
    I_ITER = K.I_ITER
    iter_prev = 0
    status = 0
    while True:
        mode = iterate(rw, iw, f, g, C, d, x, xl, xu, mult)
        if mode == 1:
            f = problem.objective(x)
            problem.constraints(x, d)
        elif mode == -1:
            g = problem.gradient(x, f)
            problem.constraint_jacobian(x, C)
        status = mode
        it = int(iw[I_ITER])
        if it > iter_prev:
            if callback is not None:
                try:
                    callback(problem.full(x), problem.f_value)
                except StopIteration:
                    status = STOPPED
                    break
            if iprint >= 2:
                gnorm = math.sqrt(float(g @ g))
                print(f"{it:5d} {problem.nfev:5d} {problem.f_value:16.6E} "
                      f"{gnorm:16.6E}")
        if mode != 1 and mode != -1:
            break
        iter_prev = it
    return x, f, g, d, mult, status, int(iw[I_ITER])


def _iterate_analytic(problem, x, xl, xu, m, meq, maxiter, ftol, d):
    # _iterate for the common case (no fixed variables removed, an
    # analytic gradient and constraint Jacobians, no callback or
    # per-iteration output) with the evaluations inlined: the same calls,
    # checks and results, less Python per evaluation.  x, xl, xu and d are
    # the caller's own C-contiguous float64 arrays (see _run_python), so
    # the kernel's entry point takes them; the user's gradient too when it
    # is a writable, aligned C vector (else the dispatcher).
    n = x.size
    rw, iw = _work_arrays(n, m, meq, ftol, maxiter)
    mult = np.zeros(m + 2 * n)
    C = np.zeros((m, n))
    fun, jac, args = problem.fun, problem.jac, problem.args
    float64 = np.float64
    ndarray = np.ndarray
    # The objective at x0 (d holds the constraints there); the loop then
    # starts with the derivatives at x0, as _iterate does.
    value = fun(x.copy(), *args)
    nfev = 1
    njev = 0
    if type(value) is not float and type(value) is not float64:
        value = _objective_value(value)
    f_value = value
    f = float(value)
    g = None
    mode = -1
    # per block: (block, its function, args, raw size, its rows of d and
    # of C (views: an assignment to a view costs half a slice's), plain,
    # its Jacobian)
    plan = []
    row = 0
    for block in problem.blocks:
        size = block.size
        plan.append((block, block.fun, block.args, block.raw_size,
                     d[row:row + size], C[row:row + size],
                     block.rows is None and block.A is None, block.jac))
        row += size
    iterate = K.slsqp_iterate
    entry = _ITERATE or _iterate_entry()
    call = entry
    while True:
        if mode == 1:
            value = fun(x.copy(), *args)
            nfev += 1
            if type(value) is not float and type(value) is not float64:
                value = _objective_value(value)
            f_value = value
            f = float(value)
            if plan:
                xf = x.copy()
                for block, cf, cargs, raw_size, dv, _, plain, _ in plan:
                    if plain:
                        raw = cf(xf, *cargs)
                        if not (type(raw) is ndarray and raw.ndim == 1
                                and raw.dtype == float64):
                            raw = block.as_raw(raw)     # converts, checks
                    else:
                        raw = block.raw_value(xf)
                    if raw.size != raw_size:
                        raise ValueError(
                            f"The function of {block.name} returned "
                            f"{raw.size} values, but {raw_size} at `x0`.")
                    if plain:
                        dv[...] = raw
                    else:
                        dv[...] = block.transform(raw)
        elif mode == -1:
            gv = jac(x.copy(), *args)
            njev += 1
            if (type(gv) is ndarray and gv.dtype == float64
                    and gv.shape == (n,) and gv.flags.carray):
                g = gv
                call = entry
            else:
                g = problem.gradient_array(gv)      # converts, checks
                call = entry if g.flags.carray else iterate
            if plan:
                xf = x.copy()
                for block, _, cargs, raw_size, _, Cv, plain, cj in plan:
                    if plain:
                        J = cj(xf, *cargs)
                        if not (type(J) is ndarray and J.dtype == float64
                                and J.shape == (raw_size, n)):
                            J = _checked_jacobian(block, block.as_jacobian(J),
                                                  raw_size, n)
                    else:
                        J = _checked_jacobian(block, block.raw_jacobian(xf, n),
                                              raw_size, n)
                    Cv[...] = J
        else:
            break
        mode = call(rw, iw, f, g, C, d, x, xl, xu, mult)
    problem.nfev += nfev
    problem.njev += njev
    problem.f_value = f_value
    return x, f, g, d, mult, mode, int(iw[K.I_ITER])


def _checked_jacobian(block, J, raw_size, n):
    # A block's converted raw Jacobian J checked for its shape, then its
    # rows of the constraint Jacobian.
    if J.shape != (raw_size, n):
        raise ValueError(
            f"The Jacobian of {block.name} has shape {J.shape}; expected "
            f"({raw_size}, {n}) (one row per constraint value, one column "
            f"per variable).")
    if block.rows is not None:
        J = block.transform_jacobian(J)
    return J


def minimize_slsqp(func, x0, args=(), jac=None, bounds=None, constraints=(),
                   maxiter=100, ftol=1.0e-6, iprint=1, disp=False,
                   eps=_EPSILON, callback=None, finite_diff_rel_step=None,
                   workers=None, **unknown_options):
    """Minimise a scalar function subject to constraints by SLSQP.

    SciPy's ``scipy.optimize._minimize_slsqp`` (what
    ``minimize(method='SLSQP')`` runs), with the same options, statuses
    and messages: Kraft's Sequential Least Squares Programming, a
    quasi-Newton SQP method whose quadratic subproblems are solved as
    least-squares problems (Lawson and Hanson's LSEI).  Use it for smooth
    problems with a few hundred variables at most and equality,
    inequality and bound constraints.

    Parameters
    ----------
    func : callable
        ``func(x, *args) -> float`` with ``x`` of shape (n,).
    x0 : array_like, shape (n,)
        Starting point (clipped into the bounds; must be finite).
    args : tuple, optional
        Extra arguments of ``func`` and its gradient.
    jac : callable, True, {'2-point', '3-point', 'cs'} or None, optional
        ``jac(x, *args) -> ndarray, shape (n,)``; True: ``func`` returns
        ``(f, g)``; a string: finite differences with that method and a
        relative step (``finite_diff_rel_step``); None: '2-point' with the
        absolute step ``eps``.  Constraints without a Jacobian are
        differentiated the same way.
    bounds : sequence of (min, max) or scipy.optimize.Bounds, optional
        None or an infinity for no bound.  Every evaluation point lies
        within the bounds.
    constraints : dict, NonlinearConstraint, LinearConstraint or a list
        Old-style dicts have ``type`` ('eq': ``fun(x) == 0``, 'ineq':
        ``fun(x) >= 0``), ``fun``, optional ``jac`` and ``args``.
    maxiter : int, optional
        Maximum number of major iterations.
    ftol : float, optional
        Precision goal for the value of f in the stopping criterion.
    iprint : int, optional
        With ``disp``: 1 prints a summary, 2 also one line per iteration.
    disp : bool, optional
        False silences all output.
    eps : float, optional
        Absolute step of the default finite differences.
    callback : callable, optional
        ``callback(xk)`` or ``callback(intermediate_result=OptimizeResult)``
        once per major iteration; raising ``StopIteration`` ends the run
        (status 99).
    finite_diff_rel_step : None or array_like, optional
        Relative step when ``jac`` is a finite-difference method.
    workers : int or map-like callable, optional
        Evaluate the finite differences of the objective *and* of the
        constraints in parallel: ``workers(fun, iterable)``, or an int
        (a process pool of that size for the whole solve; -1: all cores).

    Returns
    -------
    OptimizeResult
        ``x``, ``fun``, ``jac`` (the last gradient), ``nit``, ``nfev``,
        ``njev``, ``status`` (SciPy's exit modes 0-9; 10: a non-finite
        value; 99: stopped by the callback), ``message``, ``success``
        (status 0), ``multipliers`` (equality then inequality constraint
        multipliers, ``jac = C' multipliers`` + bound terms at a
        solution), and, beyond SciPy, ``bound_multipliers`` (shape (2, n):
        row 0 the lower-bound, row 1 the upper-bound multipliers, >= 0,
        0 for an absent bound, NaN for variables removed as fixed) with
        ``jac - C' multipliers - bound_multipliers[0] +
        bound_multipliers[1] ~ 0`` at a solution, and ``maxcv`` (the
        largest constraint or bound violation at ``x``).

    References
    ----------
    D. Kraft, "A software package for sequential quadratic programming",
    DFVLR-FB 88-28, DLR German Aerospace Center, 1988.
    """
    _warn_unknown(unknown_options)
    if not disp:
        iprint = 0
    return solve(func, x0, args, jac, bounds, constraints, maxiter, ftol,
                 iprint, eps, wrap_callback(callback), finite_diff_rel_step,
                 workers, from_minimize=False)


def fmin_slsqp(func, x0, eqcons=(), f_eqcons=None, ieqcons=(), f_ieqcons=None,
               bounds=(), fprime=None, fprime_eqcons=None,
               fprime_ieqcons=None, args=(), iter=100, acc=1.0e-6, iprint=1,
               disp=None, full_output=0, epsilon=_EPSILON, callback=None):
    """Minimise a function by SLSQP: SciPy's legacy interface.

    Parameters
    ----------
    func : callable
        ``func(x, *args) -> float``.
    x0 : array_like, shape (n,)
    eqcons, ieqcons : sequence of callables, optional
        Scalar constraints ``c(x, *args) == 0`` / ``>= 0``.
    f_eqcons, f_ieqcons : callable, optional
        Vector constraints returning arrays (``== 0`` / ``>= 0``).
    bounds : sequence of (min, max), optional
    fprime : callable, optional
        Gradient of ``func``.
    fprime_eqcons, fprime_ieqcons : callable, optional
        Jacobians of ``f_eqcons`` and ``f_ieqcons``.
    args : tuple, optional
        Extra arguments of every function.
    iter : int, optional
        Maximum number of iterations.
    acc : float, optional
        Requested accuracy (``ftol``).
    iprint : int, optional
        0 silent, 1 a summary, 2 one line per iteration.
    disp : int, optional
        Overrides ``iprint``.
    full_output : bool, optional
        Also return ``fx, its, imode, smode``.
    epsilon : float, optional
        Finite-difference step.
    callback : callable, optional
        ``callback(xk)`` after each iteration.

    Returns
    -------
    x : ndarray
        or ``(x, fx, its, imode, smode)`` with ``full_output``.
    """
    if disp is not None:
        iprint = disp
    if not isinstance(args, tuple):
        args = (args,)
    cons = tuple({"type": "eq", "fun": c, "args": args} for c in eqcons)
    cons += tuple({"type": "ineq", "fun": c, "args": args} for c in ieqcons)
    if f_eqcons:
        cons += ({"type": "eq", "fun": f_eqcons, "jac": fprime_eqcons,
                  "args": args},)
    if f_ieqcons:
        cons += ({"type": "ineq", "fun": f_ieqcons, "jac": fprime_ieqcons,
                  "args": args},)
    res = solve(func, x0, args, fprime, bounds, cons, iter, acc,
                iprint if iprint != 0 else 0, epsilon,
                wrap_callback(callback), None, None, from_minimize=False)
    if full_output:
        return res["x"], res["fun"], res["nit"], res["status"], res["message"]
    return res["x"]
