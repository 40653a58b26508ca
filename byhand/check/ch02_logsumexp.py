"""Checks for the exercises of chapter 2: the log-sum-exp trick."""

import numpy as np

from ..nn.logsumexp import logsumexp as reference
from .core import (CheckFailed, call, case, describe, dims, expect_array, fresh_level_vector,
                   fresh_masked_batch, fresh_rng, passed, task)

__all__ = ["logsumexp_vector", "logsumexp_rows", "logsumexp_masked", "softmax_via_logsumexp"]

HINT_SHIFT = "reread chapter 2, section 2.4 'Why the shift must be the maximum'."
HINT_TRICK = ("reread chapter 2, section 2.3 'The shift identity': which shift leaves every "
              "exponent at most 0, and what does it add back outside the log?")
HINT_BATCH = ("reread chapter 2, section 2.5 'A stable, vectorized implementation': "
              "max and sum along one axis, keepdims to broadcast.")
HINT_EDGE = ("reread chapter 2, section 2.5 'A stable, vectorized implementation': "
             "the row of only -inf.")
RTOL = {np.float16: 2e-3, np.float32: 2e-6, np.float64: 1e-12}


def _compare(got, x, expected, hint, reduced=True):
    """Compare with tolerances fit for x's dtype; name the shift mistakes when they show."""
    inputs = describe(x)
    if isinstance(got, np.generic):  # a NumPy scalar from a 1-D reduction
        got = np.asarray(got)
    if reduced and isinstance(got, np.ndarray) and got.shape == expected.shape and np.all(np.isfinite(expected)):
        shift = np.max(x, axis=-1)
        if np.allclose(got, expected - shift, rtol=1e-3) and not np.allclose(shift, 0):
            raise CheckFailed(
                f"your result is off by exactly the shift m = max(x): after log(sum(exp(x - m))) "
                f"add m back\n  input: {inputs}", HINT_TRICK)
    rtol = RTOL[np.dtype(x.dtype).type]
    expect_array(got, expected, inputs=inputs, hint=hint, rtol=rtol, atol=rtol)


VECTOR_CASES = [
    ("small entries", np.array([0.5, -1.2, 2.0, 0.1]), HINT_TRICK),
    ("large entries (naive exp overflows)", np.array([1000.0, 999.0, 998.5]), HINT_SHIFT),
    ("very negative entries (naive exp underflows to 0)", np.array([-1000.0, -1001.0, -999.5]),
     HINT_SHIFT),
    ("entries spread from -1000 to 1000 (a mean or min shift overflows)",
     np.array([-1000.0, -5.0, 0.0, 1000.0]), HINT_SHIFT),
    ("float32 input", np.array([88.0, 89.0, 90.0, 0.0], dtype=np.float32), HINT_SHIFT),
    ("float16 input (exp(12) is already past float16's max, 65504)",
     np.array([10.0, 11.0, 12.0], dtype=np.float16), HINT_SHIFT),
    ("-inf entries (masked out)", np.array([-np.inf, 1.0, 2.0, -np.inf]), HINT_EDGE),
    ("a single entry", np.array([7.25]), HINT_TRICK),
]


@task(hints=(
    "Reread chapter 2, section 2.3 'The shift identity' and section 2.4 'Why the shift must be "
    "the maximum': exp overflows past about 709, so never exponentiate x itself.",
    "Subtract one number m from every entry before the exponential and add it back after the "
    "log. With m the largest entry, every exponent is at most 0 and one term is exactly 1.",
))
def logsumexp_vector(candidate):
    """candidate(x) -> log(sum(exp(x))) of a 1-D array, stably, in x's dtype."""
    cases = VECTOR_CASES + fresh_level_vector(20, "entries", HINT_SHIFT)
    for name, x, hint in cases:
        got = call(candidate, x, hint=hint)
        with case(name):
            _compare(got, x, reference(x), hint)
    passed("logsumexp_vector", f"{len(cases)} cases: overflow, underflow, dtypes, -inf")


@task(hints=(
    "Reread chapter 2, section 2.5 'A stable, vectorized implementation': every row gets its "
    "own shift, its own maximum.",
    "Take the maximum along the row axis keeping that axis, so the (N, 1) column of maxima "
    "subtracts row by row; sum the exponentials along the same axis, take the log, add the "
    "maxima back, and drop the kept axis at the end to get shape (N,).",
))
def logsumexp_rows(candidate):
    """candidate(X) -> the log-sum-exp of every row of a 2-D array, shape (N,)."""
    rng = fresh_rng(5)
    cases = [
        ("random rows", rng.normal(size=dims(rng, 4, 6))),
        ("rows at very different levels (one shift for all rows underflows some)",
         np.array([[0.0, 1.0, 2.0], [-2000.0, -2001.0, -1999.0], [3000.0, 2999.0, 2998.0]])),
        ("a row from 700 down to -800 (a mean shift overflows: exp(700 - (-425)))",
         np.array([[700.0, -800.0, -800.0, -800.0], [1.0, 2.0, 3.0, 4.0]])),
        ("float32 rows spread over 140 (a mean shift overflows: exp(105) > float32's max)",
         np.array([[60.0, -80.0, -80.0, -80.0], [1.0, 2.0, 3.0, 4.0]], dtype=np.float32)),
        ("a single row", rng.normal(size=(1, *dims(rng, 5)))),
        ("a single column", rng.normal(size=(*dims(rng, 5), 1))),
        ("float32 rows", (100 * rng.normal(size=dims(rng, 3, 4))).astype(np.float32)),
        ("a batch of 500 x 300", rng.normal(size=(500, 300))),
    ]
    for name, X in cases:
        hint = HINT_SHIFT if "mean shift" in name else HINT_BATCH
        got = call(candidate, X, hint=hint)
        expected = reference(X, axis=1)
        if isinstance(got, np.ndarray) and got.shape == (X.shape[0], 1):
            raise CheckFailed(
                f"on {name}: returned shape {got.shape}, expected {expected.shape}: one number "
                "per row, without the kept axis (squeeze it, or keepdims=False)", HINT_BATCH)
        if isinstance(got, np.ndarray) and got.shape == (X.shape[1],) != expected.shape:
            raise CheckFailed(
                f"on {name}: returned shape {got.shape}, one number per column: reduce along "
                "axis=1 (the rows' entries), not axis=0", HINT_BATCH)
        with case(name):
            _compare(got, X, expected, hint)
    passed("logsumexp_rows", f"{len(cases)} batches, each row shifted by its own max")


@task(hints=(
    "Reread chapter 2, section 2.5 'A stable, vectorized implementation', the row of only -inf: "
    "the log of an empty sum is minus infinity, and that is the answer for such a row.",
    "A row of only -inf has maximum -inf, and -inf minus -inf is NaN. Replace the shift of such "
    "rows by 0 (any finite number works) before subtracting; the log of the zero sum then gives "
    "-inf, with NumPy's divide warning silenced around that log.",
))
def logsumexp_masked(candidate):
    """candidate(X) -> row-wise log-sum-exp where rows may hold -inf, even only -inf."""
    cases = fresh_masked_batch(21) + [
        ("a row with some -inf entries", np.array([[-np.inf, 0.0, 1.0], [2.0, 3.0, -np.inf]])),
        ("a row of only -inf (log of an empty sum: -inf, not NaN)",
         np.array([[0.0, 1.0, 2.0], [-np.inf, -np.inf, -np.inf]])),
        ("all rows -inf", np.full((2, 3), -np.inf)),
        ("float32 with a -inf row", np.array([[-np.inf] * 3, [1, 2, 3]], dtype=np.float32)),
        ("a row from 700 down to -800 (a mean shift overflows), and an entry 746 below its "
         "row's max (its exp underflows to 0, which is fine)",
         np.array([[700.0, -800.0, -800.0, -800.0], [0.0, -745.0, -np.inf, 1.0]])),
    ]
    for name, X in cases:
        # A correct solution triggers no division by zero, invalid value or overflow. Underflow
        # is no mistake: exp of an entry far below the row's max is 0, as it should be.
        with np.errstate(divide="raise", invalid="raise", over="raise", under="ignore"):
            try:
                got = call(candidate, X, hint=HINT_EDGE)
            except CheckFailed as failure:
                if "FloatingPointError: overflow" in failure.message:
                    raise CheckFailed(
                        f"on {name}: {failure.message.splitlines()[0]}; exp overflowed: shift "
                        "each row by its max, the only shift that keeps every exponent <= 0",
                        HINT_SHIFT) from None
                if "FloatingPointError" in failure.message:
                    raise CheckFailed(
                        f"on {name}: {failure.message.splitlines()[0]}; NumPy would warn here: "
                        "an all -inf row gives -inf - (-inf) = NaN or log(0); shift such rows by 0 "
                        "and compute log(0) = -inf under np.errstate(divide='ignore')",
                        HINT_EDGE) from None
                raise
        with case(name):
            _compare(got, X, reference(X, axis=1), HINT_EDGE)
    passed("logsumexp_masked", "rows with -inf entries and rows of only -inf, no warnings")


@task(hints=(
    "Reread chapter 2, section 2.3 'The shift identity': the log of a softmax is x minus the "
    "log-sum-exp of its row, and you wrote a stable log-sum-exp of rows in task 2.",
    "Compute the log-sum-exp of each row with task 2, make it an (N, 1) column so it subtracts "
    "row by row, subtract it from X, and exponentiate: every exponent is then at most 0.",
))
def softmax_via_logsumexp(candidate):
    """candidate(x) -> softmax of every row, computed as exp(x - logsumexp(x))."""
    rng = fresh_rng(6)
    cases = [
        ("random logits", rng.normal(size=dims(rng, 3, 5)), HINT_TRICK),
        ("large logits (exp(x) / sum(exp(x)) is inf / inf = NaN)",
         np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1001.0]]), HINT_TRICK),
        ("float32 logits", (50 * rng.normal(size=dims(rng, 2, 4))).astype(np.float32), HINT_TRICK),
        ("a row from 700 down to -800 (a mean shift overflows: exp(700 - (-425)))",
         np.array([[700.0, -800.0, -800.0, -800.0], [1.0, 2.0, 3.0, 4.0]]), HINT_SHIFT),
        ("float32 rows spread over 140 (a mean shift overflows: exp(105) > float32's max)",
         np.array([[60.0, -80.0, -80.0, -80.0], [1.0, 2.0, 3.0, 4.0]], dtype=np.float32),
         HINT_SHIFT),
    ]
    for name, X, hint in cases:
        got = call(candidate, X, hint=hint)
        expected = np.exp(X - reference(X, axis=-1, keepdims=True))
        with case(name):
            _compare(got, X, expected, hint, reduced=False)
        if not np.allclose(np.sum(np.asarray(got, dtype=np.float64), axis=-1), 1.0, rtol=1e-5):
            raise CheckFailed(f"on {name}: the rows do not sum to 1", hint)
    passed("softmax_via_logsumexp", "rows sum to 1, no overflow, dtype kept")
