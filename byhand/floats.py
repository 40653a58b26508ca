"""Errors in ULPs: how many floats lie between a computed result and the exact value.

    round_to(exact, dtype)                   the float of `dtype` nearest to `exact`
    ulp_error(computed, exact, dtype)        the error of `computed` in ULPs (chapter 2, 2.6)
    ulp_error(..., floor=1)                  the same, at the scale of 1 below 1

The ULP error of a result y is the number of steps from one float of its dtype to the next that
separate y from round_to(exact): 0 means correctly rounded, the best any method can do, and 1
means one float away. Counting floats, rather than dividing |y − exact| by a spacing, gives the
same count on both sides of a power of two (where the spacing doubles), walks through the
subnormals in steps of the smallest subnormal, and treats +0 and −0 as the same number.

Near an exact value of 0 no method can promise relative accuracy when the result is the
difference of larger numbers (log-sum-exp near 0, a log-probability near 0). With floor=f, an
exact value whose rounding, round_to(exact), is smaller than f in magnitude gets an absolute
error instead, in units of the spacing of floats at f: |y − round_to(exact)| / spacing(f), no
longer a whole number.

Not-a-number and infinities:
- a computed NaN has error NaN (NumPy's rule: NaN in, NaN out); `assert error <= bound` and
  `np.max` both treat it as a failure, but `error > bound` is False: test `not error <= bound`;
- an infinite result has error 0 if the exact value also rounds to that infinity (it overflows
  the dtype), and error inf otherwise; so does a finite result where the exact value overflows.

`exact` is any real number that float() rounds correctly and that compares exactly with a float:
an mpmath number, a Fraction, an int, a float. Rounding it to float16 or float32 through float64
could round twice (a tie in the narrow dtype created by the first rounding); round_to breaks
such ties with `exact` itself, so the result is always the nearest float.
"""

import numpy as np

__all__ = ["round_to", "ulp_error"]

_SIGNED = {2: np.int16, 4: np.int32, 8: np.int64}  # float16, float32, float64 -> same-size ints


def _float_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.float16, np.float32, np.float64):
        raise ValueError(f"ULPs are counted in float16, float32 or float64, not {dtype}")
    return dtype


def round_to(exact, dtype):
    """The float of `dtype` nearest to the real number `exact` (ties to even), as a NumPy scalar."""
    dtype = _float_dtype(dtype)
    try:
        wide = float(exact)                           # the nearest float64
    except OverflowError:                             # a Fraction or int beyond float64
        wide = np.inf if exact > 0 else -np.inf
    with np.errstate(over="ignore"):                  # beyond the dtype's range: ±inf
        nearest = dtype.type(wide)                    # the nearest float of dtype to *that*
    if dtype.itemsize < 8 and np.isfinite(nearest) and float(nearest) != wide:
        toward = dtype.type(np.inf if wide > float(nearest) else -np.inf)
        other = np.nextafter(nearest, toward)         # the float of dtype on wide's other side
        if float(nearest) + float(other) == 2 * wide and exact != wide:   # a tie made by float()
            nearest = max(nearest, other) if exact > wide else min(nearest, other)
    return nearest


def _rank(value):
    """The position of a finite float among all floats of its dtype; +0 and −0 are both 0."""
    bits = int(np.asarray(value).view(_SIGNED[value.dtype.itemsize]))
    magnitude = bits & ((1 << (8 * value.dtype.itemsize - 1)) - 1)   # drop the sign bit
    return magnitude if bits >= 0 else -magnitude


def _in_dtype(computed, dtype):
    value = dtype.type(computed)
    if not (value == computed or (np.isnan(value) and np.isnan(computed))):
        raise ValueError(f"the computed value {computed!r} is not a float of dtype {dtype}")
    return value


def _one(computed, exact, dtype, floor):
    y, r = _in_dtype(computed, dtype), round_to(exact, dtype)
    if np.isnan(y):
        return np.nan
    if y == r:                                        # also +0 == -0, and the same infinity
        return 0.0
    if not (np.isfinite(y) and np.isfinite(r)):
        return np.inf
    if abs(float(r)) < floor:                         # absolute error at the scale of floor
        return abs(float(y) - float(r)) / float(np.spacing(dtype.type(floor)))
    return float(abs(_rank(y) - _rank(r)))


def ulp_error(computed, exact, dtype=None, floor=0):
    """The error of `computed` in ULPs of `dtype`: floats between it and round_to(exact, dtype).

    computed  a float or array of floats of `dtype` (a value that dtype cannot hold exactly
              raises ValueError: round it first, and the rounding is part of the error)
    exact     a real number (mpmath, Fraction, int, float), or an array-like of them with the
              shape of `computed`
    dtype     float16, float32 or float64; default: the dtype of `computed`
    floor     for |round_to(exact)| < floor, the absolute error in units of the spacing at floor
              (chapters 2, 4 and 5 use floor=1); 0, the default, counts ULPs everywhere

    Returns a float (an array of floats for array input): a whole number of ULPs, or for
    |round_to(exact)| < floor a fraction; NaN for a computed NaN; inf for an unwarranted infinity.
    """
    computed = np.asarray(computed)
    dtype = _float_dtype(computed.dtype if dtype is None else dtype)
    exact = np.asarray(exact, dtype=object)           # mpmath numbers stay exact
    if computed.ndim == 0 and exact.ndim == 0:
        return _one(computed[()], exact[()], dtype, floor)
    computed, exact = np.broadcast_arrays(computed, exact)
    errors = [_one(y, e, dtype, floor) for y, e in zip(computed.flat, exact.flat)]
    return np.array(errors, dtype=np.float64).reshape(computed.shape)
