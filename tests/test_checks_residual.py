"""The chapter 8 checks: right answers pass (loops, einsum, other algebra), classic wrong answers
fail with a message naming the problem: a missing skip path, the notes' identity matrix in place
of dZ, a missing mask or one from the wrong array, W for W.T, a column-form dW, bias gradients not
summed over the batch, an all-ones upstream in a gradient check, a step uphill, a missing 1/N, an
update that starts from the wrong parameter, and inputs changed in place."""

import numpy as np
import pytest

from byhand import check
from byhand.check import CheckFailed
from byhand.gradcheck import numerical_gradient
from byhand.nn import residual_backward, residual_forward
from catalogue import catalogue


def relu(A):
    return np.maximum(A, 0)


# ---------------------------------------------------------------- right answers

def forward_loops(X, W, b1, b2):
    N, D = X.shape
    Z = np.zeros_like(X)
    for n in range(N):
        for k in range(D):
            a = sum(X[n, j] * W[j, k] for j in range(D)) + b1[k]
            Z[n, k] = X[n, k] + max(a, 0) + b2[k]
    return Z.astype(X.dtype)


def dx_column_form(dZ, X, W, b1):
    V = W.T
    rows = []
    for x, g in zip(X, dZ):
        m = (V @ x + b1 > 0).astype(float)
        rows.append(g + V.T @ (m * g))
    return np.array(rows)


def dx_einsum(dZ, X, W, b1):
    mask = np.heaviside(X @ W + b1, 0.0)
    return dZ + np.einsum("nk,jk->nj", mask * dZ, W)


def grads_outer_products(dZ, X, W, b1):
    dW, db1, db2 = np.zeros_like(W), np.zeros_like(b1), np.zeros_like(b1)
    for x, g in zip(X, dZ):
        delta = (x @ W + b1 > 0) * g
        dW += np.outer(x, delta)
        db1 += delta
        db2 += g
    return dW, db1, db2


def grads_reference(dZ, X, W, b1):
    _, cache = residual_forward(X, W, b1, np.zeros_like(b1))
    return residual_backward(dZ, cache)[1:]


def numerical_byhand(X, W, b1, b2, dZ):
    fs = [lambda p: residual_forward(p, W, b1, b2)[0], lambda p: residual_forward(X, p, b1, b2)[0],
          lambda p: residual_forward(X, W, p, b2)[0], lambda p: residual_forward(X, W, b1, p)[0]]
    return tuple(numerical_gradient(f, p.copy(), dZ) for f, p in zip(fs, (X, W, b1, b2)))


def numerical_loop(X, W, b1, b2, dZ, h=1e-5, scale=2.0, forward_only=False, ones=False,
                   keep=False):
    """Centered differences (or variations of the classic mistakes, selected by the flags)."""
    params = [X.copy(), W.copy(), b1.copy(), b2.copy()] if not keep else [X, W, b1, b2]
    up = np.ones_like(dZ) if ones else dZ

    def L():
        return np.sum(up * residual_forward(*params)[0])

    grads = []
    for p in params:
        grad = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            saved = p[i]
            p[i] = saved + h
            plus = L()
            p[i] = saved - h if not forward_only else saved
            minus = L()
            if not keep:
                p[i] = saved
            grad[i] = (plus - minus) / (scale * h if not forward_only else h)
        grads.append(grad)
    return tuple(grads)


def sgd_reference(X, T, W, b1, b2, lr):
    Z, cache = residual_forward(X, W, b1, b2)
    _, dW, db1, db2 = residual_backward((Z - T) / len(X), cache)
    return W - lr * dW, b1 - lr * db1, b2 - lr * db2


def sgd_by_hand(X, T, W, b1, b2, lr):  # other algebra: the loss written out, mask as a float
    N = X.shape[0]
    A = X @ W + b1
    dZ = (X + relu(A) + b2 - T) / N
    dA = dZ * (A > 0).astype(float)
    return W - lr * np.einsum("nj,nk->jk", X, dA), b1 - lr * dA.sum(0), b2 - lr * dZ.sum(0)


RIGHT = [
    (check.residual_block_forward, lambda X, W, b1, b2: residual_forward(X, W, b1, b2)[0]),
    (check.residual_block_forward, forward_loops),
    (check.residual_block_forward, lambda X, W, b1, b2: X + np.where(X @ W + b1 > 0,
                                                                      X @ W + b1, 0) + b2),
    (check.residual_dx, lambda dZ, X, W, b1: residual_backward(
        dZ, residual_forward(X, W, b1, np.zeros_like(b1))[1])[0]),
    (check.residual_dx, dx_column_form),
    (check.residual_dx, dx_einsum),
    (check.residual_param_grads, grads_reference),
    (check.residual_param_grads, grads_outer_products),
    (check.residual_numerical_grads, numerical_byhand),
    (check.residual_numerical_grads, numerical_loop),
    (check.residual_sgd_step, sgd_reference),
    (check.residual_sgd_step, sgd_by_hand),
]


# ---------------------------------------------------------------- wrong answers

def dx_with(mask_of, transpose=True, skip=True):
    def candidate(dZ, X, W, b1):
        mask = mask_of(X, W, b1)
        branch = (mask * dZ) @ (W.T if transpose else W)
        return dZ + branch if skip else branch
    return candidate


def dx_plus_identity(dZ, X, W, b1):  # the notes' "+ I_n"
    return ((X @ W + b1 > 0) * dZ) @ W.T + np.eye(W.shape[0])


def grads_with(dW_of=None, db1_of=None, db2_of=None):
    def candidate(dZ, X, W, b1):
        dA = (X @ W + b1 > 0) * dZ
        right = {"dW": X.T @ dA, "db1": dA.sum(axis=0), "db2": dZ.sum(axis=0)}
        return tuple(f(dZ, X, dA) if f else right[k]
                     for k, f in zip(("dW", "db1", "db2"), (dW_of, db1_of, db2_of)))
    return candidate


def sgd_with(sign=1.0, mean=True, b1_from_W=False, swap=False, in_place=False):
    def candidate(X, T, W, b1, b2, lr):
        Z, cache = residual_forward(X, W, b1, b2)
        dZ = (Z - T) / (len(X) if mean else 1)
        _, dW, db1, db2 = residual_backward(dZ, cache)
        if swap:
            db1, db2 = db2, db1
        if in_place:
            W -= lr * dW
            return W, b1 - lr * db1, b2 - lr * db2
        return (W - sign * lr * dW, (W if b1_from_W else b1) - sign * lr * db1,
                b2 - sign * lr * db2)
    return candidate


def scaled(candidate, factor):
    return lambda *args: tuple(factor * g for g in candidate(*args))


WRONG = [
    # residual_block_forward
    (check.residual_block_forward, lambda X, W, b1, b2: relu(X @ W + b1) + b2,
     "the skip path is missing"),
    (check.residual_block_forward, lambda X, W, b1, b2: X + relu(X @ W.T + b1) + b2,
     "you used W.T"),
    (check.residual_block_forward, lambda X, W, b1, b2: X + relu(X @ W + b1 + b2),
     "b2 went inside the ReLU"),
    (check.residual_block_forward, lambda X, W, b1, b2: relu(X + X @ W + b1) + b2,
     "the ReLU was applied to X + X @ W + b1"),
    (check.residual_block_forward, lambda X, W, b1, b2: X + relu(X @ W) + b2, "b1 is missing"),
    (check.residual_block_forward, lambda X, W, b1, b2: residual_forward(X, W, b1, b2),
     "return Z alone"),
    (check.residual_block_forward,
     lambda X, W, b1, b2: residual_forward(*(v.astype(np.float64) for v in (X, W, b1, b2)))[0],
     "wrong dtype"),
    # residual_dx
    (check.residual_dx, dx_with(lambda X, W, b1: X @ W + b1 > 0, skip=False),
     "the skip path is missing"),
    (check.residual_dx, dx_plus_identity, "identity matrix"),
    (check.residual_dx, dx_with(lambda X, W, b1: 1.0), "mask is missing"),
    (check.residual_dx, dx_with(lambda X, W, b1: X @ W + b1 > 0, transpose=False),
     "W where W.T belongs"),
    (check.residual_dx, dx_with(lambda X, W, b1: X > 0), "mask came from X > 0"),
    (check.residual_dx, dx_with(lambda X, W, b1: X @ W > 0), "includes the bias"),
    (check.residual_dx, dx_with(lambda X, W, b1: X + relu(X @ W + b1) > 0),
     "the block's output"),
    (check.residual_dx, lambda dZ, X, W, b1: dZ + (X @ W + b1 > 0) * (dZ @ W.T),
     "mask was applied after W.T"),
    # residual_param_grads
    (check.residual_param_grads, grads_with(dW_of=lambda dZ, X, dA: dA.T @ X), "transposed"),
    (check.residual_param_grads, grads_with(dW_of=lambda dZ, X, dA: X.T @ dZ),
     "dW is missing the ReLU's mask"),
    (check.residual_param_grads, grads_with(db1_of=lambda dZ, X, dA: dA),
     "sum over the batch (axis=0)"),
    (check.residual_param_grads, grads_with(db2_of=lambda dZ, X, dA: dZ.sum(axis=1)),
     "summed over the features"),
    (check.residual_param_grads, grads_with(db1_of=lambda dZ, X, dA: dZ.sum(axis=0)),
     "db1 is missing the mask"),
    (check.residual_param_grads, grads_with(db2_of=lambda dZ, X, dA: dA.sum(axis=0)),
     "db2 has the mask"),
    (check.residual_param_grads, grads_with(db1_of=lambda dZ, X, dA: dA.mean(axis=0)),
     "db1 is divided by N"),
    (check.residual_param_grads, grads_with(dW_of=lambda dZ, X, dA: X.T @ dA / len(X)),
     "dW is divided by N"),
    (check.residual_param_grads, lambda dZ, X, W, b1: list(grads_reference(dZ, X, W, b1)),
     "returned a list"),
    # residual_numerical_grads
    (check.residual_numerical_grads, lambda *a: numerical_loop(*a, ones=True),
     "all-ones upstream"),
    (check.residual_numerical_grads, lambda *a: numerical_loop(*a, scale=1.0),
     "divide by 2h"),
    (check.residual_numerical_grads, lambda *a: numerical_loop(*a, keep=True),
     "changed its input in place"),
    (check.residual_numerical_grads, lambda *a: numerical_loop(*a, h=1e-13),
     "close but not accurate enough"),
    (check.residual_numerical_grads, scaled(numerical_byhand, -1.0), "wrong sign"),
    (check.residual_numerical_grads, lambda *a: numerical_byhand(*a)[:3], "tuple of 3 values"),
    # residual_sgd_step
    (check.residual_sgd_step, sgd_with(sign=-1.0), "moved uphill"),
    (check.residual_sgd_step, sgd_with(mean=False), "times too far"),
    (check.residual_sgd_step, sgd_with(b1_from_W=True), "must start from b1 itself"),
    (check.residual_sgd_step, sgd_with(swap=True), "the other bias's gradient"),
    (check.residual_sgd_step, sgd_with(in_place=True), "changed its input in place"),
]

TASKS = [check.residual_block_forward, check.residual_dx, check.residual_param_grads,
         check.residual_numerical_grads, check.residual_sgd_step]


test_right_answers_pass, test_wrong_answers_are_named = catalogue(RIGHT, WRONG, chapter=8)


def test_every_task_is_catalogued():
    assert {t.__name__ for t in TASKS} == set(check.ch08_residual.__all__)
    for task in TASKS:
        assert sum(t is task for t, _, _ in WRONG) >= 3, task.__name__
        assert sum(t is task for t, _ in RIGHT) >= 2, task.__name__


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.__name__)
def test_nan_results_are_reported_as_nan(task):
    right = next(candidate for t, candidate in RIGHT if t is task)

    def poisoned(*args):
        result = right(*args)
        if isinstance(result, tuple):
            return tuple(np.full_like(r, np.nan) if k == len(result) - 1 else r
                         for k, r in enumerate(result))
        return result * np.nan

    with pytest.raises(CheckFailed, match="NaN"):
        task(poisoned)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.__name__)
def test_a_check_can_fail_on_a_near_miss(task):
    """A right answer nudged in one entry is rejected: the checks compare values, not shapes."""
    right = next(candidate for t, candidate in RIGHT if t is task)

    def nudged(*args):
        result = right(*args)
        first = result[0] if isinstance(result, tuple) else result
        first = first.copy()
        first.flat[0] += 1e-3
        return (first, *result[1:]) if isinstance(result, tuple) else first

    with pytest.raises(CheckFailed, match="wrong value|not accurate enough"):
        task(nudged)
