"""Generate the student notebooks in exercises/ from their single source in solutions/.

    python tools/make_exercises.py            write exercises/NN_name.ipynb for every solution
    python tools/make_exercises.py --check    exit 1 if exercises/ is not what it would write

Solution code sits between `### BEGIN SOLUTION` and `### END SOLUTION` (nbgrader's markers, so
instructors can also run the solutions through nbgrader), inside a function, right below a
comment that says what to write. The student version keeps that comment, replaces the region with
`raise NotImplementedError()`, drops `### BEGIN/END HIDDEN TESTS` regions, and clears all outputs.
A derivation task's answer is the other form a region may take: one string assignment at the top
level of a cell, `answer = "s_i*(delta_ij - s_j)"` (below its comment too), which becomes
`answer = ""`; the derivation check then says "not answered yet".
It also drops cells tagged `solution-only` (the banner of the solutions page) and turns the
first cell's label `(sol-name)=` into `(ex-name)=` and its title "N. Solutions: ..." into
"N. Exercises: ...", so the book can hold both versions.

Below each code task's check cell, `check.<task>(...)`, it adds a Markdown cell tagged `hints`
holding that task's hints (the `hints=` of its `@task` in byhand/check/, the texts that
`check.hint("<task>")` gives one at a time), each level folded in its own MyST admonition with
`:class: dropdown`, titled "Hint k of n": closed until clicked, with a marker that says it
opens, in JupyterLab (jupyterlab-myst) and on the book's exercise pages (sphinx-togglebutton).
A `<details>` element folds too, but JupyterLab draws it with no marker at all.

Every check cell of the student version is tagged `raises-exception`: an unsolved task's check
raises, and JupyterLab (JupyterLite too) sends such a cell with `stop_on_error` off, so Run All
goes on past it to the next task instead of stopping at the first one.

Why not nbgrader's own ClearSolutions preprocessor: installing nbgrader brings a Jupyter server,
a database layer and a notebook front end; these lines do the one transformation we need.
"""

import argparse
import ast
import copy
import re
import sys
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from byhand import check  # noqa: E402  (the hints live beside the checks)

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
STUB = "raise NotImplementedError()"
BOOK_ONLY_TAGS = {"hide-input", "hide-output", "hide-cell"}  # how the book folds solutions


CHECK_CELL = re.compile(r"check\.(\w+)\(\w+\)")  # a task's check cell: check.task(name)


class MarkerError(ValueError):
    pass


def string_answer(region):
    """The name in a region that is one line `name = "a string"` (a derivation's answer)."""
    try:
        tree = ast.parse(textwrap.dedent("\n".join(region)))
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assign):
        return None
    (target,), value = tree.body[0].targets, tree.body[0].value
    if isinstance(target, ast.Name) and isinstance(value, ast.Constant) \
            and isinstance(value.value, str):
        return target.id
    return None


def strip_regions(lines, begin, end, replacement, where):
    """Drop every begin..end region; put `replacement` (if any) in place of each.

    A region that only assigns a string, `answer = "s_i*(delta_ij - s_j)"`, becomes
    `answer = ""` (a derivation task: the check then says "not answered yet"); any other region
    becomes `replacement` and must sit inside a function.
    """
    out, inside, region = [], None, []
    for number, line in enumerate(lines, 1):
        marker = line.strip()
        if marker == begin:
            if inside is not None:
                raise MarkerError(f"{where}, line {number}: {begin} inside another one")
            inside, region = number, []
            indent = line[: len(line) - len(line.lstrip())]
            if replacement is not None and (not out or not out[-1].strip().startswith("#")):
                raise MarkerError(
                    f"{where}, line {number}: put a comment above {begin} saying what to write"
                )
        elif marker == end:
            if inside is None:
                raise MarkerError(f"{where}, line {number}: {end} without {begin}")
            if replacement is not None:
                name = string_answer(region)
                if name is not None:
                    out.append(f'{indent}{name} = ""')
                elif not indent:
                    raise MarkerError(
                        f"{where}, line {inside}: a solution must sit inside a function, so the "
                        "student version defines it (raising NotImplementedError until solved), "
                        'or be one string assignment such as answer = "..." (a derivation)'
                    )
                else:
                    out.append(indent + replacement)
            inside = None
        elif inside is None:
            out.append(line)
        else:
            region.append(line)
    if inside is not None:
        raise MarkerError(f"{where}, line {inside}: {begin} is never closed")
    return out


def hints_cell(task):
    """A Markdown cell with the task's hints, folded; its id is fixed so output is stable."""
    hints = getattr(check, task).hints
    if len(hints) < 2:
        raise MarkerError(f"check.{task} has {len(hints)} hint level(s): give its @task at "
                          "least two, hints=(\"which section, which idea\", \"the key step\")")
    # A directive's title holds no inline code (jupyterlab-myst renders none there): the
    # pointer to check.hint goes in the line above the folded hints.
    lead = f'Hints, one at a time (or run `check.hint("{task}")`: one level per call):'
    source = "\n\n".join([lead] + [
        f"```{{admonition}} Hint {level} of {len(hints)}\n:class: dropdown\n\n{text}\n```"
        for level, text in enumerate(hints, 1)])
    cell = nbformat.v4.new_markdown_cell(source, id=f"hints-{task}".replace("_", "-"))
    cell.metadata["tags"] = ["hints"]
    return cell


def with_hints(cells):
    """The cells, with a hints cell after the check cell of every code task."""
    out = []
    for cell in cells:
        out.append(cell)
        called = CHECK_CELL.fullmatch(cell.source.strip())
        if cell.cell_type == "code" and called and not called.group(1).startswith("derive_"):
            out.append(hints_cell(called.group(1)))
    return out


def student_version(notebook, name):
    student = copy.deepcopy(notebook)
    student.metadata.pop("widgets", None)
    student.cells = [c for c in student.cells if "solution-only" not in c.metadata.get("tags", [])]
    first = student.cells[0]
    if first.cell_type != "markdown" or not first.source.startswith("(sol-"):
        raise MarkerError(f"{name}: the first cell must start with a label '(sol-name)='")
    first.source = "(ex-" + first.source[len("(sol-"):].replace(" Solutions: ", " Exercises: ", 1)
    for index, cell in enumerate(student.cells):
        tags = [t for t in cell.metadata.get("tags", []) if t not in BOOK_ONLY_TAGS]
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        where = f"{name}, cell {index}"
        lines = cell.source.split("\n")
        lines = strip_regions(lines, BEGIN, END, STUB, where)
        lines = strip_regions(lines, BEGIN_HIDDEN, END_HIDDEN, None, where)
        cell.source = "\n".join(lines)
        cell.outputs = []
        cell.execution_count = None
        if CHECK_CELL.fullmatch(cell.source.strip()):
            cell.metadata["tags"] = cell.metadata.get("tags", []) + ["raises-exception"]
    student.cells = with_hints(student.cells)
    return student


def generate():
    """{path in exercises/: notebook text} for every solution notebook."""
    written = {}
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        student = student_version(notebook, f"solutions/{path.name}")
        written[ROOT / "exercises" / path.name] = nbformat.writes(student) + "\n"
    return written


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args()
    try:
        wanted = generate()
    except MarkerError as error:
        sys.exit(f"make_exercises: {error}")
    stale = [p for p, text in wanted.items() if not p.exists() or p.read_text() != text]
    orphans = [p for p in (ROOT / "exercises").glob("*.ipynb") if p not in wanted]
    if args.check:
        if stale or orphans:
            names = ", ".join(p.name for p in stale + orphans)
            sys.exit(f"make_exercises: exercises/ is out of date ({names}): run `make exercises`")
        print(f"make_exercises: exercises/ is up to date ({len(wanted)} notebooks)")
        return
    for path in stale:
        path.write_text(wanted[path])
        print(f"make_exercises: wrote exercises/{path.name}")
    for path in orphans:
        path.unlink()
        print(f"make_exercises: removed exercises/{path.name} (no solution notebook)")


if __name__ == "__main__":
    main()
