"""The ``nonlin`` family: inexact-Newton root finding for large systems.

SciPy's ``scipy.optimize.nonlin`` API (``nonlin_solve``, ``broyden1``,
``broyden2``, ``anderson``, ``linearmixing``, ``diagbroyden``,
``excitingmixing``, the Jacobian classes and ``NoConvergence``) on one
compiled driver (:mod:`fastopt._kernels.nonlin`, a reverse-communication
state machine owning termination, line searches and forcing terms) with
the Jacobian approximations as compiled strategies behind one interface
(:mod:`fastopt._kernels.jacobians`).

Paths:

- a built-in approximation and an ``@njit`` ``F`` (without ``callback``,
  ``verbose`` or a custom ``tol_norm``): the whole solve runs in compiled
  code (:func:`fastopt._kernels.nonlin.nonlin_at`), no fastopt kernel is
  recompiled for a new function;
- fastopt's :class:`~fastopt.KrylovJacobian` (``'krylov'``) with options
  the kernels serve and an ``@njit`` ``F`` (same conditions): the whole
  Newton-Krylov solve, finite-difference products included, in one
  compiled call (:func:`fastopt._kernels.nonlin.nonlin_krylov_run`, the
  strategy in :mod:`fastopt._kernels.krylov_jacobian`);
- otherwise a Python loop answers the driver's requests: it calls ``F``,
  and, for a Jacobian that is not built in (an array, a sparse matrix, a
  callable ``J(x)``, an object with ``solve``, SciPy's own classes), its
  ``setup``/``solve``/``update``; a KrylovJacobian runs this way for a
  Python ``F``, its inner solves on fastopt's compiled Krylov kernels.

Deliberate differences from SciPy 1.17 (documented in ``docs/nonlin.rst``):

- non-finite residuals or steps stop the iteration with a status (4, 5)
  through :func:`root_nonlin`; the public functions raise ``ValueError``
  with a clear message (SciPy raises ``ValueError`` from
  ``scipy.linalg.norm``);
- ``jac=True`` without ``args`` works in :func:`root_nonlin` (quirk Q7);
- an object with ``shape``, ``dtype`` and ``solve`` is accepted as a
  Jacobian (SciPy's ``asjacobian`` raises "Unknown keyword argument
  setup" for it);
- ``max_rank <= 1`` with ``'restart'``/``'simple'`` raises ``ValueError``
  when the Jacobian is built (SciPy fails an ``assert`` at the first
  update);
- complex problems are handed to SciPy's implementation; real ones are
  computed in float64 and returned in ``x0``'s floating dtype.

Kept: SciPy's ``to_retain = max_rank - 3`` default for
``reduction_method='svd'`` (quirk Q9; its docstring says ``max_rank - 2``).
"""
import inspect
import math
import sys
import warnings
import weakref

import numpy as np

from . import _spare_work as spare_work
from ._compiled_fun import compiled_addresses, is_compiled
from ._kernels import jacobians as J
from ._kernels import krylov_jacobian as KJ
from ._kernels import nonlin as K

__all__ = ["nonlin_solve", "broyden1", "broyden2", "anderson",
           "linearmixing", "diagbroyden", "excitingmixing", "BroydenFirst",
           "BroydenSecond", "Anderson", "LinearMixing", "DiagBroyden",
           "ExcitingMixing", "asjacobian", "root_nonlin", "NoConvergence",
           "NONLIN_MESSAGES", "NONFINITE_F", "NONFINITE_STEP"]

NONFINITE_F = 4
NONFINITE_STEP = 5

NONLIN_MESSAGES = {
    1: "A solution was found at the specified tolerance.",
    2: "The maximum number of iterations allowed has been reached.",
    NONFINITE_F: "The function returned a non-finite value (nan or inf); "
                 "the iteration stopped at the last finite point.",
    NONFINITE_STEP: "The Jacobian approximation produced a non-finite step "
                    "(nan or inf); the iteration stopped.",
}

_ZERO_STEP = ("Jacobian inversion yielded zero vector. This indicates a bug "
              "in the Jacobian approximation.")
_F_TOL_DEFAULT = float(np.finfo(np.float64).eps ** (1. / 3))
_EMPTY = np.empty(0)
# A compiled solve with at least this many unknowns takes its work array
# from fastopt._spare_work (kept between solves; smaller ones are numba's
# own, which malloc serves from its heap without page faults).
_SPARE_WORK_FROM = 2 ** 15
_EMPTY2 = np.empty((0, 0))
_FLOAT64 = np.dtype(np.float64)

_NO_CONVERGENCE = None
_SCIPY_CLASSES = None


def _scipy_classes():
    # scipy.optimize costs ~0.4 s to import: imported on first use
    global _SCIPY_CLASSES
    if _SCIPY_CLASSES is None:
        from scipy.optimize import OptimizeResult, OptimizeWarning
        _SCIPY_CLASSES = (OptimizeResult, OptimizeWarning)
    return _SCIPY_CLASSES


def _no_convergence_class():
    # A subclass of SciPy's NoConvergence (so existing except clauses
    # work), built on first use: scipy.optimize costs ~0.4 s to import.
    global _NO_CONVERGENCE
    if _NO_CONVERGENCE is None:
        from scipy.optimize import NoConvergence as _ScipyNoConvergence

        class NoConvergence(_ScipyNoConvergence):
            """Exception raised when a nonlinear solver fails to converge
            within the specified ``maxiter``; ``args[0]`` is the last
            iterate (shaped like ``x0``)."""

        NoConvergence.__module__ = "fastopt"
        _NO_CONVERGENCE = NoConvergence
    return _NO_CONVERGENCE


def __getattr__(name):
    if name == "NoConvergence":
        return _no_convergence_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _as_vector(v):
    return np.ascontiguousarray(v, dtype=np.float64).ravel()


# ---------------------------------------------------------------------------
# The built-in Jacobian approximations
# ---------------------------------------------------------------------------

class _BuiltinJacobian:
    """Common part of the built-in approximations: SciPy's ``setup /
    update / solve / matvec`` over the compiled kernels' state."""

    _kind = 0

    def __init__(self):
        self.shape = None
        self.dtype = None
        self.func = None
        self._state = None
        self._spare = None

    # parameters passed to jac_new: (alpha, red, max_rank, to_retain, w0,
    # M, alphamax)
    def _params(self):
        alpha = math.nan if self.alpha is None else float(self.alpha)
        return (alpha, 0, math.inf, math.nan, 0.0, 0.0, 0.0)

    def _new_state(self, n):
        params = self._params()
        if n < _SPARE_WORK_FROM:
            return J.jac_new(self._kind, n, *params)
        # A large state in fastopt._spare_work's array, handed back when
        # this object goes or makes its next state (the old state is
        # replaced then: nothing else holds it).
        if self._spare is not None:
            self._spare()
        buffer = spare_work.take(
            J.jac_state_entries(self._kind, n, params[2], params[5]))
        self._spare = weakref.finalize(self, spare_work.give, buffer)
        return J.jac_new_in(self._kind, n, *params, buffer)

    def _adopt(self, state, func, n):
        # after a solve: the state of the last iteration, as SciPy's
        # instance would hold it
        self._state = state
        self.alpha = float(state[0][J.J_ALPHA])
        self.shape = (n, n)
        self.dtype = _FLOAT64
        self.func = func

    def setup(self, x, F, func):
        """Start from the point ``x`` with residual ``F`` (SciPy's
        ``setup``); ``alpha=None`` is autoscaled here."""
        x = _as_vector(x)
        F = _as_vector(F)
        state = self._new_state(x.size)
        J.jac_setup(*state, x, F)
        self._adopt(state, func, x.size)

    def _checked_state(self):
        if self._state is None:
            raise RuntimeError("the Jacobian approximation has not been set "
                               "up: call setup(x, F, func) first")
        return self._state

    def update(self, x, F):
        """Update the approximation to the point ``x`` with residual ``F``."""
        jr, hist, dense = self._checked_state()
        x = _as_vector(x)
        F = _as_vector(F)
        while J.jac_prepare(jr, hist, dense):
            hist, dense = J.jac_resize(jr, hist, dense)
        self._state = (jr, hist, dense)
        J.jac_update(jr, hist, dense, x, F)

    def solve(self, f, tol=0):
        """The approximation of ``J^-1 f``."""
        jr, hist, dense = self._checked_state()
        out = np.empty(int(jr[J.J_N]))
        J.jac_solve(jr, hist, dense, _as_vector(f), out)
        return out

    def matvec(self, f):
        """The approximation of ``J f``."""
        jr, hist, dense = self._checked_state()
        out = np.empty(int(jr[J.J_N]))
        if not J.jac_matvec(jr, hist, dense, _as_vector(f), out):
            from numpy.linalg import LinAlgError
            raise LinAlgError("Singular matrix")
        return out

    def rmatvec(self, f):
        """The approximation of ``J^T f``."""
        jr, hist, dense = self._checked_state()
        out = np.empty(int(jr[J.J_N]))
        if not J.jac_rmatvec(jr, hist, dense, _as_vector(f), out):
            from numpy.linalg import LinAlgError
            raise LinAlgError("Singular matrix")
        return out

    def rsolve(self, f, tol=0):
        """The approximation of ``J^-T f``."""
        jr, hist, dense = self._checked_state()
        out = np.empty(int(jr[J.J_N]))
        J.jac_rsolve(jr, hist, dense, _as_vector(f), out)
        return out

    def todense(self):
        """The dense n x n approximation of the Jacobian."""
        return J.jac_todense(*self._checked_state())

    def __array__(self, dtype=None, copy=None):
        if dtype is not None:
            raise ValueError(f"`dtype` must be None, was {dtype}")
        return self.todense()

    def aspreconditioner(self):
        """A ``LinearOperator`` applying ``solve`` (the inverse), for use as
        a Krylov preconditioner (``inner_M``); ``update`` and ``setup``
        are forwarded."""
        from scipy.sparse.linalg import LinearOperator

        jac = self

        class _Inverse(LinearOperator):
            def __init__(self):
                super().__init__(dtype=np.float64, shape=jac.shape)

            def _matvec(self, v):
                return jac.solve(v)

            def update(self, x, F):
                jac.update(x, F)

            def setup(self, x, F, func):
                jac.setup(x, F, func)
                self.shape = jac.shape

        return _Inverse()


def _reduction(reduction_method, max_rank):
    if isinstance(reduction_method, str):
        name, extra = reduction_method, ()
    else:
        name, extra = reduction_method[0], tuple(reduction_method[1:])
    codes = {"restart": J.RESTART, "simple": J.SIMPLE, "svd": J.SVD}
    if name not in codes:
        raise ValueError(f"Unknown rank reduction method '{name}'")
    rank = math.inf if max_rank is None else float(max_rank)
    to_retain = math.nan
    if name == "svd":
        if len(extra) > 1:
            raise TypeError("reduction_method ('svd', to_retain) takes one "
                            "extra parameter")
        if extra and extra[0] is not None:
            to_retain = float(extra[0])
    elif extra:
        raise TypeError(f"reduction_method '{name}' takes no extra "
                        "parameters")
    elif rank - 1 <= 0:
        raise ValueError(f"max_rank must be greater than 1 for "
                         f"reduction_method '{name}', got {max_rank!r}")
    return codes[name], rank, to_retain


class BroydenFirst(_BuiltinJacobian):
    """Broyden's first ("good") Jacobian approximation, kept as a limited-
    memory inverse ``H = -alpha I + sum c_k d_k^T``.

    Parameters
    ----------
    alpha : float, optional
        Initial guess for the Jacobian is ``(-1/alpha)``; None: autoscaled
        to ``0.5 max(|x0|, 1) / |F(x0)|``.
    reduction_method : str or tuple, optional
        How the rank stays below ``max_rank``: ``'restart'`` (drop all
        terms), ``'simple'`` (drop the oldest) or ``('svd', to_retain)``
        (keep the ``to_retain`` most significant SVD components; default
        ``max_rank - 3`` as SciPy, whose docstring says ``max_rank - 2``).
    max_rank : int, optional
        Maximum rank of the Broyden matrix; None: no reduction.

    Notes
    -----
    Inverse update ``H+ = H + (dx - H df) dx^T H / (dx^T H df)``.  Memory
    is O(n * rank); with more than n terms the matrix becomes dense, as in
    SciPy.  Reference: B. A. van der Rotten, PhD thesis, Leiden (2003).
    """

    _kind = J.BROYDEN1

    def __init__(self, alpha=None, reduction_method='restart', max_rank=None):
        super().__init__()
        self.alpha = alpha
        self._red, self._rank, self._to_retain = _reduction(reduction_method,
                                                            max_rank)
        self.max_rank = self._rank
        self.reduction_method = reduction_method

    def _params(self):
        alpha = math.nan if self.alpha is None else float(self.alpha)
        return (alpha, self._red, self._rank, self._to_retain, 0.0, 0.0, 0.0)


class BroydenSecond(BroydenFirst):
    """Broyden's second ("bad") Jacobian approximation: inverse update
    ``H+ = H + (dx - H df) df^T / (df^T df)``.  Parameters as
    :class:`BroydenFirst`."""

    _kind = J.BROYDEN2


class Anderson(_BuiltinJacobian):
    """(Extended) Anderson mixing: the best inverse Jacobian in the span of
    the last ``M`` steps (Eyert, J. Comp. Phys. 124, 271 (1996)).

    Parameters
    ----------
    alpha : float, optional
        Initial guess for the Jacobian is ``(-1/alpha)``.
    w0 : float, optional
        Regularisation, of the order of 0.01.
    M : int, optional
        Number of previous steps retained (default 5).
    """

    _kind = J.ANDERSON

    def __init__(self, alpha=None, w0=0.01, M=5):
        super().__init__()
        self.alpha = alpha
        if not M >= 0:
            raise ValueError(f"M must be non-negative, got {M!r}")
        self.M = M
        self.w0 = w0

    def _params(self):
        alpha = math.nan if self.alpha is None else float(self.alpha)
        M = float(math.floor(self.M)) if math.isfinite(self.M) else 1e18
        return (alpha, 0, math.inf, math.nan, float(self.w0), M, 0.0)

    def rmatvec(self, f):
        raise NotImplementedError("Anderson has no rmatvec (as in SciPy)")

    def rsolve(self, f, tol=0):
        raise NotImplementedError("Anderson has no rsolve (as in SciPy)")

    def todense(self):
        raise NotImplementedError("Anderson has no todense (as in SciPy)")


class LinearMixing(_BuiltinJacobian):
    """The scalar Jacobian approximation ``-1/alpha`` (no update).

    Parameters
    ----------
    alpha : float, optional
        The Jacobian approximation is ``(-1/alpha)``.
    """

    _kind = J.LINEARMIXING

    def __init__(self, alpha=None):
        super().__init__()
        self.alpha = alpha


class DiagBroyden(_BuiltinJacobian):
    """The diagonal of Broyden's update as the Jacobian approximation.

    Parameters
    ----------
    alpha : float, optional
        Initial guess for the Jacobian is ``(-1/alpha)``.
    """

    _kind = J.DIAGBROYDEN

    def __init__(self, alpha=None):
        super().__init__()
        self.alpha = alpha


class ExcitingMixing(_BuiltinJacobian):
    """A diagonal Jacobian approximation tuned on each iteration: an
    entry grows by ``alpha`` while its residual keeps its sign, and is
    reset to ``alpha`` otherwise.

    Parameters
    ----------
    alpha : float, optional
        Initial Jacobian approximation is ``(-1/alpha)``.
    alphamax : float, optional
        The entries of the diagonal are kept in ``[0, alphamax]``.
    """

    _kind = J.EXCITINGMIXING

    def __init__(self, alpha=None, alphamax=1.0):
        super().__init__()
        self.alpha = alpha
        self.alphamax = alphamax

    def _params(self):
        alpha = math.nan if self.alpha is None else float(self.alpha)
        return (alpha, 0, math.inf, math.nan, 0.0, 0.0, float(self.alphamax))


_BUILTIN = {"broyden1": BroydenFirst, "broyden2": BroydenSecond,
            "anderson": Anderson, "linearmixing": LinearMixing,
            "diagbroyden": DiagBroyden, "excitingmixing": ExcitingMixing}


class _DuckJacobian:
    """An object with ``solve`` (and optionally ``setup``/``update``) used
    as it is (SciPy's asjacobian fails on these: "Unknown keyword argument
    setup")."""

    def __init__(self, obj):
        self.obj = obj

    def setup(self, x, F, func):
        setup = getattr(self.obj, "setup", None)
        if setup is not None:
            setup(x, F, func)

    def update(self, x, F):
        update = getattr(self.obj, "update", None)
        if update is not None:
            update(x, F)

    def solve(self, v, tol=0):
        return self.obj.solve(v, tol=tol)


def asjacobian(J):
    """Convert ``J`` to a Jacobian approximation, as SciPy's
    ``asjacobian``: a fastopt or SciPy Jacobian instance or class, a name
    ('broyden1', 'broyden2', 'anderson', 'linearmixing', 'diagbroyden',
    'excitingmixing', 'krylov'), a square ndarray, a sparse matrix, an
    object with ``shape``, ``dtype`` and ``solve``, or a callable ``J(x)``
    returning a matrix.  ``TypeError('Cannot convert object to a
    Jacobian')`` otherwise."""
    if isinstance(J, _BuiltinJacobian):
        return J
    if inspect.isclass(J) and issubclass(J, _BuiltinJacobian):
        return J()
    if isinstance(J, str) and J in _BUILTIN:
        return _BUILTIN[J]()
    if isinstance(J, str) and J == 'krylov':
        from ._krylov_jacobian import KrylovJacobian
        J = KrylovJacobian()
    if (not isinstance(J, np.ndarray) and not callable(J)
            and hasattr(J, "shape") and hasattr(J, "dtype")
            and hasattr(J, "solve") and not _is_sparse(J)):
        return _DuckJacobian(J)
    # the rest as SciPy converts it (with SciPy's errors): arrays, sparse
    # matrices, callables J(x) and SciPy's Jacobians
    from scipy.optimize import _nonlin as scipy_nonlin
    return scipy_nonlin.asjacobian(J)


def _is_sparse(J):
    mod = type(J).__module__ or ""
    if not mod.startswith("scipy.sparse"):
        return False
    import scipy.sparse
    return scipy.sparse.issparse(J)


# ---------------------------------------------------------------------------
# The driver loop
# ---------------------------------------------------------------------------

_MAXNORM_NAMES = {("scipy.optimize._nonlin", "maxnorm")}


def _norm_kind(tol_norm):
    if tol_norm is None:
        return K.NORM_MAX
    if tol_norm is np.linalg.norm:
        return K.NORM_TWO
    if (getattr(tol_norm, "__module__", None),
            getattr(tol_norm, "__name__", None)) in _MAXNORM_NAMES:
        return K.NORM_MAX
    if tol_norm is np.linalg.norm:
        return K.NORM_TWO
    return K.NORM_EXTERNAL


def _line_search_code(line_search):
    if line_search == 'armijo' and type(line_search) is str:
        return K.LS_ARMIJO
    if line_search is True:
        line_search = 'armijo'
    elif line_search is False:
        line_search = None
    if line_search is None:
        return K.LS_NONE
    if isinstance(line_search, str) and line_search in ('armijo', 'wolfe'):
        return K.LS_ARMIJO if line_search == 'armijo' else K.LS_WOLFE
    raise ValueError("Invalid line search")


def _tolerance(value, default):
    return default if value is None else float(value)


class _Counter:
    # F as SciPy's nonlin_solve calls it: x shaped like x0, the output made
    # a flat float vector; counts the calls made by a Python Jacobian
    def __init__(self, F, args, shape):
        self.F = F
        self.args = args
        self.shape = shape
        self.calls = 0

    def __call__(self, z):
        self.calls += 1
        z = np.asarray(z, dtype=np.float64).reshape(self.shape)
        return _as_f(self.F(z, *self.args), None)


def _as_f(value, n):
    if (type(value) is np.ndarray and value.dtype is _FLOAT64
            and value.ndim == 1 and value.flags.c_contiguous):
        f = value
    else:
        f = np.asarray(value)
        if not np.issubdtype(f.dtype, np.inexact):
            f = f.astype(np.float64)
        if np.iscomplexobj(f):
            raise TypeError("F returned complex values for a real x; pass a "
                            "complex x0 for a complex problem")
        f = np.ascontiguousarray(f, dtype=np.float64).ravel()
    if n is not None and f.size != n:
        raise ValueError(f"F(x) has {f.size} entries but x has {n}: the "
                         "nonlin solvers need square systems")
    return f


def _solve(F, x0, args, jac, iterlim, verbose, maxiter, f_tol, f_rtol,
           x_tol, x_rtol, tol_norm, line_search, callback):
    """Run the driver; returns (x flat, F flat, status, nit, nfev)."""
    if x0.dtype is _FLOAT64 and x0.ndim == 1 and x0.flags.c_contiguous:
        x = x0
    else:
        x = np.ascontiguousarray(x0, dtype=np.float64).ravel()
    n = x.size
    ls = _line_search_code(line_search)
    norm_kind = _norm_kind(tol_norm)
    builtin = isinstance(jac, _BuiltinJacobian)
    if maxiter is None:
        maxiter = iterlim + 1 if iterlim >= 0 else 100 * (n + 1)
    report = bool(verbose) or bool(callback)
    start = (x, f_tol, f_rtol, x_tol, x_rtol, iterlim, int(maxiter), ls,
             norm_kind, not builtin, report)
    if n < _SPARE_WORK_FROM:
        iw, rw = K.nonlin_start(*start)
        return _drive(F, x0, x, args, jac, builtin, norm_kind, report,
                      verbose, tol_norm, callback, iw, rw)
    # the driver's state in fastopt._spare_work's array, handed back after
    # the solve (_finish copies what it returns)
    buffer = spare_work.take(K.NR + 5 * n)
    iw, rw = K.nonlin_start_in(buffer, *start)
    result = _drive(F, x0, x, args, jac, builtin, norm_kind, report, verbose,
                    tol_norm, callback, iw, rw)
    del rw
    spare_work.give(buffer)
    return result


def _drive(F, x0, x, args, jac, builtin, norm_kind, report, verbose,
           tol_norm, callback, iw, rw):
    # _solve's loop over the driver's requests
    shape = x0.shape
    n = x.size
    state = jac._new_state(n) if builtin else (_EMPTY, _EMPTY2, _EMPTY2)
    func = _Counter(F, args, shape)
    # fastopt's KrylovJacobian and an @njit F: the whole Newton-Krylov
    # solve, products included, in one kernel call
    if (not builtin and not report and norm_kind != K.NORM_EXTERNAL
            and n > 0 and x0.ndim == 1 and is_compiled(F)):
        kopts = _krylov_options(jac)
        if kopts is not None:
            addr = compiled_addresses(F, args)
            if addr is not None:
                # NumPy's allocation, for its huge pages (see
                # nonlin_krylov_run)
                krw = np.empty(KJ.kj_workspace_size(n, kopts))
                kiw, kj = KJ.kj_new_in(krw, n, kopts)
                K.nonlin_krylov_at(addr[0], addr[1], args, x, iw, rw, kiw,
                                   krw, kj)
                _krylov_raise(iw, krw, kj, n)
                o = K.OX
                jac.obj._adopt(func, kiw, krw, kj, rw[o:o + n],
                               rw[o + n:o + 2 * n])
                return _finish(iw, rw, n, func)
    # the compiled path: everything in one kernel call
    if (builtin and not report and norm_kind != K.NORM_EXTERNAL
            and is_compiled(F) and x0.ndim == 1):
        addr = compiled_addresses(F, args)
        if addr is not None:
            jr = state[0]
            hist, dense = K.nonlin_at(addr[0], addr[1], args, x, iw, rw,
                                      *state)
            if iw[K.I_STATUS] == K.BAD_F_SIZE:
                raise ValueError(f"F(x) has {int(iw[K.I_FSIZE])} entries "
                                 f"but x has {n}: the nonlin solvers need "
                                 "square systems")
            jac._adopt((jr, hist, dense), func, n)
            return _finish(iw, rw, n, func)
    o = K.OX
    xv = rw[o:o + n]
    Fv = rw[o + n:o + 2 * n]
    dxv = rw[o + 2 * n:o + 3 * n]
    xe = rw[o + 3 * n:o + 4 * n]
    jr, hist, dense = state
    advance = K.nonlin_advance
    EVALUATE_F = K.EVALUATE_F
    f = _EMPTY
    action = advance(iw, rw, f, jr, hist, dense)
    while action:
        if action == EVALUATE_F:
            z = xe.copy()
            if z.shape != shape:
                z = z.reshape(shape)
            f = _as_f(F(z, *args), n)
        elif action == K.RESIZE:
            hist, dense = J.jac_resize(jr, hist, dense)
        elif action == K.SOLVE:
            step = jac.solve(Fv.copy(), tol=float(rw[K.R_TOL]))
            dxv[:] = -np.asarray(step, dtype=np.float64).ravel()
        elif action == K.UPDATE:
            jac.update(xv.copy(), Fv.copy())
        elif action == K.SETUP:
            jac.setup(xv.copy(), Fv.copy(), func)
        elif action == K.NORMS:
            rw[K.R_NF] = tol_norm(Fv.copy())
            rw[K.R_NX] = tol_norm(xv.copy())
            rw[K.R_NDX] = tol_norm(dxv.copy())
        elif action == K.REPORT:
            if callback:
                callback(xv.copy(), Fv.copy())
            if verbose:
                fn = (tol_norm(Fv.copy()) if tol_norm is not None
                      else float(np.max(np.abs(Fv))))
                sys.stdout.write(f"{int(iw[K.I_NLOOP])}:  |F(x)| = "
                                 f"{fn:g}; step {float(rw[K.R_S]):g}\n")
                sys.stdout.flush()
        action = advance(iw, rw, f, jr, hist, dense)
    if builtin:
        jac._adopt((jr, hist, dense), func, n)
    return _finish(iw, rw, n, func)


def _krylov_options(jac):
    # the compiled strategy's options for fastopt's own KrylovJacobian
    # (wrapped by asjacobian), None for anything else
    if not isinstance(jac, _DuckJacobian):
        return None
    from ._krylov_jacobian import KrylovJacobian
    obj = jac.obj
    if type(obj) is not KrylovJacobian:
        return None
    return obj._compiled_options()


def _bad_size(size, n):
    return ValueError(f"F(x) has {size} entries but x has {n}: the nonlin "
                      "solvers need square systems")


def _krylov_raise(iw, krw, kj, n):
    # the exceptions of the Python path, for the compiled one's statuses
    status = iw[K.I_STATUS]
    if status == K.BAD_F_SIZE:
        raise _bad_size(int(iw[K.I_FSIZE]), n)
    if status == K.KRYLOV_FAILED:
        detail = iw[K.I_DETAIL]
        if detail == KJ.KJ_NONFINITE:
            raise ValueError('Function returned non-finite results')
        if detail == KJ.KJ_BAD_SIZE:
            raise _bad_size(int(kj[KJ.K_FSIZE]), n)
        from ._krylov import _raise_for
        _raise_for(int(kj[KJ.K_INFO]), krw)
        raise RuntimeError(f"the compiled Krylov Jacobian failed "
                           f"(code {int(detail)})")


def _finish(iw, rw, n, func):
    o = K.OX
    x = rw[o:o + n].copy()
    F = rw[o + n:o + 2 * n].copy()
    counts = iw.tolist()
    return (x, F, counts[K.I_STATUS], counts[K.I_ITER],
            counts[K.I_NFEV] + func.calls)


# ---------------------------------------------------------------------------
# The compiled fast path: a repeat solve of an @njit F costs a few
# microseconds of Python.  Everything that depends only on the options is
# memoised as one float64 vector (the kernel's ``opts``), keyed by the raw
# arguments as the caller received them; the function's addresses are
# memoised by compiled_addresses.  One kernel call does the rest.
# ---------------------------------------------------------------------------

_OPTS = {}
_OPTS_LIMIT = 256


def _build_opts(key):
    # key = (Jacobian class, positional args, keyword items, iter, maxiter,
    # f_tol, f_rtol, x_tol, x_rtol, line_search, type(line_search)); the
    # class and the helpers raise what the general path raises
    cls, pos, kw, iterlim, maxiter, f_tol, f_rtol, x_tol, x_rtol, ls, _ = key
    jac = cls(*pos, **dict(kw))
    opts = np.empty(K.NO)
    opts[K.O_KIND] = jac._kind
    opts[K.O_ALPHA:K.O_ALPHAMAX + 1] = jac._params()
    opts[K.O_FTOL] = _tolerance(f_tol, _F_TOL_DEFAULT)
    opts[K.O_FRTOL] = _tolerance(f_rtol, math.inf)
    opts[K.O_XTOL] = _tolerance(x_tol, math.inf)
    opts[K.O_XRTOL] = _tolerance(x_rtol, math.inf)
    # counts beyond 2**53 are out of reach anyway; kept exact in float64
    limit = 2 ** 53
    opts[K.O_ITERLIM] = (-1 if iterlim is None
                         else max(-1, min(int(iterlim), limit)))
    opts[K.O_MAXITER] = (math.nan if maxiter is None
                         else max(-1, min(int(maxiter), limit)))
    opts[K.O_LS] = _line_search_code(ls)
    opts[K.O_NORM] = K.NORM_MAX
    if len(_OPTS) >= _OPTS_LIMIT:
        _OPTS.clear()
    try:
        _OPTS[key] = opts
    except TypeError:
        pass
    return opts


def _fast(F, x0, args, key):
    """The whole solve in one kernel call, or None when this call needs
    the general path (not an @njit F, not a 1-D C float64 x0, unhashable
    options, F not compilable for these types).  Returns ``(x, fvec,
    status, nit, nfev)`` with SciPy's statuses already mapped by the
    caller's rules (see :func:`_outcome`)."""
    if (type(x0) is not np.ndarray or x0.dtype is not _FLOAT64
            or x0.ndim != 1 or not is_compiled(F)):
        return None
    flags = x0.flags
    if not (flags.c_contiguous and flags.writeable):
        return None
    try:
        opts = _OPTS.get(key)
    except TypeError:
        return None
    if opts is None:
        opts = _build_opts(key)
    addr = compiled_addresses(F, args)
    if addr is None:
        return None
    work = _EMPTY
    if x0.size >= _SPARE_WORK_FROM:
        # (nonlin_run takes a longer arena as it is)
        work = spare_work.take(K.nonlin_workspace_size(x0.size, opts))
    x, fvec, status, nit, nfev, fsize = K.nonlin_run(addr[0], addr[1], args,
                                                     x0, opts, work)
    if work.size:
        spare_work.give(work)
    if status == K.BAD_F_SIZE:
        raise ValueError(f"F(x) has {fsize} entries but x has {x0.size}: "
                         "the nonlin solvers need square systems")
    return x, fvec, status, nit, nfev


_KOPTS = {}
_SIMPLE = (type(None), bool, int, float, str)


def _build_krylov_opts(key):
    # key = (KrylovJacobian keyword items, iter, maxiter, f_tol, f_rtol,
    # x_tol, x_rtol, line_search, type(line_search)); the constructor
    # raises what the general path raises.  None (not memoised) when the
    # constructor warned, so that the general path warns again; False
    # when the options need the Python path.
    from ._krylov_jacobian import KrylovJacobian
    items, iterlim, maxiter, f_tol, f_rtol, x_tol, x_rtol, ls, _ = key
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        jac = KrylovJacobian(**dict(items))
    if caught:
        return None
    kopts = jac._compiled_options()
    if kopts is None:
        entry = False
    else:
        opts = _build_opts((BroydenFirst, (), (), iterlim, maxiter, f_tol,
                            f_rtol, x_tol, x_rtol, ls, type(ls)))
        entry = (opts, kopts)
    if len(_KOPTS) >= _OPTS_LIMIT:
        _KOPTS.clear()
    _KOPTS[key] = entry
    return entry


def _fast_krylov(F, x0, args, key):
    """As :func:`_fast` for fastopt's KrylovJacobian built from the keyword
    items ``key[0]``: the whole Newton-Krylov solve in one kernel call, or
    None when this call needs the general path (which may still run
    compiled, see :func:`_solve`)."""
    if (type(x0) is not np.ndarray or x0.dtype is not _FLOAT64
            or x0.ndim != 1 or x0.size == 0 or not is_compiled(F)):
        return None
    flags = x0.flags
    if not (flags.c_contiguous and flags.writeable):
        return None
    # only plain option values: a key must not keep user objects alive
    for _, value in key[0]:
        if type(value) not in _SIMPLE:
            return None
    try:
        entry = _KOPTS.get(key)
    except TypeError:
        return None
    if entry is None:
        entry = _build_krylov_opts(key)
    if not entry:
        return None
    addr = compiled_addresses(F, args)
    if addr is None:
        return None
    n = x0.size
    size = KJ.kj_workspace_size(n, entry[1])
    kept = (n >= _SPARE_WORK_FROM
            and size + K.NR + 5 * n <= spare_work.MAX_ENTRIES)
    if kept:
        # the Krylov workspace and the driver's state (see
        # nonlin_krylov_run)
        size += K.NR + 5 * n
        work = spare_work.take(size)
    else:
        # NumPy's, for its huge pages; the kernel allocates the driver's
        # state, which keeps the peak of a very large solve lower than one
        # huge-page mapping of both
        work = np.empty(size)
    rw, iw, _, krw, kj = K.nonlin_krylov_run(addr[0], addr[1], args, x0,
                                             entry[0], entry[1], work[:size])
    if not kept:
        del work     # before the copies: they do not add to the peak
    o = K.OX
    x = rw[o:o + n].copy()
    fvec = rw[o + n:o + 2 * n].copy()
    del rw
    if kept:
        spare_work.give(work)
    _krylov_raise(iw, krw, kj, n)
    return x, fvec, int(iw[K.I_STATUS]), int(iw[K.I_ITER]), int(iw[K.I_NFEV])


def _outcome(xout, status, raise_exception):
    # SciPy's reactions to the driver's statuses; the status to report
    if status == K.ZERO_STEP:
        raise ValueError(_ZERO_STEP)
    if status == K.EXHAUSTED:
        if raise_exception:
            raise _no_convergence_class()(xout)
        return 2
    if status == NONFINITE_F or status == NONFINITE_STEP:
        if raise_exception:
            raise ValueError(NONLIN_MESSAGES[status])
    return status


def _public_fast(F, xin, cls, pos, kw, iter, verbose, maxiter, f_tol,
                 f_rtol, x_tol, x_rtol, tol_norm, line_search, callback):
    # broyden1 & co.: the fast path when nothing needs Python per iteration
    if kw or verbose or callback or tol_norm is not None:
        return None
    r = _fast(F, xin, (), (cls, pos, (), iter, maxiter, f_tol, f_rtol,
                           x_tol, x_rtol, line_search, type(line_search)))
    if r is None:
        return None
    _outcome(r[0], r[2], True)
    return r[0]


def _complex_scipy(F, x0, jac, args, **kw):
    # complex problems: SciPy's implementation with the same Jacobian
    from scipy.optimize import _nonlin as scipy_nonlin
    if isinstance(jac, _BuiltinJacobian):
        cls = getattr(scipy_nonlin, type(jac).__name__)
        params = dict(alpha=jac.alpha)
        if isinstance(jac, BroydenFirst):
            params.update(reduction_method=jac.reduction_method,
                          max_rank=None if jac.max_rank == math.inf
                          else jac.max_rank)
        elif isinstance(jac, Anderson):
            params.update(w0=jac.w0, M=jac.M)
        elif isinstance(jac, ExcitingMixing):
            params.update(alphamax=jac.alphamax)
        jac = cls(**params)
    elif isinstance(jac, _DuckJacobian):
        jac = jac.obj
        scipy_equivalent = getattr(jac, "scipy_equivalent", None)
        if scipy_equivalent is not None:  # fastopt's KrylovJacobian
            jac = scipy_equivalent()
    fun = F if not args else (lambda x: F(x, *args))
    return scipy_nonlin.nonlin_solve(fun, x0, jac, **kw)


def nonlin_solve(F, x0, jacobian='krylov', iter=None, verbose=False,
                 maxiter=None, f_tol=None, f_rtol=None, x_tol=None,
                 x_rtol=None, tol_norm=None, line_search='armijo',
                 callback=None, full_output=False, raise_exception=True):
    """Find a root of ``F`` by an inexact Newton method, suitable for large
    problems (SciPy's ``nonlin_solve``).

    Parameters
    ----------
    F : callable ``F(x) -> f``
        The residual; ``x`` has ``x0``'s shape, ``f`` as many entries.
        A numba ``@njit`` function (1-D ``x0``) with a built-in Jacobian
        or fastopt's KrylovJacobian runs entirely in compiled code.
    x0 : array_like
        Initial guess.
    jacobian : Jacobian, str or matrix-like, optional
        A Jacobian approximation (see :func:`asjacobian`); default
        'krylov' (:class:`~fastopt.KrylovJacobian`).
    iter : int, optional
        Take exactly this many iterations (then status 2, never raised).
    verbose : bool, optional
        Print ``|F(x)|`` and the step at each iteration.
    maxiter : int, optional
        Most iterations; default ``iter + 1`` or ``100 (N + 1)``.  Reached
        without convergence: ``NoConvergence`` (or status 2).
    f_tol, f_rtol, x_tol, x_rtol : float, optional
        Absolute and relative tolerances on the residual and the step
        (default ``f_tol = eps**(1/3)``, the rest unused).
    tol_norm : callable, optional
        Norm of the tests; default the max-norm.
    line_search : {None, 'armijo', 'wolfe'}, optional
        Line search on ``|F(x + s dx)|^2`` (default 'armijo').
    callback : callable, optional
        ``callback(x, f)`` after each iteration (flat vectors).
    full_output : bool, optional
        Also return ``info`` (nit, fun, status, success, message).
    raise_exception : bool, optional
        Raise ``NoConvergence`` when ``maxiter`` is exhausted.

    Returns
    -------
    x : ndarray, shape of ``x0``
        The final iterate.
    info : dict, only with ``full_output``

    Raises
    ------
    NoConvergence
        When no solution was found within ``maxiter`` (and
        ``raise_exception``).
    ValueError
        For a non-finite residual or step (with ``raise_exception``), or
        SciPy's "Jacobian inversion yielded zero vector".

    References
    ----------
    C. T. Kelley, "Iterative Methods for Linear and Nonlinear Equations",
    SIAM (1995).
    """
    return _nonlin(F, x0, (), jacobian, iter, verbose, maxiter, f_tol,
                   f_rtol, x_tol, x_rtol, tol_norm, line_search, callback,
                   full_output, raise_exception)


def _nonlin(F, x0, args, jacobian, iter, verbose, maxiter, f_tol, f_rtol,
            x_tol, x_rtol, tol_norm, line_search, callback, full_output,
            raise_exception, nfev_out=None):
    if type(x0) is not np.ndarray:
        x0 = np.asarray(x0)
    kind = x0.dtype.kind
    if kind not in "fc":
        x0 = x0.astype(np.float64)
    jac = asjacobian(jacobian)
    if kind == "c":
        return _complex_scipy(
            F, x0, jac, args, iter=iter, verbose=verbose, maxiter=maxiter,
            f_tol=f_tol, f_rtol=f_rtol, x_tol=x_tol, x_rtol=x_rtol,
            tol_norm=tol_norm, line_search=line_search, callback=callback,
            full_output=full_output, raise_exception=raise_exception)
    iterlim = -1 if iter is None else int(iter)
    x, fvec, status, nit, nfev = _solve(
        F, x0, args, jac, iterlim, verbose, maxiter,
        _tolerance(f_tol, _F_TOL_DEFAULT), _tolerance(f_rtol, math.inf),
        _tolerance(x_tol, math.inf), _tolerance(x_rtol, math.inf),
        tol_norm, line_search, callback)
    if nfev_out is not None:
        nfev_out.append(nfev)
    xout = x.reshape(x0.shape)
    if x0.dtype is not _FLOAT64:
        xout = xout.astype(x0.dtype, copy=False)
    status = _outcome(xout, status, raise_exception)
    if full_output:
        info = {"nit": nit, "fun": fvec, "status": status,
                "success": status == 1,
                "message": NONLIN_MESSAGES.get(status, "An error occurred.")}
        return xout, info
    return xout


def broyden1(F, xin, iter=None, alpha=None, reduction_method='restart',
             max_rank=None, verbose=False, maxiter=None, f_tol=None,
             f_rtol=None, x_tol=None, x_rtol=None, tol_norm=None,
             line_search='armijo', callback=None, **kw):
    """Find a root of ``F`` with Broyden's first Jacobian approximation
    ("good Broyden"), as SciPy's ``broyden1``.

    Parameters
    ----------
    F : callable ``F(x) -> f``
    xin : array_like
        Initial guess.
    alpha, reduction_method, max_rank
        See :class:`BroydenFirst`.
    iter, verbose, maxiter, f_tol, f_rtol, x_tol, x_rtol, tol_norm, \
line_search, callback
        See :func:`nonlin_solve`.

    Returns
    -------
    x : ndarray, shape of ``xin``

    Raises
    ------
    NoConvergence
        When a solution was not found.
    """
    x = _public_fast(F, xin, BroydenFirst, (alpha, reduction_method, max_rank), kw, iter, verbose, maxiter,
                     f_tol, f_rtol, x_tol, x_rtol, tol_norm, line_search,
                     callback)
    if x is not None:
        return x
    jac = BroydenFirst(alpha=alpha, reduction_method=reduction_method,
                       max_rank=max_rank, **kw)
    return nonlin_solve(F, xin, jac, iter, verbose, maxiter, f_tol, f_rtol,
                        x_tol, x_rtol, tol_norm, line_search, callback)


def broyden2(F, xin, iter=None, alpha=None, reduction_method='restart',
             max_rank=None, verbose=False, maxiter=None, f_tol=None,
             f_rtol=None, x_tol=None, x_rtol=None, tol_norm=None,
             line_search='armijo', callback=None, **kw):
    """Find a root of ``F`` with Broyden's second Jacobian approximation
    ("bad Broyden"), as SciPy's ``broyden2``; parameters as
    :func:`broyden1`.

    Returns
    -------
    x : ndarray, shape of ``xin``
    """
    x = _public_fast(F, xin, BroydenSecond, (alpha, reduction_method, max_rank), kw, iter, verbose, maxiter,
                     f_tol, f_rtol, x_tol, x_rtol, tol_norm, line_search,
                     callback)
    if x is not None:
        return x
    jac = BroydenSecond(alpha=alpha, reduction_method=reduction_method,
                        max_rank=max_rank, **kw)
    return nonlin_solve(F, xin, jac, iter, verbose, maxiter, f_tol, f_rtol,
                        x_tol, x_rtol, tol_norm, line_search, callback)


def anderson(F, xin, iter=None, alpha=None, w0=0.01, M=5, verbose=False,
             maxiter=None, f_tol=None, f_rtol=None, x_tol=None, x_rtol=None,
             tol_norm=None, line_search='armijo', callback=None, **kw):
    """Find a root of ``F`` with (extended) Anderson mixing, as SciPy's
    ``anderson``; ``alpha``, ``w0``, ``M`` as :class:`Anderson`, the rest
    as :func:`nonlin_solve`.

    Returns
    -------
    x : ndarray, shape of ``xin``
    """
    x = _public_fast(F, xin, Anderson, (alpha, w0, M), kw, iter, verbose, maxiter,
                     f_tol, f_rtol, x_tol, x_rtol, tol_norm, line_search,
                     callback)
    if x is not None:
        return x
    jac = Anderson(alpha=alpha, w0=w0, M=M, **kw)
    return nonlin_solve(F, xin, jac, iter, verbose, maxiter, f_tol, f_rtol,
                        x_tol, x_rtol, tol_norm, line_search, callback)


def linearmixing(F, xin, iter=None, alpha=None, verbose=False, maxiter=None,
                 f_tol=None, f_rtol=None, x_tol=None, x_rtol=None,
                 tol_norm=None, line_search='armijo', callback=None, **kw):
    """Find a root of ``F`` with the scalar Jacobian ``-1/alpha`` (SciPy's
    ``linearmixing``); for fixed-point-like problems.

    Returns
    -------
    x : ndarray, shape of ``xin``
    """
    x = _public_fast(F, xin, LinearMixing, (alpha,), kw, iter, verbose, maxiter,
                     f_tol, f_rtol, x_tol, x_rtol, tol_norm, line_search,
                     callback)
    if x is not None:
        return x
    jac = LinearMixing(alpha=alpha, **kw)
    return nonlin_solve(F, xin, jac, iter, verbose, maxiter, f_tol, f_rtol,
                        x_tol, x_rtol, tol_norm, line_search, callback)


def diagbroyden(F, xin, iter=None, alpha=None, verbose=False, maxiter=None,
                f_tol=None, f_rtol=None, x_tol=None, x_rtol=None,
                tol_norm=None, line_search='armijo', callback=None, **kw):
    """Find a root of ``F`` with the diagonal Broyden approximation (SciPy's
    ``diagbroyden``).

    Returns
    -------
    x : ndarray, shape of ``xin``
    """
    x = _public_fast(F, xin, DiagBroyden, (alpha,), kw, iter, verbose, maxiter,
                     f_tol, f_rtol, x_tol, x_rtol, tol_norm, line_search,
                     callback)
    if x is not None:
        return x
    jac = DiagBroyden(alpha=alpha, **kw)
    return nonlin_solve(F, xin, jac, iter, verbose, maxiter, f_tol, f_rtol,
                        x_tol, x_rtol, tol_norm, line_search, callback)


def excitingmixing(F, xin, iter=None, alpha=None, alphamax=1.0,
                   verbose=False, maxiter=None, f_tol=None, f_rtol=None,
                   x_tol=None, x_rtol=None, tol_norm=None,
                   line_search='armijo', callback=None, **kw):
    """Find a root of ``F`` with the tuned diagonal approximation of
    exciting mixing (SciPy's ``excitingmixing``).

    Returns
    -------
    x : ndarray, shape of ``xin``
    """
    x = _public_fast(F, xin, ExcitingMixing, (alpha, alphamax), kw, iter, verbose, maxiter,
                     f_tol, f_rtol, x_tol, x_rtol, tol_norm, line_search,
                     callback)
    if x is not None:
        return x
    jac = ExcitingMixing(alpha=alpha, alphamax=alphamax, **kw)
    return nonlin_solve(F, xin, jac, iter, verbose, maxiter, f_tol, f_rtol,
                        x_tol, x_rtol, tol_norm, line_search, callback)


# ---------------------------------------------------------------------------
# root(method=...)
# ---------------------------------------------------------------------------

_ROOT_CLASSES = dict(_BUILTIN)


class _FirstOutput:
    # jac=True: fun returns (f, J); the nonlin methods use f only
    def __init__(self, fun):
        self.fun = fun

    def __call__(self, x, *args):
        return self.fun(x, *args)[0]


def _fast_result(method, x, fvec, status, nit, nfev):
    # root's result from a fast path's (x, fvec, status, nit, nfev)
    status = _outcome(x, status, False)
    return _scipy_classes()[0](
        x=x, method=method, nit=nit, fun=fvec, status=status,
        success=status == 1,
        message=NONLIN_MESSAGES.get(status, "An error occurred."),
        nfev=nfev)


def root_nonlin(fun, x0, args=(), jac=None, callback=None,
                method='broyden1', nit=None, disp=False, maxiter=None,
                ftol=None, fatol=None, xtol=None, xatol=None, tol_norm=None,
                line_search='armijo', jac_options=None, tol=None,
                **unknown_options):
    """``root(fun, x0, method=<nonlin method>)``: SciPy's
    ``_root_nonlin_solve`` with ``root``'s ``tol`` mapping.

    Parameters
    ----------
    fun : callable ``fun(x, *args) -> f``
    x0 : ndarray
        Initial guess.
    args : tuple, optional
    jac : None or True, optional
        Unused (a ``RuntimeWarning`` says so); ``True`` means ``fun``
        returns ``(f, J)`` and only ``f`` is used (also without ``args``:
        SciPy crashes there, quirk Q7).
    callback : callable, optional
        ``callback(x, f)`` after each iteration.
    method : str
        'broyden1', 'broyden2', 'anderson', 'linearmixing', 'diagbroyden',
        'excitingmixing' (compiled), or 'krylov' (fastopt's
        :class:`~fastopt.KrylovJacobian` under the same driver).
    nit, disp, maxiter, ftol, fatol, xtol, xatol, tol_norm, line_search
        ``iter``, ``verbose``, ``maxiter``, ``f_rtol``, ``f_tol``,
        ``x_rtol``, ``x_tol``, ``tol_norm``, ``line_search`` of
        :func:`nonlin_solve`.
    jac_options : dict, optional
        Keyword arguments of the method's Jacobian class.
    tol : float, optional
        ``root``'s ``tol``: sets (if not given) ``xtol=tol`` and
        ``xatol=ftol=fatol=inf``, as SciPy does.

    Returns
    -------
    OptimizeResult
        x (``x0``'s shape), fun, success, status (1 converged, 2 iteration
        limit, 4 non-finite residual, 5 non-finite step), message, nit,
        nfev, method.
    """
    OptimizeResult, OptimizeWarning = _scipy_classes()
    method = str(method).lower()
    if jac is not None:
        warnings.warn(f"Method {method} does not use the jacobian (jac).",
                      RuntimeWarning, stacklevel=2)
    if unknown_options:
        warnings.warn("Unknown solver options: " + ", ".join(unknown_options),
                      OptimizeWarning, stacklevel=2)
    if tol is not None:
        xtol = tol if xtol is None else xtol
        xatol = math.inf if xatol is None else xatol
        ftol = math.inf if ftol is None else ftol
        fatol = math.inf if fatol is None else fatol
    if jac_options is None:
        jac_options = {}
    if (method == 'krylov' and jac is not True and not disp and not callback
            and tol_norm is None and type(jac_options) is dict):
        r = _fast_krylov(fun, x0, args if isinstance(args, tuple) else
                         (args,),
                         (tuple(jac_options.items()), nit, maxiter, fatol,
                          ftol, xatol, xtol, line_search, type(line_search)))
        if r is not None:
            return _fast_result(method, *r)
    cls = _ROOT_CLASSES.get(method)
    if (cls is not None and jac is not True and not disp and not callback
            and tol_norm is None):
        if not isinstance(args, tuple):
            args = (args,)
        key = (cls, (), tuple(jac_options.items())
               if type(jac_options) is dict else None, nit, maxiter, fatol,
               ftol, xatol, xtol, line_search, type(line_search))
        r = None if key[2] is None else _fast(fun, x0, args, key)
        if r is not None:
            return _fast_result(method, *r)
    if method in _ROOT_CLASSES:
        jacobian = _ROOT_CLASSES[method](**jac_options)
    elif method == 'krylov':
        from ._krylov_jacobian import KrylovJacobian
        jacobian = KrylovJacobian(**jac_options)
    else:
        raise ValueError(f"Unknown solver {method}")
    if not isinstance(args, tuple):
        args = (args,)
    f = _FirstOutput(fun) if jac is True else fun
    nfev = []
    x, info = _nonlin(f, x0, args, jacobian, nit, disp, maxiter, fatol, ftol,
                      xatol, xtol, tol_norm, line_search, callback, True,
                      False, nfev)
    sol = OptimizeResult(x=x, method=method)
    sol.update(info)
    sol.nfev = nfev[0] if nfev else None
    return sol
