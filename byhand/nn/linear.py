"""Chapter 6: the linear (fully connected) layer, forward and backward."""

import numpy as np

__all__ = ["linear_forward", "linear_backward"]


def linear_forward(X, W, b):
    """A = X W + b for a batch X with one example per row (batch-first convention).

    X  (N, D)  the batch
    W  (D, H)  the weights, one column per output unit: W = W_math.T
    b  (H,)    the bias, added to every one of the N rows (broadcast)

    Returns A, shape (N, H), and the cache (X, W) that linear_backward needs.
    Weights stored the math way, shape (H, D), are refused unless D == H
    (then nobody can tell: see section 6.1). Dtypes follow NumPy's promotion.
    """
    X, W, b = np.asarray(X), np.asarray(W), np.asarray(b)
    if X.ndim != 2 or W.ndim != 2 or b.ndim != 1:
        raise ValueError(f"linear_forward: expected X (N, D), W (D, H), b (H,); "
                         f"got {X.shape}, {W.shape}, {b.shape}")
    if X.shape[1] != W.shape[0] or W.shape[1] != b.shape[0]:
        raise ValueError(f"linear_forward: X {X.shape} @ W {W.shape} + b {b.shape} "
                         f"does not fit; W must be (D, H) = ({X.shape[1]}, "
                         f"{b.shape[0]}); a W of shape (H, D) needs a transpose")
    A = X @ W + b                  # (N, D) @ (D, H) + (H,) -> (N, H)
    return A, (X, W)


def linear_backward(dA, cache):
    """The gradients of a scalar E through A = X W + b, given dA = dE/dA.

    dA     (N, H)  upstream gradient, dA[i, j] = dE/dA_ij: shaped like A
    cache  (X, W)  from linear_forward (b is not needed)

    Returns (dX, dW, db), each shaped like what it is taken with respect to:
    dX = dA W^T (N, D), dW = X^T dA (D, H), db = dA summed over rows (H,).
    """
    X, W = cache
    dA = np.asarray(dA)
    if dA.shape != (X.shape[0], W.shape[1]):
        raise ValueError(f"linear_backward: dA has shape {dA.shape}, but A = X W + b "
                         f"has shape {(X.shape[0], W.shape[1])}")
    dX = dA @ W.T                  # (N, H) @ (H, D) -> (N, D)
    dW = X.T @ dA                  # (D, N) @ (N, H) -> (D, H): sum over the batch
    db = dA.sum(axis=0)            # (N, H) -> (H,): b reached every row
    return dX, dW, db
