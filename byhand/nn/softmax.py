"""Chapter 3: softmax and its vector-Jacobian product."""

import numpy as np

from .row_buffers import row_buffer

__all__ = ["softmax", "softmax_backward"]


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis`, as exp(x - m) / sum(exp(x - m)), m = max.

    x     real array; float16/32/64 keep their dtype, integers -> float64
    axis  the axis that sums to 1 (an int); all other axes are batch axes

    Row by row: an entry -inf gets probability exactly 0 (a mask). A row of
    only -inf has no softmax (0 / 0: every entry is masked), and gives NaN,
    as SciPy and PyTorch do; so does a row with +inf or NaN. No warnings.
    An axis of length 0 raises ValueError.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)                   # integers and bools
    axis = np.lib.array_utils.normalize_axis_index(axis, x.ndim)  # -1 -> last
    if x.shape[axis] == 0:
        raise ValueError(f"softmax: axis {axis} of shape {x.shape} "
                         "has length 0: nothing to normalize")
    work = np.promote_types(x.dtype, np.float32)   # float16 -> float32 inside
    m = x.max(axis=axis, keepdims=True)            # (..., 1, ...)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"), row_buffer(x):
        e = np.subtract(x, m, dtype=work)  # the one temporary: entries <= 0
        np.exp(e, out=e)               # in [0, 1]; the max gives exactly 1
        s = e.sum(axis=axis, keepdims=True)        # >= 1 when m is finite
        np.divide(e, s, out=e)         # each row (along axis) sums to 1
        return e.astype(x.dtype, copy=False)  # float16: may round to subnormal


def softmax_backward(dout, s, axis=-1):
    """The VJP of softmax: s * (dout - sum(dout * s)), the sum along `axis`.

    dout  upstream gradient dL/ds, the shape of s
    s     the cache: the forward output softmax(x, axis) itself (not x:
          s is all we need, so softmax has no separate forward function)
    Returns dL/dx, the shape of s, in O(n) per row without the n x n
    Jacobian diag(s) - s s^T. Float dtypes are kept (float16 is computed
    in float32); NaN rows of s (all -inf logits) give NaN rows.
    """
    dout, s = np.asarray(dout), np.asarray(s)
    if dout.shape != s.shape:
        raise ValueError(f"softmax_backward: dout has shape {dout.shape} but "
                         f"s has shape {s.shape}; they must be equal")
    dtype = np.result_type(dout, s)
    if not np.issubdtype(dtype, np.floating):
        dtype = np.dtype(np.float64)               # integers and bools
    work = np.promote_types(dtype, np.float32)     # float16 -> float32 inside
    g = np.multiply(dout, s, dtype=work)           # (..., n, ...)
    inner = np.sum(g, axis=axis, keepdims=True)    # <dout, s>: (..., 1, ...)
    np.subtract(dout, inner, out=g)                # dout - <dout, s>
    np.multiply(g, s, out=g)                       # s * (dout - <dout, s>)
    with np.errstate(under="ignore"):              # float16: tiny entries
        return g.astype(dtype, copy=False)
