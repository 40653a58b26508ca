"""Tests for byhand.nn.residual: the residual block Z = X + relu(X @ W + b1) + b2.

Independent references: a loop over the examples in column form (V = W.T), explicit Jacobians
built entry by entry with NumPy (small sizes only), SymPy on a symbolic block, and centered
differences. Property tests (hypothesis) cover linearity of the backward pass in dZ, the skip
path's exact contribution, additivity over the batch, and the chapter's stack theorem.
"""

import inspect
import json
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from byhand.gradcheck import gradcheck
from byhand.nn import residual_backward, residual_forward
from byhand.nn import residual as module

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "08_residual.ipynb"


def block(N, D, seed, margin=0.0, dtype=np.float64):
    """Random X, W, b1, b2, dZ whose pre-activations are all at least `margin` from 0."""
    rng = np.random.default_rng(seed)
    while True:
        X, W = rng.normal(size=(N, D)), rng.normal(size=(D, D)) / np.sqrt(D)
        b1, b2, dZ = rng.normal(size=D), rng.normal(size=D), rng.normal(size=(N, D))
        if np.min(np.abs(X @ W + b1)) > margin:
            return tuple(v.astype(dtype) for v in (X, W, b1, b2, dZ))


def by_example(X, W, b1, b2, dZ):
    """Column form, one example at a time, with V = W.T; parameter gradients summed."""
    V = W.T
    Z, dX = np.zeros_like(X), np.zeros_like(X)
    dV, db1, db2 = np.zeros_like(V), np.zeros_like(b1), np.zeros_like(b2)
    for n in range(X.shape[0]):
        x, g = X[n], dZ[n]
        a = V @ x + b1
        m = np.array([1.0 if v > 0 else 0.0 for v in a])
        Z[n] = x + np.array([max(v, 0.0) for v in a]) + b2
        dX[n] = g + V.T @ (m * g)
        dV += np.outer(m * g, x)
        db1 += m * g
        db2 += g
    return Z, dX, dV.T, db1, db2


# --- one source ---------------------------------------------------------------------------------

def test_chapter_reference_cell_is_the_package_source():
    notebook = json.loads(CHAPTER.read_text())
    cells = [c for c in notebook["cells"] if "reference" in c["metadata"].get("tags", [])]
    assert len(cells) == 1, "chapter 8 needs exactly one cell tagged 'reference'"
    shown = "".join(cells[0]["source"]).strip()
    expected = (inspect.getsource(residual_forward) + "\n\n"
                + inspect.getsource(residual_backward)).strip()
    assert shown == expected


def test_exports():
    assert module.__all__ == ["residual_forward", "residual_backward"]


# --- against independent references -------------------------------------------------------------

@pytest.mark.parametrize("N, D", [(1, 1), (1, 5), (5, 3), (4, 4), (32, 16)])
def test_forward_and_backward_match_the_column_form_loop(N, D):
    X, W, b1, b2, dZ = block(N, D, seed=N * 100 + D)
    Z, cache = residual_forward(X, W, b1, b2)
    got = (Z, *residual_backward(dZ, cache))
    for fast, slow in zip(got, by_example(X, W, b1, b2, dZ)):
        np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)


def test_backward_is_the_vjp_of_explicit_jacobians():
    X, W, b1, b2, dZ = block(3, 4, seed=7)
    N, D = X.shape
    mask = (X @ W + b1 > 0).astype(float)
    # d vec(Z) / d vec(X), rows flattened: block diagonal, I + diag(m_n) V per example
    JX = np.zeros((N * D, N * D))
    for n in range(N):
        JX[n * D:(n + 1) * D, n * D:(n + 1) * D] = np.eye(D) + np.diag(mask[n]) @ W.T
    # d Z[n, k] / d W[j, l] = mask[n, k] X[n, j] [k == l]
    JW = np.zeros((N * D, D * D))
    for n in range(N):
        for k in range(D):
            for j in range(D):
                JW[n * D + k, j * D + k] = mask[n, k] * X[n, j]
    Jb1 = np.vstack([np.diag(mask[n]) for n in range(N)])      # (N D, D)
    Jb2 = np.vstack([np.eye(D)] * N)
    dX, dW, db1, db2 = residual_backward(dZ, residual_forward(X, W, b1, b2)[1])
    v = dZ.ravel()
    np.testing.assert_allclose(dX.ravel(), JX.T @ v, rtol=1e-12)
    np.testing.assert_allclose(dW.ravel(), JW.T @ v, rtol=1e-12)
    np.testing.assert_allclose(db1, Jb1.T @ v, rtol=1e-12)
    np.testing.assert_allclose(db2, Jb2.T @ v, rtol=1e-12)


def test_backward_matches_sympy_at_a_point():
    """SymPy differentiates the block itself (ReLU as Max), evaluated at a random point."""
    X0, W0, b10, b20, dZ0 = block(2, 3, seed=11, margin=1e-3)
    X = sp.Matrix(2, 3, sp.symbols("x0:6", real=True))
    W = sp.Matrix(3, 3, sp.symbols("w0:9", real=True))
    b1 = sp.Matrix(1, 3, sp.symbols("c0:3", real=True))
    b2 = sp.Matrix(1, 3, sp.symbols("d0:3", real=True))
    A = X * W + sp.ones(2, 1) * b1
    Z = X + A.applyfunc(lambda t: sp.Max(t, 0)) + sp.ones(2, 1) * b2
    e = sum(sp.Matrix(dZ0).multiply_elementwise(Z))
    point = {**dict(zip(X, X0.ravel())), **dict(zip(W, W0.ravel())),
             **dict(zip(b1, b10)), **dict(zip(b2, b20))}
    grads = residual_backward(dZ0, residual_forward(X0, W0, b10, b20)[1])
    for symbols, grad in zip((X, W, b1, b2), grads):
        exact = np.array([float(sp.diff(e, s).subs(point)) for s in symbols])
        np.testing.assert_allclose(grad.ravel(), exact, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_every_gradient_passes_a_gradient_check(seed):
    X, W, b1, b2, dZ = block(4, 3, seed=seed, margin=1e-3)
    dX, dW, db1, db2 = residual_backward(dZ, residual_forward(X, W, b1, b2)[1])
    gradcheck(lambda X_: residual_forward(X_, W, b1, b2)[0], X.copy(), dX, upstream=dZ)
    gradcheck(lambda W_: residual_forward(X, W_, b1, b2)[0], W.copy(), dW, upstream=dZ)
    gradcheck(lambda b_: residual_forward(X, W, b_, b2)[0], b1.copy(), db1, upstream=dZ)
    gradcheck(lambda b_: residual_forward(X, W, b1, b_)[0], b2.copy(), db2, upstream=dZ)


# --- shapes, dtypes, the cache, errors ----------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtypes_are_kept(dtype):
    X, W, b1, b2, dZ = block(5, 3, seed=3, dtype=dtype)
    Z, cache = residual_forward(X, W, b1, b2)
    grads = residual_backward(dZ, cache)
    assert Z.dtype == dtype and all(g.dtype == dtype for g in grads)
    assert [g.shape for g in grads] == [X.shape, W.shape, b1.shape, b2.shape]
    reference = by_example(*(v.astype(np.float64) for v in (X, W, b1, b2, dZ)))
    for got, want in zip((Z, *grads), reference):
        np.testing.assert_allclose(got, want, rtol=1e-4 if dtype == np.float32 else 1e-12,
                                   atol=1e-5 if dtype == np.float32 else 1e-12)


def test_the_cache_holds_the_input_the_weights_and_a_boolean_mask():
    X, W, b1, b2, _ = block(4, 3, seed=5)
    _, (cX, cW, mask) = residual_forward(X, W, b1, b2)
    assert cX is X and cW is W
    assert mask.dtype == bool and mask.shape == X.shape
    np.testing.assert_array_equal(mask, X @ W + b1 > 0)


def test_inputs_are_not_modified():
    X, W, b1, b2, dZ = block(4, 3, seed=6)
    copies = [v.copy() for v in (X, W, b1, b2, dZ)]
    residual_backward(dZ, residual_forward(X, W, b1, b2)[1])
    for original, copy in zip((X, W, b1, b2, dZ), copies):
        np.testing.assert_array_equal(original, copy)


def test_relu_derivative_at_zero_is_zero():
    X = np.array([[1.0, 0.0], [0.0, 2.0]])
    W = np.eye(2)
    b1 = np.array([-1.0, 0.0])            # A = [[0, 0], [-1, 2]]: two entries exactly 0
    dZ = np.ones((2, 2))
    _, cache = residual_forward(X, W, b1, np.zeros(2))
    A = X @ W + b1
    assert np.any(A == 0)
    dX, dW, db1, db2 = residual_backward(dZ, cache)
    np.testing.assert_array_equal(cache[2], A > 0)
    np.testing.assert_array_equal(db1, (A > 0).sum(axis=0))
    np.testing.assert_array_equal(db2, [2.0, 2.0])


def test_nan_propagates_and_does_not_vanish_in_the_relu():
    X, W, b1, b2, dZ = block(3, 3, seed=8)
    X[1, 0] = np.nan
    Z, _ = residual_forward(X, W, b1, b2)
    assert np.isnan(Z[1]).all() and np.isfinite(Z[[0, 2]]).all()


@pytest.mark.parametrize("X, W, words", [
    (np.zeros((3, 4)), np.zeros((4, 5)), "W must be (4, 4)"),
    (np.zeros((3, 4)), np.zeros((5, 4)), "W must be (4, 4)"),
    (np.zeros(4), np.zeros((4, 4)), "one example per row"),
    (np.zeros((2, 3, 4)), np.zeros((4, 4)), "one example per row"),
])
def test_shape_errors_say_why(X, W, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        residual_forward(X, W, np.zeros(W.shape[1]), np.zeros(W.shape[1]))


# --- properties ---------------------------------------------------------------------------------

sizes = st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**32 - 1))


@settings(max_examples=60, deadline=None)
@given(sizes, st.floats(-3, 3), st.floats(-3, 3))
def test_backward_is_linear_in_the_upstream_gradient(size, alpha, beta):
    N, D, seed = size
    X, W, b1, b2, dZ = block(N, D, seed)
    dZ2 = np.random.default_rng(seed + 1).normal(size=(N, D))
    cache = residual_forward(X, W, b1, b2)[1]
    combined = residual_backward(alpha * dZ + beta * dZ2, cache)
    for c, g1, g2 in zip(combined, residual_backward(dZ, cache), residual_backward(dZ2, cache)):
        np.testing.assert_allclose(c, alpha * g1 + beta * g2, rtol=1e-9, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(sizes)
def test_the_skip_path_contributes_exactly_dY(size):
    N, D, seed = size
    X, W, b1, b2, dZ = block(N, D, seed)
    cache = residual_forward(X, W, b1, b2)[1]
    dX = residual_backward(dZ, cache)[0]
    branch = ((X @ W + b1 > 0) * dZ) @ W.T            # F alone
    np.testing.assert_allclose(dX - dZ, branch, rtol=1e-9, atol=1e-12)
    # a dead branch (every unit off) leaves the identity: dX == dZ exactly, no weight gradient
    dead = residual_forward(X, np.zeros((D, D)), -np.ones(D), b2)
    np.testing.assert_array_equal(dead[0], X + b2)
    dX0, dW0, db10, db20 = residual_backward(dZ, dead[1])
    np.testing.assert_array_equal(dX0, dZ)
    assert not dW0.any() and not db10.any()
    np.testing.assert_allclose(db20, dZ.sum(axis=0))


@settings(max_examples=60, deadline=None)
@given(sizes)
def test_parameter_gradients_add_over_the_batch(size):
    N, D, seed = size
    X, W, b1, b2, dZ = block(N, D, seed)
    whole = residual_backward(dZ, residual_forward(X, W, b1, b2)[1])
    rows = [residual_backward(dZ[n:n + 1], residual_forward(X[n:n + 1], W, b1, b2)[1])
            for n in range(N)]
    np.testing.assert_allclose(whole[0], np.vstack([r[0] for r in rows]), rtol=1e-12)
    for k in (1, 2, 3):
        np.testing.assert_allclose(whole[k], sum(r[k] for r in rows), rtol=1e-9, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 30), st.integers(1, 8), st.floats(0.01, 0.9),
       st.integers(0, 2**32 - 1))
def test_stack_theorem_bounds(L, D, eps, seed):
    """Branch Jacobians of norm <= eps keep the input gradient within (1 +- eps)^L of g."""
    rng = np.random.default_rng(seed)
    X, g = rng.normal(size=(1, D)), rng.normal(size=(1, D))
    assume(np.linalg.norm(g) > 1e-3)
    caches = []
    for _ in range(L):
        W = rng.normal(size=(D, D))
        W *= eps / np.linalg.norm(W, 2)
        X, cache = residual_forward(X, W, rng.normal(size=D), rng.normal(size=D))
        caches.append(cache)
    grad = g
    for cache in reversed(caches):
        grad = residual_backward(grad, cache)[0]
    ratio = np.linalg.norm(grad) / np.linalg.norm(g)
    assert (1 - eps) ** L * (1 - 1e-9) <= ratio <= (1 + eps) ** L * (1 + 1e-9)
