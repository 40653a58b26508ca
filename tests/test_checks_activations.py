"""The chapter 7 checks: right answers pass, classic wrong answers fail with a message naming the
problem (every mistake of the source notes that a task touches among them)."""

import numpy as np
import pytest
import scipy.special

from byhand import check
from byhand.check import CheckFailed
from byhand.nn import relu_backward, sigmoid, sigmoid_backward, tanh_backward
from catalogue import catalogue


def relu_vjp_loop(dout, x):  # entry by entry, gradient 1 at x == 0 (the notes' I(x >= 0))
    dx = np.zeros_like(dout)
    for i in np.ndindex(x.shape):
        dx[i] = dout[i] if x[i] >= 0 else 0
    return dx


def relu_vjp_half_at_zero(dout, x):  # the centered-difference slope at the kink: also valid
    return dout * np.where(x > 0, 1.0, np.where(x == 0, 0.5, 0.0)).astype(dout.dtype)


def slope_at_zero(x, slope, dtype):  # 1 for x > 0, `slope` at x == 0, 0 for x < 0
    return np.where(x > 0, 1, np.where(x == 0, slope, 0)).astype(dtype)


def sigmoid_loop(x):
    flat = [1 / (1 + np.exp(-v)) if v >= 0 else np.exp(v) / (1 + np.exp(v)) for v in x.ravel()]
    return np.array(flat, dtype=x.dtype).reshape(x.shape)


def sigmoid_softplus(x):  # sigma(x) = exp(-softplus(-x)); logaddexp never overflows
    return np.exp(-np.logaddexp(0, -x)).astype(x.dtype)


def sigmoid_naive(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_other_naive(x):
    return np.exp(x) / (1 + np.exp(x))


def sigmoid_where_naive(x):  # "stable" by branches, but np.where evaluates both
    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


def sigmoid_silenced_other(x):
    with np.errstate(all="ignore"):
        return np.exp(x) / (1 + np.exp(x))


def sigmoid_vjp_positive_exponent(dout, out):  # z recovered, then e^z / (1 + e^-z)^2
    z = np.log(out / (1 - out))
    return dout * np.exp(z) / (1 + np.exp(-z)) ** 2


def sigmoid_in_place(x):
    np.negative(np.abs(x), out=x)  # overwrites the caller's array
    return sigmoid(x)


RIGHT = [
    (check.relu_vjp, relu_backward),
    (check.relu_vjp, lambda dout, x: dout * (x > 0)),
    (check.relu_vjp, relu_vjp_loop),
    (check.relu_vjp, relu_vjp_half_at_zero),
    (check.relu_vjp, lambda dout, x: dout * (np.maximum(x, 0) > 0)),  # mask from the output
    (check.tanh_vjp, tanh_backward),
    (check.tanh_vjp, lambda dout, out: dout * (1 - out) * (1 + out)),
    (check.tanh_vjp, lambda dout, out: dout - dout * out * out),
    (check.sigmoid_stable, sigmoid),
    (check.sigmoid_stable, lambda x: scipy.special.expit(x).astype(x.dtype)),
    (check.sigmoid_stable, sigmoid_loop),
    (check.sigmoid_stable, sigmoid_softplus),
    (check.sigmoid_vjp, sigmoid_backward),
    (check.sigmoid_vjp, lambda dout, out: dout * (out - out**2)),
    (check.sigmoid_vjp, lambda dout, out: out * dout * (1 - out)),
]

WRONG = [
    # relu_vjp; the notes "treat its Jacobian as an identity matrix"
    (check.relu_vjp, lambda dout, x: dout, "not the identity matrix"),
    (check.relu_vjp, lambda dout, x: dout.copy(), "not the identity matrix"),
    (check.relu_vjp, lambda dout, x: dout * (x < 0), "wrong sign"),
    (check.relu_vjp, lambda dout, x: dout * (np.maximum(x, 0) == 0), "wrong sign"),  # from out
    (check.relu_vjp, lambda dout, x: (x > 0).astype(float), "the mask alone"),
    (check.relu_vjp, lambda dout, x: np.maximum(dout, 0), "sign of dout"),
    (check.relu_vjp, lambda dout, x: dout * np.maximum(x, 0), "relu(x), the forward output"),
    (check.relu_vjp, lambda dout, x: np.diag((dout * (x > 0)).ravel()), "wrong shape"),
    (check.relu_vjp, lambda dout, x: (dout * (x > 0)).astype(np.float64), "wrong dtype"),
    (check.relu_vjp, lambda dout, x: dout * slope_at_zero(x, 2, dout.dtype),
     "between the left one (0) and the right one (1)"),
    (check.relu_vjp, lambda dout, x: dout * slope_at_zero(x, -1, dout.dtype),
     "between the left one (0) and the right one (1)"),
    # tanh_vjp; the notes' quotient-rule slip gives 1 - tanh
    (check.tanh_vjp, lambda dout, out: dout * (1 - np.tanh(out) ** 2), "using the input"),
    (check.tanh_vjp, lambda dout, out: dout / np.cosh(out) ** 2, "using the input"),
    (check.tanh_vjp, lambda dout, out: dout * (1 - out), "1 - tanh^2"),
    (check.tanh_vjp, lambda dout, out: dout * (1 - out) ** 2, "square the output first"),
    (check.tanh_vjp, lambda dout, out: 1 - out**2, "multiplies it by the upstream gradient"),
    (check.tanh_vjp, lambda dout, out: dout * (out**2 - 1), "sign is flipped"),
    (check.tanh_vjp, lambda dout, out: dout * out**2, "the derivative is 1 - out**2"),
    (check.tanh_vjp, lambda dout, out: dout * (1 - out**2) * 1.001, "gradient check"),
    # sigmoid_stable
    (check.sigmoid_stable, sigmoid_naive, "overflow in sigmoid"),
    (check.sigmoid_stable, sigmoid_other_naive, "overflow in sigmoid"),
    (check.sigmoid_stable, sigmoid_where_naive, "BOTH branches"),
    (check.sigmoid_stable, sigmoid_silenced_other, "inf / inf = NaN"),
    (check.sigmoid_stable, lambda x: 1 / (1 + np.exp(np.minimum(x, 700))), "sign in the exponent"),
    (check.sigmoid_stable, lambda x: sigmoid(x.astype(np.float64)), "wrong dtype"),
    (check.sigmoid_stable, lambda x: (1 + np.tanh(x / 2)) / 2, "cancellation"),
    (check.sigmoid_stable, lambda x: 1 - sigmoid(-x), "cancellation"),
    (check.sigmoid_stable, lambda x: np.clip(x / 4 + 0.5, 0, 1), "never 0 for finite x"),
    (check.sigmoid_stable, sigmoid_in_place, "changed its input in place"),
    # sigmoid_vjp; the notes' slips: sigma' = 1 - sigma, and e^z / (1 + e^-z)^2
    (check.sigmoid_vjp, lambda dout, out: dout * sigmoid(out) * (1 - sigmoid(out)),
     "using the input"),
    (check.sigmoid_vjp, lambda dout, out: dout * (1 - out), "the factor sigma is missing"),
    (check.sigmoid_vjp, lambda dout, out: dout * np.exp(out) / (1 + np.exp(-out)) ** 2,
     "sigma' written as e^z / (1 + e^-z)^2"),
    (check.sigmoid_vjp, sigmoid_vjp_positive_exponent, "sigma' written as e^z / (1 + e^-z)^2"),
    (check.sigmoid_vjp, lambda dout, out: dout * out, "the factor (1 - sigma) is missing"),
    (check.sigmoid_vjp, lambda dout, out: out * (1 - out), "multiplies it by the upstream"),
    (check.sigmoid_vjp, lambda dout, out: -dout * out * (1 - out), "sign is flipped"),
    (check.sigmoid_vjp, lambda dout, out: dout * (1 - out**2), "tanh derivative"),
    (check.sigmoid_vjp, lambda dout, out: (dout * out * (1 - out)).T, "wrong shape"),
]

TASKS = [check.relu_vjp, check.tanh_vjp, check.sigmoid_stable, check.sigmoid_vjp]


test_right_answers_pass, test_wrong_answers_are_named = catalogue(RIGHT, WRONG, chapter=7)


def test_every_task_has_three_wrong_and_one_right_answer():
    for task in TASKS:
        assert sum(t is task for t, _, _ in WRONG) >= 3, task.__name__
        assert sum(t is task for t, _ in RIGHT) >= 2, task.__name__
    assert set(check.ch07_activations.__all__) == {t.__name__ for t in TASKS}


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.__name__)
def test_nan_results_are_reported_as_nan(task):
    right = next(candidate for t, candidate in RIGHT if t is task)
    with pytest.raises(CheckFailed, match="NaN"):
        task(lambda *args: right(*args) * np.nan)


def test_relu_reports_the_slope_chosen_at_zero(capsys):
    check.relu_vjp(relu_backward)
    assert "at x == 0 you use 0" in capsys.readouterr().out
    check.relu_vjp(relu_vjp_loop)
    assert "at x == 0 you use 1" in capsys.readouterr().out
    check.relu_vjp(relu_vjp_half_at_zero)
    assert "at x == 0 you use a slope in [0, 1]" in capsys.readouterr().out


def test_a_naive_sigmoid_with_its_warning_silenced_is_accepted(capsys):
    # 1 / (1 + inf) = 0 is sigma(-1000) correctly rounded, and for x = -720 the exact answer,
    # 2e-313, is subnormal (SciPy's expit returns 0 there too): right values, no warning.
    def silenced_naive(x):
        with np.errstate(over="ignore"):
            return 1 / (1 + np.exp(-x))
    check.sigmoid_stable(silenced_naive)
    assert capsys.readouterr().out.startswith("✓ sigmoid_stable:")
