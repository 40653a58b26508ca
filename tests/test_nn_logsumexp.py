"""Tests for byhand.nn.logsumexp: values, shapes, dtypes, special values, accuracy in ULPs.

The accuracy checks compare with a 60-digit mpmath reference. Near a result of 0 the output is the
difference of two larger numbers (the max m and log s), so no method has a small *relative* error
there; errors are therefore counted in units of the spacing at max(|exact|, 1).
"""

import inspect
import json
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from scipy.special import logsumexp as scipy_logsumexp

from byhand.nn import logsumexp

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "02_logsumexp.ipynb"
FLOATS = [np.float16, np.float32, np.float64]
MAX_ULPS = 4  # stated bound for finite inputs (measured worst case: 2)


def exact(row):
    """log(sum(exp(row))) of a 1-D array with 60 significant digits (an mpmath number)."""
    with mpmath.workdps(60):
        return mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in row))


def ulps(computed, reference, dtype):
    """|computed − reference rounded to dtype| in units of the dtype's spacing at max(|ref|, 1)."""
    rounded = np.dtype(dtype).type(float(reference))
    if not np.isfinite(computed):
        return np.inf
    unit = np.spacing(max(np.abs(rounded), np.dtype(dtype).type(1)))
    return abs(float(computed) - float(rounded)) / float(unit)


def worst_ulps(function, x, dtype):
    """Largest ULP error of function(x) over the rows of a 2-D array x."""
    with np.errstate(all="ignore"):
        got = np.atleast_1d(function(x))
    return max(ulps(got[k], exact(row), dtype) for k, row in enumerate(x))


# --- one source: the chapter shows exactly this function --------------------------------------

def test_chapter_reference_cell_is_the_package_source():
    notebook = json.loads(CHAPTER.read_text())
    cells = [c for c in notebook["cells"] if "reference" in c["metadata"].get("tags", [])]
    assert len(cells) == 1, "chapter 2 needs exactly one cell tagged 'reference'"
    shown = "".join(cells[0]["source"]).strip()
    assert shown == inspect.getsource(logsumexp).strip()


# --- values against SciPy and mpmath ----------------------------------------------------------

@pytest.mark.parametrize("shape, axis", [((7,), -1), ((4, 9), -1), ((4, 9), 0), ((3, 5, 6), 1),
                                         ((3, 5, 6), -3), ((2, 1, 3), 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_matches_scipy_on_batches(shape, axis, keepdims):
    x = np.random.default_rng(0).normal(size=shape) * 40
    got = logsumexp(x, axis=axis, keepdims=keepdims)
    want = scipy_logsumexp(x, axis=axis, keepdims=keepdims)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)


@pytest.mark.parametrize("dtype", FLOATS)
def test_dtype_is_preserved(dtype):
    x = np.arange(12, dtype=dtype).reshape(3, 4)
    assert logsumexp(x).dtype == dtype
    assert logsumexp(x, axis=0, keepdims=True).dtype == dtype
    assert logsumexp(x[0]).dtype == dtype  # 1-D input: a scalar of the same dtype


@pytest.mark.parametrize("x", [[1, 2, 3], np.array([True, False]), np.arange(4, dtype=np.int8)])
def test_integers_and_bools_become_float64(x):
    y = logsumexp(x)
    assert y.dtype == np.float64
    assert y == pytest.approx(float(exact(np.asarray(x, dtype=np.float64))), rel=1e-15)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("offset_of_overflow", [-3.0, 0.5, 2.0])
def test_no_overflow_or_underflow_where_naive_fails(dtype, offset_of_overflow):
    """Inputs around, above and far below exp's overflow threshold (and their negatives)."""
    top = float(np.log(np.finfo(dtype).max))
    for sign in (1, -1):
        x = (sign * (top + offset_of_overflow) + np.array([[0.0, -0.5, -1.0, -4.0]])).astype(dtype)
        x *= dtype(4) if sign < 0 else dtype(1)  # very negative: every exp underflows
        assert np.isfinite(logsumexp(x)).all()
        assert worst_ulps(logsumexp, x, dtype) <= MAX_ULPS


@pytest.mark.parametrize("dtype", FLOATS)
def test_accuracy_on_random_rows(dtype):
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(40, 30)) * rng.choice([0.1, 3, 30], size=(40, 1))).astype(dtype)
    assert worst_ulps(logsumexp, x, dtype) <= MAX_ULPS


def test_exactly_rounded_on_the_chapter_example():
    big = np.array([1000.0, 999.0, 998.0])
    assert logsumexp(big) == float(exact(big))
    assert logsumexp(-big) == float(exact(-big))


def test_shift_equivariance():
    """LSE(x + c) = LSE(x) + c; catches an implementation that forgets to add the shift back."""
    x = np.random.default_rng(2).normal(size=(5, 8))
    for c in (-700.0, -3.5, 0.25, 1e4):
        np.testing.assert_allclose(logsumexp(x + c), logsumexp(x) + c, rtol=1e-14, atol=1e-12)


def test_gradient_is_softmax():
    x = np.random.default_rng(3).normal(size=6) * 2
    h = 1e-6
    numerical = np.array([(logsumexp(x + h * e) - logsumexp(x - h * e)) / (2 * h)
                          for e in np.eye(6)])
    softmax = np.exp(x - logsumexp(x))
    np.testing.assert_allclose(numerical, softmax, rtol=1e-7, atol=1e-10)
    assert softmax.sum() == pytest.approx(1.0)


# --- special values -----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
def test_special_values_row_by_row(dtype):
    inf, nan = np.inf, np.nan
    x = np.array([[0.0, -inf, 1.0],       # -inf entry: exp(-inf) = 0
                  [-inf, -inf, -inf],     # all -inf: log 0 = -inf, not NaN
                  [0.0, inf, -inf],       # +inf wins
                  [inf, inf, 2.0],        # +inf twice (inf - inf would be NaN)
                  [0.0, nan, inf],        # NaN wins, even over +inf
                  [nan, -inf, -inf]], dtype=dtype)
    with np.errstate(all="raise"):  # documented behaviour must not warn
        got = logsumexp(x)
    assert got.dtype == dtype
    assert got[0] == pytest.approx(np.log1p(np.e), rel=2 * float(np.finfo(dtype).eps))
    assert got[1] == -inf and got[2] == inf and got[3] == inf
    assert np.isnan(got[4]) and np.isnan(got[5])
    np.testing.assert_array_equal(got, scipy_logsumexp(x.astype(np.float64), axis=-1)
                                  .astype(dtype))


def test_all_minus_inf_rows_in_a_batch_keep_shape():
    x = np.full((2, 3, 4), -np.inf)
    x[0, 1, 2] = 5.0
    got = logsumexp(x, axis=-1, keepdims=True)
    assert got.shape == (2, 3, 1)
    assert got[0, 1, 0] == 5.0
    assert np.all(got[1] == -np.inf) and np.isneginf(got[0, 0, 0])


def test_huge_spread_does_not_warn_or_fail():
    x = np.array([1.7e308, -1.7e308, 0.0])  # x - max overflows to -inf, exp of that is 0
    with np.errstate(all="raise"):
        assert logsumexp(x) == 1.7e308


# --- errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, axis", [((3, 0), -1), ((0,), 0), ((2, 0, 3), 1)])
def test_empty_axis_is_a_clear_error(shape, axis):
    with pytest.raises(ValueError, match="has length 0"):
        logsumexp(np.zeros(shape), axis=axis)


def test_empty_batch_is_fine():
    assert logsumexp(np.zeros((0, 3))).shape == (0,)


def test_bad_axis_raises_axis_error():
    with pytest.raises(np.exceptions.AxisError):
        logsumexp(np.zeros((2, 3)), axis=2)
    with pytest.raises(np.exceptions.AxisError):
        logsumexp(np.float64(1.0))


def test_input_is_not_modified():
    x = np.random.default_rng(4).normal(size=(3, 4))
    before = x.copy()
    logsumexp(x)
    np.testing.assert_array_equal(x, before)


# --- property: finite in, finite and accurate out ---------------------------------------------

@settings(max_examples=150, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(FLOATS))
def test_property_finite_inputs_give_finite_accurate_results(data, dtype):
    width = {np.float16: 16, np.float32: 32, np.float64: 64}[dtype]
    elements = st.floats(width=width, allow_nan=False, allow_infinity=False,
                         allow_subnormal=True)
    x = data.draw(arrays(dtype, array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=12),
                         elements=elements))
    x2 = x.reshape(-1, x.shape[-1])
    top = np.finfo(dtype).max
    with np.errstate(all="raise"):
        y = logsumexp(x2)
    assert y.dtype == dtype
    limit = [float(exact(row)) for row in x2]
    # finite unless the exact answer itself exceeds the largest float of the dtype
    for k, row in enumerate(x2):
        if abs(limit[k]) < float(top) * (1 - float(np.finfo(dtype).eps)):
            assert np.isfinite(y[k]), (row, y[k])
            assert ulps(y[k], exact(row), dtype) <= MAX_ULPS, (row, y[k], limit[k])


# --- the checks above can fail: broken implementations are caught ----------------------------

def _naive(x, axis=-1, keepdims=False):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


def _forgot_shift(x, axis=-1, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(x - m), axis=axis, keepdims=keepdims))


def _mean_shift(x, axis=-1, keepdims=False):
    a = np.mean(x, axis=axis, keepdims=True)
    y = a + np.log(np.sum(np.exp(x - a), axis=axis, keepdims=True))
    return y if keepdims else np.squeeze(y, axis)


@pytest.mark.parametrize("broken", [_naive, _forgot_shift, _mean_shift])
def test_the_accuracy_check_catches_broken_implementations(broken):
    x = np.array([[1000.0, 0.0, 0.0, 0.0], [-1000.0, -999.0, -998.0, -2000.0]])
    assert worst_ulps(broken, x, np.float64) > MAX_ULPS
