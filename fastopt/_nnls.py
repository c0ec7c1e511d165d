"""``nnls``: non-negative least squares, SciPy's signature and messages.

The thin Python layer over :func:`fastopt._kernels.nnls.nnls` (Lawson and
Hanson's active-set algorithm, the same algorithm as SciPy's and as the
LDP step of SLSQP).
"""
import operator
import warnings

import numpy as np

from ._kernels import nnls as _K

__all__ = ["nnls"]

# SciPy's ``_deprecate_positional_args(version='1.18.0',
# deprecated_args={'atol'})`` messages, reproduced word for word.
_POSITIONAL_MESSAGE = (
    "You are passing as positional arguments: {names}. Please change your "
    "invocation to use keyword arguments. From SciPy 1.18.0, passing these "
    "as positional arguments will result in an error.")
_ATOL_MESSAGE = (
    "Arguments {'atol'} are deprecated, whether passed by position or "
    "keyword. They will be removed in SciPy 1.18.0. ")

_NOVALUE = object()
_FLOAT64 = np.dtype(np.float64)
_MAXITER = 2 ** 62


def nnls(A, b, *args, maxiter=None, atol=_NOVALUE):
    """Solve ``argmin_x || Ax - b ||_2`` for ``x >= 0``.

    Non-negative least squares: a convex problem that arises when ``x``
    models quantities that can only be non-negative (weights of
    ingredients, concentrations, intensities).  Use it when the only
    constraints are ``x >= 0``; for general bounds see
    :func:`scipy.optimize.lsq_linear`.

    Parameters
    ----------
    A : (m, n) array_like
        Coefficient matrix.
    b : (m,) array_like
        Right-hand side (shape ``(m, 1)`` is accepted and raveled).
    maxiter : int, optional
        Maximum number of iterations.  ``None`` or 0 means ``3 * n``.
    atol : float, optional
        .. deprecated:: 1.18.0
            Ignored, as in SciPy (which deprecates it and will remove it in
            SciPy 1.18.0); passing it in any form gives a
            ``DeprecationWarning``.

    Returns
    -------
    x : ndarray, shape (n,)
        The solution, float64.
    rnorm : float
        The residual norm ``|| Ax - b ||_2``.

    Raises
    ------
    ValueError
        ``A`` or ``b`` contains NaN or inf, has the wrong number of
        dimensions, or their first dimensions differ.
    RuntimeError
        The iteration limit was reached.

    See Also
    --------
    scipy.optimize.nnls : the reference implementation.
    scipy.optimize.lsq_linear : linear least squares with bounds.

    Notes
    -----
    Lawson and Hanson's active-set algorithm [1]_, chapter 23: variables
    enter the passive (free) set in order of their largest positive dual
    value ``w = A'(b - Ax)``; a variable is accepted only if its column is
    numerically independent of the passive set (Householder pivot larger
    than ``100 * spacing`` of the norm of the column's part in the passive
    rows) and its trial coefficient is positive; variables that would turn
    negative leave the set through an interpolation step, and Givens
    rotations restore the triangular factor.  The iteration counter is
    incremented on each inner (feasibility) step and reaching ``maxiter``
    stops, exactly as in SciPy, so ``maxiter=1`` always raises.

    Differences from SciPy 1.17:

    * An empty problem (``m == 0`` or ``n == 0``) returns ``x = zeros(n)``
      and ``rnorm = ||b||`` (SciPy returns uninitialised memory for
      ``m == 0`` and crashes the interpreter for ``n == 0``).
    * A scalar ``b`` raises a ``ValueError`` naming ``b`` (SciPy raises an
      ``IndexError`` from inside its shape check).
    * More than four positional arguments raise a ``TypeError`` (SciPy
      silently ignores the extra ones).

    ``maxiter`` passed positionally gives SciPy's ``DeprecationWarning``
    about positional arguments.

    References
    ----------
    .. [1] C. L. Lawson and R. J. Hanson, "Solving Least Squares
       Problems", SIAM, 1995, https://doi.org/10.1137/1.9781611971217.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt import nnls
    >>> A = np.array([[1, 0], [1, 0], [0, 1]])
    >>> b = np.array([2, 1, 1])
    >>> x, rnorm = nnls(A, b)
    >>> x, round(rnorm, 12)
    (array([1.5, 1. ]), 0.707106781187)

    >>> nnls(A, np.array([-1, -1, -1]))
    (array([0., 0.]), 1.7320508075688772)
    """
    if args:
        # SciPy's positional-argument deprecation: maxiter and atol may
        # still be given by position, with a warning.
        if len(args) > 2:
            raise TypeError("nnls() takes from 2 to 4 positional arguments "
                            f"but {2 + len(args)} were given")
        warnings.warn(_POSITIONAL_MESSAGE.format(names="maxiter"),
                      DeprecationWarning, stacklevel=2)
        maxiter = args[0]
        if len(args) == 2:
            atol = args[1]
    if atol is not _NOVALUE:
        warnings.warn(_ATOL_MESSAGE, DeprecationWarning, stacklevel=2)

    if (type(A) is np.ndarray and type(b) is np.ndarray
            and A.dtype == _FLOAT64 and b.dtype == _FLOAT64
            and A.ndim == 2 and b.ndim == 1 and A.flags.c_contiguous
            and b.flags.c_contiguous and A.flags.writeable
            and b.flags.writeable and A.shape[0] == b.shape[0]
            and (maxiter is None or type(maxiter) is int)):
        # Fast path for inputs that need no conversion: the finiteness
        # check runs inside the kernel (SciPy's message if it fails).
        n = A.shape[1]
        if not maxiter:
            maxiter = 3 * n
        x, rnorm, info = _K.nnls_solve(A, b, min(maxiter, _MAXITER))
        if info == -1:
            raise ValueError("array must not contain infs or NaNs")
    else:
        x, rnorm, info = _converted(A, b, maxiter)
    if info == 3:
        raise RuntimeError("Maximum number of iterations reached.")
    return x, float(rnorm)


def _converted(A, b, maxiter):
    # SciPy's conversions and checks, in SciPy's order.
    A = np.asarray_chkfinite(A, dtype=np.float64, order="C")
    b = np.asarray_chkfinite(b, dtype=np.float64)

    if len(A.shape) != 2:
        raise ValueError("Expected a 2D array, but the shape of A is "
                         f"{A.shape}")
    if b.ndim == 0:
        raise ValueError("Expected a 1D array,(or 2D with one column), but "
                         "`b` is a scalar (shape ())")
    # SciPy's message, including its stray commas.
    if (b.ndim > 2) or ((b.ndim == 2) and (b.shape[1] != 1)):
        raise ValueError("Expected a 1D array,(or 2D with one column), but "
                         f"the, shape of b is {b.shape}")
    b = np.ascontiguousarray(b.ravel())

    m, n = A.shape
    if m != b.shape[0]:
        raise ValueError(
            "Incompatible dimensions. The first dimension of "
            f"A is {m}, while the shape of b is {(b.shape[0], )}")

    if not maxiter:
        maxiter = 3 * n
    # The kernel counts in int64; any larger limit is never reached.
    maxiter = min(operator.index(maxiter), _MAXITER)
    # One specialisation of the kernel: writeable C-contiguous arrays
    # (a read-only input would be a new numba type, compiled on the spot).
    if not A.flags.writeable:
        A = A.copy()
    if not b.flags.writeable:
        b = b.copy()
    return _K.nnls_solve(A, b, maxiter)
