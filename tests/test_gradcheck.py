import numpy as np
import pytest

from byhand.gradcheck import (
    DotProductReport, GradcheckReport, GradientCheckError, dot_product_test, gradcheck,
    normwise_error, numerical_gradient, power_of_ten, relative_error, verdict,
)

rng = np.random.default_rng(0)


def test_numerical_gradient_of_a_scalar_function():
    x = rng.normal(size=(3, 4))
    grad = numerical_gradient(lambda x: np.sum(np.sin(x) * x), x)
    assert relative_error(grad, np.cos(x) * x + np.sin(x)) < 1e-8


def test_numerical_vector_jacobian_product():
    x, v = rng.normal(size=5), rng.normal(size=5)
    vjp = numerical_gradient(lambda x: x**3, x, upstream=v)
    assert relative_error(vjp, 3 * x**2 * v) < 1e-8


def test_numerical_gradient_restores_x():
    x = rng.normal(size=(2, 3))
    before = x.copy()
    numerical_gradient(lambda x: np.sum(x**2), x)
    assert np.array_equal(x, before)


def test_gradcheck_passes_a_right_gradient_and_reports_it():
    x = rng.normal(size=(4, 3))
    report = gradcheck(lambda x: np.sum(np.tanh(x)), x, 1 - np.tanh(x) ** 2)
    assert report.passed and report.relative_error < 1e-7
    assert "passed" in str(report) and "excellent" in str(report)


def test_gradcheck_leaves_x_alone():
    x = rng.normal(size=4)
    before = x.copy()
    gradcheck(lambda x: np.sum(x**2), x, 2 * x)
    assert np.array_equal(x, before)


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda x: -2 * x, "wrong"),            # flipped sign
        (lambda x: x, "wrong"),                 # dropped factor 2
        (lambda x: 2 * x + 1e-3, "FAILED"),     # off by a little
    ],
)
def test_gradcheck_rejects_wrong_gradients(wrong, words):
    x = rng.normal(size=6)
    with pytest.raises(GradientCheckError, match=words):
        gradcheck(lambda x: np.sum(x**2), x, wrong(x))


def test_gradcheck_names_the_worst_entry():
    x = np.array([1.0, 2.0, 3.0])
    analytic = 2 * x
    analytic[1] = 0.0
    with pytest.raises(GradientCheckError, match=r"worst entry \(1,\)"):
        gradcheck(lambda x: np.sum(x**2), x, analytic)


@pytest.mark.parametrize(
    "analytic, message",
    [
        (None, "None"),
        (np.zeros((3, 1)), "shape"),
        (np.array([np.nan, 0.0, 0.0]), "non-finite"),
    ],
)
def test_gradcheck_explains_unusable_gradients(analytic, message):
    with pytest.raises(GradientCheckError, match=message):
        gradcheck(lambda x: np.sum(x**2), np.ones(3), analytic)


def test_float32_is_refused_with_the_reason():
    with pytest.raises(GradientCheckError, match="float64"):
        gradcheck(lambda x: np.sum(x**2), np.ones(3, dtype=np.float32), np.full(3, 2.0))


def test_array_valued_f_needs_an_upstream_gradient():
    with pytest.raises(GradientCheckError, match="upstream"):
        gradcheck(lambda x: x**2, np.ones(3), np.full(3, 2.0))
    with pytest.raises(GradientCheckError, match="shape"):
        gradcheck(lambda x: x**2, np.ones(3), np.full(3, 2.0), upstream=np.ones(2))


def test_near_a_kink_no_tolerance_helps_and_moving_x_does():
    x = np.array([1e-6, -0.5, 0.7])  # the first entry sits within h of the kink of |x|
    with pytest.raises(GradientCheckError):
        gradcheck(lambda x: np.sum(np.abs(x)), x, np.sign(x), tol=1e-2)
    x[0] = 0.3                       # moved: now the same formula checks out
    assert gradcheck(lambda x: np.sum(np.abs(x)), x, np.sign(x)).relative_error < 1e-9


def test_relative_error_is_scale_free_and_safe_at_zero():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error([1e-20], [2e-20]) < 1e-11      # both below the 1e-8 floor
    assert relative_error([1e6], [1e6 * (1 + 1e-9)]) == pytest.approx(1e-9, rel=1e-6)


def test_relative_error_divides_by_the_larger_magnitude_as_cs231n_does():
    assert relative_error([1.0], [3.0]) == pytest.approx(2 / 3)     # |a| + |b| would give 1/2
    assert relative_error([2.0, 1.0], [-2.0, 1.0]) == 2.0           # a flipped sign
    assert relative_error([1.0, 5.0], [0.0, 5.0]) == 1.0            # a dropped entry


def test_normwise_error_values():
    assert normwise_error(np.zeros((2, 3)), np.zeros((2, 3))) == 0.0
    assert normwise_error([3.0, 4.0], [3.0, 4.0]) == 0.0
    assert normwise_error([3.0, 4.0], [0.0, 0.0]) == 1.0
    assert normwise_error([3.0, 4.0], [-3.0, -4.0]) == 2.0
    assert normwise_error([3.0, 4.0], [3.0, 0.0]) == pytest.approx(4 / 5)
    # no floor: scale-free down to the smallest numbers
    assert normwise_error([3e-300, 4e-300], [3e-300, 0.0]) == pytest.approx(4 / 5)


def test_normwise_error_is_at_most_r_over_1_minus_r_of_the_entrywise_one():
    r = np.random.default_rng(1)
    for _ in range(200):
        a = r.standard_normal(r.integers(1, 8)) * 10.0 ** r.integers(-3, 4)
        b = a * (1 + 10.0 ** r.uniform(-12, -1) * r.uniform(-1, 1, a.shape))
        entrywise = relative_error(a, b)
        assert normwise_error(a, b) <= entrywise / (1 - entrywise) * (1 + 1e-12)


def test_tiny_entries_fail_entrywise_but_not_normwise():
    # entries 1e9 times smaller than the others carry 1e9 times their relative round-off
    w = np.array([1e3, -2e3, 1e-6, 2e-6, -1e-6, 3e-6])
    x = np.array([0.3, 0.2, -0.4, 0.5, 0.1, -0.2])
    loss = lambda x: np.sum(w * np.sin(x))  # noqa: E731
    analytic = w * np.cos(x)
    assert relative_error(analytic, numerical_gradient(loss, x.copy())) > 1e-6
    assert gradcheck(loss, x, analytic).relative_error < 1e-9
    wrong = analytic.copy()
    wrong[1] *= 1 + 1e-6                              # a wrong large entry still fails
    with pytest.raises(GradientCheckError, match=r"worst entry \(1,\)"):
        gradcheck(loss, x, wrong)


def test_verdicts_follow_the_thresholds():
    assert verdict(1e-9).startswith("excellent")
    assert verdict(1e-5).startswith("too high for a smooth f") and "move x" in verdict(1e-5)
    assert verdict(1e-3).startswith("suspicious") and "move x" in verdict(1e-3)
    assert verdict(0.5).startswith("wrong")
    assert verdict(float("nan")).startswith("wrong")


def _report(error, tol=1e-7):
    x = np.zeros(2)
    return GradcheckReport(error, (0,), x, x, tol)


@pytest.mark.parametrize("tol", [1e-7, 1e-4])
def test_a_passed_report_prints_the_same_whatever_the_round_off(tol):
    # 1.1e-11 on one CPU, 1.5e-11 on another (a real case): the printed line must not differ
    printed = {str(_report(error, tol)) for error in (0.0, 3.1e-12, 1.1e-11, 1.5e-11, tol / 2, tol)}
    assert len(printed) == 1, printed
    (line,) = printed
    assert "passed" in line and power_of_ten(tol) in line


def test_a_small_failure_prints_a_bound_and_a_large_one_its_digits():
    assert str(_report(2e-6)) == str(_report(7e-5))
    assert "above the tolerance 1e-7" in str(_report(2e-6))
    assert "2.1e-01" in str(_report(0.21)) and "wrong" in str(_report(0.21))


def test_bounds_are_printed_as_powers_of_ten():
    assert power_of_ten(1e-7) == "1e-7" and power_of_ten(1e-10) == "1e-10"
    assert power_of_ten(1e-4) == "1e-4" and power_of_ten(1.0) == "1e0"


# The dot-product test: ⟨J u, v⟩ = ⟨u, Jᵀ v⟩ for a JVP and a VJP of the same J.

def _linear_pair(dtype, m=5, n=6, N=4, seed=3):
    """Y = X Wᵀ in X: the JVP is the map itself, the VJP is dY @ W; random u (N, n), v (N, m)."""
    r = np.random.default_rng(seed)
    W = r.standard_normal((m, n)).astype(dtype)
    U = r.standard_normal((N, n)).astype(dtype)
    V = r.standard_normal((N, m)).astype(dtype)
    return W, U, V


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dot_product_test_passes_a_right_pair_in_float32_and_float64(dtype):
    W, U, V = _linear_pair(dtype)
    report = dot_product_test(lambda U: U @ W.T, lambda V: V @ W, U, V)
    eps = np.finfo(dtype).eps
    assert report.passed and report.n == 24 and report.dtype == np.dtype(dtype).name
    assert report.tol == 2 * 24 * eps and report.relative_error < 2 * 24 * eps
    assert str(report).startswith("dot-product test passed: relative difference < 2nε = ")
    assert f"({np.dtype(dtype).name}, n = 24)" in str(report)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dot_product_test_passes_an_elementwise_pair(dtype):
    x = rng.standard_normal(7).astype(dtype)
    d = 1 - np.tanh(x) ** 2  # tanh', the diagonal of J
    u, v = rng.standard_normal(7).astype(dtype), rng.standard_normal(7).astype(dtype)
    assert dot_product_test(lambda u: d * u, lambda v: v * d, u, v).passed


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_transposed_vjp_fails(dtype):
    W, U, _ = _linear_pair(dtype, m=6, n=6)  # square: the wrong VJP has the right shape
    V = np.random.default_rng(4).standard_normal((4, 6)).astype(dtype)
    with pytest.raises(GradientCheckError, match="FAILED.*not the transpose"):
        dot_product_test(lambda U: U @ W.T, lambda V: V @ W.T, U, V)  # bug: W.T for W


def test_products_of_the_wrong_shape_are_refused_with_the_rule():
    W, U, V = _linear_pair(np.float32)  # U (4, 6), V (4, 5)
    with pytest.raises(GradientCheckError, match=r"VJP returned shape \(6, 4\) but u has shape"
                                                  r" \(4, 6\): Jᵀ v has the shape of f's input"):
        dot_product_test(lambda U: U @ W.T, lambda V: (V @ W).T, U, V)  # a transposed result
    with pytest.raises(GradientCheckError, match=r"JVP returned shape \(5, 1\) but v has shape"
                                                  r" \(5,\): J u has the shape of f's output"):
        dot_product_test(lambda u: (W @ u)[:, None], lambda v: W.T @ v, U[0], V[0])  # a column


def test_a_consistent_wrong_pair_passes_and_gradcheck_catches_it():
    # the test's blind spot: tanh' written as 1 − tanh (square forgotten) in JVP and VJP alike
    x = rng.standard_normal(5)
    wrong = 1 - np.tanh(x)
    u, v = rng.standard_normal(5), rng.standard_normal(5)
    assert dot_product_test(lambda u: wrong * u, lambda v: wrong * v, u, v).passed
    with pytest.raises(GradientCheckError, match="wrong"):
        gradcheck(np.tanh, x, wrong * v, upstream=v)


@pytest.mark.parametrize(
    "jvp, vjp, message",
    [
        (lambda u: None, lambda v: v, "JVP returned None"),
        (lambda u: u, lambda v: None, "VJP returned None"),
        (lambda u: u * np.nan, lambda v: v, "non-finite"),
        (lambda u: u, lambda v: v / 0.0, "non-finite"),
        (lambda u: 0 * u, lambda v: 0 * v, "compares 0 with 0"),
        ("not a function", lambda v: v, "must be functions"),
    ],
)
def test_dot_product_test_explains_unusable_products(jvp, vjp, message):
    u, v = rng.standard_normal(3), rng.standard_normal(3)
    with np.errstate(all="ignore"), pytest.raises(GradientCheckError, match=message):
        dot_product_test(jvp, vjp, u, v)


@pytest.mark.parametrize(
    "u, v, message",
    [
        (np.array([1.0, np.nan, 0.0]), np.ones(3), "u contains non-finite"),
        (np.ones(3), np.array([np.inf, 0.0, 1.0]), "v contains non-finite"),
        (np.arange(3), np.ones(3), "u has dtype int64; .* floating-point"),
    ],
)
def test_dot_product_test_explains_unusable_vectors(u, v, message):
    with pytest.raises(GradientCheckError, match=message):
        dot_product_test(lambda u: 2 * u, lambda v: 2 * v, u, v)


def test_dot_product_test_leaves_u_and_v_alone():
    u, v = rng.standard_normal(4), rng.standard_normal(4)
    before = u.copy(), v.copy()

    def in_place(a):  # a careless product that overwrites its argument
        a *= 3
        return a

    dot_product_test(in_place, in_place, u, v)
    assert np.array_equal(u, before[0]) and np.array_equal(v, before[1])


def test_dot_product_test_takes_a_given_tolerance():
    W, U, V = _linear_pair(np.float64)
    report = dot_product_test(lambda U: U @ W.T, lambda V: V @ W, U, V, tol=1e-12)
    assert report.tol == 1e-12 and "< 1.0e-12 (float64, n = 24)" in str(report)
    with pytest.raises(GradientCheckError, match=r"above 1.0e-12 \(float64, n = 24\)"):
        dot_product_test(lambda U: U @ W.T, lambda V: 1.5 * V @ W, U, V, tol=1e-12)


def _dot_report(error, tol=5.7e-6):
    return DotProductReport(error, 1.0, 1.0, 24, "float32", tol)


def test_a_dot_product_report_prints_the_same_whatever_the_round_off():
    printed = {str(_dot_report(e)) for e in (0.0, 3e-9, 8e-8, 5.7e-6)}
    assert printed == {"dot-product test passed: relative difference < 2nε = 5.7e-06 "
                       "(float32, n = 24)"}
    assert str(_dot_report(2e-5)) == str(_dot_report(4e-4))  # small failures: the bound only
    assert "above 2nε" in str(_dot_report(2e-5)) and "1.3e-01" in str(_dot_report(0.13))


def test_the_lower_precision_of_the_two_sides_sets_epsilon():
    W, U, V = _linear_pair(np.float64)
    # the JVP computes in float32, the VJP in float64: the bound is float32's
    report = dot_product_test(lambda U: U.astype(np.float32) @ W.T.astype(np.float32),
                              lambda V: V @ W, U, V)
    assert report.dtype == "float32" and report.tol == 2 * 24 * np.finfo(np.float32).eps
