"""Tests for byhand.nn.linear: A = X W + b and its backward pass (dX, dW, db).

Independent references: Python loops over the index formulas, explicit Jacobians (Kronecker
products and finite-difference Jacobians) multiplied by the flattened upstream gradient, SymPy
derivatives of a small symbolic layer, centered-difference gradient checks, and properties
(linearity in dA, additivity over the batch) tested with hypothesis.
"""

import inspect
import json
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import byhand.nn
from byhand.gradcheck import gradcheck, numerical_gradient
from byhand.nn import linear
from byhand.nn.linear import linear_backward, linear_forward

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "06_linear.ipynb"


def layer(N, D, H, seed=0, dtype=np.float64):
    r = np.random.default_rng([seed, N, D, H])
    return tuple(r.normal(size=s).astype(dtype) for s in ((N, D), (D, H), (H,), (N, H)))


sizes = st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(1, 6))


# --- one source: the chapter shows exactly these functions -----------------------------------

def test_chapter_reference_cell_is_the_package_source():
    notebook = json.loads(CHAPTER.read_text())
    cells = [c for c in notebook["cells"] if "reference" in c["metadata"].get("tags", [])]
    assert len(cells) == 1, "chapter 6 needs exactly one cell tagged 'reference'"
    shown = "".join(cells[0]["source"]).strip()
    source = (inspect.getsource(linear_forward).rstrip() + "\n\n\n"
              + inspect.getsource(linear_backward).rstrip())
    assert shown == source


def test_exported():
    assert linear.__all__ == ["linear_forward", "linear_backward"]
    assert byhand.nn.linear_forward is linear_forward
    assert byhand.nn.linear_backward is linear_backward


# --- forward ----------------------------------------------------------------------------------

def forward_loops(X, W, b):
    N, D = X.shape
    H = W.shape[1]
    return np.array([[sum(X[i, k] * W[k, j] for k in range(D)) + b[j] for j in range(H)]
                     for i in range(N)])


@settings(max_examples=40, deadline=None)
@given(sizes, st.integers(0, 10**6))
def test_forward_equals_the_index_formula(shape, seed):
    X, W, b, _ = layer(*shape, seed)
    A, cache = linear_forward(X, W, b)
    np.testing.assert_allclose(A, forward_loops(X, W, b), rtol=1e-12, atol=1e-12)
    assert cache[0] is X and cache[1] is W


def test_bias_is_added_to_every_row():
    X, W, b, _ = layer(5, 3, 4)
    A, _ = linear_forward(np.zeros_like(X), W, b)
    np.testing.assert_array_equal(A, np.tile(b, (5, 1)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    X, W, b, dA = layer(5, 3, 4, dtype=dtype)
    A, cache = linear_forward(X, W, b)
    assert A.dtype == dtype
    assert all(g.dtype == dtype for g in linear_backward(dA, cache))


def test_shapes_are_checked_with_a_message():
    X, W, b, dA = layer(5, 3, 4)
    with pytest.raises(ValueError, match="needs a transpose"):
        linear_forward(X, W.T, b)                       # W stored the math way
    with pytest.raises(ValueError, match="expected X"):
        linear_forward(X[0], W, b)                      # a single example, not a batch
    with pytest.raises(ValueError, match="does not fit"):
        linear_forward(X, W, b[:3])
    _, cache = linear_forward(X, W, b)
    with pytest.raises(ValueError, match="dA has shape"):
        linear_backward(dA.T, cache)                    # the notes' d_out = (dE/dA)^T


def test_inputs_are_not_changed():
    X, W, b, dA = layer(5, 3, 4)
    copies = [a.copy() for a in (X, W, b, dA)]
    _, cache = linear_forward(X, W, b)
    linear_backward(dA, cache)
    for original, copy in zip((X, W, b, dA), copies):
        np.testing.assert_array_equal(original, copy)


# --- backward against independent references -------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(sizes, st.integers(0, 10**6))
def test_backward_equals_the_index_formulas(shape, seed):
    X, W, b, dA = layer(*shape, seed)
    N, D = X.shape
    H = W.shape[1]
    dX, dW, db = linear_backward(dA, linear_forward(X, W, b)[1])
    for k in range(N):
        for l in range(D):
            assert np.isclose(dX[k, l], sum(dA[k, j] * W[l, j] for j in range(H)))
    for k in range(D):
        for l in range(H):
            assert np.isclose(dW[k, l], sum(X[i, k] * dA[i, l] for i in range(N)))
    np.testing.assert_allclose(db, [sum(dA[i, l] for i in range(N)) for l in range(H)])


def test_backward_is_the_vjp_of_the_kronecker_jacobians():
    N, D, H = 3, 2, 4
    X, W, b, dA = layer(N, D, H)
    dX, dW, db = linear_backward(dA, linear_forward(X, W, b)[1])
    J_X = np.kron(np.eye(N), W.T)                       # (N H, N D)
    J_W = np.kron(X, np.eye(H))                         # (N H, D H)
    J_b = np.kron(np.ones((N, 1)), np.eye(H))           # (N H, H)
    for J, x, analytic, f in [
        (J_X, X, dX, lambda X_: linear_forward(X_, W, b)[0]),
        (J_W, W, dW, lambda W_: linear_forward(X, W_, b)[0]),
        (J_b, b, db, lambda b_: linear_forward(X, W, b_)[0]),
    ]:
        numerical = np.column_stack([                   # row r: d vec(A)_r / d x
            numerical_gradient(lambda x_: f(x_).ravel()[r], x.copy()).ravel()
            for r in range(N * H)]).T
        np.testing.assert_allclose(numerical, J, atol=1e-8)
        np.testing.assert_allclose(dA.ravel() @ J, analytic.ravel(), atol=1e-12)


def test_backward_against_sympy():
    N, D, H = 2, 3, 2
    Xs = sp.Matrix(N, D, lambda i, j: sp.Symbol(f"x{i}{j}"))
    Ws = sp.Matrix(D, H, lambda i, j: sp.Symbol(f"w{i}{j}"))
    bs = sp.Matrix(1, H, lambda i, j: sp.Symbol(f"b{j}"))
    A = Xs * Ws + sp.ones(N, 1) * bs
    E = sum(sp.tanh(a) for a in A)                      # a nonlinear scalar loss
    X, W, b, _ = layer(N, D, H)
    values = {**{Xs[i]: X.ravel()[i] for i in range(N * D)},
              **{Ws[i]: W.ravel()[i] for i in range(D * H)},
              **{bs[i]: b[i] for i in range(H)}}
    A_num, cache = linear_forward(X, W, b)
    dA = 1 - np.tanh(A_num) ** 2                        # dE/dA for E = sum(tanh(A))
    dX, dW, db = linear_backward(dA, cache)
    for symbols, grad in ((Xs, dX), (Ws, dW), (bs, db[None, :])):
        exact = np.array(symbols.applyfunc(lambda s: sp.diff(E, s)).subs(values), dtype=float)
        np.testing.assert_allclose(grad, exact, rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(sizes, st.integers(0, 10**6))
def test_numerical_gradients_agree(shape, seed):
    X, W, b, dA = layer(*shape, seed)
    dX, dW, db = linear_backward(dA, linear_forward(X, W, b)[1])
    # entries near 0 can have a large *relative* round-off error, so compare absolutely here;
    # gradcheck itself (relative error) runs on fixed layers in test_backward_passes_gradcheck
    for f, x, analytic in ((lambda X_: linear_forward(X_, W, b)[0], X, dX),
                           (lambda W_: linear_forward(X, W_, b)[0], W, dW),
                           (lambda b_: linear_forward(X, W, b_)[0], b, db)):
        numerical = numerical_gradient(f, x.copy(), upstream=dA)
        np.testing.assert_allclose(numerical, analytic, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("shape", [(5, 3, 4), (4, 4, 4), (1, 3, 4), (7, 2, 1)])
def test_backward_passes_gradcheck(shape):
    X, W, b, dA = layer(*shape, seed=3)
    dX, dW, db = linear_backward(dA, linear_forward(X, W, b)[1])
    gradcheck(lambda X_: linear_forward(X_, W, b)[0], X.copy(), dX, upstream=dA)
    gradcheck(lambda W_: linear_forward(X, W_, b)[0], W.copy(), dW, upstream=dA)
    gradcheck(lambda b_: linear_forward(X, W, b_)[0], b.copy(), db, upstream=dA)


# --- properties --------------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(sizes, st.integers(0, 10**6), st.floats(-3, 3), st.floats(-3, 3))
def test_backward_is_linear_in_the_upstream_gradient(shape, seed, s, t):
    X, W, b, dA = layer(*shape, seed)
    dA2 = np.random.default_rng(seed + 1).normal(size=dA.shape)
    cache = linear_forward(X, W, b)[1]
    combined = linear_backward(s * dA + t * dA2, cache)
    for g, g1, g2 in zip(combined, linear_backward(dA, cache), linear_backward(dA2, cache)):
        np.testing.assert_allclose(g, s * g1 + t * g2, atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(sizes, st.integers(1, 5), st.integers(0, 10**6))
def test_parameter_gradients_add_over_the_batch(shape, extra, seed):
    """dW and db of a batch are the sums over its parts; dX is the parts stacked."""
    X1, W, b, dA1 = layer(*shape, seed)
    X2, _, _, dA2 = layer(extra, shape[1], shape[2], seed + 1)
    whole = linear_backward(np.vstack([dA1, dA2]), (np.vstack([X1, X2]), W))
    part1, part2 = linear_backward(dA1, (X1, W)), linear_backward(dA2, (X2, W))
    np.testing.assert_allclose(whole[0], np.vstack([part1[0], part2[0]]), atol=1e-12)
    np.testing.assert_allclose(whole[1], part1[1] + part2[1], atol=1e-12)
    np.testing.assert_allclose(whole[2], part1[2] + part2[2], atol=1e-12)


def test_math_convention_gives_the_transposed_weight_gradient():
    """Chapter 1: Y = X W_mathᵀ, dW_math = dYᵀ X; here W = W_mathᵀ and dW = Xᵀ dA."""
    X, W, b, dA = layer(5, 3, 4)
    W_math = W.T
    np.testing.assert_allclose(X @ W_math.T + b, linear_forward(X, W, b)[0])
    dX, dW, _ = linear_backward(dA, (X, W))
    np.testing.assert_allclose(dW, (dA.T @ X).T)
    np.testing.assert_allclose(dX, dA @ W_math)
