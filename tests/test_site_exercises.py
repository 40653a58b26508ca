"""The derivation tasks in the built web book, in a real browser, offline.

Every exercise page shows each of its chapter's derivation tasks: a heading and a statement
whose formulas MathJax has typeset (no TeX error, no raw TeX left), the pointer to the chapter
to reread, the empty answer cell and its check. Every solution page shows the check's output:
the ✓ line and the formula as the checker understood it, typeset.

Same set-up as tests/test_site.py: Debian's Chromium driven by Playwright, a local server on
127.0.0.1, every other request blocked. The site is read from $BYHAND_SITE (default
_build/html; `make book` builds it).
"""

import os
from pathlib import Path

import pytest
from browser import chromium, only_local, quiet, serve, typeset

from byhand.derive import TASKS

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("BYHAND_SITE") or ROOT / "_build" / "html")
NOTEBOOKS = sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))

# What the page says about each derivation section, read in the page itself.
SECTIONS = """() => [...document.querySelectorAll('section')]
  .filter(s => /^Derivation \\d+/.test((s.querySelector(':scope > h2') || {}).textContent || ''))
  .map(s => ({
    heading: s.querySelector(':scope > h2').textContent,
    headingMath: s.querySelectorAll(':scope > h2 mjx-container').length,
    math: s.querySelectorAll('span.math, div.math').length,
    typeset: s.querySelectorAll('span.math mjx-container, div.math mjx-container').length,
    errors: s.querySelectorAll('mjx-merror').length,
    prose: [...s.querySelectorAll('p')].map(p => {
      const copy = p.cloneNode(true);
      copy.querySelectorAll('mjx-container, .math, code').forEach(e => e.remove());
      return copy.textContent;
    }).join(' '),
    code: [...s.querySelectorAll('div.cell_input pre, div.highlight pre')]
      .map(e => e.textContent),
    outputs: [...s.querySelectorAll('div.cell_output')].map(o => ({
      text: o.textContent,
      math: o.querySelectorAll('div.math, span.math').length,
      typeset: o.querySelectorAll('div.math mjx-container, span.math mjx-container').length,
    })),
    links: [...s.querySelectorAll('a')].map(a => a.getAttribute('href') || ''),
  }))"""


@pytest.fixture(scope="module")
def server():
    yield from serve(SITE)


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


@pytest.fixture
def sections(browser, server):
    """The derivation sections of a page, once MathJax is done; fails on a non-local request."""
    pages = []

    def read(path):
        page = browser.new_page()
        pages.append(page)
        blocked, errors = [], []
        page.on("pageerror", lambda e: errors.append(str(e)))

        page.route("**/*", only_local(server, blocked))
        response = page.goto(server + path, wait_until="load")
        assert response.ok, f"{path}: HTTP {response.status}"
        typeset(page)
        quiet(page)
        assert blocked == [], f"requests to other hosts: {blocked}"
        assert errors == [], f"JavaScript errors: {errors}"
        return page.evaluate(SECTIONS)

    yield read
    for page in pages:
        page.close()


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
        assert section["errors"] == 0, f"{where}: MathJax reports a TeX error"
        for tex in ("\\frac", "\\partial", "$"):
            assert tex not in section["prose"], f"{where}: raw TeX in the text: {tex!r}"


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_exercise_pages_show_the_derivation_tasks_typeset(sections, stem):
    found = sections(f"exercises/{stem}.html")
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
def test_solution_pages_show_each_answer_as_the_checker_read_it(sections, stem):
    found = sections(f"solutions/{stem}.html")
    assert len(found) == len(tasks_of(stem))
    check_typeset(stem, found)
    for section in found:
        where = f"{stem}, {section['heading']!r}"
        passed = [o for o in section["outputs"] if o["text"].strip().startswith("✓ derive_")]
        assert passed, f"{where}: no ✓ line from the check"
        shown = [o for o in section["outputs"] if o["math"]]
        assert shown and all(o["typeset"] == o["math"] for o in shown), (
            f"{where}: the formula as understood is not typeset")
