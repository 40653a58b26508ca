"""Checks for the exercises of chapter 3: softmax, its Jacobian and its vector-Jacobian product."""

import tracemalloc

import numpy as np

from ..gradcheck import GradientCheckError, gradcheck
from ..nn.softmax import softmax as reference
from ..nn.softmax import softmax_backward as reference_backward
from .core import (CheckFailed, call, case, describe, dims, expect_array, float_dtype,
                   fresh_masked_batch, fresh_rng, passed, seeded, task)

__all__ = ["softmax_rows", "softmax_jacobian", "softmax_vjp", "softmax_masked",
           "softmax_temperature"]

HINT_STABLE = ("reread chapter 3, section 3.3 'A stable, vectorized softmax': "
               "subtract each row's max (keepdims=True), exp, divide by the row sum.")
HINT_SHIFT = ("reread chapter 3, section 3.2 'Shift invariance' and section 3.3: any shift is "
              "exact on paper, only the row max is safe in floating point.")
HINT_JACOBIAN = ("reread chapter 3, section 3.4 'The Jacobian, entry by entry': "
                 "the cases i = j and i != j, then both as one matrix.")
HINT_VJP = ("reread chapter 3, section 3.5 'The vector-Jacobian product': multiply v into "
            "the Jacobian's two parts separately; one of them gives one number per row.")
HINT_MASK = ("reread chapter 3, section 3.3, 'Masks and rows with nothing left': "
             "-inf is a mask, and a row of only -inf has no softmax.")
HINT_TEMPERATURE = ("reread chapter 3, section 3.6 'Temperature': softmax(x / T), "
                    "stabilized after dividing.")
RTOL = {np.float16: 2e-3, np.float32: 2e-6, np.float64: 1e-12}


def _softmax_64(X, axis=-1):
    """A float64 softmax used to build the classic mistakes (max-shifted unless told)."""
    X = np.asarray(X, dtype=np.float64)
    e = np.exp(X - np.max(X, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _matches(got, wrong):
    """True if got (any object) equals the array `wrong` to float32 precision, NaNs included."""
    try:
        got = np.asarray(got, dtype=np.float64)
        wrong = np.asarray(wrong, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return got.shape == wrong.shape and bool(
        np.allclose(got, wrong, rtol=1e-5, atol=1e-12, equal_nan=True))


def _name_mistakes(got, expected, mistakes, where, hint):
    """If got is wrong and equals one of the mistakes' outputs, raise a message naming it."""
    if _matches(got, expected):
        return
    with np.errstate(all="ignore"):
        for build, message in mistakes:
            try:
                wrong = build()
            except Exception:  # a mistake that cannot even be formed on this input
                continue
            if not _matches(wrong, expected) and _matches(got, wrong):
                raise CheckFailed(f"{message}\n  input: {where}", hint)


def _call(candidate, *args, hint):
    """call(), naming the missing keepdims when the candidate's broadcasting fails."""
    try:
        return call(candidate, *args, hint=hint)
    except CheckFailed as failure:
        if "could not be broadcast" in failure.message:
            raise CheckFailed(
                f"{failure.message}\n  a row reduction without keepdims=True? A sum or max "
                "along axis=1 has shape (N,), which broadcasts along the columns; keep the axis "
                "(keepdims=True) so it broadcasts row by row", hint) from None
        raise


def _compare(got, expected, x, name, hint, rtol=None):
    rtol = RTOL[np.dtype(x.dtype).type] if rtol is None else rtol
    with case(name):
        expect_array(got, expected, inputs=describe(x), hint=hint, rtol=rtol, atol=rtol * 1e-3)


# ---------------------------------------------------------------- task 1: softmax of rows

def _rows_mistakes(X):
    X64 = np.asarray(X, dtype=np.float64)

    def naive():
        e = np.exp(X64)
        return e / e.sum(axis=1, keepdims=True)

    def shifted_by(a):
        e = np.exp(X64 - a)
        return e / e.sum(axis=1, keepdims=True)

    def no_keepdims():
        e = np.exp(X64 - X64.max(axis=1))  # (N,) broadcasts along the last axis
        return e / e.sum(axis=1, keepdims=True)

    def not_normalized():
        return np.exp(X64 - X64.max(axis=1, keepdims=True))

    return [
        (naive, "NaN or inf where exp(x) overflowed (inf / inf) or every exp(x) underflowed "
                "(0 / 0): the naive formula; subtract each row's max before exp"),
        (lambda: shifted_by(X64.max()), "one shift for the whole batch (the global max): rows "
                                        "far below it underflow to 0 / 0; shift each row by its "
                                        "own max, X.max(axis=1, keepdims=True)"),
        (lambda: shifted_by(X64.mean(axis=1, keepdims=True)),
         "shifting by the row mean: exp(x - mean) still overflows when a row spreads over more "
         "than about 709; the max is the only safe shift"),
        (lambda: shifted_by(X64.min(axis=1, keepdims=True)),
         "shifting by the row min: every exponent is then >= 0 and the largest one is the whole "
         "spread of the row, which overflows; shift by the max"),
        (no_keepdims, "the row max without keepdims=True: X - X.max(axis=1) subtracts the max of "
                      "row j from column j; keep the axis so it broadcasts row by row"),
        (lambda: _softmax_64(X64, axis=0), "your columns sum to 1, not your rows: normalize "
                                           "along axis=1"),
        (not_normalized, "the rows do not sum to 1: you returned exp(x - m) without dividing by "
                         "each row's sum"),
    ]


@task(hints=(
    "Reread chapter 3, section 3.2 'Shift invariance' and section 3.3 'A stable, vectorized "
    "softmax': adding one number to a whole row leaves its softmax unchanged, so pick the shift "
    "that makes overflow impossible.",
    "Shift every row by its own maximum, kept as an (N, 1) column so it subtracts row by row; "
    "exponentiate; divide each row by its own sum, again kept as a column. Every exponent is "
    "then at most 0 and every row sums to 1.",
))
def softmax_rows(candidate):
    """candidate(X) -> the softmax of every row of X, shape (N, K), in X's dtype."""
    rng = fresh_rng(31)
    cases = [
        ("random rows", rng.normal(size=dims(rng, 4, 6))),
        ("a row from 0 down to -800 (a min shift overflows, the naive formula does not)",
         np.array([[0.0, -800.0, -1.0, -2.0], [1.0, 2.0, 3.0, 4.0]])),
        ("a row from 700 down to -800 (a mean shift overflows too)",
         np.array([[700.0, -800.0, -800.0, -800.0], [1.0, 2.0, 3.0, 4.0]])),
        ("large logits (exp overflows: the naive formula gives inf / inf = NaN)",
         np.array([[1000.0, 1001.0, 999.0], [-5.0, 710.0, 0.0]])),
        ("very negative logits (every exp underflows: 0 / 0)",
         np.array([[-1000.0, -1001.0, -999.0], [-800.0, -802.0, -801.0]])),
        ("rows at very different levels (one shift for all rows fails)",
         np.array([[0.0, 1.0, 2.0], [-2000.0, -2001.0, -1999.0], [3000.0, 2999.0, 2998.0]])),
        ("a square batch (a max without keepdims broadcasts the wrong way, silently)",
         np.array([[10.0, 1.0, 2.0], [3.0, 40.0, 5.0], [6.0, 7.0, 900.0]])),
        ("a single column (every row is [1])", rng.normal(size=(*dims(rng, 5), 1))),
        ("float32 rows (keep the dtype)",
         (30 * rng.normal(size=dims(rng, 3, 4))).astype(np.float32)),
        ("float16 rows (exp(12) is past float16's max)",
         np.array([[10.0, 11.0, 12.0], [0.0, -1.0, -2.0]], dtype=np.float16)),
        ("a batch of 500 x 300", 5 * rng.normal(size=(500, 300))),
    ]
    for name, X in cases:
        got = _call(candidate, X, hint=HINT_STABLE)
        expected = reference(X, axis=1)
        where = f"{name}: {describe(X)}"
        _name_mistakes(got, expected, _rows_mistakes(X), f"on {where}", HINT_STABLE)
        _compare(got, expected, X, name, HINT_STABLE)
    passed("softmax_rows", f"{len(cases)} batches: overflow, underflow, float16/32/64, rows sum "
                           "to 1")


# ---------------------------------------------------------------- task 2: the Jacobian

def _jacobian_mistakes(x):
    s = _softmax_64(x)
    n = s.size
    def naive():
        return np.exp(x) / np.exp(x).sum()

    zero_diagonal = -np.outer(s, s)  # the notes' quotient rule (1/v) dv - (v/v^2) dv = 0
    np.fill_diagonal(zero_diagonal, 0.0)
    off_squared = -np.tile(s ** 2, (n, 1))  # entry (i, j) = -s_j^2: the notes' e^{x_l} e^{x_l}
    np.fill_diagonal(off_squared, s - s ** 2)
    return [
        (lambda: -np.outer(s, s), "the diagonal is missing its first term: for i = j the "
                                  "numerator e^{x_i} depends on x_i too, so "
                                  "ds_i/dx_i = s_i - s_i^2, not -s_i^2"),
        (lambda: zero_diagonal, "the diagonal is 0: the quotient rule is d(u/v) = (1/v) du "
                                "- (u/v^2) dv, with u = e^{x_i} and v = sum_j e^{x_j}; "
                                "(1/v) dv - (v/v^2) dv cancels to 0. Correct: s_i - s_i^2"),
        (lambda: np.diag(s * (1 - s)), "only the diagonal: for i != j, s_i still depends on "
                                       "x_j through the sum in the denominator, "
                                       "ds_i/dx_j = -s_i s_j"),
        (lambda: np.outer(s, s) - np.diag(s), "every sign is flipped: J = diag(s) - s s^T"),
        (lambda: np.diag(s) + np.outer(s, s), "the outer product has the wrong sign: the sum "
                                              "sits in the denominator, so J = diag(s) - s s^T"),
        (lambda: off_squared, "the off-diagonal entries are -s_j^2 (e^{x_j} twice): the "
                              "numerator e^{x_i} stays, so ds_i/dx_j = -e^{x_i} e^{x_j} / S^2 "
                              "= -s_i s_j"),
        (lambda: np.eye(n) - np.tile(s, (n, 1)), "that is the Jacobian of log(softmax(x)), "
                                                 "I - 1 s^T (chapter 4), not of softmax"),
        (lambda: np.diag(naive()) - np.outer(naive(), naive()),
         "NaN from exp of large logits (inf / inf): compute s with the max shift first, then "
         "build diag(s) - s s^T from s"),
    ]


@task(hints=(
    "Reread chapter 3, section 3.4 'The Jacobian, entry by entry': differentiate s_i with "
    "respect to x_k in two cases, k equal to i and k different from i.",
    "Both cases fit one matrix: the diagonal matrix of s minus the outer product of s with "
    "itself. Compute s stably first (task 1 on x seen as one row), then build that n x n matrix.",
))
def softmax_jacobian(candidate):
    """candidate(x) -> the n x n Jacobian of softmax at a 1-D x (numerator layout)."""
    rng = fresh_rng(32)
    cases = [
        ("a random vector", rng.normal(size=dims(rng, 5, low=2))),
        ("a vector of 3", np.array([0.5, -1.0, 2.0])),
        ("large logits (exp overflows)", np.array([1000.0, 999.0, 998.5, 990.0])),
        ("equal logits (s is uniform)", np.zeros(4)),
        ("a single logit (J = [[0]])", np.array([3.0])),
        ("a longer vector", 3 * rng.normal(size=dims(rng, 12, low=2, high=20))),
    ]
    for name, x in cases:
        got = call(candidate, x, hint=HINT_JACOBIAN)
        s = reference(x)
        expected = np.diag(s) - np.outer(s, s)
        if isinstance(got, np.ndarray) and got.shape == x.shape and x.size > 1:
            raise CheckFailed(
                f"on {name}: returned shape {got.shape}, a vector; the Jacobian of a map "
                f"R^{x.size} -> R^{x.size} is a {x.size} x {x.size} matrix\n  input: {describe(x)}",
                HINT_JACOBIAN)
        _name_mistakes(got, expected, _jacobian_mistakes(x), f"on {name}: {describe(x)}",
                       HINT_JACOBIAN)
        _compare(got, expected, x, name, HINT_JACOBIAN, rtol=1e-9)
    passed("softmax_jacobian", f"{len(cases)} vectors, diag(s) - s s^T, no overflow")


# ---------------------------------------------------------------- task 3: the VJP

def _vjp_mistakes(dout, s):
    inner = np.sum(dout * s, axis=1, keepdims=True)
    seed = s * dout - s * s * dout - (np.sum(dout * s * s, axis=1, keepdims=True)
                                      - dout * s * s)
    return [
        (lambda: dout * s * (1 - s), "softmax treated as elementwise: s(1 - s) v keeps only "
                                     "the diagonal of the Jacobian; every s_i depends on every "
                                     "x_j, hence the term - s_i <v, s>"),
        (lambda: s * (dout - dout.sum(axis=1, keepdims=True)),
         "the inner product lost its weights: <v, s> = sum_j v_j s_j, not sum_j v_j"),
        (lambda: dout - inner, "the factor s is missing: dx = s * (v - <v, s>)"),
        (lambda: s * (inner - dout), "the sign is flipped: dx = s * (v - <v, s>)"),
        (lambda: s * (dout - np.sum(dout * s)),
         "<v, s> summed over the whole batch: it is one number per row, "
         "np.sum(v * s, axis=1, keepdims=True)"),
        (lambda: s * (dout - np.sum(dout * s, axis=0, keepdims=True)),
         "<v, s> summed along axis 0 (down the columns): sum each row, axis=1"),
        (lambda: seed, "the off-diagonal terms use s_j twice, -sum_{j != i} v_j s_j s_j (as in "
                       "the course notes): the entry J_ji is -s_j s_i, so s_i factors out"),
        (lambda: s * (dout - np.sum(dout * s, axis=1)),
         "<v, s> without keepdims=True: shape (N,) broadcasts along the columns; "
         "use keepdims=True so it broadcasts row by row"),
    ]


def _peak_bytes(candidate, *args):
    """Peak memory traced while the candidate runs (NumPy reports its arrays to tracemalloc)."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        result = call(candidate, *args, hint=HINT_VJP)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return result, peak


@task(hints=(
    "Reread chapter 3, section 3.5 'The vector-Jacobian product': multiply dout by the "
    "Jacobian of section 3.4 on paper first, and the n x n matrix disappears.",
    "Per row, the result is s times (dout minus one number), and that number is the inner "
    "product of the row of dout with the row of s. Compute it for all rows at once as an (N, 1) "
    "column so it subtracts row by row.",
))
def softmax_vjp(candidate):
    """candidate(dout, s) -> dL/dx for softmax rows s and dout = dL/ds, (N, K), no N x N Jacobian."""
    rng = fresh_rng(33)

    def case(name, X, dtype=np.float64):
        s = reference(X).astype(dtype)
        return name, rng.normal(size=X.shape).astype(dtype), s

    cases = [
        case("a random batch", rng.normal(size=dims(rng, 4, 6))),
        case("a single row", rng.normal(size=(1, *dims(rng, 5)))),
        case("a square batch", rng.normal(size=dims(rng, 3, low=2) * 2)),
        case("nearly one-hot rows (large logits)",
             np.array([[1000.0, 990.0, 980.0], [0.0, 30.0, -30.0]])),
        case("one entry per row (s = [1], so dx = 0)", rng.normal(size=(*dims(rng, 3), 1))),
        case("float32", rng.normal(size=dims(rng, 3, 5)), np.float32),
    ]
    # the gradient check first: it says whether the numbers are a gradient at all
    x = rng.normal(size=dims(rng, 3, 4, low=2))
    dout = rng.normal(size=x.shape)
    got = _call(candidate, dout, reference(x), hint=HINT_VJP)
    expected = reference_backward(dout, reference(x))
    where = f"on a random batch: dout = {describe(dout)}, s = softmax(x)"
    _name_mistakes(got, expected, _vjp_mistakes(dout, reference(x)), where, HINT_VJP)
    expect_array(got, expected, inputs=where, hint=HINT_VJP, rtol=1e-7, atol=1e-10)
    try:
        # 1e-7 entry-wise, as always without a seed; fresh draws (seed=k) sometimes have an
        # entry of dx that cancels to near 0, where the entry-wise error of a right answer
        # reaches a few 1e-7 (0.5% of draws), so they get 1e-5: a wrong VJP is off by 1e-1.
        gradcheck(reference, x, np.asarray(got, dtype=np.float64), upstream=dout,
                  tol=1e-7 if seeded() is None else 1e-5)
    except GradientCheckError as error:
        raise CheckFailed(f"{where}: {str(error).splitlines()[0]}", HINT_VJP) from None
    for name, dout, s in cases:
        got = _call(candidate, dout, s, hint=HINT_VJP)
        expected = reference_backward(dout, s)
        _name_mistakes(got, expected, _vjp_mistakes(dout.astype(np.float64),
                                                    s.astype(np.float64)),
                       f"on {name}: dout = {describe(dout)}, s = {describe(s)}", HINT_VJP)
        _compare(got, expected, s, name, HINT_VJP,
                 rtol=1e-9 if s.dtype == np.float64 else None)
    # a long row: the Jacobian route needs n^2 numbers, the VJP a few times n
    s = reference(rng.normal(size=(2, 2000)))
    dout = rng.normal(size=(2, 2000))
    got, peak = _peak_bytes(candidate, dout, s)
    if peak > 50 * dout.nbytes:
        raise CheckFailed(
            f"on a batch of 2 rows of 2000: your function used {peak / 1e6:.0f} MB for inputs "
            f"of {dout.nbytes / 1e3:.0f} kB; it seems to build the 2000 x 2000 Jacobian "
            "(32 MB per row). A VJP needs only O(n) memory: s * (v - <v, s>)", HINT_VJP)
    _compare(got, reference_backward(dout, s), s, "a batch of 2 rows of 2000", HINT_VJP,
             rtol=1e-9)
    passed("softmax_vjp", f"gradient check passed, {len(cases) + 1} batches, "
                          "O(n) memory, no Jacobian")


# ---------------------------------------------------------------- task 4: masked softmax

def _masked_expected(X):
    s = reference(X, axis=1)
    s[~np.isfinite(X).any(axis=1)] = 0  # attention's convention for rows with nothing left
    return s


def _masked_mistakes(X):
    X64 = np.asarray(X, dtype=np.float64)
    return [
        (lambda: reference(X64, axis=1),
         "NaN for a row of only -inf: the softmax of such a row is undefined (0 / 0); this task "
         "asks for attention's convention, a row of zeros: find rows with no finite entry "
         "(np.isfinite(X).any(axis=1)) and set them to 0"),
        (lambda: _softmax_64(np.where(np.isneginf(X64), -1e9, X64), axis=1),
         "a fully masked row came back uniform (1/K): with -1e9 (or any finite number) instead "
         "of -inf, a row of only masks looks like K equal logits; keep -inf and zero such rows"),
        (lambda: _masked_expected(np.where(np.isneginf(X64), 0.0, X64)),
         "masked entries (-inf) got a probability: they must get exactly 0, "
         "and exp(-inf - m) = 0 does that by itself"),
    ]


@task(hints=(
    "Reread chapter 3, section 3.3, 'Masks and rows with nothing left': an entry of -inf gets "
    "probability exactly 0 by itself, since the exponential of -inf is 0; only a row with no "
    "finite entry at all needs care.",
    "Find the rows with at least one finite entry. Shift those by their maximum and the others "
    "by 0, so minus infinity minus minus infinity never happens; then divide by the row sums "
    "only where the sum is positive and write 0 elsewhere.",
))
def softmax_masked(candidate):
    """candidate(X) -> row-wise softmax where -inf entries are masks; a row of only -inf -> 0."""
    inf = np.inf
    cases = fresh_masked_batch(34) + [
        ("a row with some -inf entries", np.array([[-inf, 0.0, 1.0], [2.0, 3.0, -inf]])),
        ("a row of only -inf (attention's convention: zeros)",
         np.array([[0.0, 1.0, 2.0], [-inf, -inf, -inf]])),
        ("every row masked", np.full((2, 3), -inf)),
        ("one survivor per row", np.array([[-inf, 5.0, -inf], [-1000.0, -inf, -inf]])),
        ("large logits with masks", np.array([[1000.0, -inf, 999.0], [-inf, -inf, -inf]])),
        ("float32 with a masked row", np.array([[-inf] * 3, [1, 2, 3]], dtype=np.float32)),
        ("a row from 700 down to -800 (a mean shift overflows), and an entry 746 below its "
         "row's max (its probability underflows to 0, which is fine)",
         np.array([[700.0, -800.0, -800.0, -800.0], [0.0, -745.0, -inf, 1.0]])),
    ]
    for name, X in cases:
        # A correct solution triggers no division by zero, invalid value or overflow. Underflow
        # is no mistake: exp of an entry far below the row's max is 0, as it should be.
        with np.errstate(divide="raise", invalid="raise", over="raise", under="ignore"):
            try:
                got = call(candidate, X, hint=HINT_MASK)
            except CheckFailed as failure:
                if "FloatingPointError: overflow" in failure.message:
                    raise CheckFailed(
                        f"on {name}: {failure.message.splitlines()[0]}; exp overflowed: shift "
                        "each row by its max, the only shift that keeps every exponent <= 0",
                        HINT_SHIFT) from None
                if "FloatingPointError" in failure.message:
                    raise CheckFailed(
                        f"on {name}: {failure.message.splitlines()[0]}; NumPy would warn here: "
                        "a row of only -inf gives -inf - (-inf) = NaN and 0 / 0; handle such "
                        "rows on their own (np.where, or np.errstate around the division)",
                        HINT_MASK) from None
                raise
        expected = _masked_expected(X)
        _name_mistakes(got, expected, _masked_mistakes(X), f"on {name}: {describe(X)}",
                       HINT_MASK)
        _compare(got, expected, X, name, HINT_MASK)
    passed("softmax_masked", f"{len(cases)} batches: masked entries get 0, fully masked rows "
                             "give zeros, no warnings")


# ---------------------------------------------------------------- task 5: temperature

def _temperature_mistakes(X, T):
    X64 = np.asarray(X, dtype=np.float64)
    powered = _softmax_64(X64, axis=1) ** (1 / T)
    return [
        (lambda: _softmax_64(X64 * T, axis=1), "that is softmax(T * x): the temperature "
                                               "divides the logits, softmax(x / T)"),
        (lambda: _softmax_64(X64, axis=1) / T, "the rows do not sum to 1: you divided the "
                                               "probabilities by T, divide the logits"),
        (lambda: powered / powered.sum(axis=1, keepdims=True),
         "probabilities raised to the power 1/T: equal on paper, but entries that underflowed "
         "to 0 in softmax(x) stay 0; divide the logits by T, then take one stable softmax"),
        (lambda: np.exp(X64 / T) / np.exp(X64 / T).sum(axis=1, keepdims=True),
         "NaN from overflow at a small temperature: x / T is large; shift x / T by its row max"),
        (lambda: _softmax_64(X64, axis=1), "the temperature is ignored: softmax(x / T)"),
    ]


@task(hints=(
    "Reread chapter 3, section 3.6 'Temperature': the temperature divides the logits, not the "
    "probabilities.",
    "Divide the logits by T first, then take one stable softmax of the rows (task 1): a small T "
    "makes the quotient huge, and only the shift by the row maximum keeps it finite.",
))
def softmax_temperature(candidate):
    """candidate(X, T) -> softmax(X / T) row by row, for a temperature T > 0, in X's dtype."""
    rng = fresh_rng(35)
    logits = np.array([[2.0, 1.0, 0.5, 0.0, -1.0], [0.0, 3.0, -2.0, 1.0, 1.0]])
    cases = [
        ("T = 1 (plain softmax)", logits, 1.0),
        ("T = 2 (flatter)", logits, 2.0),
        ("T = 0.5 (sharper)", logits, 0.5),
        ("a small T = 0.002 (x / T reaches 1500: the naive formula overflows)", logits, 0.002),
        ("a large T = 100 with a spread of 800 (softmax(x) underflows, softmax(x/T) does not)",
         np.array([[0.0, -800.0, -400.0]]), 100.0),
        ("float32 logits, T = 0.1", (3 * rng.normal(size=dims(rng, 3, 4))).astype(np.float32), 0.1),
    ]
    if seeded() is not None:
        T = float(np.round(10 ** rng.uniform(-2, 2), 4))
        cases.append((f"fresh random logits, T = {T:g} (seed {seeded()})",
                      (3 * rng.normal(size=dims(rng, 3, 4))).astype(float_dtype(rng)), T))
    for name, X, T in cases:
        got = call(candidate, X, T, hint=HINT_TEMPERATURE)
        expected = reference(X / X.dtype.type(T), axis=1)
        _name_mistakes(got, expected, _temperature_mistakes(X, T),
                       f"on {name}: {describe(X)}, T = {T}", HINT_TEMPERATURE)
        _compare(got, expected, X, name, HINT_TEMPERATURE)
    passed("softmax_temperature", f"{len(cases)} temperatures from 0.002 to 100, no overflow")
