"""Hints on demand and fresh practice (issue #16).

Hints: every code task has at least two levels, written in words (no code), given in order by
`check.hint("<task>")` and then "no more"; the same hints sit folded under each task in the
generated exercise notebooks; a second failure of a task suggests them. The starter comment a
student sees says what to write, not how: none of the solution's own calls appear in it.

Fresh practice: `check.<task>(fn, seed=k)` draws new inputs from k. For every code task the
solution (from solutions/) passes with seeds 1 to 3, a catalogued wrong answer fails with each,
the same seed gives the same inputs and different seeds (or no seed) different ones.
"""

import ast
import hashlib
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from byhand import check
from byhand.check import CheckFailed, core
from byhand.engine import Tensor, topological_order
from catalogue import CATALOGUES, import_all

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))
CODE_TASKS = [name for name in check.__all__
              if name != "CheckFailed" and not name.startswith("derive_")]
SEEDS = (1, 2, 3)
# Every catalogue of answers (tests/test_checks*.py): a new chapter's is used here unnamed.
import_all()
# What a hint may not contain: a hint explains in words, it never hands over code.
CODE = [
    (re.compile(r"\b(np|numpy)\."), "NumPy"),
    (re.compile(r"[A-Za-z_]\w*\("), "a call f(...)"),
    (re.compile(r"="), "an assignment or a comparison"),
    (re.compile(r"[@`]|\w\["), "code punctuation (@, backticks, indexing)"),
    (re.compile(r"\.[A-Za-z_]"), "an attribute or method"),
    (re.compile(r"\b(keepdims|lambda|def|import|for \w+ in)\b"), "a Python word"),
]


@pytest.fixture(autouse=True)
def fresh_session():
    """Each test starts as a new session: no hints given, no failures counted."""
    core._HINTS_GIVEN.clear()
    core._FAILURES.clear()
    yield
    core._HINTS_GIVEN.clear()
    core._FAILURES.clear()


def is_solution(cell):
    return cell.metadata.get("nbgrader", {}).get("solution", False)


def code_task_cells(path):
    """(task name, index of the task's cell) for every code task of a notebook."""
    cells = nbformat.read(path, as_version=4).cells
    found = []
    for i, cell in enumerate(cells):
        called = re.fullmatch(r"check\.(\w+)\(\w+\)", cell.source.strip())
        if cell.cell_type == "code" and called and not called.group(1).startswith("derive_"):
            found.append((called.group(1), i - 1))
    return cells, found


def solutions():
    """{task name: the solution function}, from the solutions notebooks (imports + tasks)."""
    found = {}
    for path in SOLUTIONS:
        cells, tasks = code_task_cells(path)
        namespace = {}
        first_code = next(c for c in cells if c.cell_type == "code")
        exec(compile(first_code.source, f"{path.name}:imports", "exec"), namespace)
        for name, i in tasks:
            exec(compile(cells[i].source, f"{path.name}:{name}", "exec"), namespace)
            called = re.fullmatch(r"check\.\w+\((\w+)\)", cells[i + 1].source.strip()).group(1)
            found[name] = namespace[called]
    return found


SOLVED = solutions()
WRONG = {}
for _right, _wrong in CATALOGUES.values():
    for _task, _candidate, *_ in _wrong:
        WRONG.setdefault(_task.__name__, _candidate)


def test_every_code_task_is_known():
    assert sorted(SOLVED) == sorted(CODE_TASKS) == sorted(WRONG)
    assert sorted(core.TASKS) == sorted(CODE_TASKS)


# ---------------------------------------------------------------- hints

@pytest.mark.parametrize("name", CODE_TASKS)
def test_every_code_task_has_two_or_more_hint_levels_in_words(name):
    hints = getattr(check, name).hints
    assert len(hints) >= 2, f"{name}: {len(hints)} hint levels"
    assert re.search(r"\bchapter \d+\b", hints[0]) and re.search(r"\bsection|exercise\b",
                                                                 hints[0]), (
        f"{name}: the first hint names the section to reread: {hints[0]!r}")
    for text in hints:
        assert 40 <= len(text) <= 500, f"{name}: {len(text)} characters: {text!r}"
        for pattern, what in CODE:
            found = pattern.search(text)
            assert not found, f"{name}: a hint contains {what} ({found.group()!r}): {text!r}"


@pytest.mark.parametrize("name", ["softmax_ce_grad", "topological_sort"])
def test_hints_come_in_order_then_say_there_are_no_more(name, capsys):
    hints = getattr(check, name).hints
    for level, text in enumerate(hints, 1):
        check.hint(name)
        out = capsys.readouterr().out
        assert out.startswith(f"Hint {level} of {len(hints)} for {name}")
        assert " ".join(out.split()[0:]).find(" ".join(text.split())) > 0, out
        for other in hints[level:]:
            assert " ".join(other.split()) not in " ".join(out.split())
    for _ in range(2):
        check.hint(getattr(check, name))          # the check itself works as well as its name
        assert capsys.readouterr().out.startswith(f"No more hints for {name}")


def test_hint_levels_are_counted_per_task(capsys):
    check.hint("softmax_rows")
    check.hint("logsumexp_rows")
    out = capsys.readouterr().out
    assert "Hint 1 of" in out and "Hint 2 of" not in out


@pytest.mark.parametrize("name, words", [
    ("softmax_row", "did you mean 'softmax_rows'"),
    ("derive_softmax_jacobian_entry", "derivation task"),
    ("no_such_task_at_all", "no task named"),
])
def test_an_unknown_task_gets_a_readable_answer(name, words):
    with pytest.raises(CheckFailed, match=words):
        check.hint(name)


def test_the_second_failure_of_a_task_suggests_its_hints():
    messages = []
    for _ in range(3):
        with np.errstate(all="ignore"), pytest.raises(CheckFailed) as failure:
            check.softmax_rows(lambda X: np.exp(X) / np.exp(X).sum(axis=1, keepdims=True))
        messages.append(str(failure.value))
    assert 'check.hint("softmax_rows")' not in messages[0]
    assert all('stuck? check.hint("softmax_rows") gives a hint' in m for m in messages[1:])
    with pytest.raises(CheckFailed) as failure:        # another task counts on its own
        check.softmax_jacobian(lambda x: None)
    assert "check.hint" not in str(failure.value)


def test_the_suggestion_never_pushes_a_message_past_one_screen():
    def long_error(*args):
        raise ValueError("\n".join(f"line {i}: " + "0.123456789 " * 20 for i in range(40)))
    for _ in range(3):
        with pytest.raises(CheckFailed) as failure:
            check.residual_numerical_grads(long_error)
        text = str(failure.value)
        assert len(text) <= core.MESSAGE_CHARS and len(text.splitlines()) <= core.MESSAGE_LINES


# ---------------------------------------------------------------- the student's notebook

def starter_comment_and_solution(cell):
    """The comment right above ### BEGIN SOLUTION, the region's code, and the task statement."""
    lines = cell.source.split("\n")
    begin = next(i for i, line in enumerate(lines) if line.strip() == "### BEGIN SOLUTION")
    end = next(i for i, line in enumerate(lines) if line.strip() == "### END SOLUTION")
    comment = [line.strip() for line in lines[:begin]][-1]
    statement = "\n".join(lines[:begin - 1])                       # def line and docstring
    return comment, lines[begin + 1:end], statement


# Words a statement of what to write may use although a solution calls them: the output's
# shape and dtype are part of the task.
GENERIC = {"len", "range", "tuple", "list", "int", "float", "zip", "enumerate", "isinstance",
           "shape", "dtype", "append", "set"}


# Words of a recipe: what to compute in which order belongs in the hints, not in the comment.
HOW = re.compile(r"\b(transpos\w*|times|minus|plus|subtract\w*|divid\w*|multipl\w*|scal\w*|"
                 r"summ\w*|shift\w*|loop\w*|stack|mask|exponentiat\w*|differen\w*|revers\w*|"
                 r"then|first|depth|visit\w*|unpack\w*|reuse|contract\w*|product)\b", re.I)


def calls(code):
    """Names the code calls: np.exp(...) -> exp, X.sum(...) -> sum, grad_X(...) -> grad_X."""
    tree = ast.parse("\n".join(line[4:] if line.startswith("    ") else line for line in code))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            names.add(f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", ""))
        if isinstance(node, ast.keyword) and node.arg:
            names.add(node.arg)                              # keepdims=..., dtype=...
    return names - GENERIC - {""}


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_starter_comments_say_what_to_write_not_how(path):
    cells, tasks = code_task_cells(path)
    exercise = nbformat.read(ROOT / "exercises" / path.name, as_version=4).cells
    shown = [c.source for c in exercise if c.cell_type == "code" and is_solution(c)]
    for name, i in tasks:
        comment, region, statement = starter_comment_and_solution(cells[i])
        assert comment.startswith("# "), (name, comment)
        assert any(comment in source for source in shown), f"{name}: not in exercises/"
        for line in region:
            code = line.split("#")[0].strip()
            assert len(code) < 6 or code not in comment, f"{name}: {comment!r} holds {code!r}"
        words = set(re.findall(r"\w+", comment))
        key = {n for n in calls(region) if not re.search(rf"\b{re.escape(n)}\b", statement)}
        assert not words & key, f"{name}: the comment names the solution's {words & key}"
        for token in ("np.", "keepdims", "axis", " = ", "@", "task "):
            assert token not in comment, f"{name}: {token!r} in {comment!r}"
        for pattern in (HOW, re.compile(r"\w\(")):
            found = pattern.search(comment)
            assert not found, f"{name}: {comment!r} says how ({found.group()!r})"


@pytest.mark.parametrize("recipe", [   # starter comments before issue #16: all say how
    "# A max-shifted softmax, minus np.eye(K, dtype=logits.dtype)[labels], divided by N.",
    "# (m, n) and (m,) -> (n,): contract over the output index.",
    "# Block (i, k) is X[i, k] * I_H: the Kronecker product of X with the H x H identity.",
    "# Each factor gets g times the OTHER factor, summed back to its own shape.",
    "# Depth-first: an explicit stack of (node, parents_done) and a set of visited nodes.",
    "# Loop over the layers, two parameters at a time; ReLU after all but the last.",
])
def test_the_rule_for_starter_comments_catches_a_recipe(recipe):
    assert HOW.search(recipe)


# One folded hint: a MyST admonition titled "Hint k of n" with the class `dropdown`, which
# folds it in JupyterLab (jupyterlab-myst: a box with a chevron) and in the web book
# (sphinx-togglebutton). A `<details>` element folds too, but JupyterLab shows no marker.
FOLDED_HINT = re.compile(
    r"^```\{admonition\} Hint (\d+) of (\d+)\n:class: ([^\n]*)\n\n(.*?)\n```$", re.M | re.S)


def folded_hints(source):
    """(k, n, classes, text) of every folded hint in a cell's source, in order."""
    return [(int(k), int(n), set(classes.split()), text)
            for k, n, classes, text in FOLDED_HINT.findall(source)]


def assert_folded_hints(source, task, hints, where=""):
    name = f"{where}{task}"
    found = folded_hints(source)
    levels = [(k, len(hints)) for k in range(1, len(hints) + 1)]
    assert [(k, n) for k, n, _, _ in found] == levels, (
        f"{name}: the hints are not folded one per admonition, 'Hint k of {len(hints)}' in "
        f"order: {[(k, n) for k, n, _, _ in found]}")
    for (_, _, classes, text), hint in zip(found, hints):
        assert "dropdown" in classes, f"{name}: a hint that is not folded: {classes}"
        assert text.strip() == hint, f"{name}: {text!r} is not the hint {hint!r}"
    lead = source.split("```", 1)[0]
    assert f'`check.hint("{task}")`' in lead and "one level per call" in lead, (
        f"{name}: the line above the hints does not say check.hint gives one at a time: {lead!r}")


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_every_code_task_has_its_hints_folded_below_its_check(path):
    cells, tasks = code_task_cells(path)
    assert tasks
    for name, i in tasks:
        below = cells[i + 2]
        assert below.cell_type == "markdown", f"{path.name}: no hints below check.{name}"
        assert_folded_hints(below.source, name, getattr(check, name).hints, f"{path.name}: ")
        assert "hints" in below.metadata.get("tags", []), below.metadata


@pytest.mark.parametrize("source", [
    # before issue 15: folded in <details>, which JupyterLab draws with no marker
    '<details>\n<summary>Hint 1 of 2 (or run <code>check.hint("t")</code>: one level per call)'
    "</summary>\n\nfirst\n\n</details>\n\n<details>\n<summary>Hint 2 of 2</summary>\n\n"
    "second\n\n</details>",
    # not folded
    'Hints (or run `check.hint("t")`: one level per call):\n\n```{admonition} Hint 1 of 2\n'
    ":class: tip\n\nfirst\n```\n\n```{admonition} Hint 2 of 2\n:class: tip\n\nsecond\n```",
    # out of order
    'Hints (or run `check.hint("t")`: one level per call):\n\n```{admonition} Hint 2 of 2\n'
    ":class: dropdown\n\nsecond\n```\n\n```{admonition} Hint 1 of 2\n:class: dropdown\n\n"
    "first\n```",
])
def test_the_hint_markup_rule_catches_unfolded_or_unordered_hints(source):
    with pytest.raises(AssertionError):
        assert_folded_hints(source, "t", ("first", "second"))


def test_the_solutions_notebooks_carry_no_hint_cells():
    """The hints are generated into exercises/ only (the solutions page shows the solution)."""
    for path in SOLUTIONS:
        cells = nbformat.read(path, as_version=4).cells
        assert not any(folded_hints(c.source) or "<details>" in c.source
                       for c in cells if c.cell_type == "markdown")


# ---------------------------------------------------------------- fresh practice: seed=k

def fingerprint(value):
    """Something equal for equal inputs: arrays by dtype, shape and bytes, graphs by their data."""
    if isinstance(value, np.ndarray):
        digest = hashlib.sha1(np.ascontiguousarray(value)).hexdigest()  # MNIST: 188 MB
        return ("array", value.dtype.str, value.shape, digest)
    if isinstance(value, Tensor):
        return ("graph", tuple(fingerprint(np.asarray(t.data)) for t in topological_order(value)))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(fingerprint(v) for v in value))
    if isinstance(value, (bytes, bytearray)):
        return ("bytes", bytes(value))
    if callable(value):
        return ("function", getattr(value, "__name__", ""))
    return ("value", repr(value))


def recorded(name, seed, answer=True):
    """Every input the task's check hands to a candidate, for one run with `seed`."""
    seen = []
    solution = SOLVED[name]

    def recorder(*args):
        seen.append(fingerprint(args))
        return solution(*args) if answer else None

    task = getattr(check, name)
    try:
        with np.errstate(all="ignore"):
            task(recorder) if seed is None else task(recorder, seed=seed)
    except CheckFailed:
        assert not answer, f"{name} failed with seed {seed}"
    return seen


TRAINS = {"train_mlp"}  # trains on MNIST for real: its inputs are recorded without training


@pytest.mark.parametrize("name", CODE_TASKS)
def test_the_same_seed_gives_the_same_inputs_and_another_seed_others(name):
    answer = name not in TRAINS
    first = recorded(name, 1, answer)
    assert first and first == recorded(name, 1, answer)
    assert first != recorded(name, 2, answer)
    assert first != recorded(name, None, answer)


@pytest.mark.parametrize("name", sorted(set(CODE_TASKS) - TRAINS))
def test_the_solution_passes_with_every_seed(name, capsys):
    task = getattr(check, name)
    for seed in SEEDS:
        with np.errstate(all="ignore"):
            task(SOLVED[name], seed=seed)
        assert capsys.readouterr().out.startswith(f"✓ {name} (seed {seed}):")


@pytest.mark.parametrize("name", CODE_TASKS)
def test_a_catalogued_wrong_answer_fails_with_every_seed(name):
    task = getattr(check, name)
    for seed in SEEDS:
        with np.errstate(all="ignore"), pytest.raises(CheckFailed):
            task(WRONG[name], seed=seed)


def test_no_seed_is_today_behaviour(capsys):
    """seed=None is the default path: the same inputs, the same line as in the notebooks."""
    assert recorded("softmax_rows", None) == recorded("softmax_rows", None)
    check.softmax_rows(SOLVED["softmax_rows"], seed=None)
    assert capsys.readouterr().out.startswith("✓ softmax_rows: ")


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_a_bad_seed_is_refused(seed):
    with pytest.raises(CheckFailed, match="seed must be a whole number"):
        check.softmax_rows(SOLVED["softmax_rows"], seed=seed)


def test_a_seed_does_not_leak_into_the_next_check(capsys):
    def nested(X):
        check.logsumexp_vector(SOLVED["logsumexp_vector"])   # a check run inside a candidate
        return SOLVED["softmax_rows"](X)
    check.softmax_rows(nested, seed=2)
    assert core._SEED[0] is None
    out = capsys.readouterr().out
    assert "✓ logsumexp_vector: " in out and "✓ softmax_rows (seed 2):" in out
