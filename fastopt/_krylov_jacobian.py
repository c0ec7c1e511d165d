"""Jacobian-free Newton-Krylov: ``KrylovJacobian`` and ``newton_krylov``.

SciPy's ``scipy.optimize.KrylovJacobian`` semantics (finite-difference
Jacobian-vector products, an inner Krylov solve per Newton step with the
driver's forcing term as relative tolerance) on fastopt's compiled Krylov
kernels (:class:`fastopt._krylov.KrylovWorkspace`: one workspace per
Jacobian, lgmres's augmentation vectors kept inside it between Newton
steps).  The Newton iteration itself is :func:`fastopt._nonlin.nonlin_solve`;
this class plugs into it through the driver's setup/solve/update protocol.

Where fastopt deliberately differs from SciPy 1.17 (see the Notes of
:class:`KrylovJacobian` and ``docs/krylov.rst``): lgmres's augmentation
vectors are kept linearly independent, an inner solve that breaks down or
returns nothing useful is repeated without them, and the finite-difference
step never drops below the rounding level of ``x`` (badly scaled ``F``).  On problems where
SciPy's augmentation stays well conditioned the iterates are SciPy's.
"""
import math
import warnings
from difflib import get_close_matches

import numpy as np

from ._kernels import krylov as _k
from ._kernels import krylov_jacobian as _kj
from ._kernels.jacobians import _dot, _lu_solve
from ._krylov import KrylovWorkspace

__all__ = ["KrylovJacobian", "newton_krylov"]

_BUILTIN = ("lgmres", "gmres", "bicgstab", "cgs", "minres")
_METHOD_CODES = {"gmres": _k.METHOD_GMRES, "lgmres": _k.METHOD_LGMRES,
                 "bicgstab": _k.METHOD_BICGSTAB, "cgs": _k.METHOD_CGS,
                 "minres": _k.METHOD_MINRES}

# The parameters of SciPy 1.17's solvers (``inspect.signature`` minus
# self/args/kwargs): SciPy validates ``inner_*`` options against these,
# including the "Did you mean" suggestion, so fastopt uses the same lists.
_SCIPY_PARAMS = {
    "gmres": ("A", "b", "x0", "rtol", "atol", "restart", "maxiter", "M",
              "callback", "callback_type"),
    "lgmres": ("A", "b", "x0", "rtol", "atol", "maxiter", "M", "callback",
               "inner_m", "outer_k", "outer_v", "store_outer_Av",
               "prepend_outer_v"),
    "bicgstab": ("A", "b", "x0", "rtol", "atol", "maxiter", "M",
                 "callback"),
    "cgs": ("A", "b", "x0", "rtol", "atol", "maxiter", "M", "callback"),
    "minres": ("A", "b", "x0", "rtol", "shift", "maxiter", "M", "callback",
               "show", "check"),
}

# options a KrylovWorkspace (one allocation, compiled arithmetic) serves;
# anything else goes to the functional solvers
_WORKSPACE_OPTIONS = {"rtol", "atol", "maxiter", "M", "x0", "callback",
                      "restart", "inner_m", "outer_k", "store_outer_Av",
                      "prepend_outer_v", "shift"}
_WORKSPACE_CTOR = ("restart", "inner_m", "outer_k", "store_outer_Av",
                   "prepend_outer_v")

# An augmentation vector whose distance to the span of the kept ones is
# below this (they are unit vectors) adds nothing to the search space but
# makes lgmres's least-squares problem singular: it is not kept.
_INDEPENDENCE = 1e-4


class KrylovJacobian:
    """Jacobian-free Newton-Krylov: the inverse Jacobian applied by an
    inner Krylov solve with finite-difference products ``J v``.

    Use it for large systems whose Jacobian is unavailable or too big to
    form: memory is O(n * (inner_m + outer_k)), each product costs one
    evaluation of ``F``.

    Parameters
    ----------
    rdiff : float, optional
        Relative step of the finite difference; default ``sqrt(eps)``.
    method : str or callable, optional
        The inner solver: 'lgmres' (default), 'gmres', 'bicgstab', 'cgs',
        'minres' (fastopt's compiled solvers), 'tfqmr' (SciPy's), or a
        callable ``method(A, b, rtol=..., **options) -> (x, info)`` with
        ``scipy.sparse.linalg``'s interface.
    inner_maxiter : int, optional
        Inner iterations (gmres: the restart length, one cycle; lgmres:
        ignored except through ``inner_inner_m``, one outer iteration).
    inner_M : LinearOperator or preconditioner, optional
        Preconditioner of the inner solves, e.g. a ``LinearOperator``
        approximate inverse, or ``BroydenFirst().aspreconditioner()``; its
        ``setup(x, F, func)`` and ``update(x, F)`` are called with the
        Newton iteration's.
    outer_k : int, optional
        lgmres: augmentation vectors kept across Newton steps.
    **kw
        ``inner_<option>`` is passed to the inner solver as ``<option>``
        (e.g. ``inner_rtol``, ``inner_inner_m``); an option the solver
        does not take is ignored with a ``UserWarning``.  Any other name
        raises ``ValueError("Unknown parameter <name>")``.

    Notes
    -----
    ``J v ~ (F(x + omega v / |v|) - F(x)) |v| / omega`` with
    ``omega = rdiff max(1, max|x|) / max(1, max|F(x)|)``, as SciPy, but
    at least ``rdiff**1.5 max(1, max|x|)``: for ``max|F| > rdiff**-0.5``
    (about 8192) SciPy's step falls below the rounding of ``x``, every
    product is zero and SciPy raises "Jacobian inversion yielded zero
    vector"; the floor keeps the quotient's rounding error near
    ``rdiff**0.5`` relative (Knoll and Keyes 2004 choose the step
    relative to ``x`` for the same reason).  The
    inner solve uses ``rtol`` = the driver's forcing term (unless
    ``inner_rtol`` is given) and ``atol=0``; gmres runs one cycle of
    ``inner_maxiter`` steps, lgmres one outer iteration, bicgstab, cgs and
    minres ``inner_maxiter`` iterations.

    Differences from SciPy 1.17 (``docs/krylov.rst``): SciPy keeps every
    normalised step as an lgmres augmentation vector.  When successive
    Newton steps are (nearly) parallel -- every step of a small or
    effectively low-dimensional problem, or a stalled iteration -- the
    augmentation vectors become linearly dependent, the flexible-GMRES
    least-squares problem becomes singular, and the "solution" has a
    linear residual larger than the right-hand side (not a descent
    direction) or is the zero vector ("Jacobian inversion yielded zero
    vector").  The forcing term then rises towards 0.9 and the iteration
    stalls: SciPy fails on ``root``'s documented two-equation example and
    on Broyden's tridiagonal system from ``x0 = -10``.  fastopt keeps the
    augmentation basis well conditioned: a new vector whose distance to
    the span of the kept (unit) vectors is below ``1e-4`` is not kept (it
    adds no direction, Baker, Jessup and Manteuffel's augmented space is
    unchanged).  If an augmented solve still breaks down, or returns a
    zero or non-finite vector for a nonzero right-hand side, the
    augmentation is cleared and the step solved again by plain GMRES,
    whose minimal-residual property gives an inexact-Newton step (Kelley
    1995, ch. 6; Knoll and Keyes 2004).  Both tests cost no evaluation of
    ``F`` unless they fire, and neither changes SciPy's steps where
    SciPy's augmentation stays regular.

    References
    ----------
    D. A. Knoll and D. E. Keyes, "Jacobian-free Newton-Krylov methods",
    J. Comput. Phys. 193, 357 (2004).  C. T. Kelley, "Iterative Methods
    for Linear and Nonlinear Equations", SIAM (1995).  A. H. Baker, E. R.
    Jessup and T. Manteuffel, SIAM J. Matrix Anal. Appl. 26, 962 (2005).
    """

    def __init__(self, rdiff=None, method='lgmres', inner_maxiter=20,
                 inner_M=None, outer_k=10, **kw):
        self.preconditioner = inner_M
        self.rdiff = rdiff
        # to rebuild SciPy's equivalent (complex problems go to SciPy)
        self._init_args = dict(rdiff=rdiff, method=method,
                               inner_maxiter=inner_maxiter, inner_M=inner_M,
                               outer_k=outer_k, **kw)
        self.shape = None
        self.dtype = None
        self.func = None
        self.x0 = None
        self.f0 = None
        self.omega = None
        self._ws = None
        self._gram = None
        self._op = None
        if isinstance(method, str) and method in _BUILTIN:
            name = method
            self._solver = None           # resolved per path at solve time
        elif isinstance(method, str) and method == "tfqmr":
            import scipy.sparse.linalg
            name = None
            self._solver = scipy.sparse.linalg.tfqmr
        elif callable(method):
            name = None
            self._solver = method
        else:
            raise ValueError(f"method must be one of 'lgmres', 'gmres', "
                             f"'bicgstab', 'cgs', 'minres', 'tfqmr' or a "
                             f"callable, got {method!r}")
        self._name = name
        self.method = method

        kwargs = dict(maxiter=inner_maxiter, M=inner_M)
        if name == "gmres":
            # one restart cycle per Newton step: Newton replaces GMRES's
            # outer iteration
            kwargs["restart"] = inner_maxiter
            kwargs["maxiter"] = 1
            kwargs["atol"] = 0
        elif name in ("bicgstab", "cgs"):
            kwargs["atol"] = 0
        elif name == "lgmres":
            kwargs["outer_k"] = outer_k
            kwargs["maxiter"] = 1
            kwargs["prepend_outer_v"] = True
            kwargs["store_outer_Av"] = False
            kwargs["atol"] = 0
            # SciPy's persistent list lives in the workspace; a user's
            # inner_outer_v replaces it below
        if name is not None:
            valid = _SCIPY_PARAMS[name]
        else:
            import inspect
            try:
                valid = [k for k in inspect.signature(self._solver).parameters
                         if k not in ("self", "args", "kwargs")]
            except (TypeError, ValueError):
                valid = []
        for key, value in kw.items():
            if not key.startswith("inner_"):
                raise ValueError(f"Unknown parameter {key}")
            opt = key[6:]
            if opt not in valid:
                close = get_close_matches(opt, valid, n=1)
                hint = f" Did you mean '{close[0]}'?" if close else ""
                warnings.warn(
                    f"Option '{key}' is invalid for the inner method: "
                    f"{method}. It will be ignored.Please check inner method "
                    "documentation for valid options." + hint,
                    UserWarning, stacklevel=2)
                continue
            if opt in ("A", "b"):
                raise TypeError(f"{key} cannot be set: the inner solver's "
                                f"{opt} is the Newton system")
            kwargs[opt] = value
        self.method_kw = kwargs
        self._use_workspace = (name is not None
                               and set(kwargs) <= _WORKSPACE_OPTIONS)

    # -- the driver protocol ------------------------------------------------

    def scipy_equivalent(self):
        """SciPy's ``KrylovJacobian`` built with this one's arguments
        (for complex problems, which fastopt's real kernels do not
        solve)."""
        from scipy.optimize import KrylovJacobian as _ScipyKrylov
        with warnings.catch_warnings():
            # the inner_ warnings were already given by this constructor
            warnings.simplefilter("ignore", UserWarning)
            return _ScipyKrylov(**self._init_args)

    def setup(self, x, f, func):
        """Start at ``x`` with residual ``f``; ``func`` evaluates ``F``."""
        if np.iscomplexobj(x) or np.iscomplexobj(f):
            raise TypeError("fastopt's KrylovJacobian solves real problems; "
                            "use scipy_equivalent() for a complex one")
        x = np.ascontiguousarray(x, dtype=np.float64).ravel()
        f = np.ascontiguousarray(f, dtype=np.float64).ravel()
        n = x.size
        self.shape = (n, n)
        self.dtype = np.dtype(np.float64)
        self.func = func
        self.x0 = x
        self.f0 = f
        if self.rdiff is None:
            self.rdiff = np.finfo(np.float64).eps ** 0.5
        self._update_diff_step()
        if self._use_workspace:
            kw = self.method_kw
            ctor = {k: kw[k] for k in _WORKSPACE_CTOR if k in kw}
            self._ws = KrylovWorkspace(self._name, n, **ctor)
            cap = int(self._ws.iw[_k.I_OUTER_CAP])
            self._gram = np.zeros((cap, cap))
        if self.preconditioner is not None:
            setup = getattr(self.preconditioner, "setup", None)
            if setup is not None:
                setup(x, f, func)

    def update(self, x, f):
        """Move to the point ``x`` with residual ``f``."""
        self.x0 = np.ascontiguousarray(x, dtype=np.float64).ravel()
        self.f0 = np.ascontiguousarray(f, dtype=np.float64).ravel()
        self._update_diff_step()
        if self.preconditioner is not None:
            update = getattr(self.preconditioner, "update", None)
            if update is not None:
                update(x, f)

    def _update_diff_step(self):
        mx = float(np.max(np.abs(self.x0))) if self.x0.size else 0.0
        mf = float(np.max(np.abs(self.f0))) if self.f0.size else 0.0
        # SciPy's step, but never so small that x + omega v / |v| loses
        # the perturbation to rounding: at least rdiff**1.5 relative to
        # x (eps**0.75 by default; only binds when max|F| > rdiff**-0.5,
        # about 8192), so the quotient keeps ~rdiff**0.5 relative accuracy
        scale = max(1.0, mx)
        self.omega = max(self.rdiff * scale / max(1.0, mf),
                         self.rdiff ** 1.5 * scale)

    def matvec(self, v):
        """The finite-difference product ``J v``."""
        v = np.asarray(v)
        if v.dtype != np.float64:
            v = v.astype(np.float64)
        v = v.ravel()
        # the compiled path's summation (jacobians._dot), so that both
        # paths take bitwise the same steps
        nv = math.sqrt(_dot(v, v))
        if nv == 0:
            return 0 * v
        sc = self.omega / nv
        xp = v * sc
        xp += self.x0
        # F's output may be the user's own array: not modified in place
        r = np.subtract(self.func(xp), self.f0)
        r /= sc
        if not np.isfinite(r).all() and np.isfinite(v).all():
            raise ValueError('Function returned non-finite results')
        return r

    def solve(self, rhs, tol=0):
        """An approximate ``J^-1 rhs`` by the inner Krylov method, to
        relative residual ``tol`` (or ``inner_rtol``)."""
        if self.shape is None:
            raise RuntimeError("KrylovJacobian has not been set up: call "
                               "setup(x, F, func) first")
        rhs = np.ascontiguousarray(rhs, dtype=np.float64).ravel()
        kw = dict(self.method_kw)
        if "rtol" not in kw:
            kw["rtol"] = tol
        if self._use_workspace:
            return self._solve_workspace(rhs, kw)
        if self._name is not None:
            # options only the functional solvers take (outer_v,
            # callback_type) or only SciPy's (minres show/check)
            from . import _krylov
            if self._name == "minres" and ("show" in kw or "check" in kw):
                import scipy.sparse.linalg
                solver = scipy.sparse.linalg.minres
            else:
                solver = getattr(_krylov, self._name)
            sol, info = solver(self, rhs, **kw)
        else:
            sol, info = self._solver(self._linear_operator(), rhs, **kw)
        return sol

    # -- lgmres's augmentation and the fall-back ----------------------------

    def _solve_workspace(self, rhs, kw):
        ws = self._ws
        kw.pop("restart", None)
        for k in _WORKSPACE_CTOR:
            kw.pop(k, None)
        lgmres = self._name == "lgmres"
        had_outer = lgmres and int(ws.iw[_k.I_NOUTER]) > 0
        x, info = ws.solve(self, rhs, **kw)
        if not lgmres:
            return x
        iw = ws.iw
        failed = (not np.all(np.isfinite(x))
                  or (not np.any(x) and np.any(rhs)))
        if had_outer and not failed and iw[_k.I_BREAKDOWN] != 0:
            # a breakdown with augmentation vectors may come from a rank-
            # deficient search space rather than an exact solve: check the
            # true residual (one evaluation of F, only here)
            r = self.matvec(x) - rhs
            bn = math.sqrt(_dot(rhs, rhs))
            failed = (math.sqrt(_dot(r, r))
                      > max(float(kw["rtol"]), 0.5) * bn)
        if had_outer and failed:
            # the augmented space was useless: forget it, solve by GMRES
            iw[_k.I_NOUTER] = 0
            iw[_k.I_OUTER_START] = 0
            x, info = ws.solve(self, rhs, **kw)
        self._prune_outer()
        return x

    def _prune_outer(self):
        """Drop a newly appended augmentation vector that is numerically
        in the span of the kept ones (keeps lgmres's problem regular)."""
        ws = self._ws
        iw, rw = ws.iw, ws.rw
        nout = int(iw[_k.I_NOUTER])
        if nout == 0 or iw[_k.I_NAPPEND] == 0:
            return
        n = ws.n
        cap = int(iw[_k.I_OUTER_CAP])
        start = int(iw[_k.I_OUTER_START])
        oz = int(iw[_k.I_OZ])
        slots = [(start + i) % cap for i in range(nout)]
        Z = rw[oz:oz + cap * n].reshape(cap, n)
        new = slots[-1]
        # only the kept slots: the others may hold uninitialised memory
        g = np.array([_dot(Z[s], Z[new]) for s in slots])
        G = self._gram
        G[new, slots] = g
        G[slots, new] = g
        old = slots[:-1]
        if not old:
            return
        Gold = G[np.ix_(old, old)]
        gold = g[:-1]
        # LAPACK's elimination with partial pivoting, as the compiled path
        c, ok = _lu_solve(np.ascontiguousarray(Gold), gold.copy())
        if ok:
            dist2 = float(G[new, new]) - _dot(gold, c)
        else:
            dist2 = 0.0     # exactly singular: the new vector is dependent
        if not (dist2 >= _INDEPENDENCE ** 2 * float(G[new, new])):
            iw[_k.I_NOUTER] = nout - 1

    # -- the compiled path -----------------------------------------------------

    def _compiled_options(self):
        """The options vector of the compiled strategy
        (:mod:`fastopt._kernels.krylov_jacobian`), or None when this
        Jacobian needs the Python path: an inner solver or option the
        kernels do not serve (tfqmr, a callable, ``inner_M``,
        ``inner_callback``, ``inner_x0``, ``inner_outer_v``, ...), or an
        option value the Python path rejects (it then raises its own
        error)."""
        if not self._use_workspace or type(self) is not KrylovJacobian:
            return None
        kw = self.method_kw
        if (kw.get("M") is not None or kw.get("callback") is not None
                or kw.get("x0") is not None):
            return None
        name = self._name
        try:
            rdiff = (np.finfo(np.float64).eps ** 0.5 if self.rdiff is None
                     else float(self.rdiff))
            rtol = float(kw["rtol"]) if "rtol" in kw else math.nan
            atol = kw.get("atol", 0.0)
            if (atol is None or isinstance(atol, str) or atol < 0
                    or isinstance(kw.get("rtol"), str)):
                return None
            atol = 0.0 if name == "minres" else float(atol)
            maxiter = kw.get("maxiter")
            maxiter = math.nan if maxiter is None else int(maxiter)
            shift = float(kw.get("shift", 0.0))
            outer_k = 10
            if name == "gmres":
                restart = int(kw.get("restart", 20))
                if restart < 1:
                    return None
            elif name == "lgmres":
                restart = int(kw.get("inner_m", 30))
                outer_k = int(kw.get("outer_k", 10))
                if restart < 1 or outer_k < 0:
                    return None
            else:
                restart = 0
        except (TypeError, ValueError, OverflowError):
            return None
        kopts = np.empty(_kj.NKO)
        kopts[_kj.KO_METHOD] = _METHOD_CODES[name]
        kopts[_kj.KO_RESTART] = restart
        kopts[_kj.KO_OUTER_K] = outer_k
        kopts[_kj.KO_STORE_AV] = 1.0 if kw.get("store_outer_Av") else 0.0
        kopts[_kj.KO_PREPEND] = 1.0 if kw.get("prepend_outer_v", True) else 0.0
        kopts[_kj.KO_RDIFF] = rdiff
        kopts[_kj.KO_RTOL] = rtol
        kopts[_kj.KO_ATOL] = atol
        kopts[_kj.KO_MAXITER] = maxiter
        kopts[_kj.KO_SHIFT] = shift
        return kopts

    def _adopt(self, func, kiw, krw, kj, x, f):
        """Take the final state of a compiled solve, so that this object
        looks as after the Python path (point ``x``, residual ``f``, step,
        workspace with lgmres's augmentation vectors)."""
        if kj[_kj.K_SETUP] == 0.0:
            return      # stopped before the driver's setup
        n = int(kj[_kj.K_N])
        o = _kj.NKH
        self.shape = (n, n)
        self.dtype = np.dtype(np.float64)
        self.func = func
        self.x0 = x.copy()
        self.f0 = f.copy()
        self.rdiff = float(kj[_kj.K_RDIFF])
        self.omega = float(kj[_kj.K_OMEGA])
        ws = KrylovWorkspace.__new__(KrylovWorkspace)
        ws.method = self._name
        ws.n = n
        ws.iw = kiw
        ws.rw = krw
        self._ws = ws
        cap = int(kj[_kj.K_CAP])
        self._gram = kj[o:o + cap * cap].reshape(cap, cap).copy()

    # -- helpers --------------------------------------------------------------

    def _linear_operator(self):
        if self._op is None:
            from scipy.sparse.linalg import LinearOperator
            self._op = LinearOperator(self.shape, matvec=self.matvec,
                                      dtype=np.float64)
        return self._op

    def aspreconditioner(self):
        """A ``LinearOperator`` applying :meth:`solve` (this Jacobian's
        inverse), for use as another Krylov solve's preconditioner;
        ``setup`` and ``update`` are forwarded."""
        from scipy.sparse.linalg import LinearOperator
        jac = self

        class _Inverse(LinearOperator):
            def __init__(self):
                super().__init__(dtype=np.float64,
                                 shape=jac.shape if jac.shape else (0, 0))

            def _matvec(self, v):
                return jac.solve(v)

            def update(self, x, F):
                jac.update(x, F)

            def setup(self, x, F, func):
                jac.setup(x, F, func)
                self.shape = jac.shape

        return _Inverse()


def newton_krylov(F, xin, iter=None, rdiff=None, method='lgmres',
                  inner_maxiter=20, inner_M=None, outer_k=10, verbose=False,
                  maxiter=None, f_tol=None, f_rtol=None, x_tol=None,
                  x_rtol=None, tol_norm=None, line_search='armijo',
                  callback=None, **kw):
    """Find a root of ``F`` by Jacobian-free Newton-Krylov, as SciPy's
    ``newton_krylov``.

    For large systems: no Jacobian is formed, each inner product ``J v``
    costs one evaluation of ``F``.

    Parameters
    ----------
    F : callable ``F(x) -> f``
        The residual; ``x`` has ``xin``'s shape.
    xin : array_like
        Initial guess.
    rdiff, method, inner_maxiter, inner_M, outer_k, **kw
        See :class:`KrylovJacobian`.
    iter, verbose, maxiter, f_tol, f_rtol, x_tol, x_rtol, tol_norm, \
line_search, callback
        See :func:`fastopt.nonlin_solve`.

    Returns
    -------
    x : ndarray, shape of ``xin``

    Raises
    ------
    NoConvergence
        When a solution was not found within ``maxiter``.
    ValueError
        ``'Function returned non-finite results'`` when ``F`` is not
        finite at a finite-difference point, or a non-finite residual.
    """
    from ._nonlin import _fast_krylov, _outcome, nonlin_solve
    if not (verbose or callback or tol_norm is not None):
        # an @njit F: one kernel call (None: the general path)
        items = (("rdiff", rdiff), ("method", method),
                 ("inner_maxiter", inner_maxiter), ("inner_M", inner_M),
                 ("outer_k", outer_k)) + tuple(kw.items())
        r = _fast_krylov(F, xin, (), (items, iter, maxiter, f_tol, f_rtol,
                                      x_tol, x_rtol, line_search,
                                      type(line_search)))
        if r is not None:
            _outcome(r[0], r[2], True)
            return r[0]
    jac = KrylovJacobian(rdiff=rdiff, method=method,
                         inner_maxiter=inner_maxiter, inner_M=inner_M,
                         outer_k=outer_k, **kw)
    return nonlin_solve(F, xin, jac, iter, verbose, maxiter, f_tol, f_rtol,
                        x_tol, x_rtol, tol_norm, line_search, callback)
