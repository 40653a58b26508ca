"""Tests for byhand.nn.cross_entropy: values against loops, SciPy and mpmath, gradients against
centered differences, shapes, dtypes, special values, errors, and hypothesis properties.

Accuracy is measured against a 50-digit mpmath reference and counted in ULPs of the dtype at
max(|exact|, 1), as in chapter 2 (a loss near 0 is a difference of larger numbers).
"""

import importlib
import inspect
import json
from pathlib import Path

import mpmath
import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from byhand.gradcheck import gradcheck, numerical_gradient
import byhand.nn
from byhand.nn import (cross_entropy, cross_entropy_backward, cross_entropy_forward,
                       nll_loss, softmax_cross_entropy_backward,
                       softmax_cross_entropy_forward)
module = importlib.import_module("byhand.nn.cross_entropy")

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "05_cross_entropy.ipynb"
GRAPHS = CHAPTER.parent / "09_graphs.ipynb"
FLOATS = [np.float16, np.float32, np.float64]
MAX_ULPS = 4  # stated bound for one example (measured worst case: 1 to 2)


def exact_loss(row, label):
    """-log softmax(row)[label] with 50 significant digits, from the stored floats.

    log(sum(exp(x_k - x_y))): the differences first, so that the 50 digits go to the answer
    and not to the size of x (log(sum(exp(x))) - x_y would cancel 37 digits at x = 1e36).
    """
    with mpmath.workdps(50):
        x_y = mpmath.mpf(float(row[label]))
        return mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v)) - x_y) for v in row))


def ulps(computed, exact, dtype):
    rounded = np.dtype(dtype).type(float(exact))
    if not np.isfinite(computed):
        return np.inf
    unit = np.spacing(max(np.abs(rounded), np.dtype(dtype).type(1)))
    return abs(float(computed) - float(rounded)) / float(unit)


def one_hot(labels, K):
    return np.eye(K)[labels]


# --- one source: the chapter shows exactly these functions ------------------------------------

def test_chapter_shows_every_function_of_the_module():
    notebook = json.loads(CHAPTER.read_text())
    shown = "\n".join("".join(c["source"]) for c in notebook["cells"]
                      if "reference" in c["metadata"].get("tags", []))
    for name in module.__all__:
        assert f"def {name}(" in shown, f"chapter 5 does not show {name}"


def test_all_is_complete():
    assert set(module.__all__) == {"cross_entropy", "cross_entropy_forward",
                                   "cross_entropy_backward",
                                   "softmax_cross_entropy_forward",
                                   "softmax_cross_entropy_backward", "nll_loss"}


# --- cross-entropy of probabilities -----------------------------------------------------------

def test_cross_entropy_matches_a_loop_and_scipy():
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(5), size=7)
    T = rng.dirichlet(np.ones(5), size=7)
    loop = -sum(T[n, k] * np.log(P[n, k]) for n in range(7) for k in range(5)) / 7
    assert cross_entropy(P, T) == pytest.approx(loop, rel=1e-13)
    assert cross_entropy(P, T) == pytest.approx(
        -np.sum(scipy.special.xlogy(T, P)) / 7, rel=1e-13)


def test_cross_entropy_one_hot_is_minus_log_p_y():
    P = np.array([[0.3, 0.2, 0.5], [0.1, 0.8, 0.1]])
    assert cross_entropy(P, one_hot([2, 1], 3)) == pytest.approx(
        -(np.log(0.5) + np.log(0.8)) / 2)


def backward_of(p, t, dloss=1.0):
    """cross_entropy_backward through the cache that cross_entropy_forward returns."""
    return cross_entropy_backward(dloss, cross_entropy_forward(p, t)[1])


def test_cross_entropy_single_row_counts_as_one_example():
    p, t = np.array([0.3, 0.2, 0.5]), np.array([0.0, 0.0, 1.0])
    assert cross_entropy(p, t) == pytest.approx(-np.log(0.5))
    assert backward_of(p, t) == pytest.approx(np.array([0, 0, -2.0]))


def test_zero_times_log_zero_is_zero_and_underflow_is_inf():
    P = np.array([[0.0, 1.0], [0.0, 1.0]])
    with np.errstate(all="raise"):
        assert cross_entropy(P, np.array([[0.0, 1.0], [0.0, 1.0]])) == 0
        assert cross_entropy(P, np.array([[1.0, 0.0], [0.0, 1.0]])) == np.inf
        grad = backward_of(P, np.array([[1.0, 0.0], [0.0, 1.0]]), dloss=2.5)
    assert grad[0, 0] == -np.inf and grad[1, 0] == 0 and grad[0, 1] == 0
    assert grad[1, 1] == -2.5 / 2


def test_forward_returns_the_loss_and_the_pair_p_t():
    rng = np.random.default_rng(7)
    P = rng.dirichlet(np.ones(3), size=4)
    T = rng.dirichlet(np.ones(3), size=4)
    loss, cache = cross_entropy_forward(P, T)
    assert loss == cross_entropy(P, T)
    assert isinstance(cache, tuple) and len(cache) == 2
    np.testing.assert_array_equal(cache[0], P)
    np.testing.assert_array_equal(cache[1], T)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("dloss", [1.0, 2.5, np.float64(2.5), 2])
def test_cross_entropy_keeps_dtype(dtype, dloss):
    P = np.full((2, 4), 0.25, dtype=dtype)
    T = one_hot([0, 3], 4).astype(dtype)
    loss, cache = cross_entropy_forward(P, T)
    assert cross_entropy(P, T).dtype == dtype and loss.dtype == dtype
    grad = cross_entropy_backward(dloss, cache)
    assert grad.dtype == dtype                 # a float64 dloss does not promote it
    np.testing.assert_array_equal(grad, (-float(dloss) * 2 * T).astype(dtype))


@pytest.mark.parametrize("dloss", [1.0, 2.5, -0.5])
def test_cross_entropy_backward_is_the_gradient(dloss):
    rng = np.random.default_rng(1)
    P = rng.uniform(0.2, 1, size=(4, 6))
    T = rng.dirichlet(np.ones(6), size=4)
    _, cache = cross_entropy_forward(P, T)
    analytic = cross_entropy_backward(dloss, cache)
    gradcheck(lambda q: dloss * cross_entropy_forward(q, T)[0], P, analytic)
    np.testing.assert_allclose(analytic, dloss * -T / P / 4, rtol=1e-15)


def test_the_upstream_gradient_multiplies():
    P = np.array([[0.5, 0.25, 0.25]])
    T = np.array([[0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(backward_of(P, T, dloss=2.5), [[0.0, -10.0, 0.0]])
    np.testing.assert_array_equal(backward_of(P, T, dloss=0.0), [[0.0, -0.0, 0.0]])


@pytest.mark.parametrize("dloss", [np.ones((2, 3)), np.ones(1), [1.0, 2.0]])
def test_backward_refuses_a_dloss_that_is_not_a_scalar(dloss):
    _, cache = cross_entropy_forward(np.full((2, 3), 1 / 3), one_hot([0, 2], 3))
    with pytest.raises(ValueError, match=r"dloss has shape .* must be a scalar"):
        cross_entropy_backward(dloss, cache)


def test_backward_refuses_the_arguments_in_the_wrong_order():
    P, T = np.full((2, 3), 1 / 3), one_hot([0, 2], 3)
    _, cache = cross_entropy_forward(P, T)
    with pytest.raises(ValueError, match=r"must be a scalar.*\(dloss, cache\)"):
        cross_entropy_backward(P, T)           # probabilities and targets, no dloss
    with pytest.raises(ValueError, match="must be a scalar"):
        cross_entropy_backward(cache, 1.0)     # swapped


@pytest.mark.parametrize("cache", [
    one_hot([0, 2], 3),                                    # t alone, not the pair
    [np.full((2, 3), 1 / 3), one_hot([0, 2], 3)],          # a list, not forward's tuple
    (np.full((2, 3), 1 / 3), one_hot([0, 2], 3), 2),       # three items
    (np.full((2, 3), 1 / 3), one_hot([0, 2], 4)),          # shapes (2, 3) and (2, 4)
    None,
])
def test_backward_refuses_a_cache_that_forward_did_not_return(cache):
    with pytest.raises(ValueError, match=r"cache must be the pair \(p, t\)"):
        cross_entropy_backward(1.0, cache)


def test_forward_refuses_shapes_that_differ():
    with pytest.raises(ValueError, match=r"p has shape \(2, 3\) but t has shape \(2,\)"):
        cross_entropy_forward(np.full((2, 3), 1 / 3), np.array([0, 2]))


# --- the book's layer API: upstream gradient first, then the cache ----------------------------

OUTPUT_IS_THE_CACHE = {"softmax_backward": "s", "log_softmax_backward": "logp"}


def backward_functions():
    return {name: getattr(byhand.nn, name) for name in dir(byhand.nn)
            if name.endswith("_backward") and callable(getattr(byhand.nn, name))}


def test_chapter_9_names_every_backward_function_and_its_form():
    """Section 9.1 lists the layers of byhand.nn by name: a new backward function (or a
    renamed one) must be added to that sentence."""
    notebook = json.loads(GRAPHS.read_text())
    text = next("".join(c["source"]) for c in notebook["cells"]
                if "".join(c["source"]).startswith("## 9.1 The layer abstraction"))
    text = " ".join(text.split())                  # the sentence spans several lines
    assert "upstream gradient first and the cache second" in text
    assert "`name_backward(dout, cache)`" in text
    assert set(OUTPUT_IS_THE_CACHE) <= set(backward_functions())
    for name in backward_functions():
        if name in OUTPUT_IS_THE_CACHE:
            assert f"`{name}(dout, {OUTPUT_IS_THE_CACHE[name]})`" in text, name
        else:
            assert f"`{name.removesuffix('_backward')}`" in text, name


@pytest.mark.parametrize("name", sorted(backward_functions()))
def test_every_backward_takes_the_upstream_gradient_first_then_the_cache(name):
    """Chapter 9 states this convention: `name_backward(dout, cache)` with a
    `name_forward -> (out, cache)`, except softmax and log-softmax, which take their
    forward output (it is their cache) and have no separate forward function."""
    parameters = list(inspect.signature(backward_functions()[name]).parameters)
    upstream, second = parameters[:2]
    assert upstream.startswith("d"), (name, parameters)      # dout, dA, dloss, ...
    if name in OUTPUT_IS_THE_CACHE:
        assert second == OUTPUT_IS_THE_CACHE[name], (name, parameters)
    else:
        assert second == "cache", (name, parameters)
        assert callable(getattr(byhand.nn, name.replace("_backward", "_forward"), None))


# --- softmax cross-entropy from logits --------------------------------------------------------

def test_labels_and_one_hot_targets_agree():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(6, 4)) * 3, rng.integers(0, 4, 6)
    loss_l, (P_l, T_l) = softmax_cross_entropy_forward(X, y)
    loss_t, (P_t, T_t) = softmax_cross_entropy_forward(X, one_hot(y, 4))
    assert loss_l == loss_t
    np.testing.assert_array_equal(T_l, one_hot(y, 4))
    np.testing.assert_array_equal(P_l, P_t)


def test_forward_matches_scipy_log_softmax():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 10)) * 5
    T = rng.dirichlet(np.ones(10), size=50)
    expected = -np.sum(T * scipy.special.log_softmax(X, axis=1)) / 50
    loss, (P, _) = softmax_cross_entropy_forward(X, T)
    assert loss == pytest.approx(expected, rel=1e-13)
    np.testing.assert_allclose(P, scipy.special.softmax(X, axis=1), rtol=1e-13)


@pytest.mark.parametrize("dtype", FLOATS)
def test_forward_and_backward_keep_dtype(dtype):
    X = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]], dtype=dtype)
    loss, cache = softmax_cross_entropy_forward(X, np.array([0, 2]))
    assert loss.dtype == dtype and np.ndim(loss) == 0
    assert softmax_cross_entropy_backward(1.0, cache).dtype == dtype


def test_integer_logits_become_float64():
    loss, cache = softmax_cross_entropy_forward(np.array([[1, 2, 3]]), np.array([2]))
    assert loss.dtype == np.float64
    assert loss == pytest.approx(float(exact_loss([1, 2, 3], 2)), rel=1e-15)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("scale", [1.0, 30.0, 1e3, 1e4, 3e4])
def test_extreme_logits_are_accurate_per_example(dtype, scale):
    base = np.array([[1.0, 0.0, -1.0], [1.0, 0.999, -0.5], [-1.0, -1.0, -1.0]])
    X = (scale * base).astype(dtype)
    for row in X:
        for label in range(3):
            loss, cache = softmax_cross_entropy_forward(row[None, :], np.array([label]))
            exact = exact_loss(row, label)
            if float(exact) < float(np.finfo(dtype).max):
                assert ulps(loss, exact, dtype) <= MAX_ULPS, (row, label, loss, exact)
            grad = softmax_cross_entropy_backward(1.0, cache)
            assert np.all(np.isfinite(grad)) and np.all(np.abs(grad) <= 1)


def test_the_chapter_example_is_exact_in_float32():
    X = np.array([[1e4, -1e4]], dtype=np.float32)
    assert softmax_cross_entropy_forward(X, np.array([1]))[0] == np.float32(20000)
    assert softmax_cross_entropy_forward(X, np.array([0]))[0] == 0


def test_masked_logits_of_minus_inf_with_zero_target():
    X = np.array([[0.0, -np.inf, 1.0]])
    with np.errstate(all="raise"):
        loss, cache = softmax_cross_entropy_forward(X, np.array([2]))
    assert loss == pytest.approx(np.log1p(np.exp(-1.0)))
    assert cache[0][0, 1] == 0


@pytest.mark.parametrize("targets", ["labels", "soft"])
@pytest.mark.parametrize("dloss", [1.0, -0.5, 3.0])
def test_backward_is_the_gradient(targets, dloss):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(5, 4))
    t = rng.integers(0, 4, 5) if targets == "labels" else rng.dirichlet(np.ones(4), size=5)
    _, cache = softmax_cross_entropy_forward(X, t)
    analytic = softmax_cross_entropy_backward(dloss, cache)
    gradcheck(lambda x: dloss * softmax_cross_entropy_forward(x, t)[0], X, analytic)


def test_backward_is_p_minus_t_over_n():
    X = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    _, (P, T) = softmax_cross_entropy_forward(X, np.array([0, 1]))
    np.testing.assert_array_equal(softmax_cross_entropy_backward(1.0, (P, T)), (P - T) / 2)


def test_label_smoothing_minimum_has_zero_gradient():
    K, eps = 5, 0.1
    t = (1 - eps) * one_hot([3], K) + eps / K
    _, cache = softmax_cross_entropy_forward(np.log(t), t)
    np.testing.assert_allclose(softmax_cross_entropy_backward(1.0, cache), 0, atol=1e-15)


@pytest.mark.parametrize("targets, message", [
    (np.array([[0.5, 0.3, 0.0]]), "sum to 1"),           # forgot eps / K: sums to 0.8
    (np.array([[1.0, 1.0, 0.0]]), "sum to 1"),           # multi-label
    (np.array([[1.5, -0.5, 0.0]]), ">= 0"),
    (np.array([3]), "0 .. 2"),
    (np.array([-1]), "0 .. 2"),
    (np.array([1.0]), "integers"),
    (np.array([[1.0, 0.0]]), "shape"),
])
def test_bad_targets_are_refused(targets, message):
    with pytest.raises((ValueError, TypeError), match=message):
        softmax_cross_entropy_forward(np.zeros((1, 3)), targets)


def test_logits_must_be_a_batch():
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        softmax_cross_entropy_forward(np.zeros(3), np.array([0]))


def test_inputs_are_not_modified():
    X = np.random.default_rng(5).normal(size=(3, 4))
    y = np.array([0, 1, 3])
    X0, y0 = X.copy(), y.copy()
    _, cache = softmax_cross_entropy_forward(X, y)
    softmax_cross_entropy_backward(1.0, cache)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


# --- negative log-likelihood ------------------------------------------------------------------

def test_nll_of_log_softmax_is_the_cross_entropy():
    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(8, 5)) * 2, rng.integers(0, 5, 8)
    logp = scipy.special.log_softmax(X, axis=1)
    assert nll_loss(logp, y) == pytest.approx(softmax_cross_entropy_forward(X, y)[0], rel=1e-14)
    assert nll_loss(logp, y) == pytest.approx(cross_entropy(np.exp(logp), one_hot(y, 5)))
    grad = numerical_gradient(lambda z: nll_loss(z, y), logp.copy())
    np.testing.assert_allclose(grad, -one_hot(y, 5) / 8, atol=1e-9)


def test_nll_refuses_labels_out_of_range():
    with pytest.raises(ValueError, match="0 .. 2"):
        nll_loss(np.zeros((2, 3)), np.array([0, -1]))


# --- hypothesis properties -------------------------------------------------------------------

WIDTH = {np.float16: 16, np.float32: 32, np.float64: 64}


@st.composite
def logits_and_labels(draw, dtype):
    N = draw(st.integers(1, 4))
    K = draw(st.integers(1, 6))
    elements = st.floats(width=WIDTH[dtype], allow_nan=False, allow_infinity=False)
    X = draw(arrays(dtype, (N, K), elements=elements))
    y = draw(arrays(np.int64, (N,), elements=st.integers(0, K - 1)))
    return X, y


@settings(max_examples=200, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(FLOATS))
def test_property_finite_logits_give_finite_accurate_loss_and_bounded_gradient(data, dtype):
    X, y = data.draw(logits_and_labels(dtype))
    with np.errstate(all="raise"):
        loss, cache = softmax_cross_entropy_forward(X, y)
        grad = softmax_cross_entropy_backward(1.0, cache)
    N = X.shape[0]
    top = float(np.finfo(dtype).max)
    exacts = [exact_loss(row, label) for row, label in zip(X, y)]
    exact = mpmath.fsum(exacts) / N
    if float(exact) < top * (1 - float(np.finfo(dtype).eps)):
        assert np.isfinite(loss), (X, y, loss, exact)
        # a mean of N rounded terms: allow N ULPs on top of the per-example bound
        assert ulps(loss, exact, dtype) <= MAX_ULPS + N, (X, y, loss, exact)
    assert np.all(np.isfinite(grad))
    assert np.all(np.abs(grad.astype(np.float64)) <= 1.0 / N + 1e-3)
    np.testing.assert_allclose(grad.astype(np.float64).sum(axis=1), 0, atol=1e-2)


@settings(max_examples=60, deadline=None)
@given(X=arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 5)),
                elements=st.floats(-5, 5)),
       seed=st.integers(0, 2**32 - 1))
def test_property_gradient_matches_centered_differences(X, seed):
    rng = np.random.default_rng(seed)
    T = rng.dirichlet(np.ones(X.shape[1]), size=X.shape[0])
    _, cache = softmax_cross_entropy_forward(X, T)
    analytic = softmax_cross_entropy_backward(1.0, cache)
    numerical = numerical_gradient(lambda x: softmax_cross_entropy_forward(x, T)[0], X.copy())
    np.testing.assert_allclose(analytic, numerical, rtol=1e-6, atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_property_shift_invariance(data):
    X, y = data.draw(logits_and_labels(np.float64))
    X = np.clip(X, -1e3, 1e3)
    c = data.draw(st.floats(-1e3, 1e3))
    a = softmax_cross_entropy_forward(X, y)[0]
    b = softmax_cross_entropy_forward(X + c, y)[0]
    assert b == pytest.approx(a, rel=1e-9, abs=1e-9)


# --- the tests can fail: broken implementations are caught -----------------------------------

def _x_minus_lse(row, label):
    from byhand.nn import logsumexp
    return -(row[label] - logsumexp(row))


def _log_of_softmax(row, label):
    e = np.exp(row - row.max())
    return -np.log(e[label] / e.sum())


@pytest.mark.parametrize("broken", [_x_minus_lse, _log_of_softmax])
def test_the_accuracy_measure_catches_broken_implementations(broken):
    cases = [np.array([1e4, 1e4 - 1, 1e4 - 2], dtype=np.float32),
             np.array([1e4, -1e4, 0.0], dtype=np.float32)]
    with np.errstate(all="ignore"):
        worst = max(ulps(broken(row, 1), exact_loss(row, 1), np.float32) for row in cases)
    assert worst > MAX_ULPS


def test_a_float16_loss_below_the_normal_range_is_not_an_error():
    # log(1 + e^-10) = 4.54e-5 lies below float16's smallest normal number, 6.1e-5
    with np.errstate(all="raise"):
        loss, (p, _) = softmax_cross_entropy_forward(np.array([[0.0, -10.0]], np.float16), [0])
    assert loss.dtype == np.float16 and 0 < loss < np.finfo(np.float16).tiny
    assert abs(float(loss) - np.log1p(np.exp(-10.0))) <= float(np.finfo(np.float16).smallest_subnormal)


def test_a_gradient_below_the_normal_range_is_not_an_error():
    # p = e^-87 / (1 + e^-87) is a normal float32, p / 2 is not
    with np.errstate(all="raise"):
        _, cache = softmax_cross_entropy_forward(
            np.array([[87.0, 0.0], [0.0, 0.0]], np.float32), np.array([0, 0]))
        grad = softmax_cross_entropy_backward(1.0, cache)
    assert grad.dtype == np.float32 and 0 < grad[0, 1] < np.finfo(np.float32).tiny
