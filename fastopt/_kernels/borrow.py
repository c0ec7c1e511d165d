"""Array views without a reference-counted owner, for hot kernel code.

Numba gives every array a meminfo (its owner's reference count): each view
taken of it, and each array handed to a kernel that is not inlined, costs
an atomic increment and decrement of that count.  On small problems those
atomic operations cost more than the arithmetic (about 70% of ``lsq``'s
time at n <= 5, and most of a MINPACK iteration at n = 2).  A *borrowed*
array has a null meminfo, for which NRT's increments and decrements are
no-ops, so views of it and calls with it are free of reference counting.

Borrowed arrays are valid only while the caller keeps the original alive,
that is within one kernel call: never store one or return it to Python.
"""
from numba.core import cgutils, types
from numba.core.errors import TypingError
from numba.extending import intrinsic

__all__ = ["borrowed", "borrowed_vector", "borrowed_matrix",
           "borrowed_int64_vector"]


@intrinsic
def borrowed(typingctx, arr):
    """``arr`` itself (same data, shape and strides) without its owner."""
    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder,
                                                    value=args[0])
        ary.meminfo = cgutils.get_null_value(ary.meminfo.type)
        ary.parent = cgutils.get_null_value(ary.parent.type)
        return ary._getvalue()
    return arr(arr), codegen


def _require_c_vector(base, who):
    if not (isinstance(base, types.Array) and base.layout == "C"
            and base.ndim == 1):
        raise TypingError(f"{who} takes a C-contiguous 1-D array; got {base}")


def _view_codegen(ndim, dtype=None):
    # base[start:start + size] (ndim 1) or its (rows, cols) C reshape
    # (ndim 2), optionally reinterpreted as ``dtype`` of the same itemsize.
    def codegen(context, builder, signature, args):
        base = context.make_array(signature.args[0])(context, builder,
                                                     args[0])
        out = context.make_array(signature.return_type)(context, builder)
        itemsize = base.itemsize
        data = builder.gep(base.data, [args[1]])
        if dtype is not None:
            data = builder.bitcast(
                data, context.get_value_type(dtype).as_pointer())
        if ndim == 1:
            shape = [args[2]]
            strides = [itemsize]
        else:
            shape = [args[2], args[3]]
            strides = [builder.mul(args[3], itemsize), itemsize]
        intp_t = context.get_value_type(types.intp)
        context.populate_array(
            out, data=data, shape=cgutils.pack_array(builder, shape, intp_t),
            strides=cgutils.pack_array(builder, strides, intp_t),
            itemsize=itemsize, meminfo=None, parent=None)
        return out._getvalue()
    return codegen


@intrinsic
def borrowed_vector(typingctx, base, start, size):
    """``base[start:start + size]`` of a C vector, borrowed (no bounds
    check: the caller guarantees the range)."""
    _require_c_vector(base, "borrowed_vector")
    ret = types.Array(base.dtype, 1, "C")
    return ret(base, types.intp, types.intp), _view_codegen(1)


@intrinsic
def borrowed_matrix(typingctx, base, start, rows, cols):
    """``base[start:start + rows * cols].reshape(rows, cols)`` of a C
    vector, borrowed (and without reshape's run-time helper)."""
    _require_c_vector(base, "borrowed_matrix")
    ret = types.Array(base.dtype, 2, "C")
    return (ret(base, types.intp, types.intp, types.intp),
            _view_codegen(2))


@intrinsic
def borrowed_int64_vector(typingctx, base, start, size):
    """``base[start:start + size].view(np.int64)`` of a C float64 vector,
    borrowed: one float64 array can then carry a solver's integer state
    too, and a Python driver converts one array per call instead of two."""
    _require_c_vector(base, "borrowed_int64_vector")
    if base.dtype != types.float64:
        raise TypingError("borrowed_int64_vector takes a float64 array; got "
                          f"{base}")
    ret = types.Array(types.int64, 1, "C")
    return (ret(base, types.intp, types.intp),
            _view_codegen(1, types.int64))
