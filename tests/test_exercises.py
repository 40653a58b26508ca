"""The exercise pipeline: one source in solutions/, generated student notebooks in exercises/."""

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from byhand import check, derive

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))

spec = importlib.util.spec_from_file_location("make_exercises", ROOT / "tools" / "make_exercises.py")
make_exercises = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_exercises)


def is_solution(cell):
    return cell.metadata.get("nbgrader", {}).get("solution", False)


def is_check(cell):
    return cell.metadata.get("nbgrader", {}).get("grade", False)


def test_every_chapter_has_its_exercises():
    chapters = {p.name for p in (ROOT / "chapters").glob("*.ipynb")}
    assert chapters and chapters == {p.name for p in SOLUTIONS}


def test_exercises_are_generated_from_the_current_solutions():
    wanted = make_exercises.generate()
    assert {p.name for p in wanted} == {p.name for p in EXERCISES}
    for path, text in wanted.items():
        assert path.read_text() == text, f"exercises/{path.name} is stale: run `make exercises`"


def is_derivation(cells, i):
    return cells[i + 1].source.startswith("check.derive_")


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_three_to_six_tasks_each_with_a_check_right_below(path):
    cells = nbformat.read(path, as_version=4).cells
    solutions = [i for i, c in enumerate(cells) if is_solution(c)]
    code_tasks = [i for i in solutions if not is_derivation(cells, i)]
    assert 3 <= len(code_tasks) <= 6, f"{path.name} has {len(code_tasks)} code tasks"
    for i in solutions:
        below = cells[i + 1]
        assert is_check(below), f"{path.name}: the task in cell {i} has no check cell below it"
        called = re.fullmatch(r"check\.(\w+)\(\w+\)", below.source.strip())
        assert called and called.group(1) in check.__all__, below.source
        assert "### BEGIN SOLUTION" in cells[i].source


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_every_derivation_task_of_the_chapter_is_stated_answered_and_checked(path):
    """Each of the chapter's tasks in byhand.derive: its statement (as byhand.derive writes it,
    so the notebook cannot drift from the check: tools/derivation_cells.py refreshes it), then
    an answer between solution markers, then its check, all before the heading of a task."""
    cells = nbformat.read(path, as_version=4).cells
    wanted = [t for t in derive.TASKS if t.chapter == int(path.name[:2])]
    found = [i for i, c in enumerate(cells) if c.source.startswith("check.derive_")]
    assert len(wanted) >= 2
    assert sorted(cells[i].source for i in found) == sorted(
        f"check.{t.check_name}(answer)" for t in wanted)
    for i in found:
        task = derive.BY_NAME[cells[i].source[len("check.derive_"):-len("(answer)")]]
        statement, answer = cells[i - 2], cells[i - 1]
        assert statement.cell_type == "markdown" and task.statement() in statement.source, (
            f"{path.name}: the statement of {task.check_name} is stale: run "
            "tools/derivation_cells.py")
        # the section to reread, in a Markdown link to the chapter's notebook (a {doc} role
        # leads nowhere in JupyterLab)
        assert f"](../chapters/{path.stem}.ipynb)" in statement.source, statement.source
        following = cells[i + 1].source if i + 1 < len(cells) else ""
        assert re.match(r"## (Task|Derivation) ", following), (
            f"{path.name}: {task.check_name} must come right before a task's heading")
        assert is_solution(answer) and re.search(
            r'### BEGIN SOLUTION\nanswer = ".+"\n### END SOLUTION', answer.source), answer.source


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_student_version_has_no_solution_and_no_output(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        assert "BEGIN SOLUTION" not in cell.source and "HIDDEN TESTS" not in cell.source
        assert "solution-only" not in cell.metadata.get("tags", [])
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        if is_solution(cell):
            assert "raise NotImplementedError()" in cell.source or re.search(
                r'(?m)^answer = ""$', cell.source), cell.source


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_every_check_fails_on_the_unsolved_notebook(path):
    # allow_errors=False: like Run All in JupyterLab, execution stops at an error unless the
    # cell is tagged raises-exception, so the run reaching the end shows every check cell is
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    checks = [c for c in notebook.cells if is_check(c)]
    assert checks
    for cell in checks:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert errors, f"{path.name}: `{cell.source}` passed on an unsolved notebook"
        assert errors[0].ename == "CheckFailed", errors[0]
        unsolved = "not answered yet" if "derive_" in cell.source else "not implemented yet"
        assert unsolved in errors[0].evalue, errors[0].evalue
    for cell in notebook.cells:
        if cell.cell_type == "code" and not is_check(cell):
            assert not any(o.output_type == "error" for o in cell.outputs), cell.source


def student(source_lines):
    cell = nbformat.v4.new_code_cell("\n".join(source_lines))
    first = nbformat.v4.new_markdown_cell("(sol-x)=\n# 1. X")
    notebook = nbformat.v4.new_notebook(cells=[first, cell])
    return make_exercises.student_version(notebook, "test.ipynb").cells[1].source


def test_solution_region_becomes_a_stub_below_its_comment():
    source = student([
        "def f(x):",
        "    # Double x.",
        "    ### BEGIN SOLUTION",
        "    return 2 * x",
        "    ### END SOLUTION",
        "",
        "### BEGIN HIDDEN TESTS",
        "assert f(1) == 2",
        "### END HIDDEN TESTS",
    ])
    assert source == "def f(x):\n    # Double x.\n    raise NotImplementedError()\n"


@pytest.mark.parametrize(
    "lines, message",
    [
        (["def f(x):", "    # c", "    ### BEGIN SOLUTION", "    return x"], "never closed"),
        (["def f(x):", "    return x", "    ### END SOLUTION"], "without"),
        (["# c", "### BEGIN SOLUTION", "y = 1", "### END SOLUTION"], "inside a function"),
        (["def f(x):", "    ### BEGIN SOLUTION", "    return x", "    ### END SOLUTION"],
         "comment above"),
    ],
)
def test_bad_markers_are_refused_with_a_reason(lines, message):
    with pytest.raises(make_exercises.MarkerError, match=message):
        student(lines)


def test_a_derivation_answer_becomes_an_empty_string():
    source = student([
        "# Your result, as plain math in a string.",
        "### BEGIN SOLUTION",
        'answer = "s_i*(delta_ij - s_j)"',
        "### END SOLUTION",
    ])
    assert source == '# Your result, as plain math in a string.\nanswer = ""'


@pytest.mark.parametrize("region", [
    ['answer = "x"', 'other = "y"'],         # two assignments
    ['answer = 2 * "x"'],                    # not a string literal
    ['answer, b = "xy"'],                    # not one name
    ['print("x")'],                          # not an assignment
])
def test_only_a_single_string_assignment_may_stand_outside_a_function(region):
    with pytest.raises(make_exercises.MarkerError, match="inside a function"):
        student(["# c", "### BEGIN SOLUTION", *region, "### END SOLUTION"])
