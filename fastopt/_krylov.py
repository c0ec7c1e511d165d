"""Krylov linear solvers with scipy.sparse.linalg's interface.

``gmres``, ``lgmres``, ``bicgstab``, ``cgs`` and ``minres`` drive the
reverse-communication kernels of :mod:`fastopt._kernels.krylov`.  With a
dense or sparse ``A`` and no ``M`` or callback the whole solve runs in
compiled code (``krylov_solve_dense``/``krylov_solve_csr``); otherwise the
compiled kernel does all vector arithmetic and Python applies ``A`` and
``M`` (any ndarray, sparse matrix/array or ``LinearOperator``).  They are the inner solvers of
``root(method='krylov')`` and return SciPy's ``(x, info)`` with the same
iterates (to rounding), the same stopping rule and the same ``info``.

Supported options (those ``KrylovJacobian`` uses, and a few more):

- all: ``x0``, ``rtol``, ``atol`` (not minres, which has none in SciPy),
  ``maxiter``, ``M``, ``callback``;
- gmres: ``restart``, ``callback_type`` ('x', 'pr_norm', 'legacy');
- lgmres: ``inner_m``, ``outer_k``, ``outer_v`` (updated in place, as
  SciPy does), ``store_outer_Av``, ``prepend_outer_v``;
- minres: ``shift``.

Not supported: complex systems (``TypeError``), minres's ``show`` and
``check``, ``x0='Mb'``, and matrices carrying ``psolve`` attributes in
place of ``M``.  Computation is always in float64 (SciPy computes in
float32 for float32 input).
"""
import warnings
import weakref

import numpy as np

from . import _spare_work as spare_work
from ._kernels import krylov as _k

__all__ = ["gmres", "lgmres", "bicgstab", "cgs", "minres", "KrylovWorkspace"]


def _compiled_form(A):
    """A dense ndarray or a CSR triple the compiled drivers can multiply
    by, or None (LinearOperator: only Python can apply it)."""
    if isinstance(A, np.ndarray):
        return np.ascontiguousarray(A, dtype=np.float64)
    if hasattr(A, "tocsr") and hasattr(A, "format"):     # scipy.sparse
        csr = A.tocsr()
        return (np.ascontiguousarray(csr.indptr, dtype=np.int64),
                np.ascontiguousarray(csr.indices, dtype=np.int64),
                np.ascontiguousarray(csr.data, dtype=np.float64))
    return None


def _operator(A, name):
    """``(n, matvec)`` for an ndarray, sparse matrix or LinearOperator."""
    shape = getattr(A, "shape", None)
    if shape is None:
        if callable(A):
            raise TypeError(f"{name} must be an array, a sparse matrix or a "
                            "LinearOperator, not a plain callable")
        A = np.asarray(A)
        shape = A.shape
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"expected square matrix, but got shape={(shape,)}")
    dtype = getattr(A, "dtype", None)
    if dtype is not None and np.issubdtype(dtype, np.complexfloating):
        raise TypeError(f"{name} is complex; fastopt's Krylov solvers "
                        "solve real systems only")
    if isinstance(A, np.ndarray):
        dense = np.ascontiguousarray(A, dtype=np.float64)
        return shape[0], dense.dot
    if hasattr(A, "tocsr") and hasattr(A, "dot"):     # scipy.sparse
        return shape[0], A.dot
    if hasattr(A, "matvec"):
        return shape[0], A.matvec
    from scipy.sparse.linalg import aslinearoperator
    return shape[0], aslinearoperator(A).matvec


def _vector(v, n):
    # matvec results as flat float64; a complex result means a complex
    # operator, which the kernels cannot handle
    v = np.asarray(v)
    if np.iscomplexobj(v):
        raise TypeError("the operator returned complex values; fastopt's "
                        "Krylov solvers solve real systems only")
    return v.reshape(n)


def _system(A, b, x0, M, name):
    """Validate ``A, b, x0, M`` as SciPy's ``make_system`` does."""
    n, matvec = _operator(A, "A")
    b = np.asarray(b)
    if not (b.shape == (n, 1) or b.shape == (n,)):
        raise ValueError(f"shapes of A {(n, n)} and b {b.shape} are "
                         "incompatible")
    if np.iscomplexobj(b):
        raise TypeError("b is complex; fastopt's Krylov solvers solve real "
                        "systems only")
    b = np.ascontiguousarray(b, dtype=np.float64).ravel()
    psolve = None
    if M is not None:
        m, psolve = _operator(M, "M")
        if m != n:
            raise ValueError("matrix and preconditioner have different "
                             "shapes")
    if x0 is None:
        x = np.zeros(n)
        has_x0 = False
    else:
        if isinstance(x0, str):
            raise ValueError("x0='Mb' is not supported by fastopt; pass an "
                             "array")
        x = np.asarray(x0)
        if not (x.shape == (n, 1) or x.shape == (n,)):
            raise ValueError(f"shapes of A {(n, n)} and x0 {x.shape} are "
                             "incompatible")
        if np.iscomplexobj(x):
            raise TypeError("x0 is complex; fastopt's Krylov solvers solve "
                            "real systems only")
        x = np.ascontiguousarray(x, dtype=np.float64).ravel()
        has_x0 = True
    return n, matvec, psolve, b, x, has_x0


def _default_maxiter(name, n):
    """SciPy's default ``maxiter`` of each method for systems of size n."""
    if name == "lgmres":
        return 1000
    if name == "minres":
        return 5 * n
    return 10 * n      # gmres (restart cycles), bicgstab, cgs


def _check_finite_rhs(b):
    # lgmres's own check, before any work (SciPy raises the same)
    if not np.isfinite(b).all():
        raise ValueError("RHS must contain only finite numbers")


def _check_tol(name, rtol, atol):
    if atol is None or isinstance(atol, str) or atol < 0:
        raise ValueError(f"'scipy.sparse.linalg.{name}' called with invalid "
                         f"`atol`={atol}; if set, `atol` must be a real, "
                         "non-negative number.")
    return float(rtol), float(atol)


# Workspaces of recent solves, reused by later solves of the same shape and
# options (allocation costs more than a small solve).  A workspace is taken
# out while in use, so recursive solves (a preconditioner that itself calls
# a solver) and threads each get their own; large ones are not kept.
_SPARE = {}
_SPARE_MAX_BYTES = 1 << 23


def _new_workspace(key):
    """``(iw, rw)`` for ``krylov_workspace(*key)``; ``rw`` of more than
    _SPARE_MAX_BYTES is a view of fastopt._spare_work's array (its base,
    to be handed back when the workspace is done with)."""
    size = _k.krylov_workspace_size(*key[:6])
    if size * 8 <= _SPARE_MAX_BYTES:
        return _k.krylov_workspace(*key)
    rw = spare_work.take(size)[:size]
    return _k.krylov_workspace_in(rw, *key), rw


def _workspace(*key):
    """``(iw, rw)`` for ``krylov_workspace(*key)``, reusing a spare one."""
    ws = _SPARE.pop(key, None)
    if ws is None:
        return _new_workspace(key)
    else:
        iw = ws[0]
        # lgmres's outer list is loaded afresh by the caller
        iw[_k.I_NOUTER] = 0
        iw[_k.I_OUTER_START] = 0
        iw[_k.IW_HEAD:] = 0
    return ws


def _release(key, ws):
    rw = ws[1]
    if rw.nbytes <= _SPARE_MAX_BYTES:
        _SPARE[key] = ws
    else:
        spare_work.give(rw.base)     # (see _new_workspace)


def _run_compiled(iw, rw, A, b, x, has_x0, rtol, atol, maxiter):
    """Solve with no Python between matvecs (A dense or sparse, no M and
    no callback); None if A cannot be multiplied in compiled code."""
    form = _compiled_form(A)
    if form is None:
        return None
    if isinstance(form, tuple):
        _k.krylov_solve_csr(iw, rw, *form, b, x, has_x0, rtol, atol,
                            maxiter)
    else:
        _k.krylov_solve_dense(iw, rw, form, b, x, has_x0, rtol, atol,
                              maxiter)
    ox = int(iw[_k.I_X])
    return rw[ox:ox + len(b)].copy()


def _run(iw, rw, code, matvec, psolve, callback, n):
    """Serve the kernel's requests until it is done; return a copy of x."""
    step = _k.krylov_step
    ox = int(iw[_k.I_X])
    while code != _k.DONE:
        src = int(iw[_k.I_SRC])
        dst = int(iw[_k.I_DST])
        if code == _k.MATVEC:
            rw[dst:dst + n] = _vector(matvec(rw[src:src + n].copy()), n)
        elif code == _k.PSOLVE:
            rw[dst:dst + n] = _vector(psolve(rw[src:src + n].copy()), n)
        else:
            if iw[_k.I_CALLBACK] >= 2:
                callback(float(rw[_k.R_PRNORM]))
            else:
                callback(rw[ox:ox + n].copy())
        code = step(iw, rw)
    return rw[ox:ox + n].copy()


def _execute(iw, rw, A, matvec, psolve, callback, callback_mode, b, x,
             has_x0, rtol, atol, maxiter, shift=0.0):
    """One solve in the workspace: compiled when nothing needs Python,
    else the Python request loop.  Returns ``(x copy, info)``."""
    iw[_k.I_USE_M] = 0 if psolve is None else 1
    iw[_k.I_CALLBACK] = callback_mode
    maxiter = int(maxiter)
    xc = None
    if psolve is None and callback_mode == 0 and shift == 0.0:
        xc = _run_compiled(iw, rw, A, b, x, has_x0, rtol, atol, maxiter)
    if xc is None:
        _k.krylov_reset(iw, rw, b, x, has_x0, rtol, atol, maxiter)
        rw[_k.R_SHIFT] = shift
        code = _k.krylov_step(iw, rw)
        xc = _run(iw, rw, code, matvec, psolve, callback, len(b))
    return xc, int(iw[_k.I_INFO])


def _raise_for(info, rw):
    """SciPy's exceptions for the kernel's own info codes."""
    if info == _k.INFO_ZERO_PRECOND:
        rnorm = float(rw[_k.R_RNORM])
        raise RuntimeError("Preconditioner returned a zero vector; "
                           f"|v| ~ {rnorm:.1g}, |M v| = 0")
    if info == _k.INFO_INDEFINITE_PRECOND:
        raise ValueError("indefinite preconditioner")
    if info == _k.INFO_NONSYMMETRIC:
        raise ValueError("non-symmetric matrix")
    if info == _k.INFO_NONFINITE_RHS:
        raise ValueError("RHS must contain only finite numbers")


def _solve(method, name, A, b, x0, rtol, atol, maxiter, M, callback,
           restart=0, callback_mode=None, shift=0.0):
    # gmres, bicgstab, cgs and minres: one solve in a spare workspace
    # (lgmres also loads and returns its outer vectors)
    rtol, atol = _check_tol(name, rtol, atol)
    n, matvec, psolve, b, x, has_x0 = _system(A, b, x0, M, name)
    if maxiter is None:
        maxiter = _default_maxiter(name, n)
    if callback_mode is None:
        callback_mode = 0 if callback is None else 1
    key = (method, n, restart, 0, 0, 0, False, False, 0)
    iw, rw = _workspace(*key)
    xc, info = _execute(iw, rw, A, matvec, psolve, callback, callback_mode,
                        b, x, has_x0, rtol, atol, maxiter, float(shift))
    _raise_for(info, rw)
    _release(key, (iw, rw))
    return xc, info


def bicgstab(A, b, x0=None, *, rtol=1e-5, atol=0., maxiter=None, M=None,
             callback=None):
    """Solve ``A x = b`` with BiCGSTAB, as ``scipy.sparse.linalg.bicgstab``.

    For nonsymmetric systems when memory must stay at a few vectors.

    Parameters
    ----------
    A : ndarray, sparse matrix or LinearOperator, shape (n, n)
        The (real) matrix.
    b : ndarray, shape (n,) or (n, 1)
        Right-hand side.
    x0 : ndarray, shape (n,), optional
        Starting guess (default zero).
    rtol, atol : float
        Converged when ``||b - A x|| < max(atol, rtol * ||b||)``.
    maxiter : int, optional
        Iteration limit (default ``10 n``).
    M : ndarray, sparse matrix or LinearOperator, optional
        Preconditioner approximating ``inv(A)``, applied on the right.
    callback : callable, optional
        ``callback(xk)`` after each iteration.

    Returns
    -------
    x : ndarray, shape (n,)
        The solution.
    info : int
        0 converged; ``maxiter`` not converged; -10 or -11 breakdown.

    References
    ----------
    H. A. van der Vorst, Bi-CGSTAB, SIAM J. Sci. Stat. Comput. 13 (1992).
    """
    return _solve(_k.METHOD_BICGSTAB, "bicgstab", A, b, x0, rtol, atol,
                  maxiter, M, callback)


def cgs(A, b, x0=None, *, rtol=1e-5, atol=0., maxiter=None, M=None,
        callback=None):
    """Solve ``A x = b`` with CGS, as ``scipy.sparse.linalg.cgs``.

    Parameters
    ----------
    A : ndarray, sparse matrix or LinearOperator, shape (n, n)
        The (real) matrix.
    b : ndarray, shape (n,) or (n, 1)
        Right-hand side.
    x0 : ndarray, shape (n,), optional
        Starting guess (default zero).
    rtol, atol : float
        Converged when ``||b - A x|| < max(atol, rtol * ||b||)``.
    maxiter : int, optional
        Iteration limit (default ``10 n``).
    M : ndarray, sparse matrix or LinearOperator, optional
        Preconditioner approximating ``inv(A)``, applied on the right.
    callback : callable, optional
        ``callback(xk)`` after each iteration.

    Returns
    -------
    x : ndarray, shape (n,)
        The solution.
    info : int
        0 converged; ``maxiter`` not converged; -10 or -11 breakdown.

    References
    ----------
    P. Sonneveld, CGS, SIAM J. Sci. Stat. Comput. 10 (1989).
    """
    return _solve(_k.METHOD_CGS, "cgs", A, b, x0, rtol, atol, maxiter, M,
                  callback)


def gmres(A, b, x0=None, *, rtol=1e-5, atol=0., restart=None, maxiter=None,
          M=None, callback=None, callback_type=None):
    """Solve ``A x = b`` with restarted GMRES, as
    ``scipy.sparse.linalg.gmres``.

    Parameters
    ----------
    A : ndarray, sparse matrix or LinearOperator, shape (n, n)
        The (real) matrix.
    b : ndarray, shape (n,) or (n, 1)
        Right-hand side.
    x0 : ndarray, shape (n,), optional
        Starting guess (default zero).
    rtol, atol : float
        Converged when ``||b - A x|| <= max(atol, rtol * ||b||)``.
    restart : int, optional
        Krylov vectors per cycle (default 20, at most n).
    maxiter : int, optional
        Restart cycles (default ``10 n``).
    M : ndarray, sparse matrix or LinearOperator, optional
        Preconditioner approximating ``inv(A)``, applied on the left.
    callback : callable, optional
        Called as SciPy does for ``callback_type``.
    callback_type : {'x', 'pr_norm', 'legacy'}, optional
        'x': ``callback(xk)`` after each cycle; 'pr_norm' and 'legacy':
        ``callback(preconditioned residual / ||b||)`` after each inner
        iteration ('legacy' also stops after ``maxiter`` inner iterations).
        Default 'legacy', with SciPy's ``DeprecationWarning`` when a
        callback is given.

    Returns
    -------
    x : ndarray, shape (n,)
        The solution.
    info : int
        0 converged; ``maxiter`` not converged.

    References
    ----------
    Y. Saad and M. H. Schultz, GMRES, SIAM J. Sci. Stat. Comput. 7 (1986).
    """
    if callback is not None and callback_type is None:
        warnings.warn(
            "scipy.sparse.linalg.gmres called without specifying "
            "`callback_type`. The default value will be changed in a future "
            "release. For compatibility, specify a value for "
            "`callback_type` explicitly, e.g., "
            "``gmres(..., callback_type='pr_norm')``, or to retain the old "
            "behavior ``gmres(..., callback_type='legacy')``",
            category=DeprecationWarning, stacklevel=2)
    if callback_type is None:
        callback_type = "legacy"
    modes = {"x": 1, "pr_norm": 2, "legacy": 3}
    if callback_type not in modes:
        raise ValueError(f"Unknown callback_type: {callback_type!r}")
    mode = 0 if callback is None else modes[callback_type]
    n = _operator(A, "A")[0]
    restart = 20 if restart is None else int(restart)
    if restart < 1:
        raise ValueError(f"restart must be a positive integer, got {restart}")
    restart = min(restart, n)
    return _solve(_k.METHOD_GMRES, "gmres", A, b, x0, rtol, atol, maxiter,
                  M, callback, restart=restart, callback_mode=mode)


def lgmres(A, b, x0=None, *, rtol=1e-5, atol=0., maxiter=1000, M=None,
           callback=None, inner_m=30, outer_k=3, outer_v=None,
           store_outer_Av=True, prepend_outer_v=False):
    """Solve ``A x = b`` with LGMRES, as ``scipy.sparse.linalg.lgmres``.

    Restarted GMRES augmented with the last ``outer_k`` corrections, which
    persist across calls through ``outer_v`` (how ``KrylovJacobian``
    reuses them across Newton steps).

    Parameters
    ----------
    A : ndarray, sparse matrix or LinearOperator, shape (n, n)
        The (real) matrix.
    b : ndarray, shape (n,) or (n, 1)
        Right-hand side (finite).
    x0 : ndarray, shape (n,), optional
        Starting guess (default zero).
    rtol, atol : float
        Converged when ``||b - A x|| <= max(atol, rtol * ||b||)``.
    maxiter : int
        Outer iterations.
    M : ndarray, sparse matrix or LinearOperator, optional
        Preconditioner approximating ``inv(A)``, applied on the left.
    callback : callable, optional
        ``callback(xk)`` at the start of each outer iteration.
    inner_m : int
        Inner GMRES steps per outer iteration.
    outer_k : int
        Augmentation vectors kept.
    outer_v : list of tuples, optional
        ``(v, Av)`` pairs (``Av`` may be None), updated in place.
    store_outer_Av : bool
        Also keep ``A v`` (saves a matvec per vector).
    prepend_outer_v : bool
        Put the augmentation vectors before the Krylov vectors.

    Returns
    -------
    x : ndarray, shape (n,)
        The solution.
    info : int
        0 converged; ``maxiter`` (or the outer iteration where the inner
        problem became non-finite) not converged.

    References
    ----------
    A. H. Baker, E. R. Jessup and T. Manteuffel, SIAM J. Matrix Anal.
    Appl. 26, 962 (2005).
    """
    rtol, atol = _check_tol("lgmres", rtol, atol)
    n, matvec, psolve, b, x, has_x0 = _system(A, b, x0, M, "lgmres")
    _check_finite_rhs(b)
    inner_m = int(inner_m)
    outer_k = int(outer_k)
    if inner_m < 1:
        raise ValueError(f"inner_m must be a positive integer, got {inner_m}")
    if outer_k < 0:
        raise ValueError(f"outer_k must be non-negative, got {outer_k}")
    pairs = [] if outer_v is None else outer_v
    loaded = []
    for pair in pairs:
        v, av = pair
        v = np.ascontiguousarray(v, dtype=np.float64).reshape(n)
        if av is not None:
            av = np.ascontiguousarray(av, dtype=np.float64).reshape(n)
        loaded.append((v, av))
    store = 1 if store_outer_Av else (
        2 if any(av is not None for _, av in loaded) else 0)
    cap = max(outer_k, len(loaded)) + 1
    key = (_k.METHOD_LGMRES, n, inner_m, outer_k, cap, store,
           bool(prepend_outer_v), False, 0)
    iw, rw = _workspace(*key)
    oz = int(iw[_k.I_OZ])
    oav = int(iw[_k.I_OAV])
    for p, (v, av) in enumerate(loaded):
        rw[oz + p * n:oz + (p + 1) * n] = v
        if av is not None:
            rw[oav + p * n:oav + (p + 1) * n] = av
            iw[_k.IW_HEAD + p] = 1
    iw[_k.I_NOUTER] = len(loaded)
    x, info = _execute(iw, rw, A, matvec, psolve, callback,
                       0 if callback is None else 1, b, x, has_x0, rtol,
                       atol, maxiter)
    _raise_for(info, rw)
    if outer_v is not None:
        # leave the list as SciPy's appends and deletions do: the surviving
        # old entries (the same objects), then copies of the new vectors
        nout = int(iw[_k.I_NOUTER])
        keep = nout - min(int(iw[_k.I_NAPPEND]), nout)
        new = _read_outer(iw, rw, n, keep)
        del outer_v[:len(outer_v) - keep]
        outer_v.extend(new)
    _release(key, (iw, rw))
    return x, info


def _read_outer(iw, rw, n, first=0):
    """The workspace's outer vectors from the ``first`` oldest on, as
    SciPy's list of ``(v, Av)`` (copies)."""
    cap = int(iw[_k.I_OUTER_CAP])
    start = int(iw[_k.I_OUTER_START])
    oz = int(iw[_k.I_OZ])
    oav = int(iw[_k.I_OAV])
    out = []
    for i in range(first, int(iw[_k.I_NOUTER])):
        p = (start + i) % cap
        v = rw[oz + p * n:oz + (p + 1) * n].copy()
        av = None
        if iw[_k.IW_HEAD + p]:
            av = rw[oav + p * n:oav + (p + 1) * n].copy()
        out.append((v, av))
    return out


def minres(A, b, x0=None, *, rtol=1e-5, shift=0.0, maxiter=None, M=None,
           callback=None):
    """Solve the symmetric system ``(A - shift I) x = b`` with MINRES, as
    ``scipy.sparse.linalg.minres``.

    For symmetric (possibly indefinite) matrices.

    Parameters
    ----------
    A : ndarray, sparse matrix or LinearOperator, shape (n, n)
        The real symmetric matrix.
    b : ndarray, shape (n,) or (n, 1)
        Right-hand side.
    x0 : ndarray, shape (n,), optional
        Starting guess (default zero).
    rtol : float
        Relative tolerance of MINRES's tests (||r|| / (||A|| ||x||) and
        ||A r|| / (||A|| ||r||)).
    shift : float
        Solve with ``A - shift I``.
    maxiter : int, optional
        Iteration limit (default ``5 n``).
    M : ndarray, sparse matrix or LinearOperator, optional
        Symmetric positive definite preconditioner approximating ``inv(A)``.
    callback : callable, optional
        ``callback(xk)`` after each iteration.

    Returns
    -------
    x : ndarray, shape (n,)
        The solution.
    info : int
        0 converged (or stopped by another MINRES test); ``maxiter`` not
        converged.

    Raises
    ------
    ValueError
        'indefinite preconditioner' or 'non-symmetric matrix', as SciPy.

    References
    ----------
    C. C. Paige and M. A. Saunders, SIAM J. Numer. Anal. 12, 617 (1975).
    """
    # SciPy's minres has no atol
    return _solve(_k.METHOD_MINRES, "minres", A, b, x0, rtol, 0.0, maxiter,
                  M, callback, shift=shift)


_METHODS = {"gmres": _k.METHOD_GMRES, "lgmres": _k.METHOD_LGMRES,
            "bicgstab": _k.METHOD_BICGSTAB, "cgs": _k.METHOD_CGS,
            "minres": _k.METHOD_MINRES}


class KrylovWorkspace:
    """One Krylov method's state for repeated solves of one size.

    For inexact Newton (``KrylovJacobian``): the work arrays are allocated
    once, and lgmres's augmentation vectors stay inside between solves,
    which is what SciPy's persistent ``outer_v`` list does, without copying
    them in and out on each call.

    Parameters
    ----------
    method : {'lgmres', 'gmres', 'bicgstab', 'cgs', 'minres'}
        The solver.
    n : int
        System size.
    restart : int
        gmres's restart length (at most n is used).
    inner_m : int
        lgmres's inner GMRES steps.
    outer_k : int
        lgmres's number of augmentation vectors kept.
    store_outer_Av : bool
        lgmres: also keep ``M A v`` of each vector.
    prepend_outer_v : bool
        lgmres: augmentation vectors before the Krylov vectors.

    Notes
    -----
    The defaults are ``KrylovJacobian``'s lgmres settings
    (``outer_k=10``, ``prepend_outer_v=True``, ``store_outer_Av=False``).
    """

    def __init__(self, method, n, *, restart=20, inner_m=30, outer_k=10,
                 store_outer_Av=False, prepend_outer_v=True):
        if method not in _METHODS:
            raise ValueError(f"method must be one of {sorted(_METHODS)}, "
                             f"got {method!r}")
        n = int(n)
        if n < 1:
            raise ValueError(f"n must be a positive integer, got {n}")
        self.method = method
        self.n = n
        code = _METHODS[method]
        if method == "gmres":
            size = min(int(restart), n)
            if size < 1:
                raise ValueError(f"restart must be a positive integer, got "
                                 f"{restart}")
        elif method == "lgmres":
            size = int(inner_m)
            if size < 1 or int(outer_k) < 0:
                raise ValueError("inner_m must be positive and outer_k "
                                 "non-negative")
        else:
            size = 0
        self.iw, self.rw = _new_workspace(
            (code, n, size, int(outer_k), int(outer_k) + 1,
             1 if store_outer_Av else 0, bool(prepend_outer_v), False, 0))
        if self.rw.nbytes > _SPARE_MAX_BYTES:
            # fastopt._spare_work's array, handed back when this
            # workspace goes (the last of its users: nothing returned to
            # a caller is a view of it)
            weakref.finalize(self, spare_work.give, self.rw.base)

    def solve(self, A, b, x0=None, *, rtol=1e-5, atol=0., maxiter=None,
              M=None, callback=None, shift=0.0):
        """Solve ``A x = b`` as the method's SciPy function does.

        Parameters
        ----------
        A : ndarray, sparse matrix or LinearOperator, shape (n, n)
            The matrix.
        b : ndarray, shape (n,)
            Right-hand side.
        x0 : ndarray, shape (n,), optional
            Starting guess (default zero).
        rtol, atol : float
            Tolerances as in SciPy (minres ignores ``atol``).
        maxiter : int, optional
            SciPy's default for the method if None (gmres ``10 n`` cycles,
            lgmres 1000, bicgstab/cgs ``10 n``, minres ``5 n``).
        M : ndarray, sparse matrix or LinearOperator, optional
            Preconditioner, applied where SciPy applies it.
        callback : callable, optional
            ``callback(xk)`` where SciPy calls it (gmres: after each cycle,
            SciPy's ``callback_type='x'``).
        shift : float
            minres only: solve ``(A - shift I) x = b``.

        Returns
        -------
        x : ndarray, shape (n,)
            The solution.
        info : int
            SciPy's info.
        """
        name = self.method
        rtol, atol = _check_tol(name, rtol, atol)
        n, matvec, psolve, b, x, has_x0 = _system(A, b, x0, M, name)
        if n != self.n:
            raise ValueError(f"this workspace solves systems of size "
                             f"{self.n}, got {n}")
        if name == "lgmres":
            _check_finite_rhs(b)
        if maxiter is None:
            maxiter = _default_maxiter(name, n)
        if name == "minres":
            atol = 0.0
        x, info = _execute(self.iw, self.rw, A, matvec, psolve, callback,
                           0 if callback is None else 1, b, x, has_x0, rtol,
                           atol, maxiter, float(shift))
        _raise_for(info, self.rw)
        return x, info

    @property
    def outer_v(self):
        """lgmres's augmentation vectors, oldest first, as SciPy's list of
        ``(v, Av)`` (copies; ``Av`` None unless ``store_outer_Av``)."""
        return _read_outer(self.iw, self.rw, self.n)

    @property
    def nmatvec(self):
        """Products with ``A`` in the last solve."""
        return int(self.iw[_k.I_NMATVEC])

    @property
    def niter(self):
        """SciPy's iteration count of the last solve (gmres: cycles,
        lgmres: outer iterations)."""
        return int(self.iw[_k.I_ITER])
