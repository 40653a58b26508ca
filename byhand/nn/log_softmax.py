"""Chapter 4: log-softmax and its vector-Jacobian product."""

import numpy as np

from .row_buffers import row_buffer

__all__ = ["log_softmax", "log_softmax_backward"]


def log_softmax(x, axis=-1):
    """log(softmax(x)) along `axis`, as (x - m) - log(sum(exp(x - m))), m = max.

    x     real array; float16/32/64 keep their dtype, integers -> float64
    axis  the axis of the classes (an int); all other axes are batch axes

    Both terms are <= 0, so the final subtraction never cancels. Row by row:
    an entry -inf gives -inf (probability 0); a row whose max is not finite
    (only -inf: no distribution; a +inf; a NaN) gives NaN in every entry.
    An axis of length 0 raises ValueError.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)                   # integers and bools
    axis = np.lib.array_utils.normalize_axis_index(axis, x.ndim)  # -1 -> last
    if x.shape[axis] == 0:
        raise ValueError(f"log_softmax: axis {axis} of shape {x.shape} "
                         "has length 0: no classes")
    work = np.promote_types(x.dtype, np.float32)   # float16 -> float32 inside
    m = x.max(axis=axis, keepdims=True)            # (..., 1, ...)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"), row_buffer(x):
        out = np.subtract(x, m, dtype=work)        # (..., n, ...) all <= 0
        s = np.exp(out).sum(axis=axis, keepdims=True)  # in [1, n]
        out -= np.log(s, out=s)                    # in place: no 3rd array
        # float16 rounds once here; below -65504 that gives -inf, silently
        return out.astype(x.dtype, copy=False)


def log_softmax_backward(dout, logp, axis=-1):
    """The VJP of log_softmax: dout - exp(logp) * sum(dout, axis).

    dout  upstream gradient dL/d(logp), the shape of logp
    logp  the cache: the forward output log_softmax(x, axis) itself, all
          that is needed (exp(logp) is softmax(x))

    Returns dL/dx, the shape of x. Row by row this is J^T v with Jacobian
    J = I - 1 s^T, built without J; each row of the result sums to 0.
    """
    dout, logp = np.asarray(dout), np.asarray(logp)
    if dout.shape != logp.shape:
        raise ValueError(f"log_softmax_backward: dout has shape {dout.shape} "
                         f"but logp has shape {logp.shape}; they must match")
    work = np.result_type(dout, logp)
    if not np.issubdtype(work, np.floating):
        work = np.dtype(np.float64)                # integers and bools
    total = np.sum(dout, axis=axis, keepdims=True, dtype=work)  # (..., 1, ...)
    dx = np.exp(logp, dtype=work)                  # (..., n, ...) softmax s
    dx *= total                                    # s * sum(v)
    np.subtract(dout, dx, out=dx)                  # v - s * sum(v)
    return dx
