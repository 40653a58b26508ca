"""Checks for the exercises of chapter 7: ReLU, tanh and sigmoid, forward and backward."""

import numpy as np

from ..gradcheck import numerical_gradient
from ..nn.activations import relu_backward, sigmoid, sigmoid_backward, tanh_backward
from .core import (CheckFailed, call, describe, dims, expect_array, float_dtype, fresh_rng,
                   passed, seeded, task)

__all__ = ["relu_vjp", "tanh_vjp", "sigmoid_stable", "sigmoid_vjp"]

HINT_DIAG = ("reread chapter 7, section 7.1 'Element-wise activations have diagonal "
             "Jacobians': the VJP is dout * f'(x), entry by entry.")
HINT_RELU = "reread chapter 7, section 7.2 'ReLU and its mask'."
HINT_TANH = "reread chapter 7, section 7.3 'tanh: 1 − tanh² of the output'."
HINT_SIGMOID_GRAD = "reread chapter 7, section 7.4 'sigmoid: σ(1 − σ)'."
HINT_SIGMOID = "reread chapter 7, section 7.5 'A sigmoid that cannot overflow'."
RTOL = {np.float16: 4e-3, np.float32: 2e-6, np.float64: 1e-12}


def _close(got, value):
    """Is `got` an array of value's shape, equal to it up to round-off (no NaN)?"""
    if not isinstance(got, np.ndarray) or got.shape != np.shape(value):
        return False
    with np.errstate(all="ignore"):
        return bool(np.allclose(got.astype(np.float64), value, rtol=1e-6, atol=1e-12))


def _diagnose(got, inputs, mistakes, hint):
    """Raise CheckFailed naming the first classic mistake that `got` equals."""
    for value, message in mistakes:
        if _close(got, value):
            raise CheckFailed(f"{message}\n  input: {inputs}", hint)


def _gradient_check(got, f, x, dout, name, hint):
    """Compare with centered differences of f (float64), the ground truth of any VJP."""
    numerical = numerical_gradient(f, x.copy(), upstream=dout)
    if isinstance(got, np.ndarray) and got.shape == x.shape and np.all(np.isfinite(got)):
        error = np.max(np.abs(got - numerical) / np.maximum(np.abs(got) + np.abs(numerical), 1e-8))
        if error > 1e-6:
            raise CheckFailed(
                f"your VJP fails a gradient check against centered differences of {name} "
                f"(largest relative error {error:.1e})\n  input: x = {describe(x)}, "
                f"dout = {describe(dout)}", hint)


def _cases(rng, make):
    """(name, dout, x) for the backward tasks: shapes, dtypes and sizes."""
    a, v, c, f = dims(rng, 4, 5), dims(rng, 7), dims(rng, 2, 3, 4), dims(rng, 3, 6)
    return [
        (f"a batch {a}", rng.normal(size=a), make(rng, a)),
        (f"a vector {v}", rng.normal(size=v), make(rng, v)),
        (f"a 3-D batch {c}", rng.normal(size=c), make(rng, c)),
        (f"float32 {f}", rng.normal(size=f).astype(np.float32),
         make(rng, f).astype(np.float32)),
        ("a batch (300, 200)", rng.normal(size=(300, 200)), make(rng, (300, 200))),
    ]


def _atol(dout):
    """Round-off allowed in dout * f'(x): a few units of dout's precision at the scale of dout.

    Near saturation f' is the difference of two numbers close to 1 (1 - out**2,
    out * (1 - out)); equivalent forms of it differ by about eps * |dout| in absolute terms.
    """
    return 4 * float(np.finfo(dout.dtype).eps) * float(np.max(np.abs(dout)))


def _away_from_zero(rng, shape):
    x = rng.normal(size=shape) * 2
    return np.where(np.abs(x) < 1e-3, 0.5, x)          # no kink inside a gradient check


@task(hints=(
    "Reread chapter 7, section 7.1 'Element-wise activations have diagonal Jacobians' and "
    "section 7.2 'ReLU and its mask': the VJP of an element-wise function is dout times its "
    "derivative, entry by entry.",
    "The derivative of ReLU is 1 where the forward input x was positive and 0 elsewhere. Keep "
    "dout where x is positive and write 0 everywhere else; the mask comes from x, never from "
    "dout.",
))
def relu_vjp(candidate):
    """candidate(dout, x) -> dL/dx for out = relu(x), same shape as x."""
    rng = fresh_rng(7)
    shape = dims(rng, 4, 5, low=4)  # enough entries that no mistake matches by chance
    dout, x = rng.normal(size=shape), _away_from_zero(rng, shape)
    got = call(candidate, dout, x, hint=HINT_RELU)
    on, off = x > 0, x <= 0
    _diagnose(got, describe(x), [
        (dout, "that is dout unchanged: ReLU's Jacobian is not the identity matrix (as the "
               "notes treat it); it is diag(1[x > 0]): zero the entries where x <= 0"),
        (dout * off, "the mask has the wrong sign: keep dout where x > 0 and zero it where "
                     "x <= 0, not the other way round"),
        (on.astype(float), "that is the mask alone, the diagonal of the Jacobian; a VJP "
                           "multiplies it by the upstream gradient dout"),
        (dout * (dout > 0), "that masks by the sign of dout (a ReLU applied to the gradient); "
                            "the mask comes from the forward input x"),
        (dout * np.maximum(x, 0), "you multiplied dout by relu(x), the forward output; the "
                                  "derivative of ReLU is 0 or 1, not ReLU itself"),
    ], HINT_RELU)
    _gradient_check(got, lambda v: np.maximum(v, 0), x, dout, "relu", HINT_RELU)
    for name, dout, x in _cases(rng, _away_from_zero):
        got = call(candidate, dout, x, hint=HINT_RELU)
        expect_array(got, relu_backward(dout, x), inputs=f"{name}: x = {describe(x)}",
                     hint=HINT_RELU, rtol=RTOL[x.dtype.type])
    # At x == 0 ReLU has no derivative: any slope in [0, 1] (a subgradient) is accepted.
    x = np.array([[-1.0, 0.0, 2.0], [0.0, -0.0, 3.0]])
    dout = np.array([[1.5, -2.0, 0.5], [4.0, 3.0, -1.0]])
    got = call(candidate, dout, x, hint=HINT_RELU)
    kink = x == 0
    shaped = isinstance(got, np.ndarray) and got.shape == x.shape
    expect_array(np.where(kink, 0.0, got) if shaped else got,
                 np.where(kink, 0.0, relu_backward(dout, x)),
                 inputs=f"x with exact zeros: {describe(x)}", hint=HINT_RELU)
    with np.errstate(all="ignore"):
        slope = got[kink] / dout[kink]
    if not np.all((slope >= 0) & (slope <= 1)):
        raise CheckFailed(
            f"at x == 0 you returned {got[kink]} for dout = {dout[kink]}: ReLU has no derivative "
            "there, but the slope used must lie between the left one (0) and the right one (1)"
            f"\n  input: {describe(x)}", HINT_RELU)
    at_zero = "0" if np.all(slope == 0) else "1" if np.all(slope == 1) else "a slope in [0, 1]"
    passed("relu_vjp", f"{len(_cases(rng, _away_from_zero)) + 1} inputs and a gradient check; "
                       f"at x == 0 you use {at_zero} (any value in [0, 1] is a valid choice)")


def _tanh_outputs(rng, shape):
    return np.tanh(rng.normal(size=shape) * 1.5)


@task(hints=(
    "Reread chapter 7, section 7.3 'tanh: 1 − tanh² of the output': the derivative of tanh "
    "can be written with the forward output alone.",
    "You are given the output out, which is already tanh of x: the derivative is 1 minus out "
    "squared. Multiply dout by it entry by entry, and do not apply tanh again.",
))
def tanh_vjp(candidate):
    """candidate(dout, out) -> dL/dx for out = tanh(x), given the forward OUTPUT out."""
    rng = fresh_rng(8)
    x = rng.normal(size=dims(rng, 4, 5, low=4)) * 1.5
    out, dout = np.tanh(x), rng.normal(size=x.shape)
    got = call(candidate, dout, out, hint=HINT_TANH)
    _diagnose(got, f"out = {describe(out)}", [
        (dout * (1 - np.tanh(out) ** 2),
         "you applied tanh to the cache again: the cache is out = tanh(x), the OUTPUT, not the "
         "input x; the derivative is 1 - out**2 directly (using the input instead of the output "
         "computes tanh'(tanh(x)))"),
        (dout * (1 - out), "that is dout * (1 - tanh): the derivative is 1 - tanh^2, so square "
                           "the output: dout * (1 - out**2)"),
        (dout * (1 - out) ** 2, "(1 - out)**2 is not 1 - out**2: square the output first"),
        (1 - out**2, "that is the diagonal of the Jacobian, 1 - out**2, alone; a VJP multiplies "
                     "it by the upstream gradient dout"),
        (-dout * (1 - out**2), "the sign is flipped: tanh is increasing, its derivative "
                               "1 - out**2 is positive"),
        (dout * out**2, "that is dout * out**2; the derivative is 1 - out**2"),
    ], HINT_TANH)
    _gradient_check(got, np.tanh, x, dout, "tanh", HINT_TANH)
    cases = _cases(rng, _tanh_outputs) + [
        ("saturated units, |x| from 3 to 20", rng.normal(size=8),
         np.tanh(np.array([3.0, -4.0, 6.0, -8.0, 10.0, -12.0, 15.0, -20.0])))]
    for name, dout, out in cases:
        got = call(candidate, dout, out, hint=HINT_TANH)
        expect_array(got, tanh_backward(dout, out), inputs=f"{name}: out = {describe(out)}",
                     hint=HINT_TANH, rtol=RTOL[out.dtype.type], atol=_atol(dout))
    passed("tanh_vjp", f"{len(cases)} inputs and a gradient check, from the output alone")


SIGMOID_CASES = [
    ("moderate x from -10 to 10", np.linspace(-10.0, 10.0, 21)),
    ("very negative x (exp(-x) overflows for x < -709.78)",
     np.array([-40.0, -100.0, -700.0, -720.0, -1000.0])),
    ("very positive x (exp(x) overflows for x > 709.78)",
     np.array([40.0, 100.0, 700.0, 720.0, 1000.0])),
    ("infinities", np.array([-np.inf, -1.0, 0.0, 1.0, np.inf])),
    ("float32 around its overflow threshold 88.72",
     np.array([-100.0, -89.0, -88.0, -20.0, 0.0, 20.0, 88.0, 89.0, 100.0], dtype=np.float32)),
    ("float16 (exp(12) is already past float16's max, 65504)",
     np.array([-20.0, -12.0, -11.0, -1.0, 0.0, 1.0, 11.0, 12.0, 20.0], dtype=np.float16)),
    ("a batch (3, 4, 5)", np.random.default_rng(9).normal(size=(3, 4, 5)) * 10),
]


@task(hints=(
    "Reread chapter 7, section 7.5 'A sigmoid that cannot overflow': exp of minus x "
    "overflows for very negative x, exp of x for very positive x, and NumPy evaluates both "
    "branches of a where for every entry.",
    "Compute z, the exponential of minus the absolute value of x: it lies in [0, 1] and never "
    "overflows. For x at least 0 the sigmoid is 1 over (1 + z); for negative x it is z over "
    "(1 + z). Choose between the two, entry by entry.",
))
def sigmoid_stable(candidate):
    """candidate(x) -> 1 / (1 + exp(-x)) entry-wise, without overflow, in x's dtype."""
    cases = list(SIGMOID_CASES)
    if seeded() is not None:
        rng = fresh_rng(9)
        x = (rng.choice([10.0, 300.0]) * rng.normal(size=dims(rng, 3, 4))).astype(
            float_dtype(rng))
        cases.append((f"fresh random x (seed {seeded()})", x))
    for name, x in cases:
        inputs = f"{name}: {describe(x)}"
        with np.errstate(over="raise", invalid="raise"):  # a stable sigmoid raises neither
            try:
                got = call(candidate, x, hint=HINT_SIGMOID)
            except CheckFailed as failure:
                if "FloatingPointError" in failure.message:
                    raise CheckFailed(
                        f"overflow in sigmoid on {name}: {failure.message.splitlines()[0]}; "
                        "NumPy would warn here. exp(-x) overflows for very negative x and "
                        "exp(x) for very positive x, and np.where computes BOTH branches for "
                        "every entry. Compute z = exp(-|x|), which is at most 1, and use "
                        "1 / (1 + z) for x >= 0, z / (1 + z) for x < 0"
                        f"\n  input: {describe(x)}", HINT_SIGMOID) from None
                raise
        expected = sigmoid(x)
        if isinstance(got, np.ndarray) and got.shape == x.shape:
            with np.errstate(all="ignore"):
                got64 = got.astype(np.float64)
                flipped = np.allclose(got64, sigmoid(-x).astype(np.float64), rtol=1e-3)
            if flipped:
                raise CheckFailed(
                    f"on {name}: that is sigmoid(-x) = 1 - sigmoid(x): check the sign in the "
                    f"exponent, sigmoid(x) = 1 / (1 + exp(-x))\n  input: {describe(x)}",
                    HINT_SIGMOID)
            normal = expected.astype(np.float64) >= float(np.finfo(x.dtype).tiny)
            lost = (got64 == 0) & normal    # 0 for a subnormal answer is fine (SciPy does)
            if lost.any():
                i = tuple(int(k) for k in np.argwhere(lost)[0])
                raise CheckFailed(
                    f"on {name}: you returned exactly 0 at x = {x[i]}, where sigmoid(x) = "
                    f"{float(expected[i]):.4g} is a normal {x.dtype} number (sigmoid is never 0 "
                    "for finite x): a cancellation such as 1 - sigmoid(-x) or "
                    "(1 + tanh(x/2)) / 2 loses it; for x < 0 use exp(x) / (1 + exp(x)) = "
                    f"z / (1 + z)\n  input: {describe(x)}", HINT_SIGMOID)
            if np.isnan(got64).any() and not np.isnan(x).any():
                raise CheckFailed(
                    f"on {name}: NaN for a finite or infinite input: exp(x) / (1 + exp(x)) is "
                    f"inf / inf = NaN once exp(x) overflows\n  input: {describe(x)}",
                    HINT_SIGMOID)
        rtol = RTOL[x.dtype.type]
        expect_array(got, expected, inputs=inputs, hint=HINT_SIGMOID, rtol=rtol,
                     atol=float(np.finfo(x.dtype).tiny))
    passed("sigmoid_stable", f"{len(cases)} cases from -1000 to 1000 and ±inf, "
                             "float16/32/64, no overflow")


def _sigmoid_outputs(rng, shape):
    return sigmoid(rng.normal(size=shape) * 3)


@task(hints=(
    "Reread chapter 7, section 7.4 'sigmoid: σ(1 − σ)': the derivative of the sigmoid is a "
    "function of its output.",
    "With out the forward output, the derivative is out times (1 minus out). Multiply dout by "
    "it entry by entry, and do not apply the sigmoid to out again.",
))
def sigmoid_vjp(candidate):
    """candidate(dout, out) -> dL/dx for out = sigmoid(x), given the forward OUTPUT out."""
    rng = fresh_rng(10)
    x = rng.normal(size=dims(rng, 4, 5, low=4)) * 3
    out, dout = sigmoid(x), rng.normal(size=x.shape)
    got = call(candidate, dout, out, hint=HINT_SIGMOID_GRAD)
    _diagnose(got, f"out = {describe(out)}", [
        (dout * sigmoid(out) * (1 - sigmoid(out)),
         "you applied sigmoid to the cache again: the cache is out = sigmoid(x), the OUTPUT, "
         "not the input x; the derivative is out * (1 - out) directly (using the input instead "
         "of the output computes sigmoid'(sigmoid(x)))"),
        (dout * (1 - out), "that is dout * (1 - sigma): the factor sigma is missing (the notes' "
                           "slip 'sigma' = 1 - sigma'); sigma' = sigma (1 - sigma)"),
        (dout * out, "that is dout * sigma: the factor (1 - sigma) is missing; "
                     "sigma' = sigma (1 - sigma)"),
        (out * (1 - out), "that is the diagonal of the Jacobian, out * (1 - out), alone; a VJP "
                          "multiplies it by the upstream gradient dout"),
        (-dout * out * (1 - out), "the sign is flipped: sigmoid is increasing, its derivative "
                                  "out * (1 - out) is positive"),
        (dout * (1 - out**2), "that is the tanh derivative 1 - out**2; for the sigmoid it is "
                              "out * (1 - out)"),
        # sigma' written as e^z / (1 + e^-z)^2 (the numerator's sign lost), z = log(out / (1 - out))
        (dout * out**3 / (1 - out),
         "sigma' written as e^z / (1 + e^-z)^2: the numerator is e^-z, sigma'(z) = e^-z / "
         "(1 + e^-z)^2 = sigma (1 - sigma); from the cache, out * (1 - out)"),
        (dout * np.exp(out) / (1 + np.exp(-out)) ** 2,
         "sigma' written as e^z / (1 + e^-z)^2, and at the cached output as if it were z: the "
         "numerator is e^-z, and from the cache sigma'(z) = out * (1 - out), with no exp"),
    ], HINT_SIGMOID_GRAD)
    _gradient_check(got, sigmoid, x, dout, "sigmoid", HINT_SIGMOID_GRAD)
    cases = _cases(rng, _sigmoid_outputs) + [
        ("saturated units, |x| from 5 to 30", rng.normal(size=6),
         sigmoid(np.array([5.0, -8.0, 12.0, -15.0, 20.0, -30.0])))]
    for name, dout, out in cases:
        got = call(candidate, dout, out, hint=HINT_SIGMOID_GRAD)
        expect_array(got, sigmoid_backward(dout, out), inputs=f"{name}: out = {describe(out)}",
                     hint=HINT_SIGMOID_GRAD, rtol=RTOL[out.dtype.type], atol=_atol(dout))
    passed("sigmoid_vjp", f"{len(cases)} inputs and a gradient check, from the output alone")
