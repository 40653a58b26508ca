"""Checks for the exercises of chapter 4: log-softmax, its Jacobian and its VJP."""

import mpmath
import numpy as np

from ..nn.log_softmax import log_softmax as reference
from ..nn.log_softmax import log_softmax_backward as reference_backward
from ..nn.logsumexp import logsumexp
from .core import (CheckFailed, call, case, describe, dims, expect_array, fresh_level_vector,
                   fresh_rng, passed, seeded, task)

__all__ = ["log_softmax_vector", "log_softmax_rows", "log_softmax_jacobian",
           "log_softmax_vjp", "nll_from_logp"]

HINT_WHY = ("reread chapter 4, section 4.1 'Why log-probabilities': compute the logs from the "
            "logits, never log(softmax(x)).")
HINT_IDENTITY = ("reread chapter 4, section 4.2 'The log-softmax identity': take the log "
                 "of the shifted softmax on paper first, then compute what is left.")
HINT_CANCEL = ("reread chapter 4, section 4.3 'Two formulas, one cancellation': subtract the "
               "max first, then log(sum(exp(x - m))); x - logsumexp(x) cancels.")
HINT_BATCH = ("reread chapter 4, section 4.4 'A stable, vectorized implementation': one max "
              "and one sum per row, with keepdims=True.")
HINT_JACOBIAN = ("reread chapter 4, section 4.5 'The Jacobian': differentiate "
                 "x_i - logsumexp(x) with respect to x_k (row i is output i).")
HINT_VJP = ("reread chapter 4, section 4.6 'The VJP without the Jacobian': multiply v into "
            "the Jacobian's two parts separately, row by row; the probabilities are exp(logp).")
HINT_MISTAKES = "reread chapter 4, section 4.8 'Classic mistakes'."
HINT_NLL = ("reread chapter 4, exercise 'ex-logsm-nll': the loss is -log s_c of the right "
            "class c, averaged over the batch.")
RTOL = {np.float16: 2e-3, np.float32: 2e-6, np.float64: 1e-12}
MAX_ULPS = 4


def _is_array(got, shape):
    return isinstance(got, np.ndarray) and got.shape == shape and np.issubdtype(
        got.dtype, np.number)


def _close(got, candidate, rtol=1e-6, atol=1e-9):
    with np.errstate(all="ignore"):
        return bool(np.allclose(np.asarray(got, dtype=np.float64),
                                np.asarray(candidate, dtype=np.float64),
                                rtol=rtol, atol=atol, equal_nan=False))


def _exact(row):
    """The log-softmax of a 1-D array with 50 digits, as mpmath numbers."""
    with mpmath.workdps(50):
        xs = [mpmath.mpf(float(v)) for v in row]
        m = max(v for v in xs if mpmath.isfinite(v))         # the rows checked have one
        log_sum = mpmath.log(mpmath.fsum(mpmath.exp(v - m) for v in xs if mpmath.isfinite(v)))
        return [(v - m) - log_sum for v in xs]               # no cancellation, as in 4.3


def _ulps(got, x):
    """Largest error of got (rows of log-softmax of x) in ULPs at max(|exact|, 1)."""
    dtype = x.dtype.type
    worst = 0.0
    for got_row, x_row in zip(np.atleast_2d(got), np.atleast_2d(x)):
        for value, exact in zip(got_row, _exact(x_row)):
            if not mpmath.isfinite(exact):
                continue
            rounded = dtype(float(exact))
            if not np.isfinite(value):
                return np.inf
            unit = float(np.spacing(max(np.abs(rounded), dtype(1))))
            worst = max(worst, abs(float(value) - float(rounded)) / unit)
    return worst


def _log_softmax_mistakes(got, x, expected, axis=-1):
    """Name the classic mistakes of a forward log-softmax, if got shows one."""
    inputs = describe(x)
    if not _is_array(got, expected.shape) or not np.all(np.isfinite(expected[np.isfinite(x)])):
        return
    finite = np.isfinite(expected)
    x64 = x.astype(np.float64)
    m = np.max(x64, axis=axis, keepdims=True)
    if np.any(np.isneginf(got) & finite):
        raise CheckFailed(
            f"your function returned -inf where the answer is finite: either exp overflowed "
            f"(then log(sum(exp(x))) is inf), or a probability underflowed to 0 before the log "
            f"(log(softmax(x)) loses it); subtract the max first and never take the log of a "
            f"computed probability\n  input: {inputs}", HINT_WHY)
    if x.shape[axis] > 1 and _close(got[finite], (x64 - m)[finite]) and not _close(
            got[finite], expected[finite]):
        raise CheckFailed(
            f"your result is x - max(x): you forgot to subtract log(sum(exp(x - m)))"
            f"\n  input: {inputs}", HINT_IDENTITY)
    with np.errstate(all="ignore"):
        probabilities = np.exp(expected.astype(np.float64))
    if _close(got, probabilities) and not _close(got, expected):
        raise CheckFailed(
            f"these are probabilities (the softmax), not their logarithms\n  input: {inputs}",
            HINT_IDENTITY)
    if _close(got[finite], -expected[finite]) and not _close(got, expected):
        raise CheckFailed(
            f"flipped sign: log-probabilities are <= 0, yours are >= 0\n  input: {inputs}",
            HINT_IDENTITY)
    if x.ndim == 2 and x.shape[0] > 1 and not _close(got, expected):
        other = reference(x, axis=0).astype(np.float64)
        if _close(got, other):
            raise CheckFailed(
                f"you normalized the columns (axis=0); each ROW is one example: reduce along "
                f"axis=1\n  input: {inputs}", HINT_BATCH)
        with np.errstate(all="ignore"):
            g = np.max(x64)
            one_shift = (x64 - g) - np.log(np.sum(np.exp(x64 - g), axis=1, keepdims=True))
        if _close(got, one_shift, rtol=1e-3) and not _close(one_shift, expected, rtol=1e-3):
            raise CheckFailed(
                f"non-finite or wrong rows: one shift for all rows (the global max) underflows "
                f"the rows far below it; shift each row by its own max\n  input: {inputs}",
                HINT_BATCH)


def _compare(got, x, expected, hint):
    """Values within a tolerance that scales with the logits' size."""
    rtol = RTOL[x.dtype.type]
    scale = float(np.max(np.abs(x[np.isfinite(x)]), initial=1.0))
    expect_array(got, expected, inputs=describe(x), hint=hint, rtol=rtol,
                 atol=rtol * max(scale, 1.0))


VECTOR_CASES = [
    ("small logits", np.array([0.5, -1.2, 2.0, 0.1]), HINT_IDENTITY),
    ("large logits (exp overflows)", np.array([1000.0, 999.0, 998.5]), HINT_IDENTITY),
    ("very negative logits (every exp underflows)", np.array([-1000.0, -1001.0, -999.5]),
     HINT_IDENTITY),
    ("logits (0, -800): the second probability underflows, its log is -800",
     np.array([0.0, -800.0]), HINT_WHY),
    ("float32 logits", np.array([88.0, 89.0, 90.0, 0.0], dtype=np.float32), HINT_IDENTITY),
    ("logits from 700 down to -800 (a mean shift overflows: exp(700 - (-425)))",
     np.array([700.0, -800.0, -800.0, -800.0]), HINT_IDENTITY),
    ("float16 logits (exp(12) is past float16's max, 65504)",
     np.array([10.0, 11.0, 12.0], dtype=np.float16), HINT_IDENTITY),
    ("-inf logits (masked classes: probability 0, log-probability -inf)",
     np.array([-np.inf, 1.0, 2.0, -np.inf]), HINT_IDENTITY),
    ("a single logit (its probability is 1)", np.array([7.25]), HINT_IDENTITY),
]


@task(hints=(
    "Reread chapter 4, section 4.1 'Why log-probabilities' and section 4.2 'The log-softmax "
    "identity': never take the log of a softmax, whose small entries have already underflowed "
    "to 0; work from the logits.",
    "Subtract the largest logit m from every entry, then subtract the log of the sum of the "
    "exponentials of those shifted entries. Both terms are at most 0, so nothing overflows and "
    "no log of 0 appears.",
))
def log_softmax_vector(candidate):
    """candidate(x) -> log(softmax(x)) of a 1-D array, stably, in x's dtype."""
    cases = VECTOR_CASES + fresh_level_vector(40, "logits", HINT_IDENTITY)
    for name, x, hint in cases:
        with np.errstate(all="ignore"):
            got = call(candidate, x, hint=hint)
        expected = reference(x)
        with case(name):
            if isinstance(got, np.generic):
                got = np.asarray(got)
            _log_softmax_mistakes(got, x, expected)
            _compare(got, x, expected, hint)
    passed("log_softmax_vector", f"{len(cases)} cases: overflow, underflow, dtypes, -inf")


@task(hints=(
    "Reread chapter 4, section 4.4 'A stable, vectorized implementation' and section 4.3 'Two "
    "formulas, one cancellation': the vector version, row by row, without a Python loop.",
    "Shift each row by its own maximum, kept as an (N, 1) column. Subtract the shift first and "
    "the log of the row sums of exponentials second: subtracting a whole log-sum-exp from large "
    "logits cancels digits and misses the accuracy asked for.",
))
def log_softmax_rows(candidate):
    """candidate(X) -> log-softmax of every row of a 2-D array, within 4 ULPs of mpmath."""
    rng = fresh_rng(41)
    cases = [
        ("random rows", rng.normal(size=dims(rng, 4, 6)), HINT_BATCH, False),
        ("rows at very different levels (one shift for all rows underflows some)",
         np.array([[0.0, 1.0, 2.0], [-2000.0, -2001.0, -1999.0], [3000.0, 2999.0, 2998.0]]),
         HINT_BATCH, True),
        ("a square batch", rng.normal(size=dims(rng, 4, low=2) * 2) * 3, HINT_BATCH, True),
        ("a row from 700 down to -800 (a mean shift overflows: exp(700 - (-425)))",
         np.array([[700.0, -800.0, -800.0, -800.0], [1.0, 2.0, 3.0, 4.0]]), HINT_IDENTITY, True),
        ("float32 rows spread over 140 (a mean shift overflows: exp(105) > float32's max)",
         np.array([[60.0, -80.0, -80.0, -80.0], [1.0, 2.0, 3.0, 4.0]], dtype=np.float32),
         HINT_IDENTITY, True),
        ("a masked row (-inf entries)", np.array([[-np.inf, 0.0, 1.0], [2.0, -np.inf, 3.0]]),
         HINT_BATCH, False),
        ("rows whose last probability underflows (its log is about -800)",
         np.array([[0.0, -50.0, -800.0], [1.0, 2.0, -1000.0]]), HINT_WHY, True),
        ("float32 logits near 10000 (accuracy in ULPs)",
         (1e4 + rng.normal(size=dims(rng, 3, 5))).astype(np.float32), HINT_CANCEL, True),
        ("float64 logits near 1e6 (accuracy in ULPs)",
         1e6 + rng.normal(size=dims(rng, 3, 5)), HINT_CANCEL, True),
        ("float16 logits", (3 * rng.normal(size=(2, 5))).astype(np.float16), HINT_BATCH, True),
        ("a batch of 500 x 300", rng.normal(size=(500, 300)) * 5, HINT_BATCH, False),
    ]
    for name, X, hint, measure in cases:
        with np.errstate(all="ignore"):
            got = call(candidate, X, hint=hint)
        expected = reference(X, axis=1)
        with case(name):
            _log_softmax_mistakes(got, X, expected, axis=1)
            if measure and _is_array(got, X.shape):
                error = _ulps(got, X)
                if error > MAX_ULPS:
                    with np.errstate(all="ignore"):
                        form_a = X - logsumexp(X, axis=1, keepdims=True)
                    if _ulps(form_a, X) > MAX_ULPS and _close(got, form_a, rtol=0,
                                                              atol=1e-3):
                        raise CheckFailed(
                            f"your result is off by {error:.3g} ULPs, like x - logsumexp(x): "
                            "the two large, nearly equal numbers cancel and expose the rounding "
                            "error of logsumexp; compute (x - m) - log(sum(exp(x - m))) instead"
                            f"\n  input: {describe(X)}", HINT_CANCEL)
                    raise CheckFailed(
                        f"your result is off by {error:.3g} ULPs (at most {MAX_ULPS} expected)"
                        f"\n  input: {describe(X)}", HINT_CANCEL)
            _compare(got, X, expected, hint)
    passed("log_softmax_rows", f"{len(cases)} batches, within {MAX_ULPS} ULPs of a 50-digit "
           "reference on large logits")


def _jacobian_mistakes(got, x, s):
    n = x.size
    eye, ones = np.eye(n), np.ones(n)
    inputs = describe(x)
    named = [
        (eye - np.outer(s, ones), "the transpose: rows and columns swapped; row i holds the "
         "derivatives of output i, J[i, k] = delta_ik - s_k", HINT_JACOBIAN),
        (np.diag(s) - np.outer(s, s), "the Jacobian of the softmax, not of its logarithm: "
         "divide row i by s_i (the chain rule through log)", HINT_JACOBIAN),
        (eye + np.outer(ones, s), "I + 1 s^T: a flipped sign, as from a quotient rule "
         "written with a plus; it is I - 1 s^T", HINT_MISTAKES),
        (np.outer(ones, ones - s), "every entry of column k is 1 - s_k: off the diagonal, "
         "the numerator e^{x_i} does not depend on x_k, so its derivative is 0 (the entry is "
         "-s_k)", HINT_MISTAKES),
        (eye - np.diag(s), "only the diagonal: the off-diagonal entries -s_k are missing",
         HINT_JACOBIAN),
        (-np.outer(ones, s), "-1 s^T: the identity (from d x_i / d x_k) is missing",
         HINT_JACOBIAN),
    ]
    for wrong, message, hint in named:
        if _close(got, wrong, rtol=1e-6, atol=1e-9):
            raise CheckFailed(f"your matrix is {message}\n  input: {inputs}", hint)


@task(hints=(
    "Reread chapter 4, section 4.5 'The Jacobian': differentiate x_i minus the log-sum-exp of x "
    "with respect to x_k; the first term gives 1 only when k is i.",
    "The derivative of the log-sum-exp with respect to x_k is s_k, the softmax. So the Jacobian "
    "is the identity minus a matrix whose every row is s; compute s stably, from task 1.",
))
def log_softmax_jacobian(candidate):
    """candidate(x) -> the (n, n) Jacobian of log_softmax at a 1-D float64 x."""
    rng = fresh_rng(42)
    first, second = rng.normal(size=dims(rng, 4, low=2)), rng.normal(size=dims(rng, 5)) * 2
    cases = [
        (f"random logits, n = {first.size}", first),
        (f"random logits, n = {second.size}", second),
        ("large logits (exp overflows)", np.array([1000.0, 998.0, 999.5])),
        ("a single logit (J = [[0]])", np.array([3.0])),
    ]
    for name, x in cases:
        with np.errstate(all="ignore"):
            got = call(candidate, x, hint=HINT_JACOBIAN)
        s = np.exp(reference(x))
        expected = np.eye(x.size) - np.outer(np.ones(x.size), s)
        with case(name):
            if _is_array(got, (x.size,)) and x.size > 1:
                raise CheckFailed(
                    f"returned shape {got.shape}: the Jacobian of R^n -> R^n is an (n, n) "
                    f"matrix\n  input: {describe(x)}", HINT_JACOBIAN)
            if _is_array(got, expected.shape) and np.all(np.isfinite(got)) and x.size > 1:
                _jacobian_mistakes(got, x, s)
            expect_array(got, expected, inputs=describe(x), hint=HINT_JACOBIAN, rtol=1e-7,
                         atol=1e-9)
    passed("log_softmax_jacobian", f"{len(cases)} vectors: J = I - 1 s^T, rows sum to 0")


def _vjp_mistakes(got, dout, logp):
    """Name the classic wrong VJPs (all of them computed row by row, axis=-1)."""
    inputs = f"dout {describe(dout)}, logp {describe(logp)}"
    s = np.exp(logp.astype(np.float64))
    v = dout.astype(np.float64)
    total = v.sum(axis=-1, keepdims=True)
    with np.errstate(all="ignore"):
        named = _wrong_vjps(v, s, logp, total)
    for wrong, message, hint in named:
        if _close(got, wrong, rtol=1e-5, atol=1e-7):
            raise CheckFailed(f"your result is {message}\n  input: {inputs}", hint)


def _wrong_vjps(v, s, logp, total):
    return [
        (v - s * (total - v), "v - s * (sum over j != i of v_j): the sum must include j = i; "
         "you dropped the term -s_i v_i that comes from the diagonal entry 1 - s_i",
         HINT_MISTAKES),
        (v - np.sum(s * v, axis=-1, keepdims=True), "J v, not J^T v: rows and columns "
         "swapped (harmless for the symmetric softmax Jacobian, wrong here): the VJP is "
         "v - s * sum(v)", HINT_MISTAKES),
        (v - s, "v - s: the factor sum(v) is missing (v - s is right only when sum(v) = 1)",
         HINT_VJP),
        (s * (v - np.sum(s * v, axis=-1, keepdims=True)), "the VJP of the softmax, "
         "s * (v - s.v), not of log-softmax", HINT_MISTAKES),
        (v - s * v.sum(axis=0, keepdims=True), "summed over the batch (axis=0): sum each ROW "
         "of the upstream gradient (axis=1, keepdims=True)", HINT_VJP),
        (v - logp * total, "v - logp * sum(v): the softmax is exp(logp), not logp", HINT_VJP),
        (-(v - s * total), "flipped sign: it is v - s * sum(v)", HINT_VJP),
    ]


@task(hints=(
    "Reread chapter 4, section 4.6 'The VJP without the Jacobian': multiply dout by the "
    "Jacobian of section 4.5 on paper, row by row, and the (K, K) matrix disappears.",
    "Per row, the result is dout minus s times the sum of that row of dout, with s the softmax, "
    "recovered from logp by exponentiating. Keep the row sums as an (N, 1) column.",
))
def log_softmax_vjp(candidate):
    """candidate(dout, logp) -> dL/dx for log-softmax rows logp and dout = dL/dlogp, (N, K)."""
    rng = fresh_rng(43)
    n1, k1 = dims(rng, 3, 5, low=2)       # K = 1 would make J v and J^T v the same
    sq = dims(rng, 4, low=2)[0]
    n2, k2 = dims(rng, 2, 6, low=2)
    masked = reference(np.array([[0.0, -np.inf, 1.0, 2.0], [1.0, 1.0, -np.inf, 0.0]]))
    cases = [
        (f"a batch of {n1} x {k1}", reference(rng.normal(size=(n1, k1)) * 2),
         rng.normal(size=(n1, k1))),
        (f"a square batch of {sq} x {sq}", reference(rng.normal(size=(sq, sq))),
         rng.normal(size=(sq, sq))),
        ("masked classes (logp = -inf, probability 0)", masked, rng.normal(size=(2, 4))),
        ("float32", reference(rng.normal(size=(n2, k2)).astype(np.float32)),
         rng.normal(size=(n2, k2)).astype(np.float32)),
        ("a batch of 300 x 200", reference(rng.normal(size=(300, 200))),
         rng.normal(size=(300, 200))),
    ]
    for name, logp, dout in cases:
        with np.errstate(all="ignore"):
            got = call(candidate, dout, logp, hint=HINT_VJP)
        expected = reference_backward(dout, logp)
        inputs = f"dout {describe(dout)}, logp {describe(logp)}"
        with case(name):
            if isinstance(got, np.ndarray) and got.ndim == 3:
                raise CheckFailed(
                    f"returned shape {got.shape}: that is the Jacobian (one (K, K) matrix per "
                    f"row); a VJP returns an array shaped like logp, {logp.shape}\n  input: "
                    f"{inputs}", HINT_VJP)
            if _is_array(got, expected.shape) and np.all(np.isfinite(got)):
                _vjp_mistakes(got, dout, logp)
            rtol = 1e-5 if logp.dtype == np.float32 else 1e-10
            expect_array(got, expected, inputs=inputs, hint=HINT_VJP, rtol=rtol, atol=rtol)
    passed("log_softmax_vjp", f"{len(cases)} batches: v - s * sum(v), every row sums to 0")


def _nll_mistakes(got, logp, labels, expected):
    n = logp.shape[0]
    inputs = f"logp {describe(logp)}, y {describe(labels)}"
    picked = logp[np.arange(n), labels].astype(np.float64)
    if not np.isfinite(expected):
        return
    if np.isinf(got):
        raise CheckFailed(
            f"your loss is {float(got)}: you went back to probabilities, and exp(logp) "
            f"underflows to 0; use logp directly\n  input: {inputs}", HINT_WHY)
    with np.errstate(all="ignore"):
        named = [
            (np.mean(picked), "the negative of the answer: the loss is -log s_c (the minus "
             "sign is missing, so the loss is <= 0)"),
            (-np.sum(picked), "the sum over the batch: divide by N (the mean)"),
            (-np.mean(logp[:, labels]), "the mean of logp[:, y], an (N, N) block: pick one "
             "entry per row with logp[np.arange(N), y]"),
            (-np.mean(logp), "the mean over all classes: pick only the right class of each "
             "row"),
            (-np.mean(picked) / np.log(10), "in base 10: the natural log is meant"),
        ]
    for wrong, message in named:
        if np.isclose(float(got), wrong, rtol=1e-9) and not np.isclose(wrong, expected):
            raise CheckFailed(f"your loss is {message}\n  input: {inputs}", HINT_NLL)


@task(hints=(
    "Reread chapter 4, exercise 'ex-logsm-nll': the loss of one example is minus the "
    "log-probability of its right class, and the batch loss is their mean.",
    "Pick one entry per row, the one in the column given by that row's label, with integer "
    "array indexing on both axes (row numbers paired with the labels), not a slice of whole "
    "columns. Negate, then average over the N examples.",
))
def nll_from_logp(candidate):
    """candidate(logp, y) -> mean over the batch of -logp[n, y[n]], a scalar."""
    rng = fresh_rng(44)
    far = reference(np.array([[0.0, -800.0, -3.0], [1.0, 0.0, -900.0]]))
    cases = [
        ("a batch of 4 examples, 3 classes", reference(rng.normal(size=(4, 3)) * 2),
         np.array([0, 2, 1, 2])),
        ("a square batch (3 examples, 3 classes)", reference(rng.normal(size=(3, 3))),
         np.array([1, 1, 0])),
        ("right classes with log-probabilities -800 and -900", far, np.array([1, 2])),
        ("one example", reference(rng.normal(size=(1, 5))), np.array([4])),
    ]
    if seeded() is not None:
        N, K = dims(rng, 4, 3, low=2)
        cases.append((f"a fresh random batch of {N} examples, {K} classes (seed {seeded()})",
                      reference(rng.normal(size=(N, K)) * 3), rng.integers(0, K, N)))
    for name, logp, labels in cases:
        with np.errstate(all="ignore"):
            got = call(candidate, logp, labels, hint=HINT_NLL)
        expected = -np.mean(logp[np.arange(len(labels)), labels])
        inputs = f"logp {describe(logp)}, y {describe(labels)}"
        with case(name):
            if isinstance(got, (float, np.floating)) or (
                    isinstance(got, np.ndarray) and got.shape == () and
                    np.issubdtype(got.dtype, np.floating)):
                if np.isfinite(float(got)) or np.isinf(float(got)):
                    _nll_mistakes(got, logp, labels, expected)
            if isinstance(got, np.ndarray) and got.shape != ():
                raise CheckFailed(
                    f"returned shape {got.shape}: the loss is one number, the mean over the "
                    f"batch\n  input: {inputs}", HINT_NLL)
            expect_array(got, np.float64(expected), inputs=inputs, hint=HINT_NLL, rtol=1e-12,
                         check_dtype=False)
    passed("nll_from_logp", f"{len(cases)} batches, including log-probabilities of -800")
