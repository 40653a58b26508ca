"""Chapter 2: log(sum(exp(x))) without overflow or underflow."""

import numpy as np

from .row_buffers import row_buffer

__all__ = ["logsumexp"]


def logsumexp(x, axis=-1, keepdims=False):
    """log(sum(exp(x))) along `axis`, as m + log(sum(exp(x - m))), m = max.

    x         real array; float16/32/64 keep their dtype, integers -> float64
    axis      the axis to reduce (an int); all other axes are batch axes
    keepdims  keep the reduced axis (length 1) so the result broadcasts on x

    Row by row: an entry -inf adds exp(-inf) = 0; a row of only -inf gives
    log(0) = -inf; a row with +inf gives +inf; a row with NaN gives NaN.
    An axis of length 0 raises ValueError.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)                   # integers and bools
    axis = np.lib.array_utils.normalize_axis_index(axis, x.ndim)  # -1 -> last
    if x.shape[axis] == 0:
        raise ValueError(f"logsumexp: axis {axis} of shape {x.shape} "
                         "has length 0: nothing to sum")
    work = np.promote_types(x.dtype, np.float32)   # float16 -> float32 inside
    m = x.max(axis=axis, keepdims=True).astype(work)  # (..., 1, ...)
    m[~np.isfinite(m)] = 0       # -inf, +inf, NaN: use 0 (-inf - -inf is NaN)
    with np.errstate(over="ignore", under="ignore", divide="ignore"), row_buffer(x):
        e = np.subtract(x, m, dtype=work)   # (..., n, ...) every entry <= 0
        np.exp(e, out=e)                    # in [0, 1]; the max gives 1
        s = e.sum(axis=axis, keepdims=keepdims)   # >= 1 if m finite
        lse = np.log(s) + (m if keepdims else np.squeeze(m, axis))
    return lse.astype(x.dtype, copy=False)
