"""The chapter 6 checks: right answers pass, classic wrong answers fail with a message naming the
problem (transposes, the wrong axis for db, a missing sum over the batch, shapes, a mean where a
sum is meant), including every mistake of the source notes that a task touches."""

import numpy as np
import pytest

from byhand import check
from byhand.check import CheckFailed
from byhand.nn import linear_backward, linear_forward
from catalogue import catalogue


# ---------------------------------------------------------------- right answers

def forward_loops(X, W, b):
    N, D = X.shape
    H = W.shape[1]
    A = np.zeros((N, H), dtype=np.result_type(X, W, b))
    for i in range(N):
        for j in range(H):
            A[i, j] = sum(X[i, k] * W[k, j] for k in range(D)) + b[j]
    return A


def dX_loops(dA, W):
    N, H = dA.shape
    D = W.shape[0]
    dX = np.zeros((N, D), dtype=dA.dtype)
    for k in range(N):
        for l in range(D):
            dX[k, l] = sum(dA[k, j] * W[l, j] for j in range(H))
    return dX


def dW_outer_products(X, dA):
    dW = np.zeros((X.shape[1], dA.shape[1]), dtype=X.dtype)
    for i in range(X.shape[0]):
        dW += np.outer(X[i], dA[i])
    return dW


def db_loop(dA):
    db = np.zeros(dA.shape[1], dtype=dA.dtype)
    for row in dA:
        db += row
    return db


def backward_pieces(dA, cache):
    X, W = cache
    return dX_loops(dA, W), dW_outer_products(X, dA), db_loop(dA)


def jacobian_by_entries(X, H):
    N, D = X.shape
    J = np.zeros((N * H, D * H))
    for i in range(N):
        for j in range(H):
            for k in range(D):
                J[i * H + j, k * H + j] = X[i, k]    # dA_ij / dW_kj = X_ik
    return J


def jacobian_numerical(X, H):
    D = X.shape[1]
    W0 = np.zeros((D, H))
    b0 = np.zeros(H)
    J = np.zeros((X.shape[0] * H, D * H))
    for c in range(D * H):
        E = np.zeros(D * H)
        E[c] = 1.0
        J[:, c] = linear_forward(X, W0 + E.reshape(D, H), b0)[0].ravel()  # A is linear in W
    return J


RIGHT = [
    (check.linear_layer_forward, lambda X, W, b: X @ W + b),
    (check.linear_layer_forward, forward_loops),
    (check.linear_layer_forward, lambda X, W, b: np.einsum("nd,dh->nh", X, W) + b),
    (check.linear_layer_forward, lambda X, W, b: linear_forward(X, W, b)[0]),
    (check.linear_grad_X, lambda dA, W: dA @ W.T),
    (check.linear_grad_X, dX_loops),
    (check.linear_grad_X, lambda dA, W: np.einsum("kj,lj->kl", dA, W)),
    (check.linear_grad_X, lambda dA, W: (W @ dA.T).T),
    (check.linear_grad_W, lambda X, dA: X.T @ dA),
    (check.linear_grad_W, dW_outer_products),
    (check.linear_grad_W, lambda X, dA: np.einsum("ik,il->kl", X, dA)),
    (check.linear_grad_W, lambda X, dA: (dA.T @ X).T),
    (check.linear_grad_b, lambda dA: dA.sum(axis=0)),
    (check.linear_grad_b, db_loop),
    (check.linear_grad_b, lambda dA: np.ones(dA.shape[0], dtype=dA.dtype) @ dA),
    (check.linear_grad_b, lambda dA: np.einsum("il->l", dA)),
    (check.linear_layer_backward, linear_backward),
    (check.linear_layer_backward, backward_pieces),
    (check.linear_layer_backward, lambda dA, cache: list(linear_backward(dA, cache))),
    (check.linear_jacobian_W, lambda X, H: np.kron(X, np.eye(H))),
    (check.linear_jacobian_W, jacobian_by_entries),
    (check.linear_jacobian_W, jacobian_numerical),
]


# ---------------------------------------------------------------- wrong answers

def backward_with(dX=None, dW=None, db=None):
    """linear_backward with some of its lines replaced by wrong ones."""
    def backward(dA, cache):
        X, W = cache
        right = linear_backward(dA, cache)
        return tuple(g if line is None else line(dA, X, W)
                     for g, line in zip(right, (dX, dW, db)))
    return backward


def forward_in_place(X, W, b):
    X += 0.5                             # mutates the caller's array
    return linear_forward(X - 0.5, W, b)[0]


def backward_mutates_cache(dA, cache):
    X, W = cache
    grads = linear_backward(dA, cache)
    X *= 0                               # "free" the cached input
    return grads


WRONG = [
    # task 1: forward
    (check.linear_layer_forward, lambda X, W, b: X @ W, "bias is missing"),
    (check.linear_layer_forward, lambda X, W, b: X @ W.T + b, "shapes"),   # fails at D != H
    (check.linear_layer_forward, lambda X, W, b: (X @ W.T + b) if W.shape[0] == W.shape[1]
     else X @ W + b, "transposes"),
    (check.linear_layer_forward, lambda X, W, b: (X @ W + b[:, None]) if X.shape[0] == b.size
     else X @ W + b, "every column"),
    (check.linear_layer_forward, lambda X, W, b: (X @ W + b).T, "transpose of A"),
    (check.linear_layer_forward, lambda X, W, b: (X @ W + b).astype(np.float64), "wrong dtype"),
    (check.linear_layer_forward, forward_in_place, "changed its input in place"),
    (check.linear_layer_forward, lambda X, W, b: (X @ W + b) * np.nan, "NaN"),
    # task 2: dX; the notes' Σ_i d_out[i, j] w_il sums over the batch index
    (check.linear_grad_X, lambda dA, W: dA @ W, "shapes"),
    (check.linear_grad_X, lambda dA, W: dA @ W if W.shape[0] == W.shape[1] else dA @ W.T,
     "the transpose is missing"),
    (check.linear_grad_X, lambda dA, W: dA.T @ W if dA.shape[0] == W.shape[0] == W.shape[1]
     else dA @ W.T, "sums over the batch index i"),
    (check.linear_grad_X, lambda dA, W: W @ dA.T, "transpose of dX"),
    (check.linear_grad_X, lambda dA, W: np.repeat(dA.sum(axis=0, keepdims=True) @ W.T,
                                                 dA.shape[0], axis=0), "summed dA over"),
    (check.linear_grad_X, lambda dA, W: dA @ W.T * np.nan, "NaN"),
    # task 3: dW; the notes' (∂e/∂y)·xᵀ copied into batch-first code is dA Xᵀ
    (check.linear_grad_W, lambda X, dA: dA @ X.T, "shapes"),
    (check.linear_grad_W, lambda X, dA: dA @ X.T if X.shape[1] == dA.shape[1] else X.T @ dA,
     "dA Xᵀ"),
    (check.linear_grad_W, lambda X, dA: dA.T @ X, "transpose"),
    (check.linear_grad_W, lambda X, dA: X.T @ dA / X.shape[0], "1/N"),
    (check.linear_grad_W, lambda X, dA: np.outer(X[0], dA[0]), "missing sum over the batch"),
    (check.linear_grad_W, lambda X, dA: np.outer(X.sum(axis=0), dA.sum(axis=0)),
     "summed X and dA over the batch separately"),
    (check.linear_grad_W, lambda X, dA: X.T @ dA * np.nan, "NaN"),
    # task 4: db; the notes give ∂E/∂b the shape [1, H] and "the bias Jacobian is an identity"
    (check.linear_grad_b, lambda dA: dA, "not summed over the batch"),
    (check.linear_grad_b, lambda dA: dA.sum(axis=1), "wrong axis"),
    (check.linear_grad_b, lambda dA: dA.sum(axis=0, keepdims=True), "shape of what it is taken"),
    (check.linear_grad_b, lambda dA: dA.sum(axis=0)[:, None], "shape of what it is taken"),
    (check.linear_grad_b, lambda dA: dA.mean(axis=0), "not a mean"),
    (check.linear_grad_b, lambda dA: dA[0], "N stacked identities"),
    (check.linear_grad_b, lambda dA: dA.sum(), "both axes"),
    (check.linear_grad_b, lambda dA: dA.sum(axis=0).astype(np.float64), "wrong dtype"),
    (check.linear_grad_b, lambda dA: dA.sum(axis=0) * np.nan, "NaN"),
    # task 5: the whole backward pass
    (check.linear_layer_backward, backward_with(dX=lambda dA, X, W: dA @ W), "shapes"),
    (check.linear_layer_backward, backward_with(
        dX=lambda dA, X, W: dA @ W if W.shape[0] == W.shape[1] else dA @ W.T),
     "the transpose is missing"),
    (check.linear_layer_backward, backward_with(dW=lambda dA, X, W: dA.T @ X), "transpose"),
    (check.linear_layer_backward, backward_with(dW=lambda dA, X, W: X.T @ dA / len(X)), "1/N"),
    (check.linear_layer_backward, backward_with(db=lambda dA, X, W: dA), "not summed"),
    (check.linear_layer_backward, backward_with(db=lambda dA, X, W: dA.sum(axis=1)),
     "wrong axis"),
    (check.linear_layer_backward, backward_with(
        db=lambda dA, X, W: dA.sum(axis=0, keepdims=True)), "shape of what it is taken"),
    (check.linear_layer_backward, backward_with(db=lambda dA, X, W: dA[0]),
     "missing sum over the batch"),
    (check.linear_layer_backward, lambda dA, cache: linear_backward(dA.T, cache)
     if dA.shape[0] == dA.shape[1] else linear_backward(dA, cache), "wrong value"),
    (check.linear_layer_backward, lambda dA, cache: linear_backward(dA, cache)[::-1],
     "wrong order"),
    (check.linear_layer_backward, lambda dA, cache: linear_backward(dA, cache)[:2],
     "returned 2 values"),
    (check.linear_layer_backward, backward_mutates_cache, "changed X or W"),
    (check.linear_layer_backward, lambda dA, cache: tuple(
        g * np.nan for g in linear_backward(dA, cache)), "NaN"),
    # task 6: the Jacobian with respect to W
    (check.linear_jacobian_W, lambda X, H: np.kron(np.eye(H), X), "other order"),
    (check.linear_jacobian_W, lambda X, H: np.kron(X, np.eye(H)).T, "transpose"),
    (check.linear_jacobian_W, lambda X, H: np.kron(X[:1], np.eye(H)), "one example"),
    (check.linear_jacobian_W, lambda X, H: np.kron(X, np.ones((H, H))), "wrong value"),
    (check.linear_jacobian_W, lambda X, H: np.kron(X, np.eye(H)) * np.nan, "NaN"),
]

TASKS = [check.linear_layer_forward, check.linear_grad_X, check.linear_grad_W,
         check.linear_grad_b, check.linear_layer_backward, check.linear_jacobian_W]


test_right_answers_pass, test_wrong_answers_are_named = catalogue(RIGHT, WRONG)


def test_every_task_is_catalogued_with_three_wrong_answers_and_a_nan():
    assert set(TASKS) == {getattr(check, name) for name in check.ch06_linear.__all__}
    for task in TASKS:
        wrong = [words for t, _, words in WRONG if t is task]
        assert len(wrong) >= 4 and "NaN" in wrong, task.__name__
        assert sum(t is task for t, _ in RIGHT) >= 2, task.__name__


def test_the_names_of_the_mistakes_are_there():
    """The brief: checks name transposes, the wrong axis for db, a missing sum, shapes."""
    words = " ".join(w for _, _, w in WRONG)
    for needed in ("transpose", "wrong axis", "missing sum over the batch", "shapes"):
        assert needed in words


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.__name__)
def test_a_check_can_fail(task):
    """Sanity: the zero answer of the right shape is rejected by every task."""
    right = next(candidate for t, candidate in RIGHT if t is task)

    def zeros(*args):
        result = right(*args)
        if isinstance(result, tuple):
            return tuple(np.zeros_like(r) for r in result)
        return np.zeros_like(result)

    with pytest.raises(CheckFailed):
        task(zeros)
