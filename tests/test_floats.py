"""byhand.floats: errors in ULPs, counted as floats between the result and the rounded exact value."""

from fractions import Fraction

import mpmath
import numpy as np
import pytest

from byhand.floats import round_to, ulp_error

F16, F32, F64 = np.float16, np.float32, np.float64
DTYPES = [F16, F32, F64]


def eps(dtype):
    return float(np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", DTYPES)
def test_neighbors_of_one_and_of_1_5(dtype):
    one = dtype(1)
    up = np.nextafter(one, dtype(2))
    assert ulp_error(one, 1, dtype) == 0
    assert ulp_error(up, 1, dtype) == 1
    assert ulp_error(np.nextafter(up, dtype(2)), 1, dtype) == 2
    assert ulp_error(dtype(-1.5), -1.5 + 3 * eps(dtype), dtype) == 3


@pytest.mark.parametrize("dtype", DTYPES)
def test_across_a_power_of_two_both_directions_count_the_same(dtype):
    two = dtype(2)
    below = np.nextafter(two, dtype(0))                  # 2 - eps: spacing eps below 2
    above = np.nextafter(two, dtype(4))                  # 2 + 2 eps: spacing 2 eps above
    assert float(two) - float(below) == eps(dtype)
    assert float(above) - float(two) == 2 * eps(dtype)
    assert ulp_error(below, 2, dtype) == ulp_error(two, float(below), dtype) == 1
    assert ulp_error(above, float(below), dtype) == 2
    assert ulp_error(dtype(-2), -float(above), dtype) == 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_subnormals_and_signed_zero(dtype):
    tiny = np.finfo(dtype).smallest_subnormal            # 2^-24, 2^-149, 2^-1074
    normal = np.finfo(dtype).tiny                        # the smallest normal number
    assert ulp_error(dtype(0), 0, dtype) == ulp_error(dtype(-0.0), 0, dtype) == 0
    assert ulp_error(tiny, 0, dtype) == ulp_error(-tiny, 0, dtype) == 1
    assert ulp_error(-tiny, float(tiny), dtype) == 2     # -tiny, -0 = +0, +tiny
    assert ulp_error(3 * tiny, float(tiny), dtype) == 2
    steps = int(normal / tiny)                           # 0 ... normal in equal steps
    assert ulp_error(normal, 0, dtype) == steps
    assert ulp_error(np.nextafter(normal, dtype(1)), float(tiny), dtype) == steps


@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_and_infinities(dtype):
    inf, big = dtype(np.inf), np.finfo(dtype).max
    assert np.isnan(ulp_error(dtype(np.nan), 1, dtype))
    assert ulp_error(inf, 1, dtype) == ulp_error(-inf, 1, dtype) == np.inf
    assert ulp_error(big, float(big), dtype) == 0
    assert ulp_error(inf, float(big), dtype) == np.inf         # one step, but an overflow
    overflowing = Fraction(int(big)) * 2                      # rounds to inf in dtype
    assert ulp_error(inf, overflowing, dtype) == 0            # then inf is right
    assert ulp_error(big, overflowing, dtype) == np.inf
    assert ulp_error(-inf, -overflowing, dtype) == 0


def test_the_floor_counts_an_absolute_error_below_it():
    y = F32(0.5) + F32(2.0**-24)                              # one float above 0.5
    assert ulp_error(y, 0.5, F32) == 1                        # relative: 1 ULP at 0.5
    assert ulp_error(y, 0.5, F32, floor=1) == 0.5             # in units of the spacing at 1
    assert ulp_error(F32(2**-30), 0, F32, floor=1) == 2.0**-7  # exact 0: absolute
    assert ulp_error(F32(1) + F32(2**-23), 1, F32, floor=1) == 1   # from 1 on: ULPs again


def test_the_exact_value_is_rounded_once_not_twice():
    # 1 + 2^-24 + 2^-80 is just above the midpoint of 1 and 1 + 2^-23 (float32's neighbors);
    # float() rounds it onto the midpoint, and float32 would then round that tie down to 1
    exact = Fraction(1) + Fraction(1, 2**24) + Fraction(1, 2**80)
    assert F32(float(exact)) == 1                             # the double rounding
    assert round_to(exact, F32) == 1 + 2.0**-23
    assert round_to(-exact, F32) == -(1 + 2.0**-23)
    below = Fraction(1) + Fraction(1, 2**24) - Fraction(1, 2**80)
    assert round_to(below, F32) == 1
    tie = Fraction(1) + Fraction(1, 2**24)                    # a true tie: to even
    assert round_to(tie, F32) == 1
    assert ulp_error(F32(1), exact, F32) == 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_mpmath_references(dtype):
    with mpmath.workdps(50):
        third = mpmath.mpf(1) / 3
        assert ulp_error(dtype(1) / dtype(3), third, dtype) == 0
        y = np.nextafter(dtype(1) / dtype(3), dtype(1))
        assert ulp_error(y, third, dtype) == 1


def test_arrays_and_the_dtype_of_the_computed_value():
    with mpmath.workdps(50):
        exact = [mpmath.log(2), mpmath.mpf(0), mpmath.mpf(-3)]
    y = np.array([np.log(np.float32(2)), np.float32(1e-45), np.float32(-3)])
    errors = ulp_error(y, exact)                              # dtype float32, from y
    assert errors.shape == (3,) and errors.dtype == np.float64
    assert errors.tolist() == [0.0, 1.0, 0.0]
    assert ulp_error(y.reshape(3, 1), exact).shape == (3, 3)  # broadcasts


def test_a_value_the_dtype_cannot_hold_is_refused():
    with pytest.raises(ValueError, match="not a float of dtype float32"):
        ulp_error(0.1, Fraction(1, 10), F32)                  # 0.1 is a float64
    assert ulp_error(F64(F32(0.1)), Fraction(1, 10), F32) == 0  # exactly a float32: fine
    with pytest.raises(ValueError, match="float16, float32 or float64"):
        ulp_error(np.int32(1), 1)
