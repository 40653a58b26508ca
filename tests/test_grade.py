"""`python -m byhand.grade` on a synthetic class, built here from chapter 3's notebooks.

One run grades eight notebooks: the solutions (all passed), the untouched exercise (all not
attempted), wrong answers from the chapter's catalogue with a check cell edited to pass, a check
monkeypatched and a fake byhand package beside it (those tasks failed, with the catalogue's
words), and five that misbehave:
sys.exit(), an endless loop, deleting every file in its folder, an import that fails (in the
flat layout, `class/<student>.ipynb`) and os._exit(). Each costs only its own row.
"""

import csv
import inspect
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

import test_checks_softmax as catalogue  # the chapter's wrong answers (module access only)
from byhand import check, grade
from byhand.derive.tasks import BY_NAME

ROOT = Path(__file__).resolve().parent.parent
NAME = "03_softmax.ipynb"
TASKS = [t.check for t in grade.chapter_tasks(ROOT / "exercises" / NAME)]
SEED, TIMEOUT = 7, 15  # room for a loaded machine (load 9 on 2 cores); eli waits it out


def notebook(kind):
    return nbformat.read(ROOT / kind / NAME, as_version=4)


def with_cell(nb, grade_id, source):
    """The notebook with the cell of this nbgrader grade_id (or IMPORTS) replaced by `source`."""
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id or \
                grade_id == IMPORTS and cell.source == IMPORT_CELL:
            cell.source = source
            return nb
    raise KeyError(grade_id)


def without(nb, *grade_ids):
    """The notebook without the cells of these grade_ids."""
    nb.cells = [c for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") not in grade_ids]
    return nb


def source_as(function, name):
    return re.sub(r"def \w+\(", f"def {name}(", inspect.getsource(function), count=1)


def expected(task, candidate):
    """What the CSV should say for this candidate, from the same check run here."""
    try:
        getattr(check, task)(candidate, **grade._seed_kwargs(getattr(check, task), SEED))
    except check.CheckFailed as failure:
        return grade.cell_text("failed", str(failure))
    return "passed"


SLIP = BY_NAME["softmax_vjp"].slips[0].answer  # a catalogued wrong derivation
IMPORTS, IMPORT_CELL = "imports", "import numpy as np\n\nfrom byhand import check"


def students(folder):
    """Write the class; return {student: {task: expected CSV cell}} for the plain rows."""
    def save(nb, *path):
        target = folder.joinpath(*path)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)

    save(notebook("solutions"), "ada", NAME)
    save(without(notebook("exercises"), "task-4-softmax-masked"), "bo", NAME)
    wrong = notebook("solutions")
    with_cell(wrong, "task-1-softmax-rows", source_as(catalogue.naive_rows, "softmax_rows"))
    with_cell(wrong, "task-1-check", "check.softmax_rows(lambda X: __import__('byhand.nn', "
                                     "fromlist=['nn']).softmax(X, axis=1))")  # edited to pass
    with_cell(wrong, "task-5-softmax-temperature",
              source_as(catalogue.temperature_naive, "softmax_temperature"))
    wrong.cells.append(nbformat.v4.new_code_cell(  # and the check patched to pass anything
        "check.softmax_temperature = lambda f: print('✓ softmax_temperature: fake')"))
    with_cell(wrong, "derive-softmax-vjp", f"answer = {SLIP!r}")
    save(wrong, "cy", NAME)
    (folder / "cy" / "byhand").mkdir()  # and a byhand package of its own, which passes anything
    (folder / "cy" / "byhand" / "__init__.py").write_text("")
    (folder / "cy" / "byhand" / "check.py").write_text(
        "def __getattr__(name):\n    return lambda *args, **kwargs: print('✓ fake')\n")
    (folder / "cy" / "byhand" / "grade.py").write_text(
        "def _judge(captured, task, seed=None):\n    from IPython.display import display\n"
        f"    display({{{grade.MIME!r}: dict(status='passed', message='✓ fake', seeded=True)}},"
        " raw=True)\n")
    dee = with_cell(notebook("solutions"), IMPORTS,
                    "import numpy as np\nfrom byhand import check\nimport sys\nsys.exit('bye')")
    without(dee, "task-2-check", "derive-softmax-jacobian-entry-check")  # still graded
    next(c for c in dee.cells if "def softmax_jacobian" in c.source).metadata.pop("nbgrader")
    save(dee, "dee", NAME)
    # a loop that never ends: it sleeps, so that the time limit is spent waiting, not
    # taking a core from the tests running beside this one
    save(with_cell(notebook("exercises"), IMPORTS,
                   "while True:\n    __import__('time').sleep(0.1)"), "eli", NAME)
    save(with_cell(notebook("exercises"), IMPORTS,
                   "import os, shutil\nfor f in os.listdir('.'):\n    os.remove(f)\n"
                   "shutil.rmtree(os.getcwd())\nimport numpy as np\nfrom byhand import check"),
         "fay", NAME)
    (folder / "fay" / "notes.txt").write_text("fay's notes")
    save(with_cell(notebook("solutions"), IMPORTS, "import numpy_typo as np"), "gus.ipynb")
    save(with_cell(notebook("exercises"), IMPORTS, "import os\nos._exit(3)"), "hal", NAME)

    def verdicts(nb, namespace, answers=()):  # each function checked here as the grader would
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                exec(cell.source, namespace)
        return {t.check: dict(answers).get(t.check, "passed") if t.name == "answer"
                else expected(t.check, namespace[t.name])
                for t in grade.chapter_tasks(ROOT / "exercises" / NAME)}

    with np.errstate(all="ignore"):
        cy = verdicts(wrong, {"np": np, "check": check},
                      [("derive_softmax_vjp", expected("derive_softmax_vjp", SLIP))])
        gus = verdicts(notebook("solutions"), {})  # where `np` is not defined
    return {"ada": dict.fromkeys(TASKS, "passed"), "bo": dict.fromkeys(TASKS, "not attempted"),
            "cy": cy, "dee": dict.fromkeys(TASKS, "passed"),
            "fay": dict.fromkeys(TASKS, "not attempted"), "gus": gus}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grading")
    plain = students(folder / "class")
    start = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "byhand.grade", str(folder / "class"), "--seed", str(SEED),
         "--timeout", str(TIMEOUT), "--out", str(folder / "grades.csv"),
         "--feedback", str(folder / "feedback")],
        capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - start
    assert run.returncode == 0, run.stderr
    print(f"\ngraded 8 students, 8 notebooks in {seconds:.1f} s\n{run.stderr}")
    with open(folder / "grades.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    return folder, plain, rows, run.stderr


def test_one_row_per_student_one_column_per_task(graded):
    _, _, rows, _ = graded
    assert sorted(rows) == ["ada", "bo", "cy", "dee", "eli", "fay", "gus", "hal"]
    assert list(rows["ada"]) == ["student", *TASKS, "score", "notes"]
    assert len(TASKS) == 8 and TASKS[:2] == ["softmax_rows", "derive_softmax_jacobian_entry"]


def test_right_wrong_and_unanswered_tasks_are_graded_as_the_checks_say(graded):
    _, plain, rows, _ = graded
    for student, cells in plain.items():
        assert {t: rows[student][t] for t in TASKS} == cells, student
        assert rows[student]["score"] == f"{sum(c == 'passed' for c in cells.values())}/8"
    assert rows["ada"]["notes"] == rows["bo"]["notes"] == rows["cy"]["notes"] == ""
    # The edited check cell, the patched check and the home-made byhand fooled no one (and
    # cy's notebook imported that byhand: no error); softmax_jacobian fails because
    # it calls the naive softmax_rows.
    assert rows["cy"]["score"] == "4/8" and rows["cy"]["softmax_jacobian"].startswith("failed: NaN")
    assert all(c.startswith("failed: ") for c in plain["cy"].values() if c != "passed")


def test_the_catalogue_s_words_reach_the_feedback(graded):
    folder, _, _, _ = graded
    text = (folder / "feedback" / "cy.md").read_text()
    assert "### softmax_rows: failed" in text and "the naive formula" in text
    assert "### softmax_temperature: failed" in text and "overflow at a small temperature" in text
    assert "### derive_softmax_vjp: failed" in text
    assert "fake" not in text
    bo = (folder / "feedback" / "bo.md").read_text()
    assert "### softmax_masked: not attempted" in bo and "defines nothing for softmax_masked" in bo


def test_misbehaving_notebooks_cost_only_their_own_row(graded):
    folder, plain, rows, _ = graded
    assert "raised SystemExit: bye" in rows["dee"]["notes"]             # graded all the same
    assert "raised ModuleNotFoundError: No module named 'numpy_typo'" in rows["gus"]["notes"]
    assert all("NameError" in plain["gus"][t] for t in TASKS if not t.startswith("derive_"))
    loop = f"error: timed out: ran for more than {TIMEOUT} s in cell 3 (`while True:`)"
    died = "error: the kernel died (os._exit, a crash or out of memory) in cell 3 (`import os`)"
    assert {rows["eli"][t] for t in TASKS} == {loop} and rows["eli"]["score"] == "0/8"
    assert {rows["hal"][t] for t in TASKS} == {died}
    assert rows["fay"]["notes"] == ""  # the deleting cell ran without an error (in the copy)
    assert (folder / "class" / "fay" / "notes.txt").read_text() == "fay's notes"
    assert (folder / "class" / "fay" / NAME).exists() and (folder / "class" / "ada" / NAME).exists()


def test_feedback_never_shows_the_reference_code_or_the_checks_source(graded):
    folder, _, _, _ = graded
    solution = []  # the lines between the solution markers, and the reference formulas
    for cell in notebook("solutions").cells:
        inside = False
        for line in cell.source.split("\n"):
            inside = (inside or "BEGIN SOLUTION" in line) and "END SOLUTION" not in line
            if inside and "SOLUTION" not in line and len(line.strip()) > 8:
                solution.append(line.strip())
    formulas = [re.search(r'"(.*)"', line).group(1) for line in solution if "answer =" in line]
    code = [line for line in solution if "answer =" not in line]
    source = [line.strip() for path in ("check/ch03_softmax.py", "check/core.py")
              for line in (ROOT / "byhand" / path).read_text().splitlines()
              if len(line.strip()) > 24 and not line.strip().startswith(("#", '"', "f\"", "'"))]
    assert len(code) >= 5 and len(formulas) == 3 and len(source) > 100
    for file in sorted((folder / "feedback").glob("*.md")):
        text = file.read_text()
        assert not [line for line in code + source if line in text], file.name
        if file.stem not in ("ada", "dee", "gus"):  # they typed the reference formulas themselves
            assert not [f for f in formulas if f in text], file.name


def test_a_seed_is_passed_to_checks_that_take_one_and_reported_for_the_others(graded):
    folder, _, _, stderr = graded
    unseeded = [t for t in TASKS if not grade._seed_kwargs(getattr(check, t), SEED)]
    if unseeded:  # today the derivation checks, which take no seed
        assert f"--seed {SEED}: seeds are not supported yet by the checks of " \
               f"{', '.join(sorted(unseeded))}" in stderr
    text = (folder / "feedback" / "ada.md").read_text()
    for task in TASKS:
        assert (f"### {task}: passed (default inputs: this check takes no seed yet)\n" in text) \
            == (task in unseeded), task

    def plain(candidate):
        pass

    def seeded(candidate, seed=0):
        pass

    assert grade._seed_kwargs(plain, 3) == {} and grade._seed_kwargs(seeded, None) == {}
    assert grade._seed_kwargs(seeded, 3) == {"seed": 3}


def test_whose_notebook_it_is(tmp_path):
    for path in ("a/alice/03_softmax.ipynb", "a/bob/ps3/03_softmax.ipynb", "a/carol.ipynb"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("{}")
    found = list(grade.submissions([tmp_path / "a", tmp_path / "a/alice/03_softmax.ipynb"],
                                   ROOT / "exercises"))
    assert [(s, p.relative_to(tmp_path).as_posix()) for s, p in found] == [
        ("alice", "a/alice/03_softmax.ipynb"), ("bob", "a/bob/ps3/03_softmax.ipynb"),
        ("carol", "a/carol.ipynb"), ("alice", "a/alice/03_softmax.ipynb")]


def test_check_cells_are_recognized_by_their_calls():
    assert grade.check_calls("check.softmax_rows(f)") == [("softmax_rows", "f")]
    assert grade.check_calls("byhand.check.derive_softmax_vjp(answer)\n") == \
        [("derive_softmax_vjp", "answer")]
    assert grade.check_calls("x = 1\ncheck.softmax_rows(f)") == []
    assert grade.check_calls("def f(:") == []
