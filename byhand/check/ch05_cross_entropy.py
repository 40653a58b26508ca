"""Checks for the exercises of chapter 5: cross-entropy, from probabilities and from logits."""

import numpy as np

from ..nn.cross_entropy import softmax_cross_entropy_backward, softmax_cross_entropy_forward
from .core import (CheckFailed, call, case, describe, dims, expect_array, fresh_rng, passed,
                   seeded, task)

__all__ = ["cross_entropy_mean", "cross_entropy_grad", "softmax_ce_loss", "softmax_ce_grad",
           "smooth_labels"]

HINT_DEF = "reread chapter 5, section 5.1 'Cross-entropy of probabilities'."
HINT_BLOWUP = "reread chapter 5, section 5.2 'The blow-up as p -> 0'."
HINT_PT = ("reread chapter 5, section 5.3 'Softmax followed by cross-entropy: the gradient "
           "p - t'.")
HINT_MEAN = "reread chapter 5, section 5.4 'The batch mean and its 1/N'."
HINT_SIGN = "reread chapter 5, section 5.5 'The sign convention: a loss is minimized'."
HINT_SOFT = ("reread chapter 5, section 5.7 'Soft targets: label smoothing, and targets that do "
             "not sum to 1'.")
HINT_STABLE = ("reread chapter 5, section 5.8 'A cross-entropy from logits that stays finite "
               "and accurate'.")
RTOL = {np.float32: 1e-5, np.float64: 1e-10}


def _close(got, value, rtol=1e-6):
    """Is `got` an array of value's shape holding (almost) `value`?"""
    try:
        got = np.asarray(got, dtype=np.float64)
        value = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return (got.shape == value.shape and np.all(np.isfinite(got))
            and np.allclose(got, value, rtol=rtol, atol=1e-12))


def _name_mistakes(got, variants, inputs):
    """Raise CheckFailed naming the first variant (value, message, hint) that `got` matches."""
    for value, message, hint in variants:
        if _close(got, value):
            raise CheckFailed(f"{message}\n  input: {inputs}", hint)


def _scalar(got, inputs, hint):
    """A scalar loss: reject arrays of per-example losses with a clear message."""
    if isinstance(got, np.ndarray) and got.ndim >= 1 and got.size > 1:
        raise CheckFailed(
            f"your function returned an array of shape {got.shape}; return one number, the mean "
            f"of the per-example losses over the batch\n  input: {inputs}", hint)
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.reshape(())
    return got


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------- task 1


def _prob_cases():
    rng = fresh_rng(50)
    N, K = dims(rng, 6, 4, low=2)
    P = rng.uniform(0.05, 1, size=(N, K))
    P /= P.sum(axis=1, keepdims=True)
    soft = rng.uniform(0, 1, size=(N, K))
    soft /= soft.sum(axis=1, keepdims=True)
    big = rng.uniform(0.01, 1, size=(300, 10))
    big /= big.sum(axis=1, keepdims=True)
    return [
        ("one-hot targets", P,
         np.eye(K)[[0, 3, 1, 1, 2, 0] if seeded() is None else rng.integers(0, K, N)]),
        ("soft targets", P, soft),
        ("a single example (N = 1)", P[:1], soft[:1]),
        ("a batch of 300 examples, K = 10", big, np.eye(10)[rng.integers(0, 10, 300)]),
        ("p = 0 where t = 0 (0 log 0 counts as 0, not NaN)",
         np.array([[0.5, 0.5, 0.0], [0.0, 0.25, 0.75]]),
         np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])),
    ]


def _reference_ce(P, T):
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.sum(np.where(T == 0, 0, T * np.log(P))) / P.shape[0]


@task(hints=(
    "Reread chapter 5, section 5.1 'Cross-entropy of probabilities' and section 5.4 'The batch "
    "mean and its 1/N': one loss per row, a sum over the K classes, then a mean over the N rows.",
    "Multiply the targets by the natural log of the probabilities entry by entry, sum "
    "everything, negate, divide by N (not by N times K). Where a target is 0 the term must be 0 "
    "even if its probability is 0 too: choose 0 there instead of the product.",
))
def cross_entropy_mean(candidate):
    """candidate(P, T) -> the mean over the N rows of -sum_k T log P, a scalar."""
    for name, P, T in _prob_cases():
        with np.errstate(divide="ignore", invalid="ignore"):
            got = call(candidate, P, T, hint=HINT_DEF)
        inputs = f"P = {describe(P)}, T = {describe(T)}"
        expected = _reference_ce(P, T)
        N, K = P.shape
        with case(name):
            got = _scalar(got, inputs, HINT_MEAN)
            variants = [
                (-expected, "your loss has the wrong sign: a loss is -sum t log p, which is "
                 ">= 0 (without the minus it is the log-likelihood)", HINT_SIGN),
                (expected / K, "your loss is K times too small: np.mean over all N*K entries "
                 "also averages over the classes; sum over the classes, then divide by N",
                 HINT_MEAN),
                (expected / np.log(10), "your loss is the natural one divided by ln 10: use "
                 "np.log, not np.log10", HINT_DEF),
            ]
            if N > 1:
                variants.append((N * expected, "your loss is N times too large: you summed over "
                                 "the batch where the loss is a mean over the N rows: divide "
                                 "by N", HINT_MEAN))
            _name_mistakes(got, variants, inputs)
            if (isinstance(got, (float, np.generic, np.ndarray)) and np.ndim(got) == 0
                    and np.isnan(got) and "0 log 0" in name):
                raise CheckFailed(
                    f"your loss is NaN: 0 * log(0) = 0 * -inf is NaN in floating point; terms "
                    f"with t = 0 must count as 0 (use np.where(T == 0, 0, T * np.log(P)))\n"
                    f"  input: {inputs}", HINT_DEF)
            expect_array(got, expected, inputs=inputs, hint=HINT_DEF, rtol=1e-10,
                         check_dtype=False)
    passed("cross_entropy_mean", "one-hot and soft targets, batches of 1 to 300, 0 log 0 = 0")


# ---------------------------------------------------------------- task 2


@task(hints=(
    "Reread chapter 5, section 5.1 'Cross-entropy of probabilities' and section 5.4: each entry "
    "of P appears in exactly one term of the loss.",
    "Differentiate minus t log p over N with respect to p: minus t over p, over N. Do it for "
    "every entry at once; the result has the shape of P.",
))
def cross_entropy_grad(candidate):
    """candidate(P, T) -> the gradient of the mean cross-entropy with respect to P, shape (N, K)."""
    for name, P, T in _prob_cases()[:4]:
        got = call(candidate, P, T, hint=HINT_DEF)
        inputs = f"P = {describe(P)}, T = {describe(T)}"
        N = P.shape[0]
        expected = -T / P / N
        with case(name):
            if isinstance(got, (int, float, np.generic, np.ndarray)) and np.ndim(got) == 0:
                raise CheckFailed(
                    f"your function returned a single number; the gradient of the loss with "
                    f"respect to P has one entry per entry of P, shape {P.shape} (adding the "
                    f"entries up throws that information away)\n  input: {inputs}", HINT_DEF)
            _name_mistakes(got, [
                (-expected, "your gradient has the wrong sign: d(-t log p)/dp = -t/p", HINT_SIGN),
                (N * expected, "your gradient is N times too large: the 1/N of the mean is "
                 "missing", HINT_MEAN),
                (-1 / P / N, "your gradient ignores the targets: it is -t/p, so entries with "
                 "t = 0 are 0", HINT_DEF),
                (expected / P.shape[1], "your gradient is K times too small: divide by N, the "
                 "number of rows, not by N*K", HINT_MEAN),
            ] if N > 1 else [(-expected, "your gradient has the wrong sign: d(-t log p)/dp = "
                              "-t/p", HINT_SIGN)], inputs)
            expect_array(got, expected, inputs=inputs, hint=HINT_DEF, rtol=1e-10)
    passed("cross_entropy_grad", "-T / P / N on one-hot and soft targets, shape (N, K)")


# ---------------------------------------------------------------- task 3


def _logit_cases():
    rng = fresh_rng(51)
    sq = dims(rng, 3, low=2)[0]
    n1, k1 = dims(rng, 5, 4, low=2)
    n2, k2 = dims(rng, 8, 6, low=2)
    extreme = np.array([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0], [1e4, 1e4 - 1, 1e4 - 2],
                        [-1e4, -1e4, -1e4], [1.0, 2.0, 3.0]], dtype=np.float32)
    return [
        (f"square logits, N = K = {sq}", rng.normal(size=(sq, sq)),
         np.array([2, 0, 1]) if seeded() is None else rng.permutation(sq)),
        ("random float64 logits", rng.normal(size=(n1, k1)) * 3, rng.integers(0, k1, n1)),
        ("random float32 logits", (rng.normal(size=(n2, k2)) * 5).astype(np.float32),
         rng.integers(0, k2, n2)),
        ("float32 logits of +-1e4 (a naive softmax or a mean shift overflows, log(p) of an "
         "underflow is -inf)",
         extreme, np.array([1, 0, 1, 2, 0])),
        ("float64 logits of +-1e4, correct class the smallest",
         np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 5e3]]), np.array([2, 0])),
        ("float32 logits near 1e4 (x - logsumexp(x) rounds LSE at the size of 1e4)",
         np.array([[1e4, 1e4 - 1, 1e4 - 2], [1e4 - 3, 1e4, 1e4 - 1]], dtype=np.float32),
         np.array([1, 0])),
        ("a batch of 500 examples, K = 10", rng.normal(size=(500, 10)) * 4,
         rng.integers(0, 10, 500)),
    ]


# Positive logits first: -log(logits[n, y]), the logits taken for probabilities, is finite here
# and can be named; on negative logits it is NaN like many other mistakes.
POSITIVE_LOGITS = ("positive logits (still not probabilities: they need a softmax)",
                   np.array([[0.5, 2.0, 1.0], [3.0, 0.2, 0.7], [1.5, 1.5, 0.1], [0.3, 0.9, 2.5]]),
                   np.array([1, 0, 2, 2]))


@task(hints=(
    "Reread chapter 5, section 5.8 'A cross-entropy from logits that stays finite and accurate': "
    "never compute the softmax and then its log; go from the logits to log-probabilities "
    "directly, as in chapter 4.",
    "Per row, minus the log-probability of the right class is (m minus the right logit) plus "
    "the log of the sum of the exponentials of the logits minus m, with m the row maximum. Pick "
    "the right logit of each row by its label, then take the mean over the batch.",
))
def softmax_ce_loss(candidate):
    """candidate(logits, labels) -> mean softmax cross-entropy, stable, in the logits' dtype."""
    for name, X, y in [POSITIVE_LOGITS] + _logit_cases():
        with np.errstate(all="ignore"):
            got = call(candidate, X, y, hint=HINT_STABLE)
        inputs = f"logits = {describe(X)}, labels = {describe(y)}"
        expected = softmax_cross_entropy_forward(X, y)[0]
        N = X.shape[0]
        rtol = RTOL[X.dtype.type]
        with case(name):
            got = _scalar(got, inputs, HINT_MEAN)
            _name_mistakes(got, [
                (-expected, "your loss has the wrong sign: the cross-entropy is -mean log p_y "
                 ">= 0", HINT_SIGN),
                (N * expected, "your loss is N times too large: you summed over the batch; the "
                 "loss is the mean over the N rows", HINT_MEAN),
                (expected / X.shape[1], "your loss is K times too small: np.mean over all "
                 "entries of an (N, K) array averages over classes too", HINT_MEAN),
            ] + ([(-np.mean(np.log(X[np.arange(N), y])), "your loss is the cross-entropy of "
                   "the logits themselves, -mean log x_y, as if they were probabilities: logits "
                   "are unnormalized scores; use log softmax(x)_y = (x_y - m) - "
                   "log(sum(exp(x - m)))", HINT_STABLE)] if np.all(X > 0) else []), inputs)
            if isinstance(got, (np.ndarray, np.generic, float)) and not np.isfinite(got):
                raise CheckFailed(
                    f"your loss is {'NaN' if np.isnan(got) else float(got)} where the exact "
                    f"loss is {float(expected):.8g}: "
                    "exp(x) overflowed, or log was taken of a probability that underflowed to 0; "
                    "compute log p = (x - m) - log(sum(exp(x - m))) with m the row max, never "
                    f"log(softmax(x))\n  input: {inputs}", HINT_STABLE)
            if "near 1e4" in name and _close(got, expected, rtol=1e-2):
                if not _close(got, expected, rtol=rtol):
                    raise CheckFailed(
                        f"your loss is only accurate to about 3 digits ({float(got):.8g} instead "
                        f"of {float(expected):.8g}): LSE(x) = m + log s was rounded at the size "
                        "of m = 1e4 before you subtracted it from x; subtract m first: "
                        f"-log p_y = (m - x_y) + log(sum(exp(x - m)))\n  input: {inputs}",
                        HINT_STABLE)
            expect_array(got, expected, inputs=inputs, hint=HINT_STABLE, rtol=rtol, atol=1e-6)
    passed("softmax_ce_loss", "float32 and float64, logits up to +-1e4, finite and accurate")


# ---------------------------------------------------------------- task 4


@task(hints=(
    "Reread chapter 5, section 5.3 'Softmax followed by cross-entropy: the gradient p - t' and "
    "section 5.4 'The batch mean and its 1/N'.",
    "The gradient is the softmax of the logits minus the one-hot targets, divided by N. Compute "
    "the softmax with the row-maximum shift, and turn the labels into one-hot rows in the "
    "logits' dtype (rows of an identity matrix, chosen by the labels).",
))
def softmax_ce_grad(candidate):
    """candidate(logits, labels) -> dL/dlogits of the mean softmax cross-entropy, shape (N, K)."""
    for name, X, y in _logit_cases()[:5]:
        inputs = f"logits = {describe(X)}, labels = {describe(y)}"
        with case(name):
            try:
                with np.errstate(all="ignore"):
                    got = call(candidate, X, y, hint=HINT_PT)
            except CheckFailed as failure:
                if "broadcast" in failure.message:
                    raise CheckFailed(
                        f"{failure.message.splitlines()[0]}: did you subtract the labels, "
                        "shape (N,), from P, shape (N, K)? turn them into one-hot rows "
                        "first, T = np.eye(K, dtype=logits.dtype)[labels]", HINT_PT) from None
                raise
        _, cache = softmax_cross_entropy_forward(X, y)
        expected = softmax_cross_entropy_backward(1.0, cache)
        N, K = X.shape
        P64 = _softmax(X.astype(np.float64))
        T = np.eye(K)[y]
        variants = [
            (-expected, "your gradient has the wrong sign: it is (p - t)/N, not (t - p)/N; "
             "descending along t - p climbs the loss", HINT_SIGN),
            (N * expected, "your gradient is N times too large: the 1/N of the batch mean is "
             "missing", HINT_MEAN),
            ((X - T) / N, "you forgot the softmax: the gradient is (p - t)/N with p = "
             "softmax(logits), not (logits - t)/N", HINT_PT),
            (X - T, "you forgot the softmax (and the 1/N): the gradient is (softmax(logits) - "
             "t)/N, not logits - t", HINT_PT),
            (expected / K, "your gradient is K times too small: divide by N, not N*K", HINT_MEAN),
        ]
        if N == K:
            variants.append(((P64 - y) / N, "you subtracted the labels themselves: P - labels "
                             "broadcasts the (N,) labels along each row, since N = K it runs and "
                             "is wrong; use one-hot rows, T = np.eye(K, dtype=logits.dtype)[labels]", HINT_PT))
        transposed = ("your gradient is transposed: a gradient has the shape (N, K) of the "
                      "logits it is taken with respect to, one row per example; no transpose "
                      "(d_out is dL/dlogits itself, not its transpose)")
        variants.append((expected.T, transposed, HINT_PT))
        variants.append(((P64 - y[:, None]) / N, "you subtracted the labels as a column, "
                         "P - labels[:, None]: the targets are one-hot rows, "
                         "T = np.eye(K, dtype=logits.dtype)[labels]", HINT_PT))
        with case(name):
            if isinstance(got, np.ndarray) and got.shape == X.shape and not np.all(
                    np.isfinite(got)):
                raise CheckFailed(
                    "your gradient holds NaN or inf: the softmax overflowed; shift the logits "
                    "by their row max before exp (the gradient p - t is always in [-1, 1])"
                    f"\n  input: {inputs}", HINT_STABLE)
            if isinstance(got, np.ndarray) and got.shape == (K, N) != (N, K):
                raise CheckFailed(f"{transposed}\n  input: {inputs}", HINT_PT)
            _name_mistakes(got, variants, inputs)
            if isinstance(got, np.ndarray) and got.shape == X.shape and got.dtype != X.dtype:
                raise CheckFailed(
                    f"wrong dtype: expected {X.dtype} (the logits'), got {got.dtype}: one "
                    f"{got.dtype} array in the formula promotes the result (np.eye(K)[labels] "
                    "is float64); build T = np.eye(K, dtype=logits.dtype)[labels]"
                    f"\n  input: {inputs}", HINT_PT)
            expect_array(got, expected, inputs=inputs, hint=HINT_PT,
                         rtol=RTOL[X.dtype.type], atol=1e-7)
    passed("softmax_ce_grad", "(p - t)/N for square and non-square batches, +-1e4, float32/64")


# ---------------------------------------------------------------- task 5


@task(hints=(
    "Reread chapter 5, section 5.7 'Soft targets: label smoothing, and targets that do not sum "
    "to 1': the smoothed targets must still sum to 1 in every row.",
    "Start from one-hot rows of length K (rows of an identity matrix, chosen by the labels), "
    "scale them by 1 minus eps, and add eps over K to every entry, the right class included.",
))
def smooth_labels(candidate):
    """candidate(labels, K, eps) -> (N, K) targets (1 - eps) one_hot + eps / K."""
    cases = [
        (np.array([2, 0, 1, 3]), 4, 0.1),
        (np.array([0, 0, 9]), 10, 0.2),
        (np.array([1]), 2, 0.05),
        (np.array([4, 1, 3]), 5, 0.0),
    ]
    if seeded() is not None:
        rng = fresh_rng(52)
        N, K = dims(rng, 5, 6, low=2, high=12)
        cases.append((rng.integers(0, K, N), K, float(np.round(rng.uniform(0.01, 0.5), 3))))
    for labels, K, eps in cases:
        got = call(candidate, labels, K, eps, hint=HINT_SOFT)
        inputs = f"labels = {describe(labels)}, K = {K}, eps = {eps}"
        one_hot = np.eye(K)[labels]
        expected = (1 - eps) * one_hot + eps / K
        if isinstance(got, np.ndarray) and got.shape == expected.shape and eps > 0:
            _name_mistakes(got, [
                (one_hot + eps / K, f"your rows sum to 1 + eps = {1 + eps:g}: soft targets must "
                 "sum to 1 (or the gradient is not p - t); scale the one-hot part by 1 - eps",
                 HINT_SOFT),
                ((1 - eps) * one_hot, f"your rows sum to 1 - eps = {1 - eps:g}: you forgot to "
                 "add eps / K to every class", HINT_SOFT),
                ((1 - eps) * one_hot + eps, "you added eps to every class, so the rows sum to "
                 f"1 - eps + K eps = {1 - eps + K * eps:g}; add eps / K", HINT_SOFT),
                ((1 - eps) * one_hot + eps / (K - 1) * (1 - one_hot),
                 "that is another convention (eps / (K - 1) on the wrong classes only); this "
                 "task spreads eps / K over every class, the correct one included", HINT_SOFT),
            ], inputs)
        expect_array(got, expected, inputs=inputs, hint=HINT_SOFT, rtol=1e-12, atol=1e-15,
                     check_dtype=False)
        if not np.issubdtype(np.asarray(got).dtype, np.floating):
            raise CheckFailed(f"your targets have dtype {got.dtype}; return floats\n"
                              f"  input: {inputs}", HINT_SOFT)
    passed("smooth_labels", "rows sum to 1, eps / K on every class, eps = 0 gives one-hot")
