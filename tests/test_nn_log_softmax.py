"""Tests for byhand.nn.log_softmax and log_softmax_backward.

Accuracy is measured against a 50-digit mpmath reference, in ULPs of the dtype at
max(|exact|, 1) (as in chapter 2: near 0 the output is a difference of larger numbers). The stated
bound is MAX_ULPS for every finite input whose exact answer is representable; the cancellation-prone
form x - logsumexp(x) exceeds it by orders of magnitude, which a test below shows.
"""

import ast
import importlib
import inspect
import json
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from scipy.special import log_softmax as scipy_log_softmax

from byhand.gradcheck import GradientCheckError, gradcheck, numerical_gradient
from byhand.nn import log_softmax, log_softmax_backward, logsumexp

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "04_log_softmax.ipynb"
MODULE = importlib.import_module("byhand.nn.log_softmax")
FLOATS = [np.float16, np.float32, np.float64]
MAX_ULPS = 3  # stated bound for finite inputs (measured worst case: about 1.6)


def exact(row):
    """log_softmax of a 1-D array with 50 significant digits (a list of mpmath numbers).

    Computed as (x_i - m) - log(sum(exp(x_j - m))) in mpmath: x_i - LSE(x) would cancel up to 309
    of the 50 digits for float64 logits near 1e308 (the same cancellation as in float64).
    """
    with mpmath.workdps(50):
        xs = [mpmath.mpf(float(v)) for v in row]
        m = max(xs)
        log_sum = mpmath.log(mpmath.fsum(mpmath.exp(v - m) for v in xs))
        return [(v - m) - log_sum for v in xs]


def ulps(computed, reference, dtype):
    """|computed − reference rounded to dtype| in units of the dtype's spacing at max(|ref|, 1)."""
    rounded = np.dtype(dtype).type(float(reference))
    if not np.isfinite(computed):
        return np.inf
    unit = np.spacing(max(np.abs(rounded), np.dtype(dtype).type(1)))
    return abs(float(computed) - float(rounded)) / float(unit)


def worst_ulps(function, x, dtype):
    """Largest ULP error of function(x) (row-wise log-softmax) over all entries of 2-D x."""
    with np.errstate(all="ignore"):
        got = function(x)
    return max(ulps(g, e, dtype) for got_row, row in zip(got, x)
               for g, e in zip(got_row, exact(row)))


# --- one source: the chapter shows exactly these functions ------------------------------------

def test_chapter_reference_cells_are_the_package_source():
    notebook = json.loads(CHAPTER.read_text())
    cells = ["".join(c["source"]) for c in notebook["cells"]
             if "reference" in c["metadata"].get("tags", [])]
    shown = {}
    for text in cells:
        for node in ast.parse(text).body:
            if isinstance(node, ast.FunctionDef):
                lines = text.splitlines()[node.lineno - 1:node.end_lineno]
                shown[node.name] = "\n".join(lines)
    assert set(shown) == set(MODULE.__all__) == {"log_softmax", "log_softmax_backward"}
    for name, text in shown.items():
        assert text == inspect.getsource(getattr(MODULE, name)).rstrip("\n"), name


# --- values against SciPy and mpmath ----------------------------------------------------------

@pytest.mark.parametrize("shape, axis", [((7,), -1), ((4, 9), -1), ((4, 9), 0), ((3, 5, 6), 1),
                                         ((3, 5, 6), -3), ((2, 1, 3), 1)])
def test_matches_scipy_on_batches(shape, axis):
    x = np.random.default_rng(0).normal(size=shape) * 40
    got = log_softmax(x, axis=axis)
    want = scipy_log_softmax(x, axis=axis)
    assert got.shape == want.shape == x.shape
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("dtype", FLOATS)
def test_dtype_is_preserved(dtype):
    x = np.arange(12, dtype=dtype).reshape(3, 4)
    assert log_softmax(x).dtype == dtype
    assert log_softmax(x, axis=0).dtype == dtype
    assert log_softmax(x[0]).dtype == dtype


@pytest.mark.parametrize("x", [[1, 2, 3], np.array([True, False]), np.arange(4, dtype=np.int8)])
def test_integers_and_bools_become_float64(x):
    y = log_softmax(x)
    assert y.dtype == np.float64
    want = [float(e) for e in exact(np.asarray(x, dtype=np.float64))]
    np.testing.assert_allclose(y, want, rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("dtype", FLOATS)
def test_accuracy_on_random_rows(dtype):
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(40, 12)) * rng.choice([0.1, 3, 30], size=(40, 1))).astype(dtype)
    assert worst_ulps(log_softmax, x, dtype) <= MAX_ULPS


@pytest.mark.parametrize("dtype, level", [(np.float16, 1e3), (np.float32, 1e4), (np.float32, 1e6),
                                          (np.float64, 1e6), (np.float64, 1e12)])
def test_accurate_for_large_logits_where_x_minus_lse_cancels(dtype, level):
    """The stable form stays within the bound; x - logsumexp(x) loses ~level/2 ULPs."""
    rng = np.random.default_rng(2)
    x = (level + rng.normal(size=(6, 5))).astype(dtype)
    assert worst_ulps(log_softmax, x, dtype) <= MAX_ULPS
    cancelling = worst_ulps(lambda a: a - logsumexp(a, axis=-1, keepdims=True), x, dtype)
    assert cancelling > 50 * MAX_ULPS


def test_the_opening_example_of_the_chapter():
    x = np.array([0.0, -800.0])
    with np.errstate(all="ignore"):
        assert np.log(np.exp(x) / np.exp(x).sum())[1] == -np.inf
    assert log_softmax(x)[1] == -800.0 and log_softmax(x)[0] == 0.0


@pytest.mark.parametrize("dtype", FLOATS)
def test_no_overflow_or_underflow_where_naive_fails(dtype):
    top = float(np.log(np.finfo(dtype).max))
    for x in ([top + 2, top + 1, top], [-4 * top, -4 * top - 1, -4 * top - 3],
              [0.0, -3 * top, -1.0]):
        x = np.array([x], dtype=dtype)
        with np.errstate(all="raise"):
            y = log_softmax(x)
        assert np.isfinite(y).all()
        assert worst_ulps(log_softmax, x, dtype) <= MAX_ULPS


# --- special values -----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
def test_special_values_row_by_row(dtype):
    inf, nan = np.inf, np.nan
    x = np.array([[0.0, -inf, 1.0],       # -inf entry: probability 0, log-probability -inf
                  [-inf, -inf, -inf],     # all masked: no distribution, NaN (documented)
                  [0.0, inf, 1.0],        # +inf: NaN everywhere (documented)
                  [0.0, nan, 1.0],        # NaN: NaN everywhere
                  [5.0, 5.0, 5.0]], dtype=dtype)
    with np.errstate(all="raise"):        # documented behaviour must not warn
        y = log_softmax(x)
    assert y.dtype == dtype
    assert y[0, 1] == -inf
    np.testing.assert_allclose(y[0, [0, 2]], [-np.log1p(np.e), -np.log1p(np.exp(-1))],
                               rtol=2 * float(np.finfo(dtype).eps))
    assert np.isnan(y[1:4]).all()
    np.testing.assert_allclose(y[4], -np.log(3), rtol=2 * float(np.finfo(dtype).eps))


def test_huge_spread_does_not_warn():
    x = np.array([1.7e308, -1.7e308, 0.0])   # x - max overflows to -inf: exact is below -max
    with np.errstate(all="raise"):
        y = log_softmax(x)
    assert y[0] == 0.0 and y[1] == -np.inf and y[2] == -1.7e308


@pytest.mark.parametrize("shape, axis", [((3, 0), -1), ((0,), 0), ((2, 0, 3), 1)])
def test_empty_axis_is_a_clear_error(shape, axis):
    with pytest.raises(ValueError, match="has length 0"):
        log_softmax(np.zeros(shape), axis=axis)


def test_empty_batch_and_bad_axis():
    assert log_softmax(np.zeros((0, 3))).shape == (0, 3)
    with pytest.raises(np.exceptions.AxisError):
        log_softmax(np.zeros((2, 3)), axis=2)


def test_inputs_are_not_modified():
    x = np.random.default_rng(4).normal(size=(3, 4))
    v = np.random.default_rng(5).normal(size=(3, 4))
    x0, v0 = x.copy(), v.copy()
    logp = log_softmax(x)
    logp0 = logp.copy()
    log_softmax_backward(v, logp)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(v, v0)
    np.testing.assert_array_equal(logp, logp0)


# --- the Jacobian and the VJP -------------------------------------------------------------------

def test_jacobian_is_identity_minus_ones_times_softmax():
    x = np.random.default_rng(6).normal(size=5) * 2
    s = np.exp(log_softmax(x))
    J = np.eye(5) - np.outer(np.ones(5), s)
    J_numerical = np.array([numerical_gradient(log_softmax, x.copy(), e) for e in np.eye(5)])
    np.testing.assert_allclose(J, J_numerical, atol=1e-9)
    np.testing.assert_allclose(J.sum(axis=1), 0, atol=1e-15)
    np.testing.assert_allclose(J @ J, J, atol=1e-15)           # a projection
    for v in np.random.default_rng(7).normal(size=(4, 5)):
        np.testing.assert_allclose(log_softmax_backward(v, log_softmax(x)), J.T @ v,
                                   rtol=1e-12, atol=1e-14)


def test_jacobian_with_sympy():
    import sympy as sp

    xs = sp.symbols("x1:4", real=True)
    vs = sp.Matrix(sp.symbols("v1:4", real=True))
    total = sum(sp.exp(v) for v in xs)
    y = sp.Matrix([v - sp.log(total) for v in xs])
    s = sp.Matrix([sp.exp(v) / total for v in xs])
    J = y.jacobian(xs)
    assert (J - (sp.eye(3) - sp.ones(3, 1) * s.T)).applyfunc(sp.simplify) == sp.zeros(3, 3)
    assert (J.T * vs - (vs - s * sum(vs))).applyfunc(sp.simplify) == sp.zeros(3, 1)
    dropped = sp.Matrix([vs[i] - s[i] * (sum(vs) - vs[i]) for i in range(3)])
    assert (dropped - J.T * vs).applyfunc(sp.simplify) != sp.zeros(3, 1)


@pytest.mark.parametrize("shape, axis", [((3, 5), -1), ((3, 5), 0), ((2, 3, 4), 1), ((6,), 0)])
def test_gradcheck_of_the_backward(shape, axis):
    rng = np.random.default_rng(8)
    x = rng.normal(size=shape) * 3
    v = rng.normal(size=shape)
    dx = log_softmax_backward(v, log_softmax(x, axis=axis), axis=axis)
    assert dx.shape == x.shape
    report = gradcheck(lambda a: log_softmax(a, axis=axis), x, dx, upstream=v)
    assert report.relative_error < 1e-7
    np.testing.assert_allclose(dx.sum(axis=axis), 0, atol=1e-12)


def test_the_wrong_vjps_fail_the_gradient_check():
    rng = np.random.default_rng(9)
    x, v = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    s = np.exp(log_softmax(x))
    total = v.sum(axis=1, keepdims=True)
    wrong = {
        "dropped term (sum over j != i)": v - s * (total - v),
        "J v instead of J^T v": v - np.sum(s * v, axis=1, keepdims=True),
        "v - s": v - s,
        "softmax's VJP": s * (v - np.sum(s * v, axis=1, keepdims=True)),
    }
    for name, dx in wrong.items():
        with pytest.raises(GradientCheckError):
            gradcheck(log_softmax, x, dx, upstream=v)


@pytest.mark.parametrize("dtype", FLOATS)
def test_backward_dtypes_and_masked_entries(dtype):
    logp = log_softmax(np.array([[0.0, -np.inf, 1.0], [2.0, 2.0, 2.0]], dtype=dtype))
    v = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 1.5]], dtype=dtype)
    dx = log_softmax_backward(v, logp)
    assert dx.dtype == dtype
    assert dx[0, 1] == v[0, 1]                 # probability 0: the gradient passes unchanged
    np.testing.assert_allclose(dx.astype(np.float64).sum(axis=1), 0,
                               atol=8 * float(np.finfo(dtype).eps))
    assert log_softmax_backward(v.astype(np.float64), logp).dtype == np.float64
    assert log_softmax_backward(np.ones((2, 2), int), np.zeros((2, 2), int)).dtype == np.float64


def test_backward_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="must match"):
        log_softmax_backward(np.zeros((2, 3)), np.zeros((3, 2)))


def test_backward_all_masked_row_is_nan_like_the_forward():
    logp = log_softmax(np.array([[-np.inf, -np.inf], [0.0, 1.0]]))
    dx = log_softmax_backward(np.ones((2, 2)), logp)
    assert np.isnan(dx[0]).all() and np.isfinite(dx[1]).all()


# --- properties (hypothesis) --------------------------------------------------------------------

def _finite_arrays(dtype, max_side=10):
    width = {np.float16: 16, np.float32: 32, np.float64: 64}[dtype]
    elements = st.floats(width=width, allow_nan=False, allow_infinity=False, allow_subnormal=True)
    return arrays(dtype, array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=max_side),
                  elements=elements)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(FLOATS))
def test_property_finite_inputs_give_finite_accurate_results(data, dtype):
    x = data.draw(_finite_arrays(dtype))
    with np.errstate(all="raise"):
        y = log_softmax(x)
    assert y.dtype == dtype and y.shape == x.shape
    top = float(np.finfo(dtype).max)
    for got_row, row in zip(y, x):
        for g, e in zip(got_row, exact(row)):
            if abs(float(e)) < top * (1 - float(np.finfo(dtype).eps)):  # representable
                assert np.isfinite(g), (row, got_row)
                assert ulps(g, e, dtype) <= MAX_ULPS, (row, got_row, [float(v) for v in exact(row)])


@settings(max_examples=100, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(FLOATS))
def test_property_probabilities_sum_to_one(data, dtype):
    width = {np.float16: 16, np.float32: 32, np.float64: 64}[dtype]
    elements = st.floats(-1e4 if dtype != np.float16 else -6e4, 1e4 if dtype != np.float16
                         else 6e4, width=width)
    x = data.draw(arrays(dtype, array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=20),
                         elements=elements))
    with np.errstate(all="raise"):
        y = log_softmax(x)
    with np.errstate(under="ignore"):
        total = np.exp(y.astype(np.float64)).sum(axis=-1)
    # each entry is within MAX_ULPS of the exact value (at the spacing of 1 near 0)
    n = x.shape[-1]
    np.testing.assert_allclose(total, 1.0, rtol=0,
                               atol=2 * n * MAX_ULPS * float(np.finfo(dtype).eps))


@settings(max_examples=100, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(FLOATS))
def test_property_shift_invariance(data, dtype):
    """On dyadic logits (multiples of 1/64) a dyadic shift is exact, so the output is identical."""
    ints = data.draw(arrays(np.int64, array_shapes(min_dims=2, max_dims=2, min_side=1,
                                                   max_side=8),
                            elements=st.integers(-200, 200)))
    c = data.draw(st.integers(-8, 8) if dtype == np.float16 else st.integers(-300, 300))
    x = (ints / 64).astype(dtype)
    shifted = ((ints + 64 * c) / 64).astype(dtype)   # exact in every dtype for these ranges
    assert np.array_equal(shifted.astype(np.float64) - x.astype(np.float64),
                          np.full(x.shape, float(c)))
    np.testing.assert_array_equal(log_softmax(shifted), log_softmax(x))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_property_backward_matches_numerical_gradients(data):
    shape = data.draw(array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=6))
    elements = st.floats(-20, 20)
    x = data.draw(arrays(np.float64, shape, elements=elements))
    v = data.draw(arrays(np.float64, shape, elements=st.floats(-3, 3)))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    dx = log_softmax_backward(v, log_softmax(x, axis=axis), axis=axis)
    numerical = numerical_gradient(lambda a: log_softmax(a, axis=axis), x.copy(), v)
    np.testing.assert_allclose(dx, numerical, rtol=1e-6, atol=1e-8)
    assume(np.all(np.isfinite(dx)))
    np.testing.assert_allclose(dx.sum(axis=axis), 0, atol=1e-12 * max(1, np.abs(v).sum()))


# --- the checks above can fail: broken implementations are caught ----------------------------

def _naive(x, axis=-1):
    return np.log(np.exp(x) / np.sum(np.exp(x), axis=axis, keepdims=True))


def _cancelling(x, axis=-1):
    return x - logsumexp(x, axis=axis, keepdims=True)


def _forgot_log_sum(x, axis=-1):
    return x - np.max(x, axis=axis, keepdims=True)


@pytest.mark.parametrize("broken", [_naive, _cancelling, _forgot_log_sum])
def test_the_accuracy_check_catches_broken_implementations(broken):
    x = np.array([[1e4, 1e4 - 1, 1e4 - 2, 1e4 - 900], [-1000.0, -999.0, -998.0, -2000.0]])
    assert worst_ulps(broken, x, np.float64) > MAX_ULPS
