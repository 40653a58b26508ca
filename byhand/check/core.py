"""The machinery of the checks: call a student's function safely, compare what it returns.

`call` runs a candidate on copies of its inputs under a time limit and turns every way it can
go wrong (not implemented yet, an exception, too slow, mutating its input) into a CheckFailed
with a readable message. `expect_array` compares a result with the reference and says which
entry is wrong and how (None, a list, the wrong shape or dtype, NaN, inf, a wrong value).
"""

import functools
import signal
import threading
from contextlib import contextmanager

import numpy as np

from byhand.failure import CheckFailed  # noqa: F401  (re-exported: checks import it from here)

SECONDS = 10  # per call; the reference solutions take milliseconds


class _TooSlow(Exception):
    pass


@contextmanager
def _time_limit(seconds):
    """Interrupt the body after `seconds` (POSIX main thread only; elsewhere no limit)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def describe(value, limit=6):
    """A short description of an input for messages: small arrays in full, large ones by shape."""
    if isinstance(value, np.ndarray):
        if value.size <= limit:
            return f"np.array({np.array2string(value, separator=', ', precision=6)}, dtype={value.dtype})"
        return f"an array of shape {value.shape}, dtype {value.dtype}"
    return repr(value)


def call(candidate, *args, hint=None, **kwargs):
    """candidate(*args, **kwargs) on copies of the arrays, with every failure made readable."""
    seconds = SECONDS
    if candidate is None or not callable(candidate):
        raise CheckFailed(f"expected a function, got {type(candidate).__name__}", hint)
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    shown = ", ".join(describe(a) for a in args)
    try:
        with _time_limit(seconds):
            result = candidate(*copies, **kwargs)
    except NotImplementedError:
        raise CheckFailed(
            "not implemented yet: replace `raise NotImplementedError()` with your code"
        ) from None
    except _TooSlow:
        raise CheckFailed(
            f"gave no answer within {seconds} s for {shown}; a Python loop over every entry "
            "is too slow here: use vectorized NumPy", hint,
        ) from None
    except Exception as error:  # the student's code may raise anything; report it, do not crash
        raise CheckFailed(
            f"your function raised {type(error).__name__}: {error}\n  input: {shown}", hint
        ) from None
    for original, copy in zip(args, copies):
        if isinstance(original, np.ndarray) and not np.array_equal(original, copy, equal_nan=True):
            raise CheckFailed(
                f"your function changed its input in place (input: {shown}); work on a copy or "
                "write results into a new array", hint,
            )
    return result


def expect_array(got, expected, *, inputs, hint=None, rtol=1e-10, atol=0.0, check_dtype=True):
    """Raise CheckFailed unless `got` is an array like `expected` (shape, dtype, values)."""
    where = f"\n  input: {inputs}"
    if got is None:
        raise CheckFailed(f"your function returned None: did it forget `return`?{where}", hint)
    if isinstance(got, (list, tuple)):
        raise CheckFailed(
            f"your function returned a {type(got).__name__}; return a NumPy array{where}", hint
        )
    if isinstance(got, (int, float, np.generic)):
        got = np.asarray(got)
    if not isinstance(got, np.ndarray):
        raise CheckFailed(f"your function returned {type(got).__name__}, not an array{where}", hint)
    expected = np.asarray(expected)
    if got.shape != expected.shape:
        raise CheckFailed(
            f"wrong shape: expected {expected.shape}, got {got.shape}{where}", hint
        )
    if check_dtype and got.dtype != expected.dtype:
        raise CheckFailed(
            f"wrong dtype: expected {expected.dtype} (the input's), got {got.dtype}{where}", hint
        )
    got64, expected64 = got.astype(np.float64), expected.astype(np.float64)
    wrong = ~np.isclose(got64, expected64, rtol=rtol, atol=atol, equal_nan=True)
    if wrong.any():
        i = tuple(int(k) for k in np.argwhere(wrong)[0])
        g, e = got64[i], expected64[i]
        at = f" at index {i}" if got.shape else ""
        if np.isnan(g):
            problem = f"NaN{at}, where the answer is {e:.8g}"
        elif np.isinf(g) and not np.isinf(e):
            problem = f"{g}{at} (an overflow?), where the answer is {e:.8g}"
        else:
            problem = f"a wrong value{at}: expected {e:.8g}, got {g:.8g}"
        raise CheckFailed(f"your function returned {problem}{where}", hint)
    return got


@contextmanager
def case(name):
    """Prefix any CheckFailed raised inside with the name of the input case being tried."""
    try:
        yield
    except CheckFailed as failure:
        raise CheckFailed(f"on {name}: {failure.message}", failure.hint) from None


def task(check):
    """Make a check total: whatever the candidate returns, the check raises CheckFailed or passes.

    Anything else escaping a check (say, comparing a result of a shape nobody foresaw) is turned
    into a CheckFailed that shows the problem, rather than a traceback into the check's code.
    """

    @functools.wraps(check)
    def checked(candidate):
        try:
            return check(candidate)
        except CheckFailed:
            raise
        except Exception as error:
            raise CheckFailed(
                f"could not check your result ({type(error).__name__}: {error}); does it return "
                "an array of the shape the task asks for?"
            ) from None

    return checked


def passed(task, what):
    print(f"✓ {task}: {what}")
