"""Tests for byhand.nn.softmax and softmax_backward: values, shapes, dtypes, special values,
accuracy in ULPs against mpmath, the Jacobian, gradient checks, and hypothesis properties.

Accuracy bound. Entry i of a row is computed as exp(x_i - m) / s. The subtraction x_i - m is
rounded (relative error u), and exp turns an absolute error u|x_i - m| in its argument into a
relative error u|x_i - m| in its result: exp's condition number at t is |t|. So the stated bound is
    error <= MAX_ULPS + |x_i - m|  ULPs  (float32, float64),
    error <= 1 ULP                        (float16, computed in float32 and rounded once),
where an ULP is the dtype's spacing at the exact value (the smallest subnormal where it is 0).
The entries that carry the probability mass (x_i near m) are therefore within a few ULPs.
"""

import inspect
import json
from pathlib import Path

import mpmath
import numpy as np
import pytest
import scipy.special
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from byhand.gradcheck import gradcheck, numerical_gradient, relative_error
from byhand.nn import softmax, softmax_backward

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "03_softmax.ipynb"
FLOATS = [np.float16, np.float32, np.float64]
MAX_ULPS = 4  # plus |x_i - m|; measured worst case: 3 (see the module docstring)


def exact(row):
    """softmax of a 1-D array with 60 significant digits: a list of mpmath numbers."""
    with mpmath.workdps(60):
        terms = [mpmath.exp(mpmath.mpf(float(v))) for v in row]
        total = mpmath.fsum(terms)
        return [t / total for t in terms]


def ulps(computed, reference, dtype):
    """|computed - reference rounded to dtype| in units of the dtype's spacing there."""
    rounded = np.dtype(dtype).type(float(reference))
    if not np.isfinite(computed):
        return np.inf
    unit = np.spacing(np.abs(rounded)) if rounded != 0 else np.finfo(dtype).smallest_subnormal
    return abs(float(computed) - float(rounded)) / float(unit)


def excess_ulps(function, x, dtype):
    """Largest (ULP error - allowance) over the entries of a 2-D x, rows along the last axis."""
    with np.errstate(all="ignore"):
        got = function(x)
    worst = -np.inf
    for k, row in enumerate(x):
        m = float(np.max(row))
        for i, value in enumerate(exact(row)):
            allowance = 1 if dtype == np.float16 else MAX_ULPS + abs(float(row[i]) - m)
            worst = max(worst, ulps(got[k, i], value, dtype) - allowance)
    return worst


def jacobian(s):
    """The explicit n x n Jacobian diag(s) - s s^T, built entry by entry (tests only)."""
    n = s.size
    return np.array([[s[i] * ((i == j) - s[j]) for j in range(n)] for i in range(n)])


# --- one source: the chapter shows exactly these functions ------------------------------------

def test_chapter_reference_cells_are_the_package_source():
    notebook = json.loads(CHAPTER.read_text())
    cells = ["".join(c["source"]).strip() for c in notebook["cells"]
             if "reference" in c["metadata"].get("tags", [])]
    assert cells == [inspect.getsource(softmax).strip(),
                     inspect.getsource(softmax_backward).strip()]


# --- values against SciPy ---------------------------------------------------------------------

@pytest.mark.parametrize("shape, axis", [((7,), -1), ((4, 9), -1), ((4, 9), 0), ((3, 5, 6), 1),
                                         ((3, 5, 6), -3), ((2, 1, 3), 1), ((5, 1), -1)])
def test_matches_scipy_on_batches(shape, axis):
    x = np.random.default_rng(0).normal(size=shape) * 40
    got = softmax(x, axis=axis)
    want = scipy.special.softmax(x, axis=axis)
    assert got.shape == x.shape
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(got.sum(axis=axis), 1.0, rtol=1e-14)


def test_a_non_contiguous_view_is_fine():
    x = np.random.default_rng(1).normal(size=(6, 8))
    np.testing.assert_array_equal(softmax(x.T, axis=0), softmax(x, axis=1).T)
    np.testing.assert_array_equal(softmax(x[::2, ::3]), softmax(x[::2, ::3].copy()))


@pytest.mark.parametrize("dtype", FLOATS)
def test_dtype_is_preserved(dtype):
    x = np.arange(12, dtype=dtype).reshape(3, 4)
    assert softmax(x).dtype == dtype
    assert softmax(x, axis=0).dtype == dtype
    s = softmax(x)
    assert softmax_backward(np.ones_like(s), s).dtype == dtype


def test_float32_stays_float32_inside():
    """float32 is computed in float32: the result is not a rounded float64 computation."""
    x = np.random.default_rng(2).normal(size=(50, 30)).astype(np.float32)
    got = softmax(x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, softmax(x.astype(np.float64)), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("x", [[1, 2, 3], np.array([True, False]), np.arange(4, dtype=np.int8)])
def test_integers_and_bools_become_float64(x):
    y = softmax(x)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, [float(v) for v in exact(np.asarray(x, dtype=float))],
                               rtol=1e-15)
    assert softmax_backward(np.ones(len(x), dtype=int), np.asarray(x)).dtype == np.float64


# --- special values -----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
def test_special_values_row_by_row(dtype):
    inf, nan = np.inf, np.nan
    x = np.array([[0.0, -inf, 1.0],       # -inf is a mask: probability exactly 0
                  [-inf, -inf, -inf],     # nothing left: 0 / 0, undefined -> NaN
                  [0.0, inf, -inf],       # not a real vector -> NaN
                  [0.0, nan, 1.0],        # NaN stays NaN
                  [5.0, -inf, -inf]], dtype=dtype)  # one survivor takes everything
    with np.errstate(all="raise"):  # documented behaviour must not warn
        got = softmax(x)
    assert got.dtype == dtype
    assert got[0, 1] == 0 and got[0, 2] == pytest.approx(1 / (1 + np.exp(-1)), rel=1e-3)
    assert np.isnan(got[1]).all() and np.isnan(got[2]).all() and np.isnan(got[3]).all()
    np.testing.assert_array_equal(got[4], [1, 0, 0])
    with np.errstate(all="ignore"):
        want = scipy.special.softmax(x.astype(np.float64), axis=-1).astype(dtype)
    # SciPy makes the same choices (NaN where we have NaN, the same zeros)
    np.testing.assert_allclose(got, want, rtol=2 * float(np.finfo(dtype).eps), atol=0)


def test_fully_masked_rows_in_a_batch_keep_their_shape_and_neighbours():
    x = np.full((2, 3, 4), -np.inf)
    x[0, 1, 2] = 5.0
    x[1, 2] = [1.0, 2.0, 3.0, -np.inf]
    got = softmax(x)
    assert got.shape == (2, 3, 4)
    np.testing.assert_array_equal(got[0, 1], [0, 0, 1, 0])
    np.testing.assert_allclose(got[1, 2, :3], softmax(np.array([1.0, 2.0, 3.0])))
    assert np.isnan(got[0, 0]).all() and np.isnan(got[1, 0]).all()


def test_float16_results_in_the_subnormal_range_do_not_warn():
    """exp(-10) / s is below float16's smallest normal: rounding it must not warn."""
    x = np.array([0.0, 10.0], dtype=np.float16)
    with np.errstate(all="raise"):
        y = softmax(x)
        g = softmax_backward(np.array([1.0, -1.0], dtype=np.float16), y)
    assert 0 < y[0] < np.finfo(np.float16).tiny and g.dtype == np.float16


def test_huge_spread_does_not_warn_or_fail():
    x = np.array([1.7e308, -1.7e308, 0.0])  # x - max overflows to -inf, whose exp is 0
    with np.errstate(all="raise"):
        np.testing.assert_array_equal(softmax(x), [1.0, 0.0, 0.0])


@pytest.mark.parametrize("dtype", FLOATS)
def test_no_overflow_where_the_naive_formula_fails(dtype):
    top = float(np.log(np.finfo(dtype).max))
    x = np.array([[top + 2, top + 1, top - 3], [-4 * top, -4 * top - 1, -4 * top - 2]],
                 dtype=dtype)
    with np.errstate(all="ignore"):
        naive = np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)
    assert np.isnan(naive[0, :2]).all() and np.isnan(naive[1]).all()  # inf/inf, 0/0
    assert np.isfinite(softmax(x)).all()
    assert excess_ulps(softmax, x, dtype) <= 0


# --- errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, axis", [((3, 0), -1), ((0,), 0), ((2, 0, 3), 1)])
def test_empty_axis_is_a_clear_error(shape, axis):
    with pytest.raises(ValueError, match="has length 0"):
        softmax(np.zeros(shape), axis=axis)


def test_empty_batch_is_fine():
    assert softmax(np.zeros((0, 3))).shape == (0, 3)
    assert softmax_backward(np.zeros((0, 3)), np.zeros((0, 3))).shape == (0, 3)


def test_bad_axis_raises_axis_error():
    with pytest.raises(np.exceptions.AxisError):
        softmax(np.zeros((2, 3)), axis=2)
    with pytest.raises(np.exceptions.AxisError):
        softmax(np.float64(1.0))


def test_backward_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="must be equal"):
        softmax_backward(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="must be equal"):
        softmax_backward(np.ones(3), np.ones((2, 3)))  # no silent broadcasting


def test_inputs_are_not_modified():
    rng = np.random.default_rng(4)
    x, v = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    x0, v0 = x.copy(), v.copy()
    s = softmax(x)
    s0 = s.copy()
    softmax_backward(v, s)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(v, v0)
    np.testing.assert_array_equal(s, s0)


# --- accuracy against mpmath --------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("scale", [0.1, 3.0, 30.0])
def test_accuracy_in_ulps(dtype, scale):
    rng = np.random.default_rng(5)
    x = (rng.normal(size=(30, 12)) * scale).astype(dtype)
    assert excess_ulps(softmax, x, dtype) <= 0


def test_entries_near_the_max_are_within_a_few_ulps():
    x = np.random.default_rng(6).uniform(-1, 0, size=(40, 10))
    x[:, 0] = 0.0  # the max; every |x_i - m| <= 1
    got = softmax(x)
    worst = max(ulps(got[k, i], value, np.float64)
                for k, row in enumerate(x) for i, value in enumerate(exact(row)))
    assert worst <= MAX_ULPS + 1


# --- the Jacobian and the VJP -------------------------------------------------------------------

def test_jacobian_matches_sympy_for_n_3():
    x = sp.symbols("x1:4", real=True)
    total = sum(sp.exp(t) for t in x)
    s_sym = sp.Matrix([sp.exp(t) / total for t in x])
    J = sp.lambdify(x, s_sym.jacobian(x), "numpy")
    point = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(np.array(J(*point), dtype=float), jacobian(softmax(point)),
                               rtol=1e-13, atol=1e-15)


def test_jacobian_matches_centered_differences():
    x = np.random.default_rng(7).normal(size=6) * 2
    h = 1e-6
    columns = [(softmax(x + h * e) - softmax(x - h * e)) / (2 * h) for e in np.eye(6)]
    np.testing.assert_allclose(np.array(columns).T, jacobian(softmax(x)), rtol=1e-6, atol=1e-10)


def test_jacobian_is_symmetric_with_zero_row_sums():
    s = softmax(np.random.default_rng(8).normal(size=5))
    J = jacobian(s)
    np.testing.assert_array_equal(J, J.T)
    np.testing.assert_allclose(J.sum(axis=1), 0, atol=1e-16)
    assert np.linalg.eigvalsh(J).min() > -1e-15  # positive semidefinite


def test_backward_is_the_jacobian_transpose_times_v():
    rng = np.random.default_rng(9)
    x, v = rng.normal(size=(4, 7)), rng.normal(size=(4, 7))
    s = softmax(x)
    got = softmax_backward(v, s)
    for k in range(4):
        np.testing.assert_allclose(got[k], jacobian(s[k]).T @ v[k], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("shape, axis", [((6,), -1), ((3, 5), -1), ((3, 5), 0), ((2, 3, 4), 1)])
def test_gradcheck_of_the_backward_function(shape, axis):
    rng = np.random.default_rng(10)
    x, v = rng.normal(size=shape) * 3, rng.normal(size=shape)
    report = gradcheck(lambda t: softmax(t, axis=axis), x,
                       softmax_backward(v, softmax(x, axis=axis), axis=axis), upstream=v)
    assert report.relative_error < 1e-8


def test_gradcheck_with_large_logits():
    x = np.array([1000.0, 999.0, 997.5, 990.0])
    v = np.array([0.3, -1.0, 2.0, 0.5])
    assert gradcheck(softmax, x, softmax_backward(v, softmax(x)), upstream=v).passed


def test_backward_of_a_constant_upstream_is_zero():
    """sum(s) = 1 for every x, so a gradient along (1, ..., 1) upstream must vanish."""
    s = softmax(np.random.default_rng(11).normal(size=(3, 8)))
    np.testing.assert_allclose(softmax_backward(np.full_like(s, 2.5), s), 0, atol=1e-15)


def test_backward_float16_and_float32():
    rng = np.random.default_rng(12)
    x, v = rng.normal(size=(3, 6)), rng.normal(size=(3, 6))
    want = softmax_backward(v, softmax(x))
    for dtype, tol in ((np.float32, 1e-5), (np.float16, 3e-3)):
        got = softmax_backward(v.astype(dtype), softmax(x.astype(dtype)))
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, atol=tol, rtol=0)


def test_backward_on_a_fully_masked_row_is_nan():
    s = softmax(np.array([[0.0, 1.0], [-np.inf, -np.inf]]))
    g = softmax_backward(np.ones((2, 2)), s)
    assert np.isfinite(g[0]).all() and np.isnan(g[1]).all()


# --- hypothesis properties ----------------------------------------------------------------------

def logits(dtype, max_side=12, **bounds):
    width = {np.float16: 16, np.float32: 32, np.float64: 64}[dtype]
    elements = st.floats(width=width, allow_nan=False, allow_infinity=False, **bounds)
    return arrays(dtype, array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=max_side),
                  elements=elements)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(FLOATS))
def test_property_finite_in_finite_out_sums_to_one_and_accurate(data, dtype):
    x = data.draw(logits(dtype))
    with np.errstate(all="raise"):
        y = softmax(x)
    assert y.dtype == dtype and y.shape == x.shape
    assert np.isfinite(y).all()
    assert ((y >= 0) & (y <= 1)).all()
    n = x.shape[-1]
    eps = float(np.finfo(dtype).eps)
    row_sums = y.astype(np.float64).sum(axis=-1)
    np.testing.assert_allclose(row_sums, 1.0, rtol=0, atol=(n + 2) * eps)
    assert np.all(y.max(axis=-1) >= 1 / n * (1 - 2 * eps))  # the largest entry gets >= 1/n
    assert excess_ulps(softmax, x.reshape(-1, n), dtype) <= 0


@settings(max_examples=100, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(FLOATS))
def test_property_shift_invariance_is_exact_for_exact_shifts(data, dtype):
    """Integer logits and shifts: x + c is exact, so softmax(x + c) equals softmax(x) bit for bit."""
    x = data.draw(arrays(dtype, array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=10),
                         elements=st.integers(-1000, 1000).map(float)))
    c = dtype(data.draw(st.integers(-1000, 1000)))
    np.testing.assert_array_equal(softmax(x + c), softmax(x))


@settings(max_examples=100, deadline=None)
@given(x=logits(np.float64, min_value=-1e3, max_value=1e3),
       c=st.floats(-1e3, 1e3, allow_nan=False))
def test_property_shift_invariance_up_to_rounding(x, c):
    y, y_shifted = softmax(x), softmax(x + c)
    # x + c is rounded: each |x_i - m| moves by about 2 ulp(|x| + |c|) before exp
    tolerance = 4 * float(np.spacing(np.max(np.abs(x)) + abs(c) + 1))
    np.testing.assert_allclose(y_shifted, y, rtol=tolerance * 2, atol=1e-300)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_property_gradients_match_numerical_ones(data):
    shape = data.draw(array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=6))
    x = data.draw(arrays(np.float64, shape, elements=st.floats(-20, 20)))
    v = data.draw(arrays(np.float64, shape, elements=st.floats(-3, 3)))
    numerical = numerical_gradient(softmax, x.copy(), upstream=v)
    analytic = softmax_backward(v, softmax(x))
    # relative error is meaningless where both are ~0; judge the error against |v|
    scale = max(float(np.abs(v).max()), 1e-3)
    assert np.max(np.abs(numerical - analytic)) <= 1e-7 * scale


# --- the checks above can fail: broken implementations are caught ----------------------------

def _naive(x, axis=-1):
    e = np.exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)


def _min_shift(x, axis=-1):
    e = np.exp(x - np.min(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _float64_inside(x, axis=-1):  # accurate, but the dtype test catches it
    return softmax(np.asarray(x, dtype=np.float64), axis)


@pytest.mark.parametrize("broken", [_naive, _min_shift])
def test_the_accuracy_check_catches_broken_implementations(broken):
    x = np.array([[1000.0, 0.0, 0.0, 0.0], [0.0, -800.0, -1.0, -2.0]])
    assert excess_ulps(broken, x, np.float64) > 0


def test_the_dtype_check_catches_silent_promotion():
    assert _float64_inside(np.ones(3, dtype=np.float32)).dtype != np.float32


@pytest.mark.parametrize("broken", [
    lambda v, s: v * s * (1 - s),                        # diagonal only
    lambda v, s: s * (v - v.sum(axis=-1, keepdims=True)),  # forgot the weights s
    lambda v, s: s * v - s * s * v - (np.sum(v * s * s, axis=-1, keepdims=True) - v * s * s),
])                                                       # the notes' -sum v_j s_j s_j
def test_the_gradient_check_catches_broken_backward_functions(broken):
    rng = np.random.default_rng(13)
    x, v = rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    assert relative_error(broken(v, softmax(x)), softmax_backward(v, softmax(x))) > 1e-3
