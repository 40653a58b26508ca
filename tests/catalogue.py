"""The two tests every catalogue of exercise answers runs (tests/test_checks*.py).

    test_right_answers_pass, test_wrong_answers_are_named = catalogue(RIGHT, WRONG, chapter=3)

RIGHT holds (task, candidate) pairs that must pass, printing the task's one success line;
WRONG holds (task, candidate, words) triples that must fail with a CheckFailed whose message
contains `words`, shows the input or a hint, and (given `chapter`) names the chapter to reread.
"""

import numpy as np
import pytest

from byhand.check import CheckFailed


def catalogue(right, wrong, chapter=None):
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
        assert "\n  input: " in message or "Hint:" in message, message
        if chapter is not None:
            assert f"chapter {chapter}" in message, message

    return test_right_answers_pass, test_wrong_answers_are_named
