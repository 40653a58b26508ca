"""Tests for byhand.nn.activations: values against SciPy and mpmath, explicit Jacobians, gradient
checks, shapes and dtypes, special values, and the sigmoid's behaviour for large |x|."""

import inspect
import json
import warnings
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from scipy.special import expit

from byhand import nn
from byhand.gradcheck import gradcheck
from byhand.nn import (relu_backward, relu_forward, sigmoid, sigmoid_backward, sigmoid_forward,
                       tanh_backward, tanh_forward)

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "07_activations.ipynb"
FLOATS = [np.float16, np.float32, np.float64]
FUNCTIONS = [relu_forward, relu_backward, tanh_forward, tanh_backward, sigmoid,
             sigmoid_forward, sigmoid_backward]


# --- one source: the chapter shows exactly these functions -------------------------------------

def test_exports():
    assert set(nn.activations.__all__) == {f.__name__ for f in FUNCTIONS}
    for f in FUNCTIONS:
        assert getattr(nn, f.__name__) is f


def test_chapter_shows_every_function_verbatim():
    notebook = json.loads(CHAPTER.read_text())
    shown = "\n".join("".join(c["source"]) for c in notebook["cells"]
                      if "reference" in c["metadata"].get("tags", []))
    for f in FUNCTIONS:
        assert inspect.getsource(f).strip() in shown, f.__name__


# --- the Jacobian is diagonal: compare the VJPs with explicit Jacobians ------------------------

def explicit_jacobian(f, x, h=1e-6):
    """Numerator-layout Jacobian of an entry-wise f at a vector x, column by column."""
    J = np.zeros((x.size, x.size))
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        J[:, j] = (f(x + e) - f(x - e)) / (2 * h)
    return J


@pytest.mark.parametrize("name, f, backward, cache_of", [
    ("relu", lambda x: np.maximum(x, 0), relu_backward, lambda x: x),
    ("tanh", np.tanh, tanh_backward, np.tanh),
    ("sigmoid", expit, sigmoid_backward, expit),
])
def test_vjp_is_v_times_the_explicit_jacobian(name, f, backward, cache_of):
    rng = np.random.default_rng(1)
    x = rng.normal(size=6) * 2
    x[np.abs(x) < 1e-3] = 0.5
    v = rng.normal(size=6)
    J = explicit_jacobian(f, x)
    assert np.allclose(J, np.diag(np.diag(J)), atol=1e-12)  # diagonal
    np.testing.assert_allclose(backward(v, cache_of(x)), v @ J, rtol=1e-7, atol=1e-10)


def test_symbolic_derivatives():
    x = sp.Symbol("x", real=True)
    tanh_d = sp.diff(sp.tanh(x), x)
    sig = 1 / (1 + sp.exp(-x))
    assert sp.simplify(tanh_d - (1 - sp.tanh(x) ** 2)) == 0
    assert sp.simplify(sp.diff(sig, x) - sig * (1 - sig)) == 0
    h = sp.Symbol("h", positive=True)
    assert sp.limit(sp.Max(h, 0) / h, h, 0) == 1 and sp.limit(sp.Max(-h, 0) / -h, h, 0) == 0


# --- gradient checks on batches ----------------------------------------------------------------

@pytest.mark.parametrize("forward, backward", [(relu_forward, relu_backward),
                                               (tanh_forward, tanh_backward),
                                               (sigmoid_forward, sigmoid_backward)])
def test_gradcheck_on_a_batch(forward, backward):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(5, 4)) * 1.5
    X[np.abs(X) < 1e-3] = 0.5
    dout = rng.normal(size=(5, 4))
    out, cache = forward(X)
    gradcheck(lambda v: forward(v)[0], X, backward(dout, cache), upstream=dout)


def test_gradcheck_fails_for_a_wrong_vjp():
    """The tests can fail: 1 - tanh in place of 1 - tanh^2 is caught."""
    from byhand.gradcheck import GradientCheckError
    rng = np.random.default_rng(3)
    X, dout = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    out, _ = tanh_forward(X)
    with pytest.raises(GradientCheckError):
        gradcheck(np.tanh, X, dout * (1 - out), upstream=dout)


# --- ReLU: the mask, the choice at 0, special values --------------------------------------------

def test_relu_values_and_cache():
    x = np.array([[-2.0, -0.0, 0.0, 3.0], [np.inf, -np.inf, 1e-300, -1e-300]])
    out, cache = relu_forward(x)
    np.testing.assert_array_equal(out, [[0, 0, 0, 3], [np.inf, 0, 1e-300, 0]])
    assert cache is x or np.array_equal(cache, x)


def test_relu_gradient_is_zero_at_zero_and_comes_from_x():
    x = np.array([-1.0, 0.0, -0.0, 2.0])
    dout = np.array([5.0, 6.0, 7.0, -8.0])
    np.testing.assert_array_equal(relu_backward(dout, x), [0.0, 0.0, 0.0, -8.0])


def test_relu_masked_entries_are_exactly_zero_even_for_infinite_dout():
    x = np.array([-1.0, 2.0])
    assert relu_backward(np.array([np.inf, 1.0]), x).tolist() == [0.0, 1.0]


def test_relu_masked_zeros_are_signed_like_dout_only_where_dout_is_finite():
    # the docstring: dout * 0 keeps dout's sign; with an inf or NaN anywhere in dout,
    # np.where picks entry by entry and every masked entry is +0.0
    x = np.array([-1.0, -1.0, 0.0, 2.0])
    finite = relu_backward(np.array([-3.0, 3.0, -0.0, -4.0]), x)
    np.testing.assert_array_equal(np.signbit(finite), [True, False, True, True])
    for bad in (np.inf, np.nan):
        dx = relu_backward(np.array([-3.0, 3.0, -0.0, bad]), x)
        assert dx[:3].tolist() == [0.0, 0.0, 0.0] and not np.signbit(dx[:3]).any()


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_relu_non_finite_dout_passes_only_where_the_mask_is_on(bad):
    x = np.array([[-1.0, 2.0, 0.0], [3.0, -4.0, 5.0]])
    dout = np.array([[bad, bad, bad], [1.0, bad, -2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # and no RuntimeWarning
        dx = relu_backward(dout, x)
    np.testing.assert_array_equal(dx, [[0.0, bad, 0.0], [1.0, 0.0, -2.0]])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_relu_backward_equals_choosing_entry_by_entry(dtype):
    # the multiply it uses for speed gives the values np.where would give
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 33)).astype(dtype)
    x[::7, ::5] = 0                                        # some kinks
    dout = rng.normal(size=(64, 33)).astype(dtype)
    dx = relu_backward(dout, x)
    assert dx.dtype == dtype and dx.shape == x.shape
    np.testing.assert_array_equal(dx, np.where(x > 0, dout, 0))


def test_relu_nan_input():
    out, cache = relu_forward(np.array([np.nan, 1.0]))
    assert np.isnan(out[0]) and out[1] == 1


@pytest.mark.parametrize("dtype", FLOATS)
def test_dtypes_are_kept(dtype):
    x = np.linspace(-3, 3, 12).astype(dtype).reshape(3, 4)
    dout = np.ones_like(x)
    for forward, backward in [(relu_forward, relu_backward), (tanh_forward, tanh_backward),
                              (sigmoid_forward, sigmoid_backward)]:
        out, cache = forward(x)
        assert out.dtype == dtype and out.shape == x.shape
        assert backward(dout, cache).dtype == dtype
    assert sigmoid(x).dtype == dtype


def test_inputs_are_not_mutated():
    x = np.linspace(-3, 3, 7)
    saved = x.copy()
    for forward, backward in [(relu_forward, relu_backward), (tanh_forward, tanh_backward),
                              (sigmoid_forward, sigmoid_backward)]:
        out, cache = forward(x)
        backward(np.ones_like(x), cache)
        np.testing.assert_array_equal(x, saved)


# --- tanh and sigmoid caches are outputs ------------------------------------------------------

def test_tanh_and_sigmoid_cache_the_output():
    x = np.array([-2.0, 0.5, 3.0])
    out, cache = tanh_forward(x)
    np.testing.assert_array_equal(cache, np.tanh(x))
    out, cache = sigmoid_forward(x)
    np.testing.assert_array_equal(cache, expit(x))


def test_derivative_bounds():
    x = np.linspace(-10, 10, 2001)
    one = np.ones_like(x)
    assert np.max(tanh_backward(one, np.tanh(x))) == 1.0          # at x = 0
    assert np.max(sigmoid_backward(one, sigmoid(x))) == 0.25      # at x = 0
    assert np.all(sigmoid_backward(one, sigmoid(x)) > 0)


# --- the stable sigmoid ------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_never_warns(dtype):
    x = np.array([-1e4, -1000, -100, -89, -12, 0, 12, 89, 100, 1000, 1e4,
                  np.inf, -np.inf], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            y = sigmoid(x)
    assert np.all((y >= 0) & (y <= 1))
    assert y[0] == 0 and y[-3] == 1 and y[-2] == 1 and y[-1] == 0


def test_sigmoid_special_values():
    y = sigmoid(np.array([0.0, np.nan, np.inf, -np.inf]))
    assert y[0] == 0.5 and np.isnan(y[1]) and y[2] == 1 and y[3] == 0
    assert sigmoid([1, 2]).dtype == np.float64 and sigmoid(np.float32(0)).dtype == np.float32


def exact_sigmoid(v):
    with mpmath.workdps(50):
        return 1 / (1 + mpmath.exp(-mpmath.mpf(float(v))))


@pytest.mark.parametrize("dtype, max_ulps", [(np.float32, 2), (np.float64, 3)])
def test_sigmoid_within_a_few_ulps_of_mpmath(dtype, max_ulps):
    xs = np.concatenate([np.linspace(-80, 80, 641), [-700.0, -500.0, 30.0, 36.0]]).astype(dtype)
    xs = xs[np.abs(xs) < (80 if dtype == np.float32 else 700.5)]
    got = sigmoid(xs)
    for x, y in zip(xs, got):
        reference = dtype(float(exact_sigmoid(x)))
        ulps = abs(float(y) - float(reference)) / float(np.spacing(reference))
        assert ulps <= max_ulps, (x, y, reference)


def test_sigmoid_matches_scipy_on_a_wide_range():
    x = np.linspace(-800, 800, 100001)
    np.testing.assert_allclose(sigmoid(x), expit(x), rtol=1e-14, atol=1e-300)


@settings(max_examples=200, deadline=None)
@given(arrays(st.sampled_from(FLOATS), array_shapes(max_dims=3, max_side=6),
              elements=st.floats(-1e4, 1e4, width=16)))
def test_sigmoid_properties(x):
    with np.errstate(over="raise", invalid="raise"):
        y = sigmoid(x)
        z = sigmoid(-x)
    assert y.dtype == x.dtype and y.shape == x.shape
    assert np.all((y >= 0) & (y <= 1))
    # symmetry sigma(-x) = 1 - sigma(x), to the dtype's precision
    np.testing.assert_allclose(y.astype(np.float64) + z.astype(np.float64), 1.0,
                               atol=2 * float(np.finfo(x.dtype).eps))
    # monotone
    order = np.argsort(x, axis=None, kind="stable")
    assert np.all(np.diff(y.ravel()[order].astype(np.float64)) >= 0)


@settings(max_examples=100, deadline=None)
@given(arrays(np.float64, array_shapes(max_dims=2, max_side=5),
              elements=st.floats(-30, 30)),
       st.integers(0, 2))
def test_backward_is_elementwise_product(x, which):
    forward, backward = [(relu_forward, relu_backward), (tanh_forward, tanh_backward),
                         (sigmoid_forward, sigmoid_backward)][which]
    dout = np.cos(np.arange(x.size, dtype=np.float64)).reshape(x.shape)
    out, cache = forward(x)
    ones, _ = backward(np.ones_like(x), cache), None
    np.testing.assert_allclose(backward(dout, cache), dout * ones, rtol=1e-15, atol=0)
