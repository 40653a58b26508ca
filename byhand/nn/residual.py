"""Chapter 8: the residual block, forward and backward."""

import numpy as np

__all__ = ["residual_forward", "residual_backward"]


def residual_forward(X, W, b1, b2):
    """Z = X + relu(X @ W + b1) + b2: a residual block, one example per row.

    X   (N, D)  inputs
    W   (D, D)  weights; square, because the skip path adds X to the branch
    b1  (D,)    bias inside the ReLU
    b2  (D,)    bias after the ReLU

    Returns Z (N, D) and cache = (X, W, mask) for residual_backward:
    X for dW, W for dX, and the ReLU's mask A > 0 (A = X @ W + b1) for
    everything below the ReLU. ReLU'(0) is taken as 0.
    """
    X, W = np.asarray(X), np.asarray(W)
    if X.ndim != 2:
        raise ValueError(f"residual_forward: X must be (N, D), one example "
                         f"per row; got shape {X.shape}")
    D = X.shape[1]
    if W.shape != (D, D):
        raise ValueError(f"residual_forward: W must be ({D}, {D}) for the skip "
                         f"path to add X of width {D}; got {W.shape}")
    A = X @ W + b1                     # (N, D) pre-activation
    mask = A > 0                       # (N, D) bool, ReLU'(A)
    Z = X + np.maximum(A, 0) + b2      # (N, D) skip path + branch
    return Z, (X, W, mask)


def residual_backward(dZ, cache):
    """Backward pass of residual_forward: the upstream dZ = de/dZ -> gradients.

    dZ     (N, D)  the gradient of a scalar e with respect to Z
    cache  (X, W, mask) from residual_forward

    Returns (dX, dW, db1, db2), each shaped like X, W, b1, b2:
    dX  = dZ + (mask * dZ) @ W.T   two paths merge at X: their gradients add
    dW  = X.T @ (mask * dZ)        a sum over the examples
    db1 = (mask * dZ).sum(axis=0),  db2 = dZ.sum(axis=0)
    """
    X, W, mask = cache
    dA = dZ * mask                     # (N, D) back through the ReLU
    dX = dZ + dA @ W.T                 # (N, D) skip path + branch path
    dW = X.T @ dA                      # (D, D)
    db1 = dA.sum(axis=0)               # (D,)
    db2 = dZ.sum(axis=0)               # (D,)
    return dX, dW, db1, db2
