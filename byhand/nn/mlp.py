"""Chapter 10: the MNIST network, 784-256-128-10, assembled from the book's layers."""

import numpy as np

from .activations import relu_backward, relu_forward
from .cross_entropy import softmax_cross_entropy_backward, softmax_cross_entropy_forward
from .linear import linear_backward, linear_forward

__all__ = ["init_mlp", "mlp_logits", "loss_and_gradients", "sgd_momentum"]


def init_mlp(sizes, rng, dtype=np.float32):
    """He initialization: [W1, b1, ...]; W (fan_in, fan_out) ~ N(0, 2/fan_in), b = 0."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        W = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)
        params += [W.astype(dtype), np.zeros(fan_out, dtype)]
    return params


def mlp_logits(params, X):
    """X (N, 784) -> logits (N, 10), keeping no caches: for predictions."""
    W1, b1, W2, b2, W3, b3 = params
    Z1 = relu_forward(linear_forward(X, W1, b1)[0])[0]     # (N, 256)
    Z2 = relu_forward(linear_forward(Z1, W2, b2)[0])[0]    # (N, 128)
    return linear_forward(Z2, W3, b3)[0]                   # (N, 10)


def loss_and_gradients(params, X, y):
    """Mean loss on a batch, X (N, 784) and y (N,), and its gradients (like params)."""
    W1, b1, W2, b2, W3, b3 = params
    A1, lin1 = linear_forward(X, W1, b1)         # (N, 256)
    Z1, relu1 = relu_forward(A1)
    A2, lin2 = linear_forward(Z1, W2, b2)        # (N, 128)
    Z2, relu2 = relu_forward(A2)
    A3, lin3 = linear_forward(Z2, W3, b3)        # (N, 10) logits
    loss, ce = softmax_cross_entropy_forward(A3, y)
    dA3 = softmax_cross_entropy_backward(1.0, ce)          # (P - T) / N
    dZ2, dW3, db3 = linear_backward(dA3, lin3)
    dA2 = relu_backward(dZ2, relu2)
    dZ1, dW2, db2 = linear_backward(dA2, lin2)
    dA1 = relu_backward(dZ1, relu1)
    dW1, db1 = X.T @ dA1, dA1.sum(axis=0)       # linear_backward without dX (pixels)
    return loss, [dW1, db1, dW2, db2, dW3, db3]


def sgd_momentum(params, grads, velocities, lr, momentum):
    """PyTorch's SGD with momentum, in place: v <- momentum v + g, p <- p - lr v."""
    for p, g, v in zip(params, grads, velocities):
        v *= momentum
        v += g
        np.multiply(v, lr, out=g)                # g is no longer needed: no temporary
        p -= g
