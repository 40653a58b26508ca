"""Checks for the exercises of chapter 6: the linear layer A = X W + b, forward and backward."""

import numpy as np

from ..gradcheck import numerical_gradient
from ..nn.linear import linear_backward, linear_forward
from .core import (CheckFailed, call, dims, expect_array, float_dtype, fresh_rng, passed,
                   seeded, task)

__all__ = ["linear_layer_forward", "linear_grad_X", "linear_grad_W", "linear_grad_b",
           "linear_layer_backward", "linear_jacobian_W"]

HINT_CONVENTION = "reread chapter 6, section 6.1 'Two conventions for one layer'."
HINT_FORWARD = "reread chapter 6, section 6.2 'The forward pass, index by index'."
HINT_BACKWARD = "reread chapter 6, section 6.3 'The backward pass, index by index'."
HINT_MISTAKES = "reread chapter 6, section 6.7 'Classic mistakes'."
HINT_CHECK = "reread chapter 6, section 6.4 'Implementation and gradient checks'."
HINT_JACOBIAN = "reread chapter 6, section 6.5 'The full Jacobian, and why nobody builds it'."
RTOL = {np.float32: 1e-5, np.float64: 1e-10}

# name, N, D, H, dtype: distinct sizes first (shape bugs fail), then a square layer (every
# transpose fits, only values tell), a batch of one (hides missing sums), a big batch, float32.
CASES = [
    ("a layer with N, D, H = 5, 3, 4", 5, 3, 4, np.float64),
    ("a square layer, N = D = H = 4 (every transpose has the right shape)", 4, 4, 4,
     np.float64),
    ("a batch of 64 with D, H = 20, 10", 64, 20, 10, np.float64),
    ("a batch of one, N, D, H = 1, 3, 4", 1, 3, 4, np.float64),
    ("float32, N, D, H = 6, 5, 3", 6, 5, 3, np.float32),
]


def _cases():
    """CASES, and with a seed (check.<task>(fn, seed=k)) one more layer of random sizes."""
    if seeded() is None:
        return CASES
    rng = fresh_rng(60)
    N, D, H = dims(rng, 5, 3, 4, low=1, high=9)
    return CASES + [(f"a fresh layer, N, D, H = {N}, {D}, {H} (seed {seeded()})", N, D, H,
                     float_dtype(rng))]


def _layer(N, D, H, dtype, seed=6):
    """Random X (N, D), W (D, H), b (H,), dA (N, H) of the given dtype (fresh with a seed)."""
    r = fresh_rng([seed, N, D, H])
    X, W, b, dA = (r.normal(size=s).astype(dtype) for s in ((N, D), (D, H), (H,), (N, H)))
    return X, W, b, dA


def _is(got, value):
    """Does got equal value (same shape, close values)?  False for anything not an array."""
    value = np.asarray(value, dtype=np.float64)
    if isinstance(got, np.generic):
        got = np.asarray(got)
    if not isinstance(got, np.ndarray) or got.shape != value.shape:
        return False
    try:
        return bool(np.allclose(got.astype(np.float64), value, rtol=1e-4, atol=1e-6))
    except (TypeError, ValueError):
        return False


def _run(candidate, *args, hint, shapes):
    """call() with a note on the shapes when the candidate's matrix product did not fit."""
    try:
        return call(candidate, *args, hint=hint)
    except CheckFailed as failure:
        if "raised ValueError" in failure.message:
            raise CheckFailed(f"{failure.message}\n  shapes: {shapes}: write the shape under "
                              "every factor before you multiply", HINT_MISTAKES) from None
        raise


def _diagnose(got, expected, wrong_versions, where):
    """Name a classic mistake: wrong_versions is a list of (value, message, hint)."""
    if _is(got, expected):
        return
    for value, message, hint in wrong_versions:
        if value is not None and _is(got, value):
            raise CheckFailed(f"{where}: {message}", hint)


def _compare(got, expected, where, hint, dtype):
    """expect_array with the dtype's tolerance; `where` names the layer in the message."""
    expect_array(got, expected, inputs=where, hint=hint, rtol=RTOL[dtype], atol=RTOL[dtype])


# ---------------------------------------------------------------- task 1: forward

@task(hints=(
    "Reread chapter 6, section 6.2 'The forward pass, index by index' and section 6.1 'Two "
    "conventions for one layer': this book's layer takes rows of X as examples and W of shape "
    "(D, H).",
    "Entry (i, j) of A is the sum over k of X_ik W_kj, plus b_j: that is one matrix product "
    "of X with W, with the bias vector added to every row (broadcasting adds a shape (H,) "
    "vector row by row).",
))
def linear_layer_forward(candidate):
    """candidate(X, W, b) -> A = X W + b, shape (N, H)."""
    cases = _cases()
    for name, N, D, H, dtype in cases:
        X, W, b, _ = _layer(N, D, H, dtype)
        got = _run(candidate, X, W, b, hint=HINT_FORWARD,
                   shapes=f"X is (N, D) = {X.shape}, W is (D, H) = {W.shape}, b is (H,) = "
                          f"{b.shape}; A must be (N, H) = {(N, H)}")
        expected = linear_forward(X, W, b)[0]
        _diagnose(got, expected, [
            (X @ W, "the bias is missing: add b to every row of X @ W", HINT_FORWARD),
            (X @ W.T + b if D == H else None,
             "this is X Wᵀ + b: in the code convention W has shape (D, H) and A = X @ W, "
             "with no transpose (transposes: W = W_math.T)", HINT_CONVENTION),
            (X @ W + b[:, None] if N == H else None,
             "b was added to every column (b[:, None]); b has one entry per output unit, "
             "so it is added to every row: X @ W + b", HINT_FORWARD),
        ], f"on {name}")
        if isinstance(got, np.ndarray) and got.shape == (H, N) != (N, H):
            raise CheckFailed(f"on {name}: shape {got.shape} is the transpose of A; A has one "
                              f"row per example, shape (N, H) = {(N, H)}", HINT_CONVENTION)
        _compare(got, expected, name, HINT_FORWARD, dtype)
    passed("linear_layer_forward", f"{len(cases)} layers: shapes, bias on every row, float32")


# ---------------------------------------------------------------- task 2: dX

def _dX_mistakes(dA, W, N, D, H):
    square = N == D == H
    return [
        (dA @ W if D == H else None,
         "you computed dA W: the transpose is missing. dX_kl = Σ_j dA_kj W_lj sums over W's "
         "second index, so dX = dA Wᵀ", HINT_BACKWARD),
        (dA.T @ W if square else None,
         "you computed dAᵀ W, Σ_i dA_ij W_il: that sums over the batch index i. In dX_kl the "
         "delta δ_ik removes the sum over i; the sum runs over j = 1..H: dX = dA Wᵀ",
         HINT_MISTAKES),
        ((dA @ W.T).T, "shape (D, N) is the transpose of dX: dX has the shape of X, (N, D); "
         "dX = dA Wᵀ", HINT_BACKWARD),
        (np.broadcast_to(dA.sum(axis=0) @ W.T, (N, D)) if N > 1 else None,
         "every row is the same: you summed dA over the batch first. dX has no sum over the "
         "batch: row k of dX comes from row k of dA alone", HINT_BACKWARD),
    ]


@task(hints=(
    "Reread chapter 6, section 6.3 'The backward pass, index by index': write dE/dX_ik as a "
    "sum over the entries A_ij that X_ik touches.",
    "X_ik meets W_kj in every A_ij of row i, so dE/dX_ik is the sum over j of dA_ij W_kj: a "
    "sum over W's second index, which is a matrix product of dA with W transposed. Check the "
    "shapes: (N, H) times (H, D).",
))
def linear_grad_X(candidate):
    """candidate(dA, W) -> dX for A = X W + b, shape (N, D)."""
    cases = _cases()
    for name, N, D, H, dtype in cases:
        _, W, _, dA = _layer(N, D, H, dtype)
        got = _run(candidate, dA, W, hint=HINT_BACKWARD,
                   shapes=f"dA is (N, H) = {dA.shape}, W is (D, H) = {W.shape}; dX must be "
                          f"(N, D) = {(N, D)} = (N, H) @ (H, D)")
        expected = dA @ W.T
        _diagnose(got, expected, _dX_mistakes(dA, W, N, D, H), f"on {name}")
        _compare(got, expected, name, HINT_BACKWARD, dtype)
    passed("linear_grad_X", f"{len(cases)} layers, square ones included: dX = dA Wᵀ")


# ---------------------------------------------------------------- task 3: dW

def _dW_mistakes(X, dA, N, D, H):
    right = X.T @ dA
    return [
        (right.T, "that is dAᵀ X, the math convention's dW_math, the transpose of what the "
         "code needs: with W of shape (D, H), dW = Xᵀ dA (transposes)", HINT_CONVENTION),
        (dA @ X.T if H == D else None,
         "you computed dA Xᵀ, the single-example outer product δ xᵀ copied from the column "
         "convention; in batch-first code dW = Xᵀ dA, shapes (D, N) @ (N, H)", HINT_MISTAKES),
        (right / N if N > 1 else None,
         f"exactly 1/N (N = {N}) of the answer: dW is a SUM over the batch, do not average "
         "(a mean in the loss already put its 1/N into dA)", HINT_MISTAKES),
        (np.outer(X[0], dA[0]) if N > 1 else None,
         "only the first example: dW sums the outer products x_iᵀ dA_i over all N rows "
         "(missing sum over the batch)", HINT_BACKWARD),
        (np.outer(X.sum(axis=0), dA.sum(axis=0)) if N > 1 else None,
         "you summed X and dA over the batch separately and then multiplied: the sum over "
         "the batch must run over the products X_ik dA_il", HINT_BACKWARD),
    ]


@task(hints=(
    "Reread chapter 6, section 6.3 'The backward pass, index by index': W_kl is shared by "
    "every example of the batch, so its gradient adds up over the examples.",
    "dE/dW_kl is the sum over the examples i of X_ik dA_il: a matrix product of X transposed "
    "with dA, shape (D, N) times (N, H). Nothing is divided by N here: dA already holds it if "
    "the loss is a mean.",
))
def linear_grad_W(candidate):
    """candidate(X, dA) -> dW for A = X W + b, shape (D, H)."""
    cases = _cases()
    for name, N, D, H, dtype in cases:
        X, _, _, dA = _layer(N, D, H, dtype)
        got = _run(candidate, X, dA, hint=HINT_BACKWARD,
                   shapes=f"X is (N, D) = {X.shape}, dA is (N, H) = {dA.shape}; dW must be "
                          f"(D, H) = {(D, H)} = (D, N) @ (N, H)")
        expected = X.T @ dA
        _diagnose(got, expected, _dW_mistakes(X, dA, N, D, H), f"on {name}")
        if isinstance(got, np.ndarray) and got.shape == (N, N) != (D, H):
            raise CheckFailed(f"on {name}: shape {got.shape} is (N, N): an (N, ...) @ (..., N) "
                              "product such as dA Xᵀ; dW must have the shape of W, (D, H) = "
                              "Xᵀ dA", HINT_MISTAKES)
        _compare(got, expected, name, HINT_BACKWARD, dtype)
    passed("linear_grad_W", f"{len(cases)} layers: dW = Xᵀ dA, summed over the batch")


# ---------------------------------------------------------------- task 4: db

def _db_problem(got, dA, N, H):
    """A message for the bias-gradient mistakes that show in the shape, else None."""
    if not isinstance(got, np.ndarray) and not isinstance(got, np.generic):
        return None
    shape = np.shape(got)
    if shape == (N, H) and (N, H) != (H,):
        return ("db has one row per example, shape (N, H): it was not summed over the "
                "batch. b was added to every row, so db sums dA over the rows (axis=0), "
                "shape (H,)")
    if shape in ((1, H), (H, 1)):
        return (f"db has shape {shape}; a gradient has the shape of what it is taken with "
                "respect to, and b has shape (H,) (drop keepdims / reshape): b - lr * db "
                "would otherwise change b's shape")
    if shape == (N,) != (H,):
        return ("db has shape (N,), one number per example: summed over the wrong axis "
                "(axis=1). Sum over the batch, axis=0")
    if shape == ():
        return "db is a single number: you summed over both axes; sum over the batch only"
    return None


def _db_mistakes(dA, N, H):
    right = dA.sum(axis=0)
    return [
        (dA.sum(axis=1) if N == H else None,
         "summed over the wrong axis (axis=1, one number per example): db sums over the "
         "batch, axis=0", HINT_MISTAKES),
        (right / N if N > 1 else None,
         f"exactly 1/N (N = {N}) of the answer: db is a SUM over the batch, not a mean",
         HINT_MISTAKES),
        (dA[0] if N > 1 else None,
         "only the first row of dA: the bias Jacobian of a batch is N stacked identities, "
         "not one identity, so db sums the rows of dA (missing sum over the batch)",
         HINT_MISTAKES),
    ]


@task(hints=(
    "Reread chapter 6, section 6.3 'The backward pass, index by index': the bias was added to "
    "every row, so every example sends its gradient to it.",
    "Sum dA over the batch axis, the first one, and return a vector of shape (H,), not (1, H) "
    "and not a single number.",
))
def linear_grad_b(candidate):
    """candidate(dA) -> db for A = X W + b, shape (H,)."""
    cases = _cases()
    for name, N, D, H, dtype in cases:
        _, _, _, dA = _layer(N, D, H, dtype)
        got = _run(candidate, dA, hint=HINT_BACKWARD,
                   shapes=f"dA is (N, H) = {dA.shape}; db must be (H,) = {(H,)}")
        expected = dA.sum(axis=0)
        problem = _db_problem(got, dA, N, H)
        if problem and not _is(got, expected):
            raise CheckFailed(f"on {name}: {problem}", HINT_MISTAKES)
        _diagnose(got, expected, _db_mistakes(dA, N, H), f"on {name}")
        _compare(got, expected, name, HINT_BACKWARD, dtype)
    passed("linear_grad_b", f"{len(cases)} layers: db sums dA over the batch, shape (H,)")


# ---------------------------------------------------------------- task 5: the whole backward

def _unpack(got, where):
    if got is None:
        raise CheckFailed(f"your function returned None: did it forget `return`?\n  input: "
                          f"{where}", HINT_CHECK)
    if isinstance(got, list) and len(got) != 3:
        raise CheckFailed(f"your function returned a list of length {len(got)}; return the "
                          f"tuple (dX, dW, db)\n  input: {where}", HINT_CHECK)
    if not isinstance(got, (tuple, list)):
        raise CheckFailed(f"your function returned {type(got).__name__}, not an array: return "
                          f"the tuple (dX, dW, db) of three arrays\n  input: {where}", HINT_CHECK)
    if len(got) != 3:
        raise CheckFailed(f"your function returned {len(got)} values; return the three "
                          f"gradients (dX, dW, db)\n  input: {where}", HINT_CHECK)
    return got


@task(hints=(
    "Reread chapter 6, section 6.4 'Implementation and gradient checks': the backward pass "
    "is the three gradients you already wrote, put together.",
    "Unpack the cache into X and W, call your three gradient functions (tasks 2 to 4), and "
    "return the three results as one tuple, in the order dX, dW, db.",
))
def linear_layer_backward(candidate):
    """candidate(dA, cache) -> (dX, dW, db), cache = (X, W); each gradient-checked."""
    cases = _cases()
    for name, N, D, H, dtype in cases:
        X, W, b, dA = _layer(N, D, H, dtype)
        cache = (X.copy(), W.copy())
        got = _run(candidate, dA, cache, hint=HINT_CHECK,
                   shapes=f"X {X.shape}, W {W.shape}, dA {dA.shape}; dX = dA Wᵀ must be "
                          f"{(N, D)}, dW = Xᵀ dA {(D, H)}, db {(H,)}")
        if not (np.array_equal(cache[0], X) and np.array_equal(cache[1], W)):
            raise CheckFailed(f"on {name}: your function changed X or W inside the cache; "
                              "work on copies", HINT_CHECK)
        grads = _unpack(got, name)
        expected = linear_backward(dA, (X, W))
        shapes = [np.shape(g) for g in grads]
        wanted = [e.shape for e in expected]
        if shapes != wanted and sorted(map(str, shapes)) == sorted(map(str, wanted)):
            raise CheckFailed(f"on {name}: the gradients have shapes {shapes}, in the wrong "
                              f"order; return (dX, dW, db) with shapes {wanted}", HINT_CHECK)
        mistakes = [_dX_mistakes(dA, W, N, D, H), _dW_mistakes(X, dA, N, D, H),
                    _db_mistakes(dA, N, H)]
        for label, g, e, wrong in zip(("dX", "dW", "db"), grads, expected, mistakes):
            where = f"on {name}, {label}"
            if label == "db":
                problem = _db_problem(g, dA, N, H)
                if problem and not _is(g, e):
                    raise CheckFailed(f"{where}: {problem}", HINT_MISTAKES)
            _diagnose(g, e, wrong, where)
            _compare(g, e, f"{name}, {label}", HINT_CHECK, dtype)
        if dtype == np.float64:
            _gradient_check(grads, X, W, b, dA, name)
    passed("linear_layer_backward", f"{len(cases)} layers; dX, dW, db each agree with "
           "centered differences to 1e-7 of their largest entry")


GRADCHECK_TOL = 1e-7


def _gradient_check(grads, X, W, b, dA, name):
    """Each gradient against centered differences of <dA, A>, within 1e-7 of its largest entry.

    The error is measured against the gradient's largest entry, not entry by entry: the round-off
    of a centered difference is about eps * |<dA, A>| / h for every entry alike, so an entry-wise
    relative error of a small entry of a large batch's gradient (1e-7 on one CPU, 3e-8 on
    another) would measure the CPU, not the candidate.
    """
    functions = (lambda X_: linear_forward(X_, W, b)[0],
                 lambda W_: linear_forward(X, W_, b)[0],
                 lambda b_: linear_forward(X, W, b_)[0])
    for label, f, at, g in zip(("dX", "dW", "db"), functions, (X, W, b), grads):
        g = np.asarray(g, dtype=np.float64)
        numerical = numerical_gradient(f, at.copy(), upstream=dA)
        scale = max(float(np.max(np.abs(numerical))), 1e-8)
        error = float(np.max(np.abs(g - numerical))) / scale
        if not error <= GRADCHECK_TOL:
            raise CheckFailed(f"on {name}: {label} fails the gradient check: it differs from "
                              f"centered differences by {error:.1e} of its largest entry "
                              f"(at most {GRADCHECK_TOL:.0e} expected)", HINT_CHECK)


# ---------------------------------------------------------------- task 6: the Jacobian in W

@task(hints=(
    "Reread chapter 6, section 6.5 'The full Jacobian, and why nobody builds it': order the "
    "outputs as A raveled row by row and the inputs as W raveled row by row.",
    "A_ij depends on W_kl only when l equals j, with slope X_ik. So the block of rows for "
    "example i and columns for input k is X_ik times the H x H identity: the Kronecker product "
    "of X with that identity.",
))
def linear_jacobian_W(candidate):
    """candidate(X, H) -> the (N H, D H) Jacobian of A.ravel() with respect to W.ravel()."""
    cases = [("N, D, H = 2, 3, 4", 2, 3, 4), ("N, D, H = 3, 2, 2", 3, 2, 2),
             ("a single example, N, D, H = 1, 3, 2", 1, 3, 2)]
    if seeded() is not None:
        N, D, H = dims(fresh_rng(61), 2, 3, 4, low=1, high=5)
        cases.append((f"a fresh layer, N, D, H = {N}, {D}, {H} (seed {seeded()})", N, D, H))
    for name, N, D, H in cases:
        X, _, _, _ = _layer(N, D, H, np.float64)
        got = _run(candidate, X, H, hint=HINT_JACOBIAN,
                   shapes=f"X is (N, D) = {X.shape}, H = {H}; the Jacobian is "
                          f"(N H, D H) = {(N * H, D * H)}")
        expected = np.kron(X, np.eye(H))                # (N H, D H)
        if isinstance(got, np.ndarray) and got.shape == (D * H, N * H) != (N * H, D * H):
            raise CheckFailed(f"on {name}: shape {got.shape} is the transpose: in numerator "
                              f"layout the rows are the N H outputs, shape {expected.shape}",
                              HINT_JACOBIAN)
        if isinstance(got, np.ndarray) and got.shape == (H, D * H) and N > 1:
            raise CheckFailed(f"on {name}: shape {got.shape} is one example's Jacobian; "
                              "stack the N blocks X_ik I_H: X ⊗ I_H", HINT_JACOBIAN)
        _diagnose(got, expected, [
            (np.kron(np.eye(H), X),
             "that is I_H ⊗ X, the Kronecker factors in the other order (the layout of "
             "column-by-column flattening); NumPy's ravel flattens row by row: X ⊗ I_H",
             HINT_JACOBIAN),
        ], f"on {name}")
        expect_array(got, expected, inputs=name, hint=HINT_JACOBIAN, check_dtype=False)
    passed("linear_jacobian_W", f"{len(cases)} layers: X ⊗ I_H, rows = outputs")
