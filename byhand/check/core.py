"""The machinery of the checks: call a student's function safely, compare what it returns.

`call` runs a candidate on copies of its inputs under a time limit and turns every way it can
go wrong (not implemented yet, an exception, too slow, mutating its input) into a CheckFailed
with a readable message. `expect_array` compares a result with the reference and says which
entry is wrong and how (None, a list, the wrong shape or dtype, NaN, inf, a wrong value).
"""

import difflib
import functools
import signal
import textwrap
import threading
from contextlib import contextmanager

import numpy as np

from byhand import progress
from byhand.failure import CheckFailed  # noqa: F401  (re-exported: checks import it from here)
from byhand.failure import folded

SECONDS = 10  # per call; the reference solutions take milliseconds
REPEAT = 0.1  # after the limit, the alarm fires again every REPEAT s until the candidate stops
ERROR_CHARS = 300  # a candidate's own exception message is cut to this length


class _TooSlow(BaseException):
    """Raised by the alarm. A BaseException, so `except Exception:` in a candidate misses it."""


@contextmanager
def _time_limit(seconds):
    """Interrupt the body after `seconds`; yields a list that is non-empty once time ran out.

    How far this goes, honestly: SIGALRM raises _TooSlow in the main thread between two Python
    bytecodes. `except Exception` does not catch it. A candidate that catches it anyway (a bare
    `except:`, `except BaseException`) gets it again every REPEAT seconds, and whatever it returns
    or raises after the first alarm counts as too slow, so swallowing the alarm gains nothing.
    What cannot be enforced in-process: a candidate that swallows every alarm inside an endless
    loop never returns (only restarting the kernel stops it: Jupyter's interrupt is a
    KeyboardInterrupt, which it swallows too); one long call into C (a huge matrix product)
    is interrupted only when it returns to Python; a candidate that resets SIGALRM itself
    disarms the limit. Limits nest (a candidate that runs a check): the outer one resumes, not
    shortened by the time spent inside. Outside the main thread, and where there is no setitimer (Windows,
    Pyodide), there is no limit at all. Running the candidate in a subprocess would close these
    gaps, but candidates are notebook closures that cannot be sent to one, and Pyodide has none.
    """
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield []
        return
    expired, live = [], [True]

    def interrupt(signum, frame):
        expired.append(True)
        if live[0]:                     # never raise into the check's own clean-up below
            raise _TooSlow

    try:
        previous = signal.signal(signal.SIGALRM, interrupt)
    except (ValueError, OSError):  # no signals here (a sub-interpreter, an odd platform)
        yield expired
        return
    outer = signal.setitimer(signal.ITIMER_REAL, seconds, REPEAT)  # a limit around this one
    try:
        yield expired
    finally:
        while True:  # an alarm landing before `live` is cleared is caught here; then try again
            try:
                live[0] = False
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
                signal.setitimer(signal.ITIMER_REAL, *outer)  # an outer limit resumes (not shortened)
                break
            except _TooSlow:
                continue


def _short(text, limit=ERROR_CHARS):
    """At most `limit` characters and three lines of someone else's text."""
    lines = str(text).splitlines() or [""]
    text = " / ".join(lines[:3]) + (" / ..." if len(lines) > 3 else "")
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _brief(value):
    """A few words for one item of a container: an array by shape and dtype, else its type."""
    if isinstance(value, np.ndarray):
        return f"array {value.shape} {value.dtype}"
    if isinstance(value, (bool, int, float, complex, np.generic)) or value is None:
        return _short(repr(value), 40)
    return type(value).__name__


def describe(value, limit=6):
    """A short description of an input for messages: small arrays in full, large ones by shape.

    Containers and bytes are summarized by type, length and (for arrays inside) shapes, never
    printed with repr: a list of weight matrices or an IDX file would fill the screen.
    """
    if isinstance(value, np.ndarray):
        if value.size <= limit:
            return f"np.array({np.array2string(value, separator=', ', precision=6)}, dtype={value.dtype})"
        return f"an array of shape {value.shape}, dtype {value.dtype}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"{type(value).__name__} of length {len(value)}"
    if isinstance(value, (tuple, list)):
        items = ", ".join(_brief(v) for v in value[:4]) + (", ..." if len(value) > 4 else "")
        return f"a {type(value).__name__} of {len(value)} items ({items})"
    if isinstance(value, dict):
        keys = ", ".join(_brief(k) for k in list(value)[:4]) + (", ..." if len(value) > 4 else "")
        return f"a dict of {len(value)} entries (keys {keys})"
    if isinstance(value, (bool, int, float, complex, np.generic, str)) or value is None:
        return _short(repr(value), 80)
    if callable(value):
        return f"the function {getattr(value, '__name__', type(value).__name__)}"
    return f"a {type(value).__name__}"


def _what_happened(error):
    """Words for a BaseException that is not an Exception, raised by a candidate."""
    if isinstance(error, SystemExit):
        return (f"your function called sys.exit() (SystemExit, code {error.code!r}): it would "
                "stop the program; return the result instead")
    if isinstance(error, GeneratorExit):
        return ("your function raised GeneratorExit, which only Python raises inside a "
                "generator that is being closed; return the result instead")
    return (f"your function raised {type(error).__name__}: {_short(error)} (a BaseException, "
            "not an Exception); return the result instead")


def run(candidate, args, kwargs=None, *, shown, hint=None, seconds=None, too_slow=None):
    """candidate(*args, **kwargs) under a time limit; every way out becomes a CheckFailed.

    `shown` describes the inputs for messages, `too_slow` replaces the default advice when time
    runs out; `seconds` defaults to SECONDS. KeyboardInterrupt (the reader pressing stop) is let
    through.
    """
    seconds = SECONDS if seconds is None else seconds
    if candidate is None or not callable(candidate):
        raise CheckFailed(f"expected a function, got {type(candidate).__name__}", hint)
    slow = CheckFailed(
        f"gave no answer within {seconds:g} s for {shown}; "
        + (too_slow or "a Python loop over every entry is too slow here: use vectorized NumPy"),
        hint)
    expired = []
    try:
        with _time_limit(seconds) as expired:
            result = candidate(*args, **(kwargs or {}))
    except KeyboardInterrupt:
        raise
    except NotImplementedError:
        if expired:
            raise slow from None
        raise CheckFailed(
            "not implemented yet: replace `raise NotImplementedError()` with your code"
        ) from None
    except _TooSlow:
        raise slow from None
    except Exception as error:  # the student's code may raise anything; report it, do not crash
        if expired:  # it caught the alarm and raised something else
            raise slow from None
        raise CheckFailed(
            f"your function raised {type(error).__name__}: {_short(error)}\n  input: {shown}",
            hint,
        ) from None
    except BaseException as error:  # sys.exit(), GeneratorExit, a home-made BaseException
        if expired:
            raise slow from None
        raise CheckFailed(f"{_what_happened(error)}\n  input: {shown}", hint) from None
    if expired:  # it swallowed the alarm and returned late: still too slow
        raise slow
    return result


def call(candidate, *args, hint=None, **kwargs):
    """candidate(*args, **kwargs) on copies of the arrays, with every failure made readable."""
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    shown = ", ".join(describe(a) for a in args)
    result = run(candidate, copies, kwargs, shown=shown, hint=hint)
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


# ---------------------------------------------------------------- fresh inputs, hints, failures

_SEED = [None]     # the seed of the check being run: None for the default (stored) cases
TASKS = {}         # task name -> the checked function, for check.hint
_HINTS_GIVEN = {}  # task name -> how many hint levels check.hint has shown this session
_FAILURES = {}     # task name -> how many times its check failed this session
SUGGEST_AFTER = 2  # from this failure of a task on, its message suggests check.hint(...)
MESSAGE_LINES, MESSAGE_CHARS = 8, 800  # one screen under a check cell (tests/catalogue.py)


def fresh_rng(default):
    """The random generator of a check: the one it always used, unless a seed was given.

    Every check draws its random inputs from `fresh_rng(<its constant>)`. Without a seed this is
    `np.random.default_rng(<its constant>)`, so the default cases (and the notebooks' stored
    outputs) never change; with `check.<task>(fn, seed=k)` it is a generator seeded by
    (k, constant): new values, the same ones for the same k.
    """
    seed = _SEED[0]
    if seed is None:
        return np.random.default_rng(default)
    return np.random.default_rng([seed, *np.atleast_1d(default).tolist()])


def seeded():
    """The seed of the check being run, or None for the default cases."""
    return _SEED[0]


def dims(rng, *default, low=1, high=8):
    """`default` (a shape) without a seed; with one, as many sizes drawn in [low, high]."""
    if _SEED[0] is None:
        return default
    return tuple(int(n) for n in rng.integers(low, high + 1, size=len(default)))


def float_dtype(rng, default=np.float64, choices=(np.float64, np.float32)):
    """`default` without a seed; with one, a float dtype drawn from `choices`."""
    if _SEED[0] is None:
        return default
    return choices[int(rng.integers(len(choices)))]


def fresh_level_vector(stream, entries, hint):
    """With a seed: one (label, vector, hint) case, random `entries` around a level that can
    overflow exp (-1000, 0, or 1000; 80 in float32); no seed: no case, today's cases only."""
    if _SEED[0] is None:
        return []
    rng = fresh_rng(stream)
    dtype = float_dtype(rng)
    level = rng.choice([-1000.0, 0.0, 80.0 if dtype == np.float32 else 1000.0])
    return [(f"fresh random {entries} around {level:g} (seed {_SEED[0]})",
             (level + 5 * rng.normal(size=dims(rng, 4, low=1, high=12))).astype(dtype), hint)]


def fresh_masked_batch(stream):
    """With a seed: one (label, X) case, a random batch with -inf masks and one fully masked
    row; no seed: no case."""
    if _SEED[0] is None:
        return []
    rng = fresh_rng(stream)
    N, K = dims(rng, 3, 4, low=2)
    X = (20 * rng.normal(size=(N, K))).astype(float_dtype(rng))
    X[rng.random(size=(N, K)) < 0.3] = -np.inf
    X[rng.integers(N)] = -np.inf
    return [(f"a fresh random batch with masks (seed {_SEED[0]})", X)]


def _counted(name, failure):
    """Count a failure of task `name`; from the second one on, suggest its hints."""
    _FAILURES[name] = _FAILURES.get(name, 0) + 1
    if _FAILURES[name] < SUGGEST_AFTER or not (TASKS.get(name) and TASKS[name].hints):
        return failure
    longer = CheckFailed(f"{failure.message}\n  stuck? check.hint(\"{name}\") gives a hint",
                         failure.hint)
    text = str(longer)  # the line is left out where it would push the message past one screen
    if len(text) > MESSAGE_CHARS or len(text.splitlines()) > MESSAGE_LINES:
        return failure
    return longer


def task(check=None, *, hints=()):
    """Make a check total, seedable and hinted: `@task(hints=("first level", "second level"))`.

    Whatever the candidate returns, the checked function raises CheckFailed or passes. Anything
    else escaping a check (say, comparing a result of a shape nobody foresaw) is turned into a
    CheckFailed that shows the problem, rather than a traceback into the check's code.

    `check.<task>(fn, seed=k)` runs the same check on fresh inputs: every `fresh_rng`, `dims`
    and `float_dtype` inside it draws from k. No seed: today's cases, exactly.

    `hints` are the levels `check.hint("<task>")` gives, one per call, in order: the first says
    which section and which idea, the next the key step; never code. The exercise notebooks show
    the same texts folded under each task (tools/make_exercises.py).
    """
    if check is None:
        return lambda check: task(check, hints=hints)
    name = check.__name__

    @functools.wraps(check)
    def checked(candidate, *, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                                 or seed < 0):
            raise CheckFailed(f"seed must be a whole number >= 0, got {seed!r}")
        previous, _SEED[0] = _SEED[0], None if seed is None else int(seed)
        try:
            result = check(candidate)
            progress.record(name, _SEED[0])
            return result
        except CheckFailed as failure:
            raise _counted(name, failure) from None
        except Exception as error:
            raise _counted(name, CheckFailed(
                f"could not check your result ({type(error).__name__}: {error}); does it return "
                "an array of the shape the task asks for?")) from None
        finally:
            _SEED[0] = previous

    checked.hints = tuple(hints)
    TASKS[name] = checked
    return checked


def hint(name):
    """Print the next hint for the task `name` (a string, or the check itself).

    The first call gives the first level (which section to reread, which idea), each further
    call the next level; after the last one it says there are no more. Never code.
    """
    name = getattr(name, "__name__", name)
    if not isinstance(name, str) or name not in TASKS:
        if isinstance(name, str) and name.startswith("derive_"):
            raise CheckFailed(f"{name} is a derivation task: its statement names the section to "
                              "reread, and its check says which term is wrong")
        close = difflib.get_close_matches(str(name), TASKS, n=3)
        raise CheckFailed(f"no task named {name!r}"
                          + (f"; did you mean {' or '.join(map(repr, close))}?" if close else ""))
    hints = TASKS[name].hints
    given = _HINTS_GIVEN.get(name, 0)
    if given >= len(hints):
        print(f"No more hints for {name}: all {len(hints)} are above. Reread the section they "
              "name, then compare with the solutions notebook once you have tried.")
        return
    _HINTS_GIVEN[name] = given + 1
    more = (f" (call check.hint(\"{name}\") again for the next)" if given + 1 < len(hints)
            else " (the last one)")
    print(f"Hint {given + 1} of {len(hints)} for {name}{more}:\n"
          + textwrap.fill(hints[given], width=96))


def passed(task, what):
    seed = "" if _SEED[0] is None else f" (seed {_SEED[0]})"
    print(folded(f"✓ {task}{seed}: {what}"))
