"""What a chapter brings with it, held centrally (issue #16, "a new chapter in 30 minutes").

Each rule used to live, if at all, inside one chapter's own files, so a new chapter that left a
piece out passed `make test`. Here, for every chapter and module at once:

- every code task in byhand.check has at least three catalogued wrong answers and one right one,
  over all the catalogues in tests/test_checks*.py (each registers its lists in
  tests/catalogue.py when imported), and every such file registers a catalogue;
- every module byhand/nn/<module>.py has its tests/test_nn_<module>.py;
- every chapter has a solutions notebook and an exercises notebook, and all three are in _toc.yml;
- intro.md lists every chapter, in order (chapter 10 was once missing).

tools/new_chapter.py writes all of these for a new chapter; CONTRIBUTING.md, "Adding a chapter".
"""

import re
from pathlib import Path

import pytest
import yaml

from byhand import check
from catalogue import CATALOGUES, import_all

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
CODE_TASKS = sorted(name for name in check.__all__
                    if name != "CheckFailed" and not name.startswith("derive_"))
NN_MODULES = sorted(p.stem for p in (ROOT / "byhand" / "nn").glob("*.py") if p.stem != "__init__")
# Modules tested in another file than tests/test_nn_<module>.py: module -> that file.
TESTED_ELSEWHERE = {}
CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("*.ipynb"))


def catalogued():
    """{task name: (right candidates, wrong candidates)} over every registered catalogue."""
    import_all()
    found = {}
    for right, wrong in CATALOGUES.values():
        for task, candidate, *_ in right:
            found.setdefault(task.__name__, ({}, {}))[0][id(candidate)] = candidate
        for task, candidate, *_ in wrong:
            found.setdefault(task.__name__, ({}, {}))[1][id(candidate)] = candidate
    return found


def test_every_catalogue_file_registers_its_catalogue():
    missing = [name for name in import_all() if name not in CATALOGUES]
    assert not missing, (
        f"{missing} register no catalogue: call catalogue(RIGHT, WRONG, ...) from "
        "tests/catalogue.py, or register(RIGHT, WRONG, __name__) if the file runs its lists itself")


@pytest.mark.parametrize("name", CODE_TASKS)
def test_every_code_task_has_three_wrong_answers_and_a_right_one(name):
    right, wrong = catalogued().get(name, ({}, {}))
    assert len(wrong) >= 3 and len(right) >= 1, (
        f"check.{name} has {len(wrong)} catalogued wrong answers and {len(right)} right ones "
        "(at least 3 and 1): add them to its chapter's tests/test_checks_<topic>.py")


@pytest.mark.parametrize("module", NN_MODULES)
def test_every_nn_module_has_its_test_file(module):
    wanted = TESTS / TESTED_ELSEWHERE.get(module, f"test_nn_{module}.py")
    assert wanted.exists(), f"byhand/nn/{module}.py has no tests/{wanted.name}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_has_solutions_and_exercises_in_the_toc(chapter):
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = {entry["file"] for part in toc["parts"] for entry in part["chapters"]}
    for folder in ("chapters", "solutions", "exercises"):
        assert (ROOT / folder / f"{chapter}.ipynb").exists(), f"no {folder}/{chapter}.ipynb"
        assert f"{folder}/{chapter}" in listed, f"{folder}/{chapter} is not in _toc.yml"


def test_intro_lists_every_chapter_in_order():
    items = re.findall(r"^(\d+)\. \{doc\}`chapters/(\w+)`", (ROOT / "intro.md").read_text(), re.M)
    assert [name for _, name in items] == CHAPTERS, (
        f"intro.md's contents list {[n for _, n in items]}, the chapters are {CHAPTERS}")
    assert all(int(number) == int(name[:2]) for number, name in items), items
