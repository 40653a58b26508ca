"""The chapter 3 checks: right answers pass, classic wrong answers (including every mistake of the
course notes that a task touches) fail with a message naming the problem, NaN answers are
reported as NaN."""

import numpy as np
import pytest
import scipy.special

from byhand import check
from byhand.check import CheckFailed
from byhand.nn import softmax, softmax_backward
from catalogue import catalogue

TASKS = [check.softmax_rows, check.softmax_jacobian, check.softmax_vjp, check.softmax_masked,
         check.softmax_temperature]


# ---------------------------------------------------------------- right answers, several ways

def rows_by_loop(X):  # a plain loop over rows and entries, float64 inside, X's dtype out
    out = np.empty(X.shape, dtype=X.dtype)
    for k, row in enumerate(X):
        m = max(float(v) for v in row)
        terms = [np.exp(float(v) - m) for v in row]
        total = sum(terms)
        out[k] = [t / total for t in terms]
    return out


def rows_via_log(X):  # the notes' "final form": exp(x - c - log sum exp(x - c)), c = max
    c = X.max(axis=1, keepdims=True)
    return np.exp(X - c - np.log(np.sum(np.exp(X - c), axis=1, keepdims=True)))


def jacobian_by_cases(x):  # the two cases i = j and i != j, entry by entry
    s = softmax(x)
    n = len(s)
    J = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            J[i, j] = s[i] - s[i] ** 2 if i == j else -s[i] * s[j]
    return J


def jacobian_by_differences(x, h=1e-6):  # centered differences: right to about 1e-10
    return np.array([(softmax(x + h * e) - softmax(x - h * e)) / (2 * h)
                     for e in np.eye(len(x))]).T


def vjp_by_loop(dout, s):  # row by row, entry by entry, in O(n) per row
    out = np.zeros_like(dout)
    for k in range(dout.shape[0]):
        inner = sum(float(v) * float(p) for v, p in zip(dout[k], s[k]))   # <v, s>
        for i in range(dout.shape[1]):
            out[k, i] = s[k, i] * (dout[k, i] - inner)
    return out


def vjp_einsum(dout, s):
    return s * (dout - np.einsum("ij,ij->i", dout, s)[:, None])


def masked_with_where(X):
    finite = np.isfinite(X).any(axis=1, keepdims=True)          # (N, 1)
    m = np.where(finite, X.max(axis=1, keepdims=True), 0)
    e = np.exp(X - m)
    total = e.sum(axis=1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def masked_mean_of_finite(X):  # a mean shift over the unmasked entries of each row
    finite = np.isfinite(X)
    count = np.maximum(finite.sum(axis=1, keepdims=True), 1)
    m = (np.where(finite, X, 0).sum(axis=1, keepdims=True) / count).astype(X.dtype)
    e = np.exp(X - m)
    total = e.sum(axis=1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def temperature_mean_shift(X, T):
    Z = X / X.dtype.type(T)
    e = np.exp(Z - Z.mean(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def temperature_shift_first(X, T):  # shift by the max, then divide: (x - m)/T = x/T - m/T
    e = np.exp((X - X.max(axis=1, keepdims=True)) / X.dtype.type(T))
    return e / e.sum(axis=1, keepdims=True)


RIGHT = [
    (check.softmax_rows, lambda X: softmax(X, axis=1)),
    (check.softmax_rows, rows_by_loop),
    (check.softmax_rows, lambda X: scipy.special.softmax(X, axis=1).astype(X.dtype)),
    (check.softmax_rows, rows_via_log),
    (check.softmax_jacobian, lambda x: np.diag(softmax(x)) - np.outer(softmax(x), softmax(x))),
    (check.softmax_jacobian, jacobian_by_cases),
    (check.softmax_jacobian, lambda x: softmax(x)[:, None] * (np.eye(len(x)) - softmax(x))),
    (check.softmax_vjp, softmax_backward),
    (check.softmax_vjp, vjp_by_loop),
    (check.softmax_vjp, vjp_einsum),
    (check.softmax_masked, lambda X: np.nan_to_num(softmax(X, axis=1), nan=0.0)),
    (check.softmax_masked, masked_with_where),   # exp(-746) underflows to 0: no mistake
    (check.softmax_temperature, lambda X, T: softmax(X / T, axis=1)),
    (check.softmax_temperature, temperature_shift_first),
    (check.softmax_temperature,
     lambda X, T: scipy.special.softmax(X / T, axis=1).astype(X.dtype)),
]


# ---------------------------------------------------------------- wrong answers, each named

def naive_rows(X):
    e = np.exp(X)
    return e / e.sum(axis=1, keepdims=True)


def shifted_rows(X, a):
    e = np.exp(X - a)
    return e / e.sum(axis=1, keepdims=True)


def no_keepdims_rows(X):
    e = np.exp(X - X.max(axis=1))
    return e / e.sum(axis=1, keepdims=True)


def in_place_rows(X):
    X -= X.max(axis=1, keepdims=True)
    np.exp(X, out=X)
    X /= X.sum(axis=1, keepdims=True)
    return X


def jacobian_notes_off_diagonal(x):  # the notes: ds_i/dx_l = -e^{x_l} e^{x_l} / S^2
    s = softmax(x)
    J = -np.tile(s ** 2, (len(s), 1))
    np.fill_diagonal(J, s - s ** 2)
    return J


def jacobian_naive(x):
    s = np.exp(x) / np.exp(x).sum()
    return np.diag(s) - np.outer(s, s)


def jacobian_quotient_rule_slip(x):
    """The notes' quotient rule (1/v) dv - (v/v^2) dv is identically 0 on the diagonal."""
    s = softmax(x)
    J = -np.outer(s, s)
    np.fill_diagonal(J, 0.0)
    return J


def vjp_notes_sigma_j_twice(dout, s):  # z_i = -sum_{j != i} v_j s_j s_j + v_i s_i - v_i s_i^2
    off = np.sum(dout * s * s, axis=1, keepdims=True) - dout * s * s
    return -off + dout * s - dout * s * s


def vjp_by_jacobian(dout, s):  # right numbers, but an n x n matrix per row
    return np.array([(np.diag(r) - np.outer(r, r)).T @ v for v, r in zip(dout, s)])


def vjp_in_place(dout, s):
    dout -= np.sum(dout * s, axis=1, keepdims=True)
    dout *= s
    return dout


def masked_minus_1e9(X):
    return softmax(np.where(np.isneginf(X), -1e9, X), axis=1)


def masked_zeros_for_masks(X):
    return np.nan_to_num(softmax(np.where(np.isneginf(X), 0.0, X), axis=1))


def masked_with_warnings(X):
    m = X.max(axis=1, keepdims=True)
    e = np.exp(X - m)                      # -inf - (-inf) = NaN: NumPy warns
    return np.nan_to_num(e / e.sum(axis=1, keepdims=True))


def temperature_power(X, T):
    p = softmax(X, axis=1) ** (1 / T)
    return p / p.sum(axis=1, keepdims=True)


def temperature_naive(X, T):
    e = np.exp(X / T)
    return e / e.sum(axis=1, keepdims=True)


WRONG = [
    # softmax_rows; the notes claim "max vs min vs mean makes no difference"
    (check.softmax_rows, naive_rows, "the naive formula"),
    (check.softmax_rows, lambda X: shifted_rows(X, X.mean(axis=1, keepdims=True)), "row mean"),
    (check.softmax_rows, lambda X: shifted_rows(X, X.min(axis=1, keepdims=True)), "row min"),
    (check.softmax_rows, lambda X: shifted_rows(X, X.max()), "one shift for the whole batch"),
    (check.softmax_rows, no_keepdims_rows, "without keepdims=True"),
    (check.softmax_rows, lambda X: softmax(X, axis=0), "columns sum to 1"),
    (check.softmax_rows, lambda X: np.exp(X - X.max(axis=1, keepdims=True)),
     "rows do not sum to 1"),
    (check.softmax_rows, lambda X: softmax(X.astype(np.float64), axis=1), "wrong dtype"),
    (check.softmax_rows, in_place_rows, "changed its input in place"),
    # softmax_jacobian; the notes' off-diagonal -e^{x_l} e^{x_l}/S^2 and the quotient-rule slip
    (check.softmax_jacobian, jacobian_notes_off_diagonal, "-s_j^2"),
    (check.softmax_jacobian, lambda x: -np.outer(softmax(x), softmax(x)), "diagonal is missing"),
    (check.softmax_jacobian, jacobian_quotient_rule_slip, "quotient rule"),
    (check.softmax_jacobian, lambda x: np.diag(softmax(x) * (1 - softmax(x))),
     "only the diagonal"),
    (check.softmax_jacobian, lambda x: np.outer(softmax(x), softmax(x)) - np.diag(softmax(x)),
     "sign is flipped"),
    (check.softmax_jacobian, lambda x: np.diag(softmax(x)) + np.outer(softmax(x), softmax(x)),
     "outer product has the wrong sign"),
    (check.softmax_jacobian, lambda x: np.eye(len(x)) - softmax(x)[None, :],
     "Jacobian of log(softmax(x))"),
    (check.softmax_jacobian, jacobian_naive, "max shift first"),
    (check.softmax_jacobian, lambda x: softmax(x) * (1 - softmax(x)), "a vector"),
    # softmax_vjp; the notes' -sum_{j != i} v_j s_j s_j
    (check.softmax_vjp, vjp_notes_sigma_j_twice, "s_j twice"),
    (check.softmax_vjp, lambda v, s: v * s * (1 - s), "treated as elementwise"),
    (check.softmax_vjp, lambda v, s: s * (v - v.sum(axis=1, keepdims=True)), "lost its weights"),
    (check.softmax_vjp, lambda v, s: v - np.sum(v * s, axis=1, keepdims=True),
     "factor s is missing"),
    (check.softmax_vjp, lambda v, s: s * (np.sum(v * s, axis=1, keepdims=True) - v),
     "sign is flipped"),
    (check.softmax_vjp, lambda v, s: s * (v - np.sum(v * s)), "whole batch"),
    (check.softmax_vjp, lambda v, s: s * (v - np.sum(v * s, axis=0, keepdims=True)), "axis 0"),
    (check.softmax_vjp, lambda v, s: s * (v - np.sum(v * s, axis=1)), "without keepdims"),
    (check.softmax_vjp, vjp_by_jacobian, "build the 2000 x 2000 Jacobian"),
    (check.softmax_vjp, vjp_in_place, "changed its input in place"),
    # softmax_masked
    (check.softmax_masked, lambda X: softmax(X, axis=1), "NaN for a row of only -inf"),
    (check.softmax_masked, masked_minus_1e9, "came back uniform"),
    (check.softmax_masked, masked_zeros_for_masks, "masked entries (-inf) got a probability"),
    (check.softmax_masked, masked_with_warnings, "NumPy would warn"),
    (check.softmax_masked, masked_mean_of_finite, "a mean shift overflows"),
    (check.softmax_temperature, temperature_mean_shift, "overflows"),
    # softmax_temperature
    (check.softmax_temperature, lambda X, T: softmax(X * T, axis=1), "softmax(T * x)"),
    (check.softmax_temperature, lambda X, T: softmax(X, axis=1) / T, "divided the probabilities"),
    (check.softmax_temperature, temperature_power, "power 1/T"),
    (check.softmax_temperature, temperature_naive, "overflow at a small temperature"),
    (check.softmax_temperature, lambda X, T: softmax(X, axis=1), "temperature is ignored"),
]


test_right_answers_pass, test_wrong_answers_are_named = catalogue(RIGHT, WRONG, chapter=3)


def test_every_task_has_at_least_three_named_wrong_answers_and_two_right_ones():
    for task in TASKS:
        assert sum(t is task for t, _, _ in WRONG) >= 3, task.__name__
        assert sum(t is task for t, _ in RIGHT) >= 2, task.__name__


def test_every_task_is_exported():
    assert [t.__name__ for t in TASKS] == check.ch03_softmax.__all__


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.__name__)
def test_nan_results_are_reported_as_nan(task):
    right = next(candidate for t, candidate in RIGHT if t is task)
    with pytest.raises(CheckFailed, match="NaN"):
        task(lambda *args: right(*args) * np.nan)


def test_the_notes_quotient_rule_gives_zero_on_the_diagonal():
    """(1/v) dv/dx - (v/v^2) dv/dx = 0: the slip in the notes, caught by the Jacobian check."""
    J = jacobian_quotient_rule_slip(np.array([0.5, -1.0, 2.0]))
    assert np.all(np.diag(J) == 0)
