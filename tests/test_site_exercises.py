"""The derivation tasks in the built web book, as its pages show them.

Every exercise page shows each of its chapter's derivation tasks: a heading and a statement
whose formulas are typeset (no TeX error, no raw TeX left), the pointer to the chapter to
reread, the empty answer cell and its check. Every solution page shows the check's output: the
✓ line and the formula as the checker understood it, typeset.

The formulas are typeset when the book is built (book/ext/byhand_math.py), so what a page shows
is in its HTML, read here with Beautiful Soup; tests/test_site.py opens every one of these pages
in Chromium (no script error, no missing file, nothing fetched from elsewhere). The site is read
from $BYHAND_SITE (default _build/html; `make book` builds it).
"""

import copy
import os
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from byhand.derive import TASKS

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("BYHAND_SITE") or ROOT / "_build" / "html")
NOTEBOOKS = sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))
MATH = "span.math, div.math"
TYPESET = "span.math > math, div.math > math"


def text_without_math(element):
    element = copy.copy(element)
    for part in element.select("math, .math, code"):
        part.decompose()
    return element.get_text()


def read_sections(path):
    """What the page says in each of its derivation sections."""
    file = SITE / path
    if not file.exists():
        pytest.fail(f"no {path} in {SITE}: run `make book` first (or set BYHAND_SITE)")
    page = BeautifulSoup(file.read_text(encoding="utf-8"), "html.parser")
    found = []
    for section in page.select("section"):
        heading = section.find("h2", recursive=False)
        if heading is None or not heading.get_text().startswith("Derivation "):
            continue
        found.append({
            "heading": heading.get_text(),
            "headingMath": len(heading.select("math")),
            "math": len(section.select(MATH)),
            "typeset": len(section.select(TYPESET)),
            "errors": len(section.select("merror")),
            "prose": " ".join(text_without_math(p) for p in section.select("p")),
            "code": [pre.get_text() for pre in section.select("div.cell_input pre, div.highlight pre")],
            "outputs": [{
                "text": output.get_text(),
                "math": len(output.select(MATH)),
                "typeset": len(output.select(TYPESET)),
            } for output in section.select("div.cell_output")],
            "links": [a.get("href", "") for a in section.select("a")],
        })
    return found


def tasks_of(stem):
    return [t for t in TASKS if t.chapter == int(stem[:2])]


def check_typeset(stem, found):
    """Every formula of every derivation section typeset, none left as TeX."""
    for section in found:
        where = f"{stem}, {section['heading']!r}"
        assert section["headingMath"] == 1, f"{where}: the heading's formula is not typeset"
        assert section["math"] >= 2 and section["typeset"] == section["math"], (
            f"{where}: {section['math'] - section['typeset']} of {section['math']} formulas "
            "not typeset")
        assert section["errors"] == 0, f"{where}: a TeX error"
        for tex in ("\\frac", "\\partial", "$"):
            assert tex not in section["prose"], f"{where}: raw TeX in the text: {tex!r}"


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_exercise_pages_show_the_derivation_tasks_typeset(stem):
    found = read_sections(f"exercises/{stem}.html")
    wanted = tasks_of(stem)
    assert len(found) == len(wanted), (
        f"exercises/{stem}.html shows {len(found)} derivation tasks, the chapter has "
        f"{len(wanted)}")
    check_typeset(stem, found)
    calls = sorted(line.strip() for s in found for code in s["code"]
                   for line in code.splitlines() if line.startswith("check.derive_"))
    assert calls == sorted(f"check.{t.check_name}(answer)" for t in wanted)
    for section in found:
        where = f"{stem}, {section['heading']!r}"
        assert any('answer = ""' in code for code in section["code"]), (
            f"{where}: no empty answer cell for the student")
        assert "Derive" in section["prose"] and "Stuck? Reread section" in section["prose"]
        assert any(link.startswith(f"../chapters/{stem}.html") for link in section["links"]), (
            f"{where}: no link to the chapter to reread: {section['links']}")
        assert section["outputs"] == [], f"{where}: the student version shows outputs"


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_solution_pages_show_each_answer_as_the_checker_read_it(stem):
    found = read_sections(f"solutions/{stem}.html")
    assert len(found) == len(tasks_of(stem))
    check_typeset(stem, found)
    for section in found:
        where = f"{stem}, {section['heading']!r}"
        passed = [o for o in section["outputs"] if o["text"].strip().startswith("✓ derive_")]
        assert passed, f"{where}: no ✓ line from the check"
        shown = [o for o in section["outputs"] if o["math"]]
        assert shown and all(o["typeset"] == o["math"] for o in shown), (
            f"{where}: the formula as understood is not typeset")
