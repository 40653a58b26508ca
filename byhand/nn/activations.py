"""Chapter 7: ReLU, tanh and sigmoid, forward and backward."""

import numpy as np

__all__ = ["relu_forward", "relu_backward", "tanh_forward", "tanh_backward",
           "sigmoid", "sigmoid_forward", "sigmoid_backward"]


def relu_forward(x):
    """max(x, 0) entry-wise. Returns (out, cache); the cache is x itself.

    x  array of any shape, e.g. a batch of pre-activations (N, H); dtype kept
    """
    x = np.asarray(x)
    out = np.maximum(x, 0)                 # same shape and dtype; NaN stays NaN
    return out, x


def relu_backward(dout, cache):
    """dL/dx = dout where x > 0, and 0 where x <= 0.

    dout   upstream gradient dL/dout, the shape of x
    cache  x, from relu_forward

    ReLU has no derivative at x == 0 (left slope 0, right slope 1); we use 0
    there, the usual choice. The mask comes from x, not from dout. Masked
    entries are zeros even where dout is inf or NaN: dout * 0, signed like
    dout (-0.0 where dout < 0), if all of dout is finite; +0.0 if any entry
    of dout is inf or NaN (np.where then picks entry by entry).
    """
    x = cache
    # dout times the diagonal Jacobian diag([x > 0]), which is never built
    with np.errstate(invalid="ignore"):    # inf * 0 = NaN: handled below
        dx = dout * (x > 0)                # a multiply: no decision per entry
    if not np.isfinite(dx).all():          # inf or NaN in dout: choose entry by
        dx = np.where(x > 0, dout, 0)      # entry instead (slower, exact zeros)
    return dx


def tanh_forward(x):
    """tanh entry-wise. Returns (out, cache); the cache is the OUTPUT out.

    x  array of any shape; float dtypes kept
    """
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    """dL/dx = dout * (1 - out**2), with out = tanh(x) from tanh_forward.

    dout   upstream gradient dL/dout, the shape of x
    cache  out = tanh(x) (not x: the derivative is a function of the output)
    """
    out = cache
    return dout * (1 - out**2)


def sigmoid(x):
    """1 / (1 + exp(-x)) entry-wise, with no overflow for any x.

    With z = exp(-|x|), which lies in [0, 1] and cannot overflow:
    sigmoid(x) = 1 / (1 + z) for x >= 0 and z / (1 + z) for x < 0 (multiply
    the top and bottom of 1 / (1 + exp(-x)) by exp(x)). Both branches are
    safe, so np.where may evaluate both. float16/32/64 keep their dtype
    (float16 is computed in float32); integers -> float64.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)               # integers and bools
    work = x.astype(np.promote_types(x.dtype, np.float32), copy=False)
    z = np.exp(-np.abs(work))                  # in [0, 1]: never overflows
    out = np.where(work >= 0, 1 / (1 + z), z / (1 + z))
    return out.astype(x.dtype, copy=False)


def sigmoid_forward(x):
    """sigmoid(x) entry-wise. Returns (out, cache); the cache is the OUTPUT out."""
    out = sigmoid(x)
    return out, out


def sigmoid_backward(dout, cache):
    """dL/dx = dout * out * (1 - out), with out = sigmoid(x) from sigmoid_forward.

    dout   upstream gradient dL/dout, the shape of x
    cache  out = sigmoid(x) (not x: the derivative is a function of the output)
    """
    out = cache
    return dout * out * (1 - out)
