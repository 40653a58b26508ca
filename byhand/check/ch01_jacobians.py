"""Checks for the exercises of chapter 1: Jacobians and vector-Jacobian products."""

import numpy as np

from .core import CheckFailed, call, describe, dims, expect_array, fresh_rng, passed, task

__all__ = ["numerical_jacobian", "vjp_tanh", "vjp_linear", "vjp_two_layers"]

HINT_LAYOUT = ("reread chapter 1, section 1.1 'Shapes first': in numerator layout rows index "
               "outputs and columns index inputs.")
HINT_DIFF = "reread chapter 1, section 1.4 'Gradient checking': centered differences divide by 2h."
HINT_VJP = ("reread chapter 1, section 1.3 'Vector-Jacobian products': the VJP is vᵀJ, a vector "
            "shaped like x.")


def _f_wide(x):   # R^3 -> R^2
    return np.array([x[0] * x[1], np.sin(x[2]) + x[0] ** 2])


def _J_wide(x):
    return np.array([[x[1], x[0], 0.0], [2 * x[0], 0.0, np.cos(x[2])]])


def _f_square(x):  # R^2 -> R^2, a Jacobian that is not symmetric
    return np.array([x[0] ** 2 * x[1], np.exp(x[0]) + 3 * x[1]])


def _J_square(x):
    return np.array([[2 * x[0] * x[1], x[0] ** 2], [np.exp(x[0]), 3.0]])


def _diagnose(got, expected, inputs, hint):
    """Name the classic mistakes before falling back to the entry-wise comparison."""
    got_array = np.asarray(got) if isinstance(got, np.ndarray) else None
    if got_array is not None and got_array.shape == expected.T.shape != expected.shape:
        raise CheckFailed(
            f"wrong shape {got_array.shape}, expected {expected.shape}: this is the transpose. "
            f"In numerator layout the Jacobian of f: R^n -> R^m is m x n\n  input: {inputs}", hint)
    if got_array is not None and got_array.shape == expected.shape and got_array.ndim == 2 \
            and expected.shape[0] == expected.shape[1] \
            and np.allclose(got_array, expected.T, rtol=1e-6) \
            and not np.allclose(got_array, expected, rtol=1e-6):
        raise CheckFailed(
            "your Jacobian is the transpose of the right one: entry (i, j) must be "
            f"∂f_i/∂x_j (output i, input j)\n  input: {inputs}", hint)
    if got_array is not None and got_array.shape == expected.shape \
            and np.allclose(got_array, 2 * expected, rtol=1e-5):
        raise CheckFailed(
            f"every entry is twice the right one: a centered difference (f(x+h) - f(x-h)) spans "
            f"2h, so divide by 2h\n  input: {inputs}", HINT_DIFF)


@task(hints=(
    "Reread chapter 1, section 1.4 'Gradient checking' and section 1.1 'Shapes first': nudge "
    "one input at a time, and see how the m outputs move; that makes one column of the m x n "
    "matrix.",
    "Column j is the centered difference: f at x plus h times the j-th unit vector, minus f at "
    "x minus the same step, divided by 2h. Build the m x n array of zeros first, then fill it "
    "one column per input.",
))
def numerical_jacobian(candidate):
    """candidate(f, x) -> the m x n Jacobian of f at x by centered differences."""
    rng = fresh_rng(1)
    cases = [(_f_wide, _J_wide, rng.normal(size=3)), (_f_square, _J_square, rng.normal(size=2)),
             (_f_wide, _J_wide, np.array([0.5, -2.0, 1.0]))]
    for f, J, x in cases:
        inputs = f"f: R^{x.size} -> R^{f(x).size}, x = {describe(x)}"
        got = call(candidate, f, x, hint=HINT_LAYOUT)
        expected = J(x)
        _diagnose(got, expected, inputs, HINT_LAYOUT)
        try:
            expect_array(got, expected, inputs=inputs, hint=HINT_LAYOUT, rtol=1e-7, atol=1e-9)
        except CheckFailed as failure:
            shaped = isinstance(got, np.ndarray) and got.shape == expected.shape
            error = np.max(np.abs(got - expected)) if shaped else np.nan
            if 1e-9 < error < 1e-2:
                raise CheckFailed(
                    f"close but not accurate enough: largest error {error:.1e}. Forward "
                    "differences (f(x+h) - f(x))/h are only O(h) accurate; use centered "
                    f"differences with h around 1e-5\n  input: {inputs}", HINT_DIFF) from None
            raise failure from None
    passed("numerical_jacobian", f"{len(cases)} functions, shapes and values right")


@task(hints=(
    "Reread chapter 1, section 1.3 'Vector-Jacobian products': tanh acts entry by entry, so "
    "its Jacobian is diagonal and a VJP never needs to build it.",
    "The derivative of tanh at x is 1 minus tanh of x squared. Multiply the upstream v by it, "
    "entry by entry: the result has the shape of x.",
))
def vjp_tanh(candidate):
    """candidate(x, v) -> vᵀ J_tanh(x), the VJP of entry-wise tanh at x, same shape as x."""
    rng = fresh_rng(2)
    for shape in [dims(rng, 4, low=2), dims(rng, 3, 5, low=2), dims(rng, 2, 3, 4, low=2)]:
        x, v = rng.normal(size=shape), rng.normal(size=shape)
        inputs = f"x and v of shape {shape}"
        got = call(candidate, x, v, hint=HINT_VJP)
        expected = v * (1 - np.tanh(x) ** 2)
        if isinstance(got, np.ndarray) and got.shape == (x.size, x.size):
            raise CheckFailed(
                f"returned a {got.shape} matrix: that is the Jacobian. A VJP returns a vector "
                f"of x's shape {shape}, computed without building the Jacobian\n  input: {inputs}",
                HINT_VJP)
        if isinstance(got, np.ndarray) and got.shape == shape:
            if np.allclose(got, 1 - np.tanh(x) ** 2):
                raise CheckFailed(
                    "you returned the local derivative 1 - tanh(x)^2 alone: multiply it by the "
                    f"upstream gradient v\n  input: {inputs}", HINT_VJP)
            if np.allclose(got, v * (1 - np.tanh(x))):
                raise CheckFailed(
                    f"the derivative of tanh is 1 - tanh(x)^2, not 1 - tanh(x)\n  input: {inputs}",
                    HINT_VJP)
        expect_array(got, expected, inputs=inputs, hint=HINT_VJP, rtol=1e-10, atol=1e-12)
    passed("vjp_tanh", "vectors and batches of every shape tried")


@task(hints=(
    "Reread chapter 1, section 1.3 'Vector-Jacobian products': the Jacobian of x to W x is W "
    "itself, and backprop multiplies v from the left, v transposed times W.",
    "v has one entry per output (per row of W), the answer one per input (per column): "
    "contract v with W over the output index, which is a product with W transposed.",
))
def vjp_linear(candidate):
    """candidate(W, v) -> the VJP of x -> W x for the upstream v, with the shape of x."""
    rng = fresh_rng(3)
    square = dims(rng, 4, low=2)[0]
    for m, n in [(square, square), dims(rng, 3, 5), dims(rng, 1, 6)]:  # square first, where W v and W.T v both run
        W, v = rng.normal(size=(m, n)), rng.normal(size=m)
        inputs = f"W of shape {(m, n)}, v of shape {(m,)}"
        got = call(candidate, W, v, hint=HINT_VJP)
        expected = W.T @ v
        if m == n and isinstance(got, np.ndarray) and got.shape == (n,) \
                and np.allclose(got, W @ v) and not np.allclose(got, expected):
            raise CheckFailed(
                "you computed W v (a Jacobian-vector product, forward mode); backprop needs "
                f"vᵀW, that is W.T @ v\n  input: {inputs}", HINT_VJP)
        expect_array(got, expected, inputs=inputs, hint=HINT_VJP, rtol=1e-10, atol=1e-12)
    passed("vjp_linear", "square and rectangular W")


@task(hints=(
    "Reread chapter 1, section 1.3 'Vector-Jacobian products': reverse mode goes backwards, "
    "last layer first, and reuses the VJPs you already wrote.",
    "First send v back through the linear layer (task 3): that gives the gradient with respect "
    "to z, the tanh output. Then send that back through tanh at x (task 2).",
))
def vjp_two_layers(candidate):
    """candidate(W, x, v) -> the gradient of vᵀ W tanh(x) with respect to x."""
    rng = fresh_rng(4)
    for m, n in [dims(rng, 4, 4, low=2), dims(rng, 3, 5), dims(rng, 2, 7)]:
        W, x, v = rng.normal(size=(m, n)), rng.normal(size=n), rng.normal(size=m)
        inputs = f"W of shape {(m, n)}, x of shape {(n,)}, v of shape {(m,)}"
        got = call(candidate, W, x, v, hint=HINT_VJP)
        expected = (1 - np.tanh(x) ** 2) * (W.T @ v)
        if isinstance(got, np.ndarray) and got.shape == (n,) and np.allclose(got, W.T @ v):
            raise CheckFailed(
                "you stopped after the linear layer: the gradient still has to go back through "
                f"tanh (multiply by 1 - tanh(x)^2)\n  input: {inputs}", HINT_VJP)
        at_Wx = [W.T @ (v * (1 - np.tanh(W @ x) ** 2))]       # tanh' taken at W x, not at x
        if m == n:
            at_Wx.append((W.T @ v) * (1 - np.tanh(W @ x) ** 2))
        if isinstance(got, np.ndarray) and got.shape == (n,) and any(
                np.allclose(got, wrong) for wrong in at_Wx):
            raise CheckFailed(
                "tanh' evaluated at W x: in s = vᵀ W tanh(x), tanh acts on x, so its derivative "
                "is 1 - z^2 with z = tanh(x), the tanh layer's own output; W x never goes "
                f"through tanh\n  input: {inputs}", HINT_VJP)
        expect_array(got, expected, inputs=inputs, hint=HINT_VJP, rtol=1e-10, atol=1e-12)
    passed("vjp_two_layers", "reverse mode through tanh then W, no Jacobian built")
