"""The two tests every catalogue of exercise answers runs (tests/test_checks*.py).

    test_right_answers_pass, test_wrong_answers_are_named = catalogue(RIGHT, WRONG, chapter=3)

RIGHT holds (task, candidate) pairs that must pass, printing the task's one success line;
WRONG holds (task, candidate, words) triples that must fail with a CheckFailed whose message
contains `words`, shows the input or a hint, (given `chapter`) names the chapter to reread, and
is short (assert_short).

Every catalogue is also registered in CATALOGUES, under the name of the test module that holds
it, when that module is imported: catalogue() does it, and a module that runs its lists with tests
of its own calls register(RIGHT, WRONG, __name__). tests/test_course_kit.py imports every
tests/test_checks*.py module and holds each code task to at least three wrong answers and a right
one, across all of them.
"""

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

from byhand.check import CheckFailed

# A message must fit on one screen under the check cell: 8 lines of the ~100 characters a
# notebook shows per line. The longest catalogued message measured 538 characters and 5 lines
# (1,438 characters and 18 lines before inputs were summarized instead of printed with repr).
MAX_LINES, MAX_CHARS = 8, 800


def assert_short(message):
    lines = message.splitlines()
    assert len(lines) <= MAX_LINES and len(message) <= MAX_CHARS, (
        f"{len(lines)} lines, {len(message)} characters:\n{message}")


# test module name -> (right, wrong): every catalogue imported so far
CATALOGUES = {}


def import_all():
    """Import every tests/test_checks*.py (each registers its catalogue in CATALOGUES); returns
    their module names, the names pytest imports them by (tests/ is on sys.path)."""
    names = sorted(p.stem for p in Path(__file__).parent.glob("test_checks*.py"))
    for name in names:
        importlib.import_module(name)
    return names


def register(right, wrong, module):
    """Record a module's catalogue for tests/test_course_kit.py (catalogue() calls this)."""
    CATALOGUES[module] = (list(right), list(wrong))


def catalogue(right, wrong, chapter=None):
    register(right, wrong, sys._getframe(1).f_globals["__name__"])

    @pytest.mark.parametrize("task, candidate", right,
                             ids=[f"{t.__name__}-{i}" for i, (t, _) in enumerate(right)])
    def test_right_answers_pass(task, candidate, capsys):
        with np.errstate(all="ignore"):  # a right answer may compute inf or log(0) on purpose
            task(candidate)
        assert capsys.readouterr().out.startswith(f"✓ {task.__name__}:")

    @pytest.mark.parametrize("task, candidate, words", wrong,
                             ids=[f"{t.__name__}-{i}" for i, (t, _, _) in enumerate(wrong)])
    def test_wrong_answers_are_named(task, candidate, words):
        with np.errstate(all="ignore"), pytest.raises(CheckFailed) as failure:
            task(candidate)
        message = str(failure.value)
        assert words in message, message
        assert_short(message)
        assert "\n  input: " in message or "Hint:" in message, message
        if chapter is not None:
            assert f"chapter {chapter}" in message, message

    return test_right_answers_pass, test_wrong_answers_are_named
