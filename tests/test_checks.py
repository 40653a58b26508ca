"""The exercise checks: right answers pass, classic wrong answers fail with a message naming the
problem, and no candidate, however broken, crashes or hangs a check."""

import numpy as np
import pytest
import scipy.special

from byhand import check
from byhand.check import CheckFailed
from byhand.nn import logsumexp
from catalogue import assert_short, catalogue


# ---------------------------------------------------------------- chapter 1: Jacobians, VJPs

def jacobian_by_columns(f, x, h=1e-5):
    fx = f(x)
    J = np.zeros((fx.size, x.size))
    for j in range(x.size):
        step = np.zeros_like(x)
        step[j] = h
        J[:, j] = (f(x + step) - f(x - step)) / (2 * h)
    return J


def jacobian_by_rows(f, x, h=1e-6):  # a different loop order and step: also right
    m = f(x).size
    rows = []
    for i in range(m):
        row = []
        for j in range(x.size):
            plus, minus = x.copy(), x.copy()
            plus[j] += h
            minus[j] -= h
            row.append((f(plus)[i] - f(minus)[i]) / (2 * h))
        rows.append(row)
    return np.array(rows)


def jacobian_forward(f, x, h=1e-5):
    fx = f(x)
    J = np.zeros((fx.size, x.size))
    for j in range(x.size):
        step = np.zeros_like(x)
        step[j] = h
        J[:, j] = (f(x + step) - fx) / h
    return J


def jacobian_in_place(f, x, h=1e-5):
    J = np.zeros((f(x).size, x.size))
    for j in range(x.size):
        x[j] += h              # perturbs the caller's array and never restores it
        plus = f(x)
        x[j] -= 2 * h
        J[:, j] = (plus - f(x)) / (2 * h)
    return J


def vjp_two_layers_right(W, x, v):
    upstream = W.T @ v              # back through x -> W h
    return upstream * (1 - np.tanh(x) ** 2)   # back through h = tanh(x)


RIGHT = [
    (check.numerical_jacobian, jacobian_by_columns),
    (check.numerical_jacobian, jacobian_by_rows),
    (check.vjp_tanh, lambda x, v: v * (1 - np.tanh(x) ** 2)),
    (check.vjp_tanh, lambda x, v: v / np.cosh(x) ** 2),
    (check.vjp_linear, lambda W, v: W.T @ v),
    (check.vjp_linear, lambda W, v: v @ W),
    (check.vjp_linear, lambda W, v: np.einsum("ij,i->j", W, v)),
    (check.vjp_two_layers, vjp_two_layers_right),
    (check.vjp_two_layers, lambda W, x, v: (v @ W) / np.cosh(x) ** 2),
]

WRONG = [
    # numerical_jacobian
    (check.numerical_jacobian, lambda f, x: jacobian_by_columns(f, x).T, "transpose"),
    (check.numerical_jacobian, jacobian_forward, "Forward differences"),
    (check.numerical_jacobian, lambda f, x: 2 * jacobian_by_columns(f, x), "divide by 2h"),
    (check.numerical_jacobian, lambda f, x: jacobian_by_columns(f, x).sum(axis=0), "wrong shape"),
    (check.numerical_jacobian, lambda f, x: jacobian_by_columns(f, x).tolist(), "list"),
    (check.numerical_jacobian, jacobian_in_place, "changed its input in place"),
    (check.numerical_jacobian, lambda f, x: jacobian_by_columns(f, x, h=1e-13), "accurate"),
    # vjp_tanh
    (check.vjp_tanh, lambda x, v: 1 - np.tanh(x) ** 2, "multiply it by the upstream gradient v"),
    (check.vjp_tanh, lambda x, v: v * (1 - np.tanh(x)), "not 1 - tanh(x)"),
    (check.vjp_tanh, lambda x, v: np.diag((1 - np.tanh(x.ravel()) ** 2)) * v.ravel(),
     "that is the Jacobian"),
    (check.vjp_tanh, lambda x, v: -v * (1 - np.tanh(x) ** 2), "wrong value"),
    # vjp_linear: the source notes' z_i = sum_j v_j J_ij is J v, not vᵀJ
    (check.vjp_linear, lambda W, v: W @ v, "W v"),
    (check.vjp_linear, lambda W, v: W.T @ v.reshape(-1, 1), "wrong shape"),
    (check.vjp_linear, lambda W, v: (W * v[:, None]), "wrong shape"),
    # vjp_two_layers
    (check.vjp_two_layers, lambda W, x, v: W.T @ v, "go back through tanh"),
    (check.vjp_two_layers, lambda W, x, v: (W.T @ v) * np.tanh(x), "wrong value"),
    (check.vjp_two_layers, lambda W, x, v: W.T @ (v * (1 - np.tanh(W @ x) ** 2)),
     "tanh' evaluated at W x"),
    (check.vjp_two_layers, lambda W, x, v: (W.T @ v) * (1 - np.tanh(W @ x) ** 2),
     "tanh' evaluated at W x"),
]


# ---------------------------------------------------------------- chapter 2: log-sum-exp

def lse_loop(x):  # a plain loop over the entries, in float64, then back to x's dtype
    m = max(float(v) for v in x)
    if m == -np.inf:
        return np.array(-np.inf, dtype=x.dtype)
    total = sum(np.exp(float(v) - m) for v in x)
    return np.array(m + np.log(total), dtype=x.dtype)


def lse_rows_by_loop(X):
    return np.array([lse_loop(row) for row in X], dtype=X.dtype)


def lse_rows_global_max(X):
    m = X.max()
    return np.log(np.sum(np.exp(X - m), axis=1)) + m


def lse_rows_nan_on_empty(X):
    m = X.max(axis=1, keepdims=True)
    return (m + np.log(np.sum(np.exp(X - m), axis=1, keepdims=True)))[:, 0]


def lse_masked_plain(X):  # the solution's way: exp of entries far below the max underflows to 0
    m = np.max(X, axis=1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        return (m + np.log(np.sum(np.exp(X - m), axis=1, keepdims=True)))[:, 0]


def lse_rows_mean_shift(X):  # the source notes: "max vs min vs mean makes little difference"
    m = X.mean(axis=1, keepdims=True)
    return (m + np.log(np.sum(np.exp(X - m), axis=1, keepdims=True)))[:, 0]


def lse_masked_mean_of_finite(X):  # a mean shift over the unmasked entries
    finite = np.isfinite(X)
    count = np.maximum(finite.sum(axis=1, keepdims=True), 1)
    m = (np.where(finite, X, 0).sum(axis=1, keepdims=True) / count).astype(X.dtype)
    with np.errstate(divide="ignore"):
        return (m + np.log(np.sum(np.exp(X - m), axis=1, keepdims=True)))[:, 0]


def softmax_mean_shift(X):
    return np.exp(X - lse_rows_mean_shift(X)[:, None])


def lse_vector_in_place(x):
    m = x.max()
    x -= m
    return np.log(np.sum(np.exp(x))) + m


def softmax_max_shift(X):
    e = np.exp(X - X.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


RIGHT += [
    (check.logsumexp_vector, logsumexp),
    (check.logsumexp_vector, lse_loop),
    (check.logsumexp_vector, lambda x: scipy.special.logsumexp(x).astype(x.dtype)),
    (check.logsumexp_rows, lambda X: logsumexp(X, axis=1)),
    (check.logsumexp_rows, lse_rows_by_loop),
    (check.logsumexp_rows, lambda X: scipy.special.logsumexp(X, axis=1).astype(X.dtype)),
    (check.logsumexp_masked, lambda X: logsumexp(X, axis=1)),
    (check.logsumexp_masked, lse_rows_by_loop),
    (check.logsumexp_masked, lse_masked_plain),    # underflows to 0, and that is no mistake
    (check.softmax_via_logsumexp, lambda X: np.exp(X - logsumexp(X, keepdims=True))),
    (check.softmax_via_logsumexp, softmax_max_shift),
    (check.softmax_via_logsumexp, lambda X: scipy.special.softmax(X, axis=-1).astype(X.dtype)),
]

WRONG += [
    # logsumexp_vector; the source notes claim "max vs min vs mean" makes little difference
    (check.logsumexp_vector, lambda x: np.log(np.sum(np.exp(x))), "naive exp overflows"),
    (check.logsumexp_vector,
     lambda x: np.log(np.sum(np.exp(x - x.mean()))) + x.mean(), "a mean or min shift overflows"),
    (check.logsumexp_vector,
     lambda x: np.log(np.sum(np.exp(x - x.min()))) + x.min(), "overflow"),
    (check.logsumexp_vector, lambda x: np.log(np.sum(np.exp(x - x.max()))), "add m back"),
    (check.logsumexp_vector,
     lambda x: np.sum(np.log(np.exp(x - x.max()))) + x.max(), "wrong value"),
    (check.logsumexp_vector, lambda x: logsumexp(x.astype(np.float64)), "wrong dtype"),
    (check.logsumexp_vector, lambda x: np.max(x), "wrong value"),
    (check.logsumexp_vector, lse_vector_in_place, "changed its input in place"),
    # logsumexp_rows
    (check.logsumexp_rows, lse_rows_global_max, "one shift for all rows"),
    (check.logsumexp_rows, lambda X: logsumexp(X, axis=0), "axis=1"),
    (check.logsumexp_rows, lambda X: logsumexp(X, axis=1, keepdims=True), "without the kept axis"),
    (check.logsumexp_rows, lambda X: np.log(np.sum(np.exp(X), axis=1)), "overflow"),
    (check.logsumexp_rows, lse_rows_mean_shift, "a mean shift overflows"),
    # logsumexp_masked
    (check.logsumexp_masked, lse_rows_nan_on_empty, "-inf - (-inf) = NaN"),
    (check.logsumexp_masked, lambda X: np.nan_to_num(logsumexp(X, axis=1), neginf=0.0),
     "wrong value"),
    (check.logsumexp_masked, lambda X: logsumexp(np.where(np.isinf(X), 0.0, X), axis=1),
     "wrong value"),
    (check.logsumexp_masked, lse_masked_mean_of_finite, "a mean shift overflows"),
    # softmax_via_logsumexp
    (check.softmax_via_logsumexp, lambda X: np.exp(X) / np.exp(X).sum(axis=-1, keepdims=True),
     "NaN"),
    (check.softmax_via_logsumexp, lambda X: np.exp(X - logsumexp(X.ravel())), "wrong value"),
    (check.softmax_via_logsumexp, softmax_mean_shift, "a mean shift overflows"),
    (check.softmax_via_logsumexp, lambda X: np.exp(X - logsumexp(X, axis=0, keepdims=True)),
     "wrong value"),
]


def name(case):
    return case.__name__ if hasattr(case, "__name__") else str(case)


test_right_answers_pass, test_wrong_answers_are_named = catalogue(RIGHT, WRONG)


CATALOGUED = [check.numerical_jacobian, check.vjp_tanh, check.vjp_linear, check.vjp_two_layers,
              check.logsumexp_vector, check.logsumexp_rows, check.logsumexp_masked,
              check.softmax_via_logsumexp]
TASKS = [getattr(check, name) for name in check.__all__  # the code checks (derive_* take a formula)
         if name != "CheckFailed" and not name.startswith("derive_")]


def test_every_task_has_at_least_three_named_wrong_answers():
    for task in CATALOGUED:  # the later chapters keep their catalogues in test_checks_<topic>.py
        assert sum(t is task for t, _, _ in WRONG) >= 3, task.__name__


def not_implemented(*args):
    raise NotImplementedError()


def crashes(*args):
    return 1 / 0


def hangs(*args):
    while True:
        pass


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.__name__)
@pytest.mark.parametrize(
    "candidate, words",
    [
        (not_implemented, "not implemented yet"),
        (None, "expected a function"),
        (lambda *a: None, "returned None"),
        (lambda *a: [0.0], "returned a list"),
        (lambda *a: "text", "not an array"),
        (crashes, "raised ZeroDivisionError"),
    ],
    ids=["not-implemented", "none", "returns-none", "list", "string", "raises"],
)
def test_bad_candidates_get_a_message_not_a_crash(task, candidate, words):
    with pytest.raises(CheckFailed, match=words) as failure:
        task(candidate)
    assert_short(str(failure.value))


@pytest.mark.parametrize("task", CATALOGUED, ids=lambda t: t.__name__)
def test_nan_results_are_reported_as_nan(task):
    right = next(candidate for t, candidate in RIGHT if t is task)
    with pytest.raises(CheckFailed, match="NaN"):
        task(lambda *args: right(*args) * np.nan)


def test_a_hanging_candidate_is_stopped(monkeypatch):
    monkeypatch.setattr("byhand.check.core.SECONDS", 0.5)
    with pytest.raises(CheckFailed, match="no answer within"):
        check.vjp_tanh(hangs)


def test_jupyter_shows_the_message_without_a_traceback():
    failure = CheckFailed("wrong shape: expected (3,), got (3, 1)", "reread chapter 2")
    lines = failure._render_traceback_()
    assert "CheckFailed:" in lines[0] and "wrong shape" in lines[0]
    assert lines[-1] == "Hint: reread chapter 2"
    assert isinstance(failure, AssertionError)
