"""Calling fastopt's kernels from the Python drivers of hybr and lm.

Shared by :mod:`fastopt._hybr` and :mod:`fastopt._lm` without importing
either solver's kernels, so that a process using one method never compiles
(or loads) the other's: the memoised compiled entry points of the compiled
drivers (:func:`call_kernel`), the arrays they take (:func:`kernel_vector`)
and the user-function addresses they call (:func:`last_addresses`).
"""
import sys
import weakref

import numpy as np

from ._compiled_fun import _args_key, compiled_addresses, is_compiled

__all__ = ["kernel_vector", "call_kernel", "kernel_key", "compiled_kind",
           "last_addresses", "UNSHARED", "INT64_MAX"]

_FLOAT64 = np.dtype(np.float64)
_NDARRAY = np.ndarray


def kernel_vector(values):
    """``values`` (``x0``, ``diag``) as the 1-D C-contiguous float64 array
    the kernels take: the array itself when it already is one, writeable
    and aligned (the kernels never write to it), else a copy.  A read-only
    or unaligned input is copied, so that every array the kernels get has
    the one numba type their memoised entry points (see
    :func:`call_kernel`) are compiled for."""
    if (type(values) is _NDARRAY and values.dtype is _FLOAT64
            and values.ndim == 1):
        flags = values.flags
        if flags.c_contiguous and flags.writeable and flags.aligned:
            return values
    return np.array(values, dtype=np.float64).ravel()


def _local_refcount():
    # sys.getrefcount of an array held by one local variable only (it
    # depends on the Python version), for the drivers' test whether the
    # user's function kept a reference to its argument.
    probe = np.empty(0)
    return sys.getrefcount(probe)


UNSHARED = _local_refcount()


# (kernel dispatcher, argument key) -> the compiled entry point of the
# overload those arguments select (see call_kernel).
_KERNEL_ENTRIES = {}
_MAX_KERNEL_ENTRIES = 256
INT64_MIN = -2 ** 63
INT64_MAX = 2 ** 63 - 1


def call_kernel(dispatcher, key, arguments):
    """``dispatcher(*arguments)``, through the memoised compiled entry
    point of the overload that the dispatcher picked the first time.

    Numba's dispatcher resolves the type of every argument on every call
    (0.2-0.5 us for the dozen arguments of the compiled drivers).  The
    caller passes a ``key`` that determines those types, which it must: an
    entry point converts its arguments by its own signature without
    checking them.  The drivers' arrays are always writeable, aligned,
    C-contiguous float64 vectors (see :func:`kernel_vector`), their scalars Python
    ints (within int64, see :func:`kernel_key`), floats and bools in
    fixed positions, so only ``args`` varies, and ``key`` is
    :func:`~fastopt._compiled_fun._args_key` of it (None: no memo, the
    dispatcher every time).  The overload is looked up after a call
    through the dispatcher, never compiled here.
    """
    if key is not None:
        entry = _KERNEL_ENTRIES.get((dispatcher, key))
        if entry is not None:
            return entry(*arguments)
    result = dispatcher(*arguments)
    if key is not None:
        signature = tuple(map(dispatcher.typeof_pyval, arguments))
        overload = dispatcher.overloads.get(signature)
        if overload is not None:
            if len(_KERNEL_ENTRIES) >= _MAX_KERNEL_ENTRIES:
                _KERNEL_ENTRIES.clear()
            _KERNEL_ENTRIES[(dispatcher, key)] = overload.entry_point
    return result


def kernel_key(args, maxfev, memo=True):
    """The ``key`` for :func:`call_kernel`.

    Parameters
    ----------
    args : tuple
        The user function's extra arguments.
    maxfev : int
        The evaluation limit passed to the kernel.
    memo : bool, optional
        False when another integer argument does not fit in int64.

    Returns
    -------
    tuple or None
        ``_args_key(args)`` (no call for the common empty ``args``), or
        None if ``maxfev`` (or, ``memo`` False, another integer argument)
        does not fit in int64: numba would type it otherwise, so the
        dispatcher must be called.
    """
    if not (memo and INT64_MIN <= maxfev <= INT64_MAX):
        return None
    return _args_key(args) if args else ()


_COMPILED_CLASS = {}


def compiled_kind(fun):
    """:func:`~fastopt._compiled_fun.is_compiled`, memoised per class
    (``isinstance`` against numba's dispatcher class costs more)."""
    cls = fun.__class__
    flag = _COMPILED_CLASS.get(cls)
    if flag is None:
        flag = _COMPILED_CLASS[cls] = is_compiled(fun)
    return flag


_LAST = [(None, None, None)]   # [(weakref to fun, matrix flag, addresses)]


def last_addresses(fun, args, matrix=False):
    """:func:`~fastopt._compiled_fun.compiled_addresses` of ``fun``, with a
    one-entry memo for the common call without extra arguments (repeated
    solves of one function).

    The entry is one tuple, replaced at once, so threads never see a mixed
    entry.  Returns None when ``fun`` does not compile for these types.
    """
    if args:
        return compiled_addresses(fun, args, matrix=matrix)
    ref, flag, addr = _LAST[0]
    if ref is not None and flag is matrix and ref() is fun:
        return addr
    addr = compiled_addresses(fun, args, matrix=matrix)
    _LAST[0] = (weakref.ref(fun), matrix, addr)
    return addr
