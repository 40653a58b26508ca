"""Checks for the exercises of chapter 8: the residual block."""

import numpy as np

from ..nn.residual import residual_backward, residual_forward
from .core import (CheckFailed, call, dims, expect_array, fresh_rng, passed, seeded, task)

__all__ = ["residual_block_forward", "residual_dx", "residual_param_grads",
           "residual_numerical_grads", "residual_sgd_step"]

HINT_FORWARD = ("reread chapter 8, section 8.4 'From columns to rows: the batch form': "
                "Z = X + relu(X @ W + b1) + b2, the ReLU between the two biases.")
HINT_DX = ("reread chapter 8, section 8.2 'The backward pass: gradients add where paths "
           "merge', then the table in section 8.4: one term per path from X to Z.")
HINT_PARAMS = ("reread chapter 8, section 8.3 'Parameter gradients, and what the forward pass "
               "must keep', then the table in section 8.4: which parameters sit behind the "
               "ReLU's mask, and which bias does not?")
HINT_NUMERIC = ("reread chapter 8, section 8.6 'Gradient checks', and chapter 1, section 1.4 "
                "'Gradient checking': centered differences of L = sum(dZ * Z).")
HINT_SGD = ("reread chapter 8, section 8.7 'Gradient descent on a block': dZ = (Z - T) / N, "
            "then each parameter minus lr times its own gradient.")


def _relu(A):
    return np.maximum(A, 0)


def _block(N, D, seed, dtype=np.float64, margin=0.0):
    """Random X, W, b1, b2, dZ with both signs of pre-activation, |A| > margin everywhere."""
    rng = fresh_rng(seed)
    while True:
        X, W = rng.normal(size=(N, D)), rng.normal(size=(D, D)) / np.sqrt(D)
        b1, b2, dZ = rng.normal(size=D), rng.normal(size=D), rng.normal(size=(N, D))
        A = X @ W + b1
        if np.min(np.abs(A)) > margin and (A > 0).any() and (A < 0).any():
            return tuple(v.astype(dtype) for v in (X, W, b1, b2, dZ))


def _fresh(seed, margin=0.0, high=8):
    """No seed: no case. With one: a block of random sizes, [(name, block)]."""
    if seeded() is None:
        return []
    N, D = dims(fresh_rng([seed, 1]), 5, 4, low=2, high=high)  # _block needs both signs in A
    return [(f"a fresh batch of {N} examples of width {D} (seed {seeded()})",
             _block(N, D, seed, margin=margin))]


def _mistake(got, right, wrong, message, inputs, hint):
    """Raise CheckFailed with `message` if got matches the wrong answer and not the right one."""
    if (isinstance(got, np.ndarray) and got.shape == np.shape(wrong)
            and np.all(np.isfinite(got))
            and np.allclose(got, wrong, rtol=1e-6, atol=1e-9)
            and not np.allclose(right, wrong, rtol=1e-6, atol=1e-9)):
        raise CheckFailed(f"{message}\n  input: {inputs}", hint)


def _unpack(got, names, inputs, hint):
    """A tuple of len(names) arrays, or a CheckFailed saying what came back instead."""
    wanted = f"a tuple ({', '.join(names)}) of NumPy arrays"
    where = f"\n  input: {inputs}"
    if got is None:
        raise CheckFailed(f"your function returned None: did it forget `return`?{where}", hint)
    if isinstance(got, list):
        raise CheckFailed(f"your function returned a list; return {wanted}{where}", hint)
    if not isinstance(got, tuple):
        raise CheckFailed(
            f"your function returned {type(got).__name__}, not an array: return {wanted}{where}",
            hint)
    if len(got) != len(names):
        raise CheckFailed(
            f"your function returned a tuple of {len(got)} values; return {wanted}{where}", hint)
    return got


def _compare_all(got, expected, names, inputs, hint, rtol=1e-10, atol=1e-12):
    for name, g, e in zip(names, got, expected):
        try:
            expect_array(g, e, inputs=inputs, hint=hint, rtol=rtol, atol=atol)
        except CheckFailed as failure:
            raise CheckFailed(f"{name}: {failure.message}", failure.hint) from None


def _inputs(X, W, dZ=None):
    text = f"X of shape {X.shape}, W of shape {W.shape}, dtype {X.dtype}"
    return text + (", dZ random" if dZ is not None else "")


# ---------------------------------------------------------------- task 1: the forward pass

@task(hints=(
    "Reread chapter 8, section 8.4 'From columns to rows: the batch form': the branch is a dense layer, a ReLU "
    "and a second bias, and the skip path adds the input back unchanged.",
    "Compute the pre-activation, X times W plus b1; apply the ReLU (the entry-wise maximum with "
    "0); add b2 after the ReLU; add X last. Only the pre-activation goes through the ReLU.",
))
def residual_block_forward(candidate):
    """candidate(X, W, b1, b2) -> Z = X + relu(X @ W + b1) + b2, shape and dtype of X."""
    cases = [("a batch of 5 examples of width 4", _block(5, 4, 81)),
             ("a single example (1, 3)", _block(1, 3, 82)),
             ("a batch of 64 examples of width 16", _block(64, 16, 83)),
             ("float32 inputs", _block(6, 4, 84, dtype=np.float32))]
    cases += _fresh(80)
    for name, (X, W, b1, b2, _) in cases:
        inputs = f"{name}: {_inputs(X, W)}"
        got = call(candidate, X, W, b1, b2, hint=HINT_FORWARD)
        if isinstance(got, tuple) and len(got) == 2 and isinstance(got[0], np.ndarray):
            raise CheckFailed(
                f"your function returned a tuple of two values: return Z alone (the cache is "
                f"residual_forward's business, not this task's)\n  input: {inputs}", HINT_FORWARD)
        right = X + _relu(X @ W + b1) + b2
        for wrong, message in [
            (_relu(X @ W + b1) + b2, "you returned F(X) = relu(X @ W + b1) + b2 alone: the skip "
             "path is missing, add X"),
            (X + _relu(X @ W.T + b1) + b2, "you used W.T: with one example per row the dense "
             "layer is X @ W (W = V^T of the column form)"),
            (X + _relu(X @ W + b1 + b2), "b2 went inside the ReLU: the block is "
             "relu(X @ W + b1) + b2, with b2 added after the ReLU"),
            (_relu(X + X @ W + b1) + b2, "the ReLU was applied to X + X @ W + b1: the skip path "
             "adds X after the ReLU, untouched"),
            (_relu(X + X @ W + b1 + b2), "the ReLU was applied to the whole sum: only the "
             "branch's pre-activation X @ W + b1 goes through the ReLU"),
            (X + _relu(X @ W) + b2, "b1 is missing: the pre-activation is X @ W + b1"),
            (X + _relu(X @ W + b1), "b2 is missing: add it after the ReLU"),
        ]:
            _mistake(got, right, wrong, message, inputs, HINT_FORWARD)
        tol = 2e-6 if X.dtype == np.float32 else 1e-12
        expect_array(got, right.astype(X.dtype), inputs=inputs, hint=HINT_FORWARD,
                     rtol=tol, atol=tol)
    passed("residual_block_forward", f"{len(cases)} batches, skip path and dtype right")


# ---------------------------------------------------------------- task 2: dX, with the skip path

@task(hints=(
    "Reread chapter 8, section 8.2 'The backward pass: gradients add where paths merge': X "
    "reaches Z along two paths, the skip "
    "path and the branch, and their gradients add.",
    "The skip path passes dZ through unchanged. The branch zeroes dZ where the ReLU was off "
    "(recompute its mask from the pre-activation, X times W plus b1), then goes back through "
    "the dense layer: a product with W transposed. Add the two.",
))
def residual_dx(candidate):
    """candidate(dZ, X, W, b1) -> dX, the gradient of the residual block with respect to X."""
    cases = [("a square batch, N = D = 4", _block(4, 4, 91)),
             ("a batch of 5 examples of width 3", _block(5, 3, 92)),
             ("a single example (1, 6)", _block(1, 6, 93)),
             ("a batch of 50 examples of width 20", _block(50, 20, 94))]
    cases += _fresh(90)
    for name, (X, W, b1, b2, dZ) in cases:
        inputs = f"{name}: {_inputs(X, W, dZ)}"
        got = call(candidate, dZ, X, W, b1, hint=HINT_DX)
        A = X @ W + b1
        mask = A > 0
        Z = X + _relu(A)          # the output as the candidate can compute it (no b2 given)
        right = dZ + (mask * dZ) @ W.T
        if isinstance(got, np.ndarray) and got.shape == (X.shape[1], X.shape[1]) != X.shape:
            raise CheckFailed(
                f"wrong shape {got.shape}, expected {X.shape}: did you add an identity matrix "
                f"for the skip path? The skip path contributes dZ itself (I times the upstream "
                f"gradient), not I\n  input: {inputs}", HINT_DX)
        identity = np.eye(X.shape[1]) if X.shape[0] == X.shape[1] else 0.0
        for wrong, message in [
            ((mask * dZ) @ W.T, "the skip path is missing: that is the gradient of F(X) alone. "
             "X reaches Z along two paths, and their gradients add: dX = dZ + ..."),
            ((mask * dZ) @ W.T + identity, "you added the identity matrix for the "
             "skip path: it contributes I times the upstream gradient, that is dZ itself"),
            (dZ + dZ @ W.T, "the ReLU's mask is missing: its Jacobian is diag(mask), not the "
             "identity; multiply dZ by mask = (X @ W + b1 > 0) before W.T"),
            (dZ + (mask * dZ) @ W, "W where W.T belongs: with rows as examples the branch "
             "gradient is (mask * dZ) @ W.T (the column form's V^T g)"),
            (dZ + ((X > 0) * dZ) @ W.T, "the mask came from X > 0: the ReLU's input is the "
             "pre-activation X @ W + b1, not the block's input"),
            (dZ + ((X @ W > 0) * dZ) @ W.T, "the mask came from X @ W > 0: the pre-activation "
             "includes the bias, X @ W + b1"),
            (dZ + ((Z > 0) * dZ) @ W.T, "the mask came from the block's output Z > 0: it must "
             "be the sign of the ReLU's input X @ W + b1"),
            (dZ + mask * (dZ @ W.T), "the mask was applied after W.T: the ReLU sits after the "
             "dense layer in the forward pass, so backwards it comes first: (mask * dZ) @ W.T"),
        ]:
            _mistake(got, right, wrong, message, inputs, HINT_DX)
        expect_array(got, right, inputs=inputs, hint=HINT_DX, rtol=1e-10, atol=1e-12)
    passed("residual_dx", f"{len(cases)} batches: skip path + masked branch, W.T")


# ---------------------------------------------------------------- task 3: dW, db1, db2

@task(hints=(
    "Reread chapter 8, section 8.3 'Parameter gradients, and what the forward pass must keep': "
    "W and b1 sit inside the ReLU, b2 outside it.",
    "Mask dZ by where the pre-activation was positive, as in task 2. The gradient of W pairs X "
    "transposed with that masked gradient; b1 sums the masked gradient over the examples; b2 "
    "sums dZ itself over the examples. Return the three as a tuple.",
))
def residual_param_grads(candidate):
    """candidate(dZ, X, W, b1) -> (dW, db1, db2) of the residual block."""
    names = ("dW", "db1", "db2")
    cases = [("a batch of 5 examples of width 3", _block(5, 3, 101)),
             ("a square batch, N = D = 4", _block(4, 4, 102)),
             ("a single example (1, 5)", _block(1, 5, 103)),
             ("a batch of 40 examples of width 12", _block(40, 12, 104))]
    cases += _fresh(100)
    for name, (X, W, b1, b2, dZ) in cases:
        inputs = f"{name}: {_inputs(X, W, dZ)}"
        got = _unpack(call(candidate, dZ, X, W, b1, hint=HINT_PARAMS), names, inputs,
                      HINT_PARAMS)
        mask = X @ W + b1 > 0
        dA = mask * dZ
        N = X.shape[0]
        right = (X.T @ dA, dA.sum(axis=0), dZ.sum(axis=0))
        dW, db1, db2 = got
        for got_b, right_b, label in ((db1, right[1], "db1"), (db2, right[2], "db2")):
            if isinstance(got_b, np.ndarray) and got_b.shape == X.shape != right_b.shape:
                raise CheckFailed(
                    f"{label} has shape {got_b.shape}, one gradient per example: b is shared by "
                    f"all rows, so sum over the batch (axis=0) to get shape {right_b.shape}"
                    f"\n  input: {inputs}", HINT_PARAMS)
            if isinstance(got_b, np.ndarray) and got_b.shape == (N,) != right_b.shape:
                raise CheckFailed(
                    f"{label} has shape {got_b.shape}: you summed over the features (axis=1); "
                    f"sum over the examples (axis=0)\n  input: {inputs}", HINT_PARAMS)
        _mistake(dW, right[0], dA.T @ X, "dW is transposed: (mask * dZ).T @ X is the gradient "
                 "for V = W.T of the column form; for W it is X.T @ (mask * dZ)", inputs,
                 HINT_PARAMS)
        _mistake(dW, right[0], X.T @ dZ, "dW is missing the ReLU's mask: X.T @ (mask * dZ)",
                 inputs, HINT_PARAMS)
        _mistake(dW, right[0], right[0] / N, "dW is divided by N: the examples' gradients add "
                 "(a mean belongs in the loss, and then it is already inside dZ)", inputs,
                 HINT_PARAMS)
        _mistake(db1, right[1], dZ.sum(axis=0), "db1 is missing the mask: b1 sits inside the "
                 "ReLU, so its gradient is (mask * dZ) summed over the rows", inputs, HINT_PARAMS)
        _mistake(db2, right[2], dA.sum(axis=0), "db2 has the mask: b2 is added after the ReLU, "
                 "so its gradient is dZ summed over the rows, unmasked", inputs, HINT_PARAMS)
        for got_b, right_b, label in ((db1, right[1], "db1"), (db2, right[2], "db2")):
            _mistake(got_b, right_b, right_b / N, f"{label} is divided by N: sum the examples' "
                     "gradients, do not average them", inputs, HINT_PARAMS)
        _compare_all(got, right, names, inputs, HINT_PARAMS)
    passed("residual_param_grads", f"{len(cases)} batches: dW = X.T @ (mask * dZ), sums over rows")


# ---------------------------------------------------------------- task 4: a numerical check

def _analytic(X, W, b1, b2, dZ):
    _, cache = residual_forward(X, W, b1, b2)
    return residual_backward(dZ, cache)


@task(hints=(
    "Reread chapter 8, section 8.6 'Gradient checks', and chapter 1, section 1.4: nudge "
    "one entry of one parameter at a time, up and down by h, and watch the scalar loss.",
    "Work on copies of the four arrays. For every entry: add h, evaluate the loss (the sum of dZ "
    "times the block's output), subtract h, evaluate again, restore the entry, and store the "
    "difference over 2h. Return the four gradient arrays as a tuple.",
))
def residual_numerical_grads(candidate):
    """candidate(X, W, b1, b2, dZ) -> (dX, dW, db1, db2) by centered differences."""
    names = ("dX", "dW", "db1", "db2")
    cases = [("a batch of 3 examples of width 4", _block(3, 4, 111, margin=0.05)),
             ("a batch of 5 examples of width 2", _block(5, 2, 112, margin=0.05))]
    cases += _fresh(110, margin=0.05, high=5)
    for name, (X, W, b1, b2, dZ) in cases:
        inputs = f"{name}: {_inputs(X, W, dZ)}, no pre-activation within 0.05 of the kink"
        got = _unpack(call(candidate, X, W, b1, b2, dZ, hint=HINT_NUMERIC), names, inputs,
                      HINT_NUMERIC)
        right = _analytic(X, W, b1, b2, dZ)
        ones = _analytic(X, W, b1, b2, np.ones_like(dZ))
        for g, r, o, label in zip(got, right, ones, names):
            _mistake(g, r, o, f"{label} is the gradient of sum(Z), the VJP with an all-ones "
                     "upstream gradient: differentiate L = sum(dZ * Z) instead", inputs,
                     HINT_NUMERIC)
            _mistake(g, r, 2 * r, f"{label} is twice the right value: a centered difference "
                     "(L(p + h) - L(p - h)) spans 2h, so divide by 2h", inputs, HINT_NUMERIC)
            _mistake(g, r, -r, f"{label} has the wrong sign: (L(p + h) - L(p - h)) / 2h, "
                     "plus step first", inputs, HINT_NUMERIC)
            if isinstance(g, np.ndarray) and g.shape == r.shape and np.all(np.isfinite(g)):
                error = np.max(np.abs(g - r)) / max(np.max(np.abs(r)), 1e-12)
                if 1e-7 < error < 1e-2:
                    raise CheckFailed(
                        f"{label} is close but not accurate enough (relative error "
                        f"{error:.0e}): use centered differences with a step h around 1e-5 "
                        f"in float64 (a much smaller step drowns the difference in round-off)"
                        f"\n  input: {inputs}", HINT_NUMERIC)
        _compare_all(got, right, names, inputs, HINT_NUMERIC, rtol=1e-6, atol=1e-8)
    passed("residual_numerical_grads", "centered differences agree with the backward pass")


# ---------------------------------------------------------------- task 5: one SGD step

def _sgd_reference(X, T, W, b1, b2, lr):
    Z, cache = residual_forward(X, W, b1, b2)
    _, dW, db1, db2 = residual_backward((Z - T) / X.shape[0], cache)
    return W - lr * dW, b1 - lr * db1, b2 - lr * db2


@task(hints=(
    "Reread chapter 8, section 8.7 'Gradient descent on a block': the loss is a mean over the "
    "batch, and a step moves each parameter against its own gradient.",
    "Run the block forward, form the upstream gradient (Z minus T) over N, get the three "
    "parameter gradients from task 3, and return each parameter minus lr times its gradient, "
    "as new arrays: the inputs must stay untouched.",
))
def residual_sgd_step(candidate):
    """candidate(X, T, W, b1, b2, lr) -> (W, b1, b2) after one SGD step on the mean loss."""
    names = ("W", "b1", "b2")
    cases = [("a batch of 6 examples of width 3, lr = 0.1", _block(6, 3, 121), 0.1),
             ("a batch of 32 examples of width 8, lr = 0.5", _block(32, 8, 122), 0.5),
             ("a square batch, N = D = 4, lr = 0.05", _block(4, 4, 123), 0.05)]
    cases += [(name, block, 0.1) for name, block in _fresh(120)]
    for name, (X, W, b1, b2, T), lr in cases:
        inputs = f"{name}: {_inputs(X, W)}, targets T random"
        got = _unpack(call(candidate, X, T, W, b1, b2, lr, hint=HINT_SGD), names, inputs,
                      HINT_SGD)
        right = _sgd_reference(X, T, W, b1, b2, lr)
        N, D = X.shape
        if isinstance(got[1], np.ndarray) and got[1].shape == (D, D) != b1.shape:
            raise CheckFailed(
                f"the new b1 has shape {got[1].shape}: its update must start from b1 itself, "
                "b1 - lr * db1, not from W (NumPy broadcast the bias gradient against W)"
                f"\n  input: {inputs}", HINT_SGD)
        step = [r - p for r, p in zip(right, (W, b1, b2))]   # -lr * gradient
        ascent = tuple(p - s for p, s in zip((W, b1, b2), step))
        no_mean = tuple(p + N * s for p, s in zip((W, b1, b2), step))
        swapped = (right[0], b1 + step[2], b2 + step[1])
        for g, r, a, n, label in zip(got, right, ascent, no_mean, names):
            _mistake(g, r, a, f"{label} moved uphill: gradient descent subtracts lr times the "
                     "gradient (and dZ = (Z - T) / N, not (T - Z) / N)", inputs, HINT_SGD)
            _mistake(g, r, n, f"{label} moved N = {N} times too far: the loss is a mean over "
                     "the examples, so dZ = (Z - T) / N", inputs, HINT_SGD)
        for g, r, s, label in zip(got[1:], right[1:], swapped[1:], names[1:]):
            _mistake(g, r, s, f"{label} was updated with the other bias's gradient: b1 takes "
                     "db1 (masked), b2 takes db2 (unmasked)", inputs, HINT_SGD)
        _compare_all(got, right, names, inputs, HINT_SGD, rtol=1e-9, atol=1e-12)
    passed("residual_sgd_step", f"{len(cases)} steps: mean-loss gradients, descent, inputs intact")
