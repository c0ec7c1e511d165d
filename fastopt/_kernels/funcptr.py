"""Calling a user's compiled function through a cached kernel.

A kernel compiled for a numba dispatcher argument is specialised on that
dispatcher: it cannot be cached across processes and is recompiled for
every new user function.  Instead, fastopt's kernels take the two machine
addresses of the user's compiled function (its C wrapper and its
numba-convention entry point) as plain integers, and rebuild a first-class
function value from them inside the kernel with :func:`as_function`.  The
kernel is then typed only on the argument *types*, compiles once, is cached
on disk, and costs one ordinary njit call from Python (no per-call
dispatcher conversion).  Exceptions raised by the user's function travel
through the numba calling convention and reach the caller unchanged.

The Python side obtains the addresses with :func:`function_addresses`, and
must keep the dispatcher alive while the addresses are in use (see
:mod:`fastopt._compiled_fun`).
"""
from numba import types
from numba.core import cgutils
from numba.experimental.function_type import _get_jit_address, _get_wrapper_address
from numba.extending import intrinsic, overload

__all__ = ["as_function", "as_function_returning", "call_with",
           "function_signature", "function_addresses"]


def function_signature(x_type, args_type, return_type=None):
    """Signature ``return_type(x_type, *args_type)`` of ``fun(x, *args)``.

    The extra arguments are the members of one tuple type, so a kernel
    typed on that tuple serves every function with the same argument types,
    and a user's own compiled ``fun(x, *args)`` fits it as it is.

    Parameters
    ----------
    x_type : numba.types.Array
        Type of the point ``x``.
    args_type : numba.types.BaseTuple
        Type of the extra-arguments tuple.
    return_type : numba type, optional
        Type of the result; default ``x_type`` (a residual vector).

    Returns
    -------
    numba.core.typing.Signature
    """
    result = x_type if return_type is None else return_type
    return result(x_type, *args_type.types)


def function_addresses(dispatcher, signature):
    """C-wrapper and jit entry addresses of ``dispatcher`` for ``signature``.

    Compiles the dispatcher for the signature's argument types if needed.

    Returns
    -------
    c_addr, jit_addr : int
    """
    return (_get_wrapper_address(dispatcher, signature),
            _get_jit_address(dispatcher, signature))


def _function_value(fn_type):
    # Code generator building a first-class function value of fn_type from
    # the two addresses passed as the first two arguments.
    def codegen(context, builder, signature, llargs):
        fn = cgutils.create_struct_proxy(fn_type)(context, builder)
        voidptr = context.get_value_type(types.voidptr)
        fn.c_addr = builder.inttoptr(llargs[0], voidptr)
        fn.py_addr = voidptr(None)
        fn.jit_addr = builder.inttoptr(llargs[1], voidptr)
        return fn._getvalue()
    return codegen


@intrinsic
def as_function(typingctx, c_addr, jit_addr, x, args):
    """First-class function ``x_type(x_type, *args_type)`` at the
    addresses.

    Usable only inside compiled code: ``fun = as_function(c, j, x, args)``
    then ``fun(x, *args)``, best spelt ``call_with(fun, x, args)``.
    """
    fn_type = types.FunctionType(function_signature(x, args))
    return fn_type(c_addr, jit_addr, x, args), _function_value(fn_type)


@intrinsic
def as_function_returning(typingctx, c_addr, jit_addr, result, x, args):
    """As :func:`as_function` for a function returning ``result``'s type
    (for example a C-contiguous 2-D Jacobian); ``result`` is only a type
    witness, such as an empty array of that type."""
    fn_type = types.FunctionType(function_signature(x, args, result))
    return (fn_type(c_addr, jit_addr, result, x, args),
            _function_value(fn_type))


def call_with(fun, x, args):
    """``fun(x, *args)`` in compiled code, without the tuple ``(x, *args)``.

    numba builds that tuple for a star call, and its reference to ``x``
    costs an atomic reference-count pair per call: a measurable share of
    an evaluation of a small system.  For up to four extra arguments the
    call is spelt out instead.  ``fun`` is a first-class function (see
    :func:`as_function`) or a dispatcher.
    """
    return fun(x, *args)


@overload(call_with, inline="always")
def _ov_call_with(fun, x, args):
    count = len(args)
    if count == 0:
        return lambda fun, x, args: fun(x)
    if count == 1:
        return lambda fun, x, args: fun(x, args[0])
    if count == 2:
        return lambda fun, x, args: fun(x, args[0], args[1])
    if count == 3:
        return lambda fun, x, args: fun(x, args[0], args[1], args[2])
    if count == 4:
        return lambda fun, x, args: fun(x, args[0], args[1], args[2],
                                        args[3])
    return lambda fun, x, args: fun(x, *args)
