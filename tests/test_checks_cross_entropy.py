"""The chapter 5 exercise checks: right answers pass, classic wrong answers (including every
mistake from the source notes a task touches) fail with a message naming the problem."""

import numpy as np
import pytest
import scipy.special

from byhand import check
from byhand.check import CheckFailed
from byhand.nn import logsumexp, softmax_cross_entropy_backward, softmax_cross_entropy_forward
from catalogue import catalogue


# ---------------------------------------------------------------- helpers: right answers

def ce_loop(P, T):  # a plain double loop in float64
    total = 0.0
    for n in range(P.shape[0]):
        for k in range(P.shape[1]):
            if T[n, k] != 0:
                total -= T[n, k] * np.log(P[n, k])
    return total / P.shape[0]


def ce_xlogy(P, T):  # SciPy's xlogy is 0 where x == 0
    return -np.mean(np.sum(scipy.special.xlogy(T, P), axis=1))


def ce_grad_loop(P, T):
    G = np.zeros_like(P)
    for n in range(P.shape[0]):
        for k in range(P.shape[1]):
            G[n, k] = -T[n, k] / (P.shape[0] * P[n, k])
    return G


def ce_loss_reference(X, y):
    return softmax_cross_entropy_forward(X, y)[0]


def ce_loss_logsumexp(X, y):  # shift first, then byhand's logsumexp of the shifted logits
    z = X - X.max(axis=1, keepdims=True)
    logp = z - logsumexp(z, axis=1, keepdims=True)
    return -np.mean(logp[np.arange(len(y)), y])


def ce_loss_scipy(X, y):  # scipy.special.log_softmax shifts by the max as well
    z = X - X.max(axis=1, keepdims=True)
    logp = scipy.special.log_softmax(z, axis=1)
    return -logp[np.arange(len(y)), y].mean()


def ce_loss_loop(X, y):  # per example, in float64, then cast
    total = 0.0
    for row, label in zip(X.astype(np.float64), y):
        m = row.max()
        total += (m - row[label]) + np.log(np.sum(np.exp(row - m)))
    return X.dtype.type(total / len(y))


def ce_grad_reference(X, y):
    return softmax_cross_entropy_backward(1.0, softmax_cross_entropy_forward(X, y)[1])


def ce_grad_scipy(X, y):
    P = scipy.special.softmax(X.astype(np.float64), axis=1)
    P[np.arange(len(y)), y] -= 1
    return (P / len(y)).astype(X.dtype)


def ce_grad_exp_logp(X, y):  # p = exp(log-softmax), one-hot by comparison
    z = X - X.max(axis=1, keepdims=True)
    P = np.exp(z - logsumexp(z, axis=1, keepdims=True))
    T = (np.arange(X.shape[1]) == y[:, None]).astype(X.dtype)
    return (P - T) / X.shape[0]


def smooth_loop(labels, K, eps):
    out = np.full((len(labels), K), eps / K)
    for n, label in enumerate(labels):
        out[n, label] += 1 - eps
    return out


RIGHT = [
    (check.cross_entropy_mean, ce_loop),
    (check.cross_entropy_mean, ce_xlogy),
    (check.cross_entropy_mean,
     lambda P, T: -np.sum(np.where(T > 0, T * np.log(np.where(T > 0, P, 1)), 0)) / len(P)),
    (check.cross_entropy_grad, lambda P, T: -T / P / P.shape[0]),
    (check.cross_entropy_grad, ce_grad_loop),
    (check.cross_entropy_grad, lambda P, T: -(T / (len(P) * P))),
    (check.softmax_ce_loss, ce_loss_reference),
    (check.softmax_ce_loss, ce_loss_logsumexp),
    (check.softmax_ce_loss, ce_loss_scipy),
    (check.softmax_ce_loss, ce_loss_loop),
    (check.softmax_ce_grad, ce_grad_reference),
    (check.softmax_ce_grad, ce_grad_scipy),
    (check.softmax_ce_grad, ce_grad_exp_logp),
    (check.smooth_labels, lambda y, K, eps: (1 - eps) * np.eye(K)[y] + eps / K),
    (check.smooth_labels, smooth_loop),
    (check.smooth_labels, lambda y, K, eps: np.where(np.arange(K) == y[:, None],
                                                       1 - eps + eps / K, eps / K)),
]


# ---------------------------------------------------------------- helpers: wrong answers

def naive_ce(P, T):  # 0 * log 0 = NaN
    return -np.sum(T * np.log(P)) / P.shape[0]


def _softmax(X):
    e = np.exp(X - X.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def loss_textbook(X, y):  # exp / sum, no shift: overflows
    P = np.exp(X) / np.exp(X).sum(axis=1, keepdims=True)
    return -np.mean(np.log(P[np.arange(len(y)), y]))


def loss_log_of_softmax(X, y):  # shifted softmax, then log: log of an underflow
    return -np.mean(np.log(_softmax(X)[np.arange(len(y)), y]))


def loss_x_minus_lse(X, y):  # x - LSE(x): LSE rounded at the size of m
    logp = X - logsumexp(X, axis=1, keepdims=True)
    return -np.mean(logp[np.arange(len(y)), y])


def loss_seed_no_minus(X, y):  # the notes' E = (1/N) sum y log p, no minus sign
    z = X - X.max(axis=1, keepdims=True)
    logp = z - logsumexp(z, axis=1, keepdims=True)
    return np.mean(logp[np.arange(len(y)), y])


def loss_summed(X, y):
    return len(y) * ce_loss_logsumexp(X, y)


def loss_mean_all_entries(X, y):  # np.mean over the (N, K) array of t * log p
    z = X - X.max(axis=1, keepdims=True)
    logp = z - logsumexp(z, axis=1, keepdims=True)
    return -np.mean(np.eye(X.shape[1])[y] * logp)


def loss_per_example(X, y):
    z = X - X.max(axis=1, keepdims=True)
    logp = z - logsumexp(z, axis=1, keepdims=True)
    return -logp[np.arange(len(y)), y]


def loss_logits_as_probabilities(X, y):  # -log x_y: the logits taken for probabilities
    return -np.mean(np.log(X[np.arange(len(y)), y]))


def loss_mean_shift(X, y):  # the notes: "max vs min vs mean makes no difference"
    z = X - X.mean(axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(len(y)), y])


def grad_mean_shift(X, y):
    e = np.exp(X - X.mean(axis=1, keepdims=True))
    P = e / e.sum(axis=1, keepdims=True)
    return (P - np.eye(X.shape[1], dtype=X.dtype)[y]) / len(y)


def grad_eye_float64(X, y):  # right formula, but np.eye(K) is float64: float32 logits promoted
    return (_softmax(X) - np.eye(X.shape[1])[y]) / len(y)


def grad_seed_sign(X, y):  # the notes' (1/N)(Y - P)
    return -ce_grad_reference(X, y)


def grad_no_mean(X, y):
    return ce_grad_reference(X, y) * len(y)


def grad_forgot_softmax(X, y):  # logits - t
    return (X - np.eye(X.shape[1])[y]) / len(y)


def grad_labels_not_one_hot(X, y):  # P - y broadcasts y along each row
    return (_softmax(X) - y) / len(y)


def grad_labels_column(X, y):
    return (_softmax(X) - y[:, None]) / len(y)


def grad_naive_softmax(X, y):  # overflows at 1e4
    P = np.exp(X) / np.exp(X).sum(axis=1, keepdims=True)
    return (P - np.eye(X.shape[1], dtype=X.dtype)[y]) / len(y)


def grad_transposed(X, y):  # the notes' d_out = (dE/dA)^T
    return ce_grad_reference(X, y).T


WRONG = [
    # cross_entropy_mean
    (check.cross_entropy_mean, lambda P, T: np.sum(T * np.log(P)) / len(P), "wrong sign"),
    (check.cross_entropy_mean, lambda P, T: -np.sum(T * np.log(P)), "summed over the batch"),
    (check.cross_entropy_mean, lambda P, T: -np.mean(T * np.log(P)), "K times too small"),
    (check.cross_entropy_mean, lambda P, T: -np.sum(T * np.log10(P)) / len(P), "ln 10"),
    (check.cross_entropy_mean, lambda P, T: -np.sum(T * np.log(P), axis=1), "return one number"),
    (check.cross_entropy_mean, naive_ce, "0 * log(0)"),
    (check.cross_entropy_mean, lambda P, T: np.nan * ce_xlogy(P, T), "NaN"),
    # cross_entropy_grad (the notes' "D_p CE = -sum q_i / p_i" is a number)
    (check.cross_entropy_grad, lambda P, T: -np.sum(T / P), "single number"),
    (check.cross_entropy_grad, lambda P, T: T / P / len(P), "wrong sign"),
    (check.cross_entropy_grad, lambda P, T: -T / P, "1/N of the mean is missing"),
    (check.cross_entropy_grad, lambda P, T: -1 / P / len(P), "ignores the targets"),
    (check.cross_entropy_grad, lambda P, T: -T / P / P.size, "K times too small"),
    (check.cross_entropy_grad, lambda P, T: (-T / P / len(P)).T, "wrong shape"),
    (check.cross_entropy_grad, lambda P, T: np.full_like(P, np.nan), "NaN"),
    # softmax_ce_loss
    (check.softmax_ce_loss, loss_textbook, "overflowed"),
    (check.softmax_ce_loss, loss_log_of_softmax, "underflowed"),
    (check.softmax_ce_loss, loss_x_minus_lse, "only accurate to about 3 digits"),
    (check.softmax_ce_loss, loss_seed_no_minus, "wrong sign"),
    (check.softmax_ce_loss, loss_summed, "summed over the batch"),
    (check.softmax_ce_loss, loss_mean_all_entries, "K times too small"),
    (check.softmax_ce_loss, loss_per_example, "return one number"),
    (check.softmax_ce_loss, lambda X, y: ce_loss_logsumexp(X, y).astype(np.float64), "dtype"),
    (check.softmax_ce_loss, lambda X, y: np.nan * ce_loss_logsumexp(X, y), "NaN"),
    (check.softmax_ce_loss, loss_logits_as_probabilities,
     "the cross-entropy of the logits themselves"),
    (check.softmax_ce_loss, loss_mean_shift, "a mean shift overflows"),
    # softmax_ce_grad
    (check.softmax_ce_grad, grad_seed_sign, "wrong sign"),
    (check.softmax_ce_grad, grad_no_mean, "1/N of the batch mean is missing"),
    (check.softmax_ce_grad, grad_forgot_softmax, "forgot the softmax"),
    (check.softmax_ce_grad, lambda X, y: X - np.eye(X.shape[1])[y], "forgot the softmax"),
    (check.softmax_ce_grad, grad_labels_not_one_hot, "subtracted the labels themselves"),
    (check.softmax_ce_grad, grad_labels_column, "labels as a column"),
    (check.softmax_ce_grad, grad_naive_softmax, "shift the logits by their row max"),
    (check.softmax_ce_grad, grad_transposed, "transposed"),
    (check.softmax_ce_grad, lambda X, y: grad_transposed(X, y) if len(y) != X.shape[1]
     else ce_grad_reference(X, y), "transposed"),
    (check.softmax_ce_grad, lambda X, y: np.nan * ce_grad_reference(X, y), "NaN"),
    (check.softmax_ce_grad, grad_mean_shift, "shift the logits by their row max"),
    (check.softmax_ce_grad, grad_eye_float64, "np.eye(K, dtype=logits.dtype)"),
    # smooth_labels
    (check.smooth_labels, lambda y, K, eps: np.eye(K)[y] + eps / K, "sum to 1 + eps"),
    (check.smooth_labels, lambda y, K, eps: (1 - eps) * np.eye(K)[y], "forgot to add eps / K"),
    (check.smooth_labels, lambda y, K, eps: (1 - eps) * np.eye(K)[y] + eps, "added eps to every"),
    (check.smooth_labels,
     lambda y, K, eps: (1 - eps) * np.eye(K)[y] + eps / (K - 1) * (1 - np.eye(K)[y]),
     "another convention"),
    (check.smooth_labels, lambda y, K, eps: np.eye(K)[y], "wrong value"),
    (check.smooth_labels, lambda y, K, eps: np.nan * np.eye(K)[y], "NaN"),
]


test_right_answers_pass, test_wrong_answers_are_named = catalogue(RIGHT, WRONG)


def test_every_task_has_three_wrong_answers_and_a_right_one():
    for name in check.ch05_cross_entropy.__all__:
        task = getattr(check, name)
        assert sum(t is task for t, _, _ in WRONG) >= 3, name
        assert sum(t is task for t, _ in RIGHT) >= 2, name
