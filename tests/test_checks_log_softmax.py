"""The chapter 4 checks: right answers pass (several ways), classic wrong answers (including every
mistake of the course notes that a task touches) fail with a message naming the problem, and NaN
answers are reported as NaN."""

import numpy as np
import pytest
import scipy.special

from byhand import check
from byhand.check import CheckFailed
from byhand.nn import log_softmax, log_softmax_backward, logsumexp
from catalogue import catalogue

TASKS = [check.log_softmax_vector, check.log_softmax_rows, check.log_softmax_jacobian,
         check.log_softmax_vjp, check.nll_from_logp]


# ---------------------------------------------------------------- right answers, several ways

def vector_by_loop(x):  # a plain loop in float64, then x's dtype
    finite = [float(v) for v in x if np.isfinite(v)]
    m = max(finite)
    log_sum = np.log(sum(np.exp(v - m) for v in finite))
    return np.array([(float(v) - m) - log_sum for v in x], dtype=x.dtype)


def rows_by_loop(X):
    return np.array([vector_by_loop(row) for row in X], dtype=X.dtype)


def rows_with_logaddexp(X):  # log of the shifted sum by pairwise logaddexp: other algebra
    shifted = X - X.max(axis=1, keepdims=True)
    log_sum = np.logaddexp.reduce(shifted, axis=1, keepdims=True)
    return shifted - log_sum


def jacobian_by_entries(x):  # entry by entry: delta_ik - s_k
    s = np.exp(log_softmax(x))
    n = x.size
    return np.array([[(1.0 if i == k else 0.0) - s[k] for k in range(n)] for i in range(n)])


def jacobian_by_differences(x, h=1e-6):  # centered differences, row i = output i
    n = x.size
    J = np.zeros((n, n))
    for k in range(n):
        e = np.zeros(n)
        e[k] = h
        J[:, k] = (log_softmax(x + e) - log_softmax(x - e)) / (2 * h)
    return J


def vjp_by_loop(dout, logp):  # z_k = v_k - s_k * sum_i v_i, with every i
    out = np.empty_like(dout)
    for r in range(dout.shape[0]):
        total = sum(dout[r])
        for k in range(dout.shape[1]):
            out[r, k] = dout[r, k] - np.exp(logp[r, k]) * total
    return out


def vjp_through_jacobians(dout, logp):  # J^T v per row, with the small Jacobian (checking only)
    rows = []
    for v, y in zip(dout, logp):
        s = np.exp(y)
        J = np.eye(y.size) - np.outer(np.ones(y.size), s)
        rows.append(J.T @ v)
    return np.array(rows, dtype=np.result_type(dout, logp))


def nll_with_take(logp, y):
    return -np.take_along_axis(logp, y[:, None], axis=1).mean()


def nll_with_one_hot(logp, y):  # -sum(t * logp) / N with a one-hot t, avoiding 0 * -inf
    t = np.eye(logp.shape[1])[y]
    return -np.sum(np.where(t == 1, logp, 0.0)) / len(y)


def log_softmax_rows_mean_shift(X):  # the notes: "max vs min vs mean makes no difference"
    Z = X - X.mean(axis=1, keepdims=True)
    return Z - np.log(np.sum(np.exp(Z), axis=1, keepdims=True))


RIGHT = [
    (check.log_softmax_vector, log_softmax),
    (check.log_softmax_vector, vector_by_loop),
    (check.log_softmax_vector, lambda x: scipy.special.log_softmax(x).astype(x.dtype)),
    (check.log_softmax_rows, lambda X: log_softmax(X, axis=1)),
    (check.log_softmax_rows, rows_by_loop),
    (check.log_softmax_rows, rows_with_logaddexp),
    (check.log_softmax_rows, lambda X: scipy.special.log_softmax(X, axis=1).astype(X.dtype)),
    (check.log_softmax_jacobian, jacobian_by_entries),
    (check.log_softmax_jacobian, jacobian_by_differences),
    (check.log_softmax_jacobian,
     lambda x: np.eye(x.size) - np.ones((x.size, 1)) * scipy.special.softmax(x)[None, :]),
    (check.log_softmax_vjp, log_softmax_backward),
    (check.log_softmax_vjp, vjp_by_loop),
    (check.log_softmax_vjp, vjp_through_jacobians),
    (check.nll_from_logp, lambda logp, y: -np.mean(logp[np.arange(len(y)), y])),
    (check.nll_from_logp, nll_with_take),
    (check.nll_from_logp, nll_with_one_hot),
]


# ---------------------------------------------------------------- wrong answers, named

def softmax_then_log(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return np.log(e / e.sum(axis=-1, keepdims=True))


def rows_global_max(X):
    g = X.max()
    return (X - g) - np.log(np.sum(np.exp(X - g), axis=1, keepdims=True))


def rows_in_place(X):
    X -= X.max(axis=1, keepdims=True)
    X -= np.log(np.sum(np.exp(X), axis=1, keepdims=True))
    return X


def vjp_dropped_term(dout, logp):  # the course notes: z_i = v_i - s_i * sum_{j != i} v_j
    s = np.exp(logp)
    return dout - s * (dout.sum(axis=1, keepdims=True) - dout)


def vjp_transposed(dout, logp):  # J v instead of J^T v: rows and columns swapped
    s = np.exp(logp)
    return dout - np.sum(s * dout, axis=1, keepdims=True)


def vjp_full_jacobians(dout, logp):  # returns the Jacobians themselves, (N, K, K)
    s = np.exp(logp)
    return np.eye(logp.shape[1])[None] - s[:, None, :]


def s_of(x):
    return np.exp(log_softmax(x))


WRONG = [
    # log_softmax_vector
    (check.log_softmax_vector, lambda x: np.log(np.exp(x) / np.sum(np.exp(x))), "NaN"),
    (check.log_softmax_vector, softmax_then_log, "underflowed to 0 before the log"),
    (check.log_softmax_vector, lambda x: x - np.max(x), "forgot to subtract log(sum(exp(x - m)))"),
    (check.log_softmax_vector, lambda x: np.exp(log_softmax(x)), "probabilities"),
    (check.log_softmax_vector, lambda x: -log_softmax(x), "flipped sign"),
    (check.log_softmax_vector, lambda x: log_softmax(x.astype(np.float64)), "wrong dtype"),
    (check.log_softmax_vector, lambda x: x - np.log(np.sum(np.exp(x))), "exp overflowed"),
    (check.log_softmax_vector, lambda x: (x - x.mean()) - np.log(np.sum(np.exp(x - x.mean()))),
     "a mean shift overflows"),
    # log_softmax_rows
    (check.log_softmax_rows, log_softmax_rows_mean_shift, "a mean shift overflows"),
    (check.log_softmax_rows, lambda X: X - logsumexp(X, axis=1, keepdims=True),
     "like x - logsumexp(x)"),
    (check.log_softmax_rows, rows_global_max, "one shift for all rows"),
    (check.log_softmax_rows, lambda X: log_softmax(X, axis=0), "normalized the columns"),
    (check.log_softmax_rows, lambda X: log_softmax(X, axis=1)[:, :1], "wrong shape"),
    (check.log_softmax_rows, rows_in_place, "changed its input in place"),
    (check.log_softmax_rows, lambda X: softmax_then_log(X), "underflowed to 0 before the log"),
    (check.log_softmax_rows, lambda X: log_softmax(X.astype(np.float32), axis=1)
     .astype(X.dtype), "wrong value"),
    # log_softmax_jacobian (the notes' derivation slips, and the softmax's Jacobian)
    (check.log_softmax_jacobian, lambda x: np.eye(x.size) - np.outer(s_of(x), np.ones(x.size)),
     "the transpose"),
    (check.log_softmax_jacobian, lambda x: np.diag(s_of(x)) - np.outer(s_of(x), s_of(x)),
     "Jacobian of the softmax"),
    (check.log_softmax_jacobian, lambda x: np.eye(x.size) + np.outer(np.ones(x.size), s_of(x)),
     "quotient rule written with a plus"),
    (check.log_softmax_jacobian, lambda x: np.outer(np.ones(x.size), 1 - s_of(x)),
     "numerator e^{x_i} does not depend on x_k"),
    (check.log_softmax_jacobian, lambda x: np.eye(x.size) - np.diag(s_of(x)), "only the diagonal"),
    (check.log_softmax_jacobian, lambda x: -np.outer(np.ones(x.size), s_of(x)),
     "the identity (from d x_i / d x_k) is missing"),
    (check.log_softmax_jacobian, lambda x: 1 - s_of(x), "(n, n) matrix"),
    (check.log_softmax_jacobian,
     lambda x: np.eye(x.size) - np.outer(np.ones(x.size), np.exp(x) / np.exp(x).sum()), "NaN"),
    # log_softmax_vjp: the notes' z_i = v_i - s_i sum_{j != i} v_j, and the row/column swap
    (check.log_softmax_vjp, vjp_dropped_term, "you dropped the term -s_i v_i"),
    (check.log_softmax_vjp, vjp_transposed, "rows and columns swapped"),
    (check.log_softmax_vjp, lambda dout, logp: dout - np.exp(logp), "the factor sum(v) is missing"),
    (check.log_softmax_vjp, lambda dout, logp: np.exp(logp) * vjp_transposed(dout, logp),
     "VJP of the softmax"),
    (check.log_softmax_vjp,
     lambda dout, logp: dout - np.exp(logp) * dout.sum(axis=0, keepdims=True),
     "summed over the batch"),
    (check.log_softmax_vjp, lambda dout, logp: dout - logp * dout.sum(axis=1, keepdims=True),
     "exp(logp)"),
    (check.log_softmax_vjp, lambda dout, logp: -log_softmax_backward(dout, logp), "flipped sign"),
    (check.log_softmax_vjp, vjp_full_jacobians, "that is the Jacobian"),
    (check.log_softmax_vjp,
     lambda dout, logp: log_softmax_backward(dout, logp).astype(np.float64), "wrong dtype"),
    # nll_from_logp (the notes' cross-entropy without its minus sign)
    (check.nll_from_logp, lambda logp, y: np.mean(logp[np.arange(len(y)), y]),
     "the minus sign is missing"),
    (check.nll_from_logp, lambda logp, y: -np.sum(logp[np.arange(len(y)), y]), "divide by N"),
    (check.nll_from_logp, lambda logp, y: -np.mean(logp[:, y]), "logp[np.arange(N), y]"),
    (check.nll_from_logp, lambda logp, y: -np.mean(logp), "mean over all classes"),
    (check.nll_from_logp,
     lambda logp, y: -np.mean(np.log(np.exp(logp[np.arange(len(y)), y]))), "went back to "
     "probabilities"),
    (check.nll_from_logp,
     lambda logp, y: -np.mean(np.log10(np.exp(logp)[np.arange(len(y)), y])), "base 10"),
    (check.nll_from_logp, lambda logp, y: -logp[np.arange(len(y)), y], "one number"),
]


test_right_answers_pass, test_wrong_answers_are_named = catalogue(RIGHT, WRONG)


def test_every_task_has_three_named_wrong_answers_and_two_right_ones():
    for task in TASKS:
        assert sum(t is task for t, _, _ in WRONG) >= 3, task.__name__
        assert sum(t is task for t, _ in RIGHT) >= 2, task.__name__


def test_every_task_is_exported():
    for task in TASKS:
        assert task.__name__ in check.__all__


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.__name__)
def test_nan_results_are_reported_as_nan(task):
    right = next(candidate for t, candidate in RIGHT if t is task)
    with np.errstate(all="ignore"), pytest.raises(CheckFailed, match="NaN"):
        task(lambda *args: right(*args) * np.nan)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.__name__)
def test_hints_name_a_section_of_chapter_4(task):
    with np.errstate(all="ignore"), pytest.raises(CheckFailed) as failure:
        task(lambda *args: np.zeros(np.shape(args[0])) + 0.123)
    assert "reread chapter 4" in str(failure.value)


def test_the_seed_vjp_differs_by_exactly_s_times_v():
    """The dropped term of the notes' VJP is s_i v_i, entry by entry."""
    rng = np.random.default_rng(0)
    logp, v = log_softmax(rng.normal(size=(3, 4))), rng.normal(size=(3, 4))
    np.testing.assert_allclose(vjp_dropped_term(v, logp) - log_softmax_backward(v, logp),
                               np.exp(logp) * v, atol=1e-15)
