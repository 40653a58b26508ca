"""The machinery every check runs a candidate through (byhand.check.core): the time limit
cannot be swallowed, every way out of a candidate becomes a CheckFailed that says what
happened, and messages stay short whatever the inputs or the candidate's own error."""

import _thread
import signal
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from byhand import check
from byhand.check import CheckFailed, core
from byhand.failure import CheckFailed as FailureCheckFailed
from catalogue import assert_short

LIMIT = 0.2   # seconds: a short limit for these tests (nothing here measures elapsed time)
TASKS = [getattr(check, name) for name in check.__all__  # the code checks (derive_* take a formula)
         if name != "CheckFailed" and not name.startswith("derive_")]


@contextmanager
def watchdog(seconds=30):
    """Turn a hang into a test failure. If the protection under test were gone, a swallowed
    alarm would loop forever: after `seconds`, KeyboardInterrupt is raised in the test every
    0.2 s (a candidate may swallow a few) until it returns, and the test fails."""
    done, fired = threading.Event(), []

    def interrupt():
        if not done.wait(seconds):
            while not done.wait(0.2):
                fired.append(True)
                _thread.interrupt_main()

    thread = threading.Thread(target=interrupt, daemon=True)
    thread.start()
    try:
        yield
    except KeyboardInterrupt:
        pass
    finally:
        done.set()
        thread.join()
    if fired:
        pytest.fail("the time limit did not stop the candidate: the watchdog had to")


@pytest.fixture
def short_limit(monkeypatch):
    monkeypatch.setattr(core, "SECONDS", LIMIT)


def spin(*args):
    while True:
        pass


def swallows_exception(*args):
    try:
        spin()
    except Exception:            # the usual "make it not crash" wrapper
        return args[0]


def loops_inside_except_exception(x):
    while True:                  # would retry forever if the alarm were an Exception
        try:
            spin()
        except Exception:
            continue


def swallows_three_alarms(x):
    for _ in range(3):           # catches everything, three times, then returns an answer
        try:
            spin()
        except BaseException:
            pass
    return x


def turns_the_alarm_into_value_error(x):
    try:
        spin()
    except BaseException:
        raise ValueError("could not finish") from None


def sleeps(x):
    import time
    time.sleep(30)


@pytest.mark.parametrize("candidate", [spin, swallows_exception, loops_inside_except_exception,
                                       swallows_three_alarms, turns_the_alarm_into_value_error,
                                       sleeps],
                         ids=lambda c: c.__name__)
def test_the_time_limit_cannot_be_swallowed(candidate, short_limit):
    with watchdog(), pytest.raises(CheckFailed, match=f"no answer within {LIMIT:g} s"):
        core.call(candidate, np.zeros(3))


def test_a_nested_limit_leaves_the_outer_one_armed(short_limit):
    def runs_a_quick_call_then_spins(x):
        core.call(lambda y: y, x)        # arms and disarms a limit of its own
        spin()
    with watchdog(), pytest.raises(CheckFailed, match="no answer within"):
        core.call(runs_a_quick_call_then_spins, np.zeros(2))


def test_the_alarm_is_not_an_exception():
    assert not issubclass(core._TooSlow, Exception)


def test_a_swallowed_alarm_still_fails_a_real_check(short_limit):
    def vjp_tanh_after_spinning(x, v):
        swallows_three_alarms(None)
        return v * (1 - np.tanh(x) ** 2)           # right, but late
    with watchdog(), pytest.raises(CheckFailed, match="no answer within"):
        check.vjp_tanh(vjp_tanh_after_spinning)


@pytest.mark.parametrize("candidate", [lambda x: x, swallows_three_alarms],
                         ids=["returns", "times-out"])
def test_no_alarm_is_left_armed(candidate, short_limit):
    handler = signal.getsignal(signal.SIGALRM)
    with watchdog():
        try:
            core.call(candidate, np.zeros(2))
        except CheckFailed:
            pass
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is handler


class Stop(BaseException):
    pass


def raise_generator_exit(x):
    raise GeneratorExit


def raise_stop(x):
    raise Stop("done early")


@pytest.mark.parametrize("candidate, words", [
    (lambda x: sys.exit(), "called sys.exit()"),
    (lambda x: sys.exit(3), "SystemExit, code 3"),
    (raise_generator_exit, "raised GeneratorExit"),
    (raise_stop, "raised Stop: done early (a BaseException"),
], ids=["exit", "exit-3", "generator-exit", "custom"])
def test_base_exceptions_become_check_failures(candidate, words):
    with pytest.raises(CheckFailed) as failure:
        core.call(candidate, np.zeros(2))
    assert words in str(failure.value)
    assert "input: np.array([0., 0.], dtype=float64)" in str(failure.value)


def test_sys_exit_in_a_check_is_reported_not_obeyed(capsys):
    with pytest.raises(CheckFailed, match="sys.exit"):
        check.logsumexp_vector(lambda x: sys.exit(0))


def test_keyboard_interrupt_is_let_through():
    def interrupted(x):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        core.call(interrupted, np.zeros(2))


def test_check_failed_is_the_standard_library_one():
    assert CheckFailed is FailureCheckFailed and core.CheckFailed is FailureCheckFailed
    lines = CheckFailed("first line\nsecond", "a hint")._render_traceback_()
    assert lines == ["\x1b[1;31mCheckFailed:\x1b[0m first line", "second", "Hint: a hint"]


def test_failure_imports_without_numpy():
    code = ("import sys; sys.modules['numpy'] = None; "   # any import of NumPy now fails
            "from byhand.failure import CheckFailed; print(CheckFailed('m', 'h'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "m\nHint: h\n"


# ---------------------------------------------------------------- short messages

@pytest.mark.parametrize("value, words", [
    ([np.zeros((784, 32)), np.zeros(32), np.zeros((32, 10)), np.zeros(10), np.zeros(1)],
     "a list of 5 items (array (784, 32) float64, array (32,) float64, array (32, 10) float64, "
     "array (10,) float64, ...)"),
    ((np.zeros((6, 5), np.float32), np.ones((5, 3))),
     "a tuple of 2 items (array (6, 5) float32, array (5, 3) float64)"),
    ({"W": np.zeros((9, 9)), "b": np.zeros(9)}, "a dict of 2 entries (keys str, str)"),
    (bytes(2000), "bytes of length 2000"),
    ([1, 2.5, None], "a list of 3 items (1, 2.5, None)"),
    ("x" * 500, "'xxxxx"),
])
def test_containers_are_summarized_not_printed(value, words):
    text = core.describe(value)
    assert text.startswith(words)
    assert len(text) <= 120


def long_error(*args):
    raise ValueError("\n".join(f"line {i}: " + "0.123456789 " * 20 for i in range(40)))


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.__name__)
def test_a_crashing_candidate_gets_a_short_message(task):
    with pytest.raises(CheckFailed) as failure:
        task(long_error)
    assert "raised ValueError: line 0:" in str(failure.value)
    assert_short(str(failure.value))


@pytest.mark.parametrize("task", [check.linear_layer_backward, check.mlp_forward,
                                  check.train_step, check.parse_idx],
                         ids=lambda t: t.__name__)
def test_container_inputs_keep_messages_short(task):
    def unpacks_wrong(*args):   # the classic crash: a list or tuple unpacked into too many names
        a, b, c, d, e, f, g, h = args[0]
    with pytest.raises(CheckFailed) as failure:
        task(unpacks_wrong)
    assert "raised ValueError" in str(failure.value) or "raised TypeError" in str(failure.value)
    assert_short(str(failure.value))


# ---------------------------------------------------------------- every task goes through run()

@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.__name__)
def test_every_task_reports_sys_exit(task):
    with pytest.raises(CheckFailed, match=r"called sys\.exit\(\)"):
        task(lambda *args: sys.exit(1))


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.__name__)
def test_every_task_stops_a_candidate_that_swallows_the_alarm(task, short_limit, monkeypatch):
    monkeypatch.setattr(check.ch10_mnist, "TRAIN_SECONDS", LIMIT)
    with watchdog(), pytest.raises(CheckFailed, match="no answer within"):
        task(swallows_exception)


# ---------------------------------------------------------------- seed=, hints (issue #16)

def test_without_a_seed_a_check_draws_what_it_always_drew():
    assert core.seeded() is None
    assert np.array_equal(core.fresh_rng(31).normal(size=5),
                          np.random.default_rng(31).normal(size=5))
    assert np.array_equal(core.fresh_rng([6, 5, 3, 4]).normal(size=5),
                          np.random.default_rng([6, 5, 3, 4]).normal(size=5))
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert core.dims(rng, 4, 6) == (4, 6) and core.float_dtype(rng) is np.float64
    assert rng.bit_generator.state == state          # nothing drawn: later draws are unchanged


def test_with_a_seed_the_helpers_draw_from_it():
    seen = []

    @core.task(hints=("first level, in words", "second level, in words"))
    def probe(candidate):
        rng = core.fresh_rng(31)
        seen.append((tuple(rng.normal(size=3)), core.dims(rng, 4, 6, low=1, high=50),
                     core.float_dtype(rng, choices=(np.float64, np.float32))))
    try:
        for seed in (None, 1, 1, 2):
            probe(None, seed=seed)
    finally:
        del core.TASKS["probe"]
    default, one, again, two = seen
    assert default[1] == (4, 6) and default[2] is np.float64
    assert one == again and one != two and one[0] != default[0]
    assert core.seeded() is None


def test_hint_is_an_attribute_of_check_not_a_task():
    assert callable(check.hint) and "hint" not in check.__all__
    assert {t.__name__ for t in TASKS} == set(core.TASKS)
    assert all(len(t.hints) >= 2 for t in TASKS)


def test_a_long_verdict_is_folded_to_the_code_column(capsys):
    from byhand.check.core import passed

    passed("some_task", "a verdict " * 20)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) >= 3 and all(len(line) <= 88 for line in lines), out
    assert lines[0].startswith("✓ some_task: a verdict") and lines[1].startswith("  ") and lines[1][2] != " "
    assert " ".join(line.strip() for line in lines) == ("✓ some_task: " + "a verdict " * 20).strip()
