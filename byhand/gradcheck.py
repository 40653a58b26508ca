"""Numerical gradients by centered differences, and a check that compares them with analytic ones.

    numerical_gradient(f, x)            the gradient of a scalar function f at x
    numerical_gradient(f, x, upstream)  the vector-Jacobian product  upstream · ∂f/∂x
    relative_error(a, b)                the largest entry-wise relative difference
    gradcheck(f, x, analytic, ...)      compare, report with CS231n-style thresholds, raise if off

A report prints a verdict and a bound ("relative error < 1e-7"), never the digits of a
round-off-sized error: those differ from one CPU, BLAS kernel or thread count to the next, and a
printed 1.1e-11 that reads 1.5e-11 elsewhere would be a false alarm on someone else's machine.
The exact value is kept on the report (`report.relative_error`).

Everything is computed in float64: with float32 the round-off in f(x + h) − f(x − h) swamps the
difference for any step small enough to be accurate (chapter 1 plots this).
"""

from dataclasses import dataclass

import numpy as np

# CS231n's rule of thumb for the relative error between analytic and numerical gradients
# (float64, centered differences, step about 1e-5).
VERDICTS = [
    (1e-7, "excellent: the analytic gradient is right"),
    (1e-4, "acceptable only if f has kinks (ReLU, max, abs) near x; too high for a smooth f"),
    (1e-2, "suspicious: probably a bug, unless f has kinks right at x"),
    (np.inf, "wrong: the analytic gradient does not match"),
]


class GradientCheckError(AssertionError):
    """The analytic gradient disagrees with the numerical one, or cannot be compared with it."""


def _as_float64(x, name):
    array = np.asarray(x)
    if array.dtype != np.float64:
        raise GradientCheckError(
            f"{name} has dtype {array.dtype}; gradient checks need float64 "
            "(in lower precision the round-off swamps the finite difference)"
        )
    return array


def _scalar_output(f, x, upstream):
    out = f(x)
    if upstream is None:
        if np.ndim(out) != 0:
            raise GradientCheckError(
                f"f returned an array of shape {np.shape(out)}; pass `upstream` (an array of that "
                "shape) to check the vector-Jacobian product upstream · ∂f/∂x"
            )
        return float(out)
    if np.shape(out) != np.shape(upstream):
        raise GradientCheckError(
            f"f returned shape {np.shape(out)} but upstream has shape {np.shape(upstream)}"
        )
    return float(np.sum(np.asarray(out, dtype=np.float64) * upstream))


def numerical_gradient(f, x, upstream=None, h=1e-5):
    """Centered differences: (L(x + h e_i) − L(x − h e_i)) / 2h for every entry i of x.

    L is f itself when f returns a scalar, and ⟨upstream, f(x)⟩ otherwise, whose gradient is the
    vector-Jacobian product. `x` must be a float64 array; it is perturbed in place and restored.
    """
    x = _as_float64(x, "x")
    if upstream is not None:
        upstream = _as_float64(upstream, "upstream")
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + h
        plus = _scalar_output(f, x, upstream)
        x[i] = saved - h
        minus = _scalar_output(f, x, upstream)
        x[i] = saved
        grad[i] = (plus - minus) / (2 * h)
    return grad


def relative_error(a, b):
    """max over entries of |a − b| / max(|a| + |b|, 1e-8): scale-free, and safe where both are 0."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8), initial=0.0))


# Relative errors at least this large are printed with their digits: round-off cannot move them.
SHOWN_FROM = 1e-3


def power_of_ten(bound):
    """1e-07 -> '1e-7': how bounds are printed."""
    mantissa, exponent = f"{bound:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def verdict_within(tol):
    """The rule-of-thumb reading of every error up to `tol` (what a passed check can promise)."""
    for bound, text in VERDICTS:
        if tol <= bound:
            return text
    return VERDICTS[-1][1]


def verdict(error):
    """The rule-of-thumb reading of a relative error."""
    for bound, text in VERDICTS:
        if error < bound:
            return text
    return VERDICTS[-1][1]  # NaN


@dataclass
class GradcheckReport:
    relative_error: float
    worst_index: tuple
    analytic: np.ndarray
    numerical: np.ndarray
    tol: float

    @property
    def passed(self):
        return self.relative_error <= self.tol

    def __str__(self):
        # Round-off-sized errors are reported as a bound, never as digits: their digits depend on
        # the CPU, the BLAS kernel and the thread count, and would differ on the reader's machine.
        # The exact value stays on `self.relative_error`.
        tol = power_of_ten(self.tol)
        if self.passed:
            return f"gradient check passed: relative error < {tol} — {verdict_within(self.tol)}"
        if self.relative_error >= SHOWN_FROM:  # this large, it is the formula's error, not round-off
            return (
                f"gradient check FAILED: relative error {self.relative_error:.1e} "
                f"(tolerance {tol}) — {verdict(self.relative_error)}"
            )
        return f"gradient check FAILED: relative error above the tolerance {tol}"

    def details(self):
        i = self.worst_index
        return (
            f"worst entry {i}: analytic {self.analytic[i]:.6g}, numerical {self.numerical[i]:.6g}"
        )

    __repr__ = __str__


def gradcheck(f, x, analytic, upstream=None, h=1e-5, tol=1e-7):
    """Compare an analytic gradient with centered differences; raise GradientCheckError if off.

    f         function of the float64 array x, returning a scalar (or an array, with `upstream`)
    analytic  the gradient you derived, evaluated at x: same shape as x
    upstream  for array-valued f: the upstream gradient, so that `analytic` should be the VJP
    tol       largest relative error accepted; 1e-7 suits smooth functions, use 1e-4 with kinks

    Returns the report (print it to see the verdict).
    """
    x = _as_float64(x, "x")
    if analytic is None:
        raise GradientCheckError("the analytic gradient is None: did the function forget `return`?")
    analytic = np.asarray(analytic)
    if analytic.shape != x.shape:
        raise GradientCheckError(
            f"the analytic gradient has shape {analytic.shape} but x has shape {x.shape}: "
            "a gradient has the shape of what it is taken with respect to"
        )
    if not np.all(np.isfinite(analytic)):
        raise GradientCheckError(f"the analytic gradient contains non-finite values: {analytic}")
    numerical = numerical_gradient(f, x.copy(), upstream, h)
    if not np.all(np.isfinite(numerical)):
        raise GradientCheckError("f is not finite near x, so no numerical gradient exists there")
    scale = np.maximum(np.abs(analytic) + np.abs(numerical), 1e-8)
    entrywise = np.abs(analytic - numerical) / scale
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(entrywise), x.shape)) if x.size else ()
    report = GradcheckReport(relative_error(analytic, numerical), worst, analytic, numerical, tol)
    if not report.passed:
        raise GradientCheckError(f"{report}\n{report.details()}")
    return report
