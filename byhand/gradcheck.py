"""Numerical gradients by centered differences, and a check that compares them with analytic ones.

    numerical_gradient(f, x)            the gradient of a scalar function f at x
    numerical_gradient(f, x, upstream)  the vector-Jacobian product  upstream · ∂f/∂x
    normwise_error(a, b)                ‖a − b‖ / max(‖a‖, ‖b‖): what gradcheck judges
    relative_error(a, b)                the largest entry-wise relative difference (CS231n's)
    gradcheck(f, x, analytic, ...)      compare, report with CS231n's thresholds, raise if off
    dot_product_test(jvp, vjp, u, v)    ⟨J u, v⟩ = ⟨u, Jᵀ v⟩: a VJP against a JVP, in any precision

gradcheck judges the whole gradient at once, by the norm-wise relative error. If every entry is
within r of its partner in the entry-wise measure of CS231n's notes, |a_i − b_i| ≤ r max(|a_i|,
|b_i|), then the norm-wise error is at most r / (1 − r): what their thresholds call excellent
stays excellent. The converse fails where it should not matter: an entry a thousand times
smaller than the rest carries a thousand times their relative round-off, so entry by entry a
right gradient can look wrong. The same smallness hides a wrong formula in those entries: the
norm-wise error barely notices them (chapter 1 shows one), so check each parameter array on its
own, as the chapters check X, W and b separately.

A report prints a verdict and a bound ("relative error < 1e-7"), never the digits of a
round-off-sized error: those differ from one CPU, BLAS kernel or thread count to the next, and a
printed 1.1e-11 that reads 1.5e-11 elsewhere would be a false alarm on someone else's machine.
The exact value is kept on the report (`report.relative_error`).

Everything is computed in float64: with float32 the round-off in f(x + h) − f(x − h) swamps the
difference for any step small enough to be accurate (chapter 1 plots this). The dot-product test
has no step and works in float32, but it checks only that a VJP is the transpose of a JVP, not
that either is the derivative of f: the two checks complement each other (chapter 1, §1.5).
"""

from dataclasses import dataclass

import numpy as np

# CS231n's rule of thumb for the relative error between analytic and numerical gradients
# (float64, centered differences, step about 1e-5). Near a kink (ReLU, max, abs) the centered
# difference itself is wrong: the cure is to move x away from the kink, not to accept more.
VERDICTS = [
    (1e-7, "excellent: the analytic gradient is right"),
    (1e-4, "too high for a smooth f; if a kink (ReLU, max, abs) is within h of x, move x"),
    (1e-2, "suspicious: probably a bug, unless a kink is within h of x (then move x)"),
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
    """max over entries of |a − b| / max(|a|, |b|, 1e-8): CS231n's entry-wise relative error.

    The denominator is the one CS231n's thresholds were stated for (their notes use
    max(|a|, |b|)); the floor 1e-8 makes entries where both are 0 count as equal.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-8)
    return float(np.max(np.abs(a - b) / scale, initial=0.0))


def normwise_error(a, b):
    """‖a − b‖ / max(‖a‖, ‖b‖), Euclidean norms over all entries; 0 when both are 0.

    Scale-free, with no floor: a true gradient of exactly 0 cannot be checked this way (the
    numerical one is pure round-off, relative error 1); check a VJP with a random upstream.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    largest = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    if largest == 0:
        return 0.0
    # divided by the largest magnitude, the squares in the norms cannot underflow or overflow
    difference = np.linalg.norm((a - b) / largest)
    return float(difference / max(np.linalg.norm(a / largest), np.linalg.norm(b / largest)))


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
    relative_error: float  # norm-wise: normwise_error(analytic, numerical)
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
        # the entry with the largest difference, and its digits: where to start looking
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
    tol       largest norm-wise relative error accepted (normwise_error); keep 1e-7. If f has a
              kink (ReLU, max, abs) within h of x, the centered difference is wrong there:
              move x away from the kink rather than raise tol.

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
    # the entry that adds most to the norm of the difference: a failure's first clue
    difference = np.abs(analytic - numerical)
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(difference), x.shape)) if x.size else ()
    report = GradcheckReport(normwise_error(analytic, numerical), worst, analytic, numerical, tol)
    if not report.passed:
        raise GradientCheckError(f"{report}\n{report.details()}")
    return report


# The dot-product (adjoint) test. For any u and v, ⟨J u, v⟩ = vᵀ J u = ⟨u, Jᵀ v⟩, so a JVP (forward
# mode) and a VJP (reverse mode) of the same J must give the same number up to round-off. There
# is no difference quotient, hence no step and no truncation error: only the rounding of sums.
DOT_PRODUCT_FACTOR = 2


def _floating(array, name):
    array = np.asarray(array)
    if not np.issubdtype(array.dtype, np.floating):
        raise GradientCheckError(
            f"{name} has dtype {array.dtype}; the dot-product test needs real floating-point "
            "u and v (draw them at random)"
        )
    if not np.all(np.isfinite(array)):
        raise GradientCheckError(f"{name} contains non-finite values")
    return array


def _product_of(function, argument, expected_shape, what, shape_of):
    out = function(argument.copy())
    if out is None:
        raise GradientCheckError(f"the {what} returned None: did the function forget `return`?")
    out = np.asarray(out)
    if out.shape != expected_shape:
        raise GradientCheckError(
            f"the {what} returned shape {out.shape} but {shape_of[0]} has shape {expected_shape}: "
            f"{shape_of[1]}"
        )
    return _floating(out, f"the {what}'s result")


@dataclass
class DotProductReport:
    relative_error: float  # |⟨Ju, v⟩ − ⟨u, Jᵀv⟩| / (‖Ju‖‖v‖ + ‖u‖‖Jᵀv‖)
    jvp_side: float        # ⟨Ju, v⟩
    vjp_side: float        # ⟨u, Jᵀv⟩
    n: int                 # the longest inner product: max(u.size, v.size)
    dtype: str             # the precision the products were computed in
    tol: float
    tol_is_default: bool = True

    @property
    def passed(self):
        return self.relative_error <= self.tol

    def bound(self):
        """'2nε = 5.7e-06 (float32, n = 24)': the bound depends on n and the dtype alone, so its
        digits are the same on every machine."""
        rule = f"{DOT_PRODUCT_FACTOR}nε = " if self.tol_is_default else ""
        return f"{rule}{self.tol:.1e} ({self.dtype}, n = {self.n})"

    def __str__(self):
        # As for gradcheck: a round-off-sized difference is reported by its bound, never its
        # digits; the exact value stays on `self.relative_error`.
        if self.passed:
            return f"dot-product test passed: relative difference < {self.bound()}"
        if self.relative_error >= SHOWN_FROM:  # this large, it is the code's error, not round-off
            return (
                f"dot-product test FAILED: relative difference {self.relative_error:.1e}, "
                f"above {self.bound()} — the VJP is not the transpose of the JVP"
            )
        return f"dot-product test FAILED: relative difference above {self.bound()}"

    def details(self):
        return f"⟨Ju, v⟩ = {self.jvp_side:.6g}, ⟨u, Jᵀv⟩ = {self.vjp_side:.6g}"

    __repr__ = __str__


def dot_product_test(jvp, vjp, u, v, tol=None):
    """Check ⟨J u, v⟩ = ⟨u, Jᵀ v⟩; raise GradientCheckError if the two sides differ.

    jvp  u ↦ J u, the Jacobian-vector product (forward mode): returns an array shaped like v
    vjp  v ↦ Jᵀ v, the vector-Jacobian product (what a backward pass computes): shaped like u
    u, v random floating-point arrays (any dtype, float32 included), shaped like the input and
         the output of f. Special vectors (zeros, all ones) can be blind: draw them at random.
    tol  largest relative difference accepted; by default 2 n ε, with n = max(u.size, v.size)
         and ε the machine epsilon of the dtype the products come out in.

    The relative difference is |⟨Ju, v⟩ − ⟨u, Jᵀv⟩| / (‖Ju‖ ‖v‖ + ‖u‖ ‖Jᵀv‖). Why 2 n ε: a
    computed sum of k products is off by at most about k ε/2 times the sum of the products'
    magnitudes (Higham, Accuracy and Stability of Numerical Algorithms, §3.1), and Cauchy–Schwarz
    bounds that sum by the norms above. Each side is a JVP or VJP (sums of at most n terms)
    followed by an inner product (at most n terms): n ε times its own scale, first order. The
    factor 2 covers the higher-order terms and entries of J that the JVP and the VJP evaluate by
    different formulas, each a few ulps off. (For a JVP that is a matrix product, a worst case
    would need |J| |u|, which the test never sees; random roundings grow like √n ε, far below.)

    The test checks that the VJP is the transpose of the JVP, not that either is the derivative
    of f: two consistent wrong derivatives pass. Check the derivative with gradcheck (float64);
    keep n small: the bound grows like n, and a bug shows, for random u and v, only as a
    relative difference of order 1/√n.

    Returns the report (print it to see the verdict).
    """
    if not callable(jvp) or not callable(vjp):
        raise GradientCheckError("jvp and vjp must be functions: u ↦ J u and v ↦ Jᵀ v")
    u = _floating(u, "u")
    v = _floating(v, "v")
    Ju = _product_of(jvp, u, v.shape, "JVP", ("v", "J u has the shape of f's output"))
    JTv = _product_of(vjp, v, u.shape, "VJP", ("u", "Jᵀ v has the shape of f's input"))
    # the inner products in the precision of the products; everything after in float64
    left_type, right_type = np.result_type(Ju, v), np.result_type(u, JTv)
    jvp_side = float(np.dot(Ju.ravel().astype(left_type), v.ravel().astype(left_type)))
    vjp_side = float(np.dot(u.ravel().astype(right_type), JTv.ravel().astype(right_type)))
    norm = lambda a: float(np.linalg.norm(np.asarray(a, dtype=np.float64)))  # noqa: E731
    scale = norm(Ju) * norm(v) + norm(u) * norm(JTv)
    if scale == 0:
        raise GradientCheckError(
            "J u and Jᵀ v are both zero, so the test compares 0 with 0: draw u and v at random"
        )
    # ε of the lower precision the JVP and the VJP came out in
    dtype = max((Ju.dtype, JTv.dtype), key=lambda d: np.finfo(d).eps)
    n = max(u.size, v.size)
    default = tol is None
    if default:
        tol = DOT_PRODUCT_FACTOR * n * float(np.finfo(dtype).eps)
    report = DotProductReport(
        abs(jvp_side - vjp_side) / scale, jvp_side, vjp_side, n, dtype.name, tol, default
    )
    if not report.passed:
        raise GradientCheckError(f"{report}\n{report.details()}")
    return report
