import numpy as np
import pytest

from byhand.gradcheck import (
    GradcheckReport, GradientCheckError, gradcheck, normwise_error, numerical_gradient,
    power_of_ten, relative_error, verdict,
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
