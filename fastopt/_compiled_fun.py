"""Turning a user's ``@njit`` function into addresses a cached kernel calls.

The kernels in :mod:`fastopt._kernels` that run a user function in compiled
code receive it as two integer addresses (see
:mod:`fastopt._kernels.funcptr`).  This module finds those addresses for a
numba dispatcher and the types of its extra arguments, compiling it (or a
small adapter that makes its result a contiguous 1-D vector) only the first
time, and memoises the result for as long as the user's function lives.
"""
import weakref

import numba
import numpy as np
from numba import njit, types
from numba.core.dispatcher import Dispatcher
from numba.core.errors import TypingError
from numba.extending import overload

from ._kernels.funcptr import function_addresses, function_signature

__all__ = ["is_compiled", "compiled_addresses", "compiled_entry"]

FLOAT_VECTOR = types.Array(types.float64, 1, "C")
COMPLEX_VECTOR = types.Array(types.complex128, 1, "C")
FLOAT_MATRIX = types.Array(types.float64, 2, "C")

# dispatcher -> {key: (adapter or None, addresses) | None}
_ADDRESSES = weakref.WeakKeyDictionary()


def is_compiled(fun):
    """Whether ``fun`` is a numba ``@njit`` dispatcher."""
    return isinstance(fun, Dispatcher)


def compiled_entry(dispatcher, signature):
    """The compiled entry point of one of fastopt's kernels for exactly
    ``signature`` (a tuple of numba types), compiled or loaded from numba's
    cache if needed.

    Calling it from Python skips the dispatcher's typing of every argument
    (0.1-0.5 us a call), but it converts its arguments by ``signature``
    without checking them: the caller must pass exactly those types.
    """
    dispatcher.compile(signature)
    return dispatcher.overloads[signature].entry_point


def _as_float_vector(value):
    pass


def _as_complex_vector(value):
    pass


def _vector_impl(value, dtype):
    # Implementation chooser shared by the two overloads below.
    if isinstance(value, types.Array):
        if value.ndim == 1 and value.layout == "C" and value.dtype == dtype:
            return lambda value: value  # already what the kernels take
        if value.ndim == 1:
            return lambda value: np.ascontiguousarray(value).astype(dtype)
        if value.ndim == 0:
            def impl(value):
                out = np.empty(1, dtype)
                out[0] = value[()]
                return out
            return impl

        def too_many_dims(value):
            raise ValueError("`fun` return value has more than 1 dimension.")
        return too_many_dims
    if isinstance(value, (types.Number, types.Boolean)):
        def scalar(value):
            out = np.empty(1, dtype)
            out[0] = value
            return out
        return scalar
    return None


def _as_float_matrix(value):
    pass


@overload(_as_float_matrix)
def _ov_as_float_matrix(value):
    if isinstance(value, types.Array) and value.ndim == 2:
        if value.layout == "C" and value.dtype == types.float64:
            return lambda value: value
        return lambda value: np.ascontiguousarray(value).astype(np.float64)
    if isinstance(value, (types.Number, types.Boolean)):
        def scalar(value):
            out = np.empty((1, 1))
            out[0, 0] = value
            return out
        return scalar
    if isinstance(value, types.Array):
        def not_2d(value):
            raise ValueError("`jac` must return a 2-D array.")
        return not_2d
    return None


def _as_float(value):
    pass


@overload(_as_float)
def _ov_as_float(value):
    # An objective's value: a number, or an array of one number.
    if isinstance(value, (types.Float, types.Integer, types.Boolean)):
        return lambda value: float(value)
    if isinstance(value, types.Array) and isinstance(value.dtype,
                                                     (types.Float,
                                                      types.Integer)):
        def impl(value):
            if value.size != 1:
                raise ValueError("The user-provided objective function must "
                                 "return a scalar value.")
            return float(value.ravel()[0])
        return impl
    return None


@overload(_as_float_vector)
def _ov_as_float_vector(value):
    return _vector_impl(value, types.float64)


@overload(_as_complex_vector)
def _ov_as_complex_vector(value):
    return _vector_impl(value, types.complex128)


def _adapter(fun, x_type, return_type, nargs):
    # fun(x, a0, ..., a{nargs-1}) as adapter(x, a0, ...) -> C-contiguous
    # 1-D vector of the point's dtype (or, for Jacobians, a C-contiguous
    # float64 matrix; for objectives, a float64), whatever scalar or array
    # the user's function returns.  The parameters are spelt out (the
    # source is generated): numba types a star parameter as one tuple, and
    # the kernels call the function with the extra arguments one by one.
    if return_type == types.float64:
        convert = _as_float
    elif return_type == FLOAT_MATRIX:
        convert = _as_float_matrix
    elif x_type == COMPLEX_VECTOR:
        convert = _as_complex_vector
    else:
        convert = _as_float_vector
    params = "".join(f", a{i}" for i in range(nargs))
    namespace = {"fun": fun, "convert": convert}
    exec(f"def adapter(x{params}):\n"
         f"    return convert(fun(x{params}))\n", namespace)
    return njit(namespace["adapter"])


def _resolve(fun, x_type, args_type, return_type):
    # (target, addresses) of the function the kernels call: the user's own
    # compiled fun when it returns exactly return_type (target None: the
    # user holds it), else an adapter converting its result.  An adapter
    # is a compilation of its own (70-90 ms in a process's first call);
    # the user's function has to be compiled either way.
    signature = function_signature(x_type, args_type, return_type)
    own = fun.overloads.get(signature.args)
    if own is None:
        try:
            fun.compile(signature.args)
        except (TypingError, TypeError, RuntimeError):
            # The function cannot take these types (for example a
            # real-only function under the complex step) or this many
            # arguments, or has fixed signatures without this one
            # (RuntimeError: "compilation disabled"): the caller falls back
            # to calling it from Python, where any error reaches the user
            # as Python raises it.
            return None
        own = fun.overloads.get(signature.args)
    returned = own.signature.return_type if own is not None else None
    if returned == return_type:
        return None, function_addresses(fun, signature)
    # The default step depends on the dtype the function returns; the
    # compiled path assumes float64 (complex128 for the complex step).
    # An objective's value is converted to float64 whatever it was.
    if return_type != types.float64:
        dtype = getattr(returned, "dtype", returned)
        if dtype not in (types.float64, types.complex128, types.int64,
                         types.boolean):
            return None
    adapter = _adapter(fun, x_type, return_type, len(signature.args) - 1)
    try:
        adapter.compile(signature.args)
    except TypingError:
        # (a result the conversions do not take, such as a tuple)
        return None
    return adapter, function_addresses(adapter, signature)


_SCALARS = (float, int, bool, complex, np.float64, np.int64, np.float32,
            np.int32, np.complex128, np.bool_)


def _args_key(args):
    # A cheap stand-in for numba.typeof(args) (which costs ~10 us a call):
    # equal keys imply equal numba types.  None when an argument is of a
    # kind not covered here; the caller then uses numba.typeof itself.
    key = []
    for arg in args:
        kind = type(arg)
        if kind is np.ndarray:
            flags = arg.flags
            key.append((arg.dtype, arg.ndim, flags.c_contiguous,
                        flags.f_contiguous, flags.writeable, flags.aligned))
        elif kind in _SCALARS:
            key.append(kind)
        else:
            return None
    return tuple(key)


def compiled_addresses(fun, args, complex_step=False, matrix=False,
                       scalar=False):
    """Addresses of ``fun(x, *args)`` for the compiled difference kernels.

    Parameters
    ----------
    fun : numba dispatcher
        The user's ``@njit`` function.
    args : tuple
        Extra arguments; only their numba types matter here.
    complex_step : bool
        Whether ``x`` is complex128 (the 'cs' method) rather than float64.
    matrix : bool
        Whether ``fun`` returns a matrix (a Jacobian): the adapter then
        returns a C-contiguous float64 2-D array; use
        ``as_function_returning`` in the kernel.
    scalar : bool
        Whether ``fun`` is an objective returning one number (or an array
        of one number): the adapter returns a float64 (signature
        ``float64(float64[::1], args)``).

    Returns
    -------
    (c_addr, jit_addr) or None
        Addresses of ``fun`` compiled for ``(x, *args)`` when it returns
        exactly the type the kernels take, else of a compiled
        ``adapter(x, *args)`` converting its result; kernels call it as
        ``fun(x, *args)`` (see :func:`~fastopt._kernels.funcptr.as_function`).
        None when the function cannot be compiled for these types, or the
        arguments have no numba type; the caller then calls it from Python.
    """
    per_function = _ADDRESSES.get(fun)
    if per_function is None:
        per_function = _ADDRESSES[fun] = {}
    key = _args_key(args)
    if key is None:
        try:
            key = numba.typeof(args)
        except (ValueError, TypeError):
            return None
    key = (complex_step, matrix, scalar, key)
    entry = per_function.get(key, False)
    if entry is False:
        try:
            args_type = numba.typeof(args)
        except (ValueError, TypeError):
            entry = None
        else:
            x_type = COMPLEX_VECTOR if complex_step else FLOAT_VECTOR
            return_type = (types.float64 if scalar
                           else FLOAT_MATRIX if matrix else x_type)
            entry = _resolve(fun, x_type, args_type, return_type)
        per_function[key] = entry
    return None if entry is None else entry[1]
