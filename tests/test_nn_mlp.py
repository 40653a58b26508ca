"""Tests for byhand.nn.mlp: chapter 10's network, assembled from the book's layers.

Independent references: centered differences of the loss for every parameter of a small copy of
the network (float64), the predictions path against the training path, the update rule written
out step by step, and the initialization's statistics. The chapter's reference cells must be the
package source.
"""

import inspect
import json
from pathlib import Path

import numpy as np
import pytest

from byhand.gradcheck import numerical_gradient
from byhand.nn import mlp
from byhand.nn.cross_entropy import softmax_cross_entropy_forward
from byhand.nn.mlp import init_mlp, loss_and_gradients, mlp_logits, sgd_momentum

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "10_mnist.ipynb"
SMALL = (12, 7, 5, 4)  # the chapter's 784-256-128-10, shrunk: every entry can be checked


def small_batch(seed=0, n=6):
    rng = np.random.default_rng(seed)
    params = [p.astype(np.float64) for p in init_mlp(SMALL, rng)]
    params = [p + 0.1 * rng.standard_normal(p.shape) for p in params]  # biases not all 0
    X = rng.standard_normal((n, SMALL[0]))                  # (n, 12)
    y = rng.integers(0, SMALL[-1], n)                       # (n,)
    return params, X, y


def test_chapter_reference_cells_are_the_package_source():
    cells = [c for c in json.loads(CHAPTER.read_text())["cells"]
             if "reference" in c["metadata"].get("tags", [])]
    shown = "\n\n".join("".join(c["source"]).strip() for c in cells)
    for function in (init_mlp, mlp_logits, loss_and_gradients, sgd_momentum):
        assert inspect.getsource(function).strip() in shown, f"{function.__name__} differs"


def test_exports():
    assert mlp.__all__ == ["init_mlp", "mlp_logits", "loss_and_gradients", "sgd_momentum"]


def test_init_is_he_with_zero_biases():
    params = init_mlp((784, 256, 128, 10), np.random.default_rng(3))
    shapes = [p.shape for p in params]
    assert shapes == [(784, 256), (256,), (256, 128), (128,), (128, 10), (10,)]
    assert all(p.dtype == np.float32 for p in params)
    for W, b, fan_in in zip(params[::2], params[1::2], (784, 256, 128)):
        assert not b.any()
        # std of n = W.size draws is within 5% of sqrt(2 / fan_in) (n >= 1280: 5% is > 2.5 sigma)
        assert abs(W.std() / np.sqrt(2 / fan_in) - 1) < 0.05
        assert abs(W.mean()) < 3 * np.sqrt(2 / fan_in) / np.sqrt(W.size)


def test_every_gradient_entry_matches_centered_differences():
    params, X, y = small_batch()
    _, grads = loss_and_gradients(params, X, y)
    for i, (p, g) in enumerate(zip(params, grads)):
        assert g.shape == p.shape and g.dtype == p.dtype

        def loss_of(value, i=i):
            changed = params[:i] + [value] + params[i + 1:]
            return loss_and_gradients(changed, X, y)[0]

        numerical = numerical_gradient(loss_of, p.copy())
        error = np.linalg.norm(g - numerical) / np.linalg.norm(numerical)
        assert error < 1e-8, f"parameter {i}: relative error {error:.1e}"


def test_a_wrong_gradient_is_caught_by_the_same_comparison():
    # the comparison above can fail: dW1 with the first ReLU's mask forgotten is far off
    params, X, y = small_batch(seed=1)
    W1, b1, W2, b2, W3, b3 = params
    A1 = X @ W1 + b1                                         # (n, 7)
    A2 = np.maximum(A1, 0) @ W2 + b2                         # (n, 5)
    logits = np.maximum(A2, 0) @ W3 + b3                     # (n, 4)
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    dA3 = (P - np.eye(SMALL[-1])[y]) / len(y)
    dA2 = (dA3 @ W3.T) * (A2 > 0)
    masked = X.T @ ((dA2 @ W2.T) * (A1 > 0))                 # right
    unmasked = X.T @ (dA2 @ W2.T)                            # the mask forgotten
    numerical = numerical_gradient(
        lambda W: loss_and_gradients([W] + params[1:], X, y)[0], W1.copy())
    relative = lambda g: np.linalg.norm(g - numerical) / np.linalg.norm(numerical)  # noqa: E731
    assert relative(masked) < 1e-8 < 1e-2 < relative(unmasked)


def test_the_loss_is_the_cross_entropy_of_the_prediction_logits():
    params, X, y = small_batch(seed=2)
    loss, _ = loss_and_gradients(params, X, y)
    expected, _ = softmax_cross_entropy_forward(mlp_logits(params, X), y)
    assert loss == pytest.approx(expected, rel=1e-14)
    assert mlp_logits(params, X).shape == (len(y), SMALL[-1])


def test_sgd_momentum_is_pytorchs_rule_in_place():
    rng = np.random.default_rng(4)
    params = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
    velocities = [np.zeros_like(p) for p in params]
    expected_p = [p.copy() for p in params]
    expected_v = [v.copy() for v in velocities]
    originals = [id(p) for p in params]
    for _ in range(3):
        grads = [rng.standard_normal(p.shape) for p in params]
        for k, g in enumerate(grads):
            expected_v[k] = 0.9 * expected_v[k] + g              # v <- momentum v + g
            expected_p[k] = expected_p[k] - 0.1 * expected_v[k]  # p <- p - lr v
        sgd_momentum(params, grads, velocities, 0.1, 0.9)
    for p, e in zip(params, expected_p):
        np.testing.assert_allclose(p, e, rtol=1e-13, atol=1e-15)
    for v, e in zip(velocities, expected_v):
        np.testing.assert_allclose(v, e, rtol=1e-13, atol=1e-15)
    assert [id(p) for p in params] == originals              # updated in place
