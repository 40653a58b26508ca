"""The notebooks are stored the way the book and nbval need them, and show byhand's own code."""

import ast
import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path

import pytest
import yaml

import byhand

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(ROOT.glob("chapters/*.ipynb")) + sorted(ROOT.glob("solutions/*.ipynb"))
IGNORE_TAGS = {"nbval-ignore-output", "nbval-skip", "raises-exception"}


def cells(path, kind="code"):
    notebook = json.loads(path.read_text())
    return [c for c in notebook["cells"] if c["cell_type"] == kind]


def source(cell):
    return "".join(cell["source"])


def tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def byhand_functions():
    """name -> object, for every function and class defined in a byhand module."""
    found = {}
    for info in pkgutil.walk_packages(byhand.__path__, prefix="byhand."):
        if info.name.startswith(("byhand.check", "byhand.derive")):  # never shown as references
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__:
                found.setdefault(name, []).append(obj)
    return found


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 2


def test_every_notebook_is_in_the_table_of_contents():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = {c["file"] for part in toc["parts"] for c in part["chapters"]}
    for folder in ("chapters", "exercises", "solutions"):
        for path in ROOT.glob(f"{folder}/*.ipynb"):
            assert f"{folder}/{path.stem}" in listed, f"{folder}/{path.name} is not in _toc.yml"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_timestamps_are_stored(path):
    for cell in json.loads(path.read_text())["cells"]:
        assert "execution" not in cell.get("metadata", {}), (
            f"{path.name}: cell metadata holds execution timestamps; run tools/execute.py"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_executed_in_one_clean_run(path):
    counts = [c["execution_count"] for c in cells(path) if source(c).strip()]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts} are not 1, 2, 3, ...: run `make execute` "
        "(or tools/execute.py) so the stored outputs come from one top-to-bottom run"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_opens_with_a_label_and_a_numbered_title(path):
    first = source(cells(path, "markdown")[0])
    assert re.match(r"\(([a-z0-9-]+)\)=\n# \d+\. \S", first), (
        f"{path.name}: the first cell should be '(label)=' then '# N. Title'"
    )


GLUE_ROLE = re.compile(r"\{glue(?::\w*)?\}`([^`]+)`")  # {glue}, {glue:text}, ...: `name` or `name:format`
JUPYTER_NOTE = "**Reading this in Jupyter?**"


def jupyter_note_examples(text):
    """The examples a note for Jupyter readers shows: a glued name (with its format, if any) and
    a figure's label."""
    examples = re.findall(r"such as\s+`([^`]+)`", text)
    assert len(examples) == 2, (
        f"the note for Jupyter readers shows {len(examples)} examples (such as `...`), not a glued "
        f"name and a figure's label: {text[:200]}")
    return examples


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_glued_values_are_explained_to_jupyter_readers(path):
    """jupyterlab-myst (JupyterLab, JupyterLite) has no glue: a {glue:text} role shows its name
    and format where the web book shows the value. A notebook that glues says so under its
    title, in a cell the web book leaves out (remove-cell), with the first role its text uses as
    the example, and the first figure it refers to (every chapter has figures; a chapter without
    would need the note's last sentence rewritten, and this test with it); every name the text
    uses can be found in a glue call by the note's advice."""
    notebook = json.loads(path.read_text())["cells"]
    roles = [(k, m.group(1)) for k, c in enumerate(notebook) if c["cell_type"] == "markdown"
             and not source(c).startswith(JUPYTER_NOTE) for m in GLUE_ROLE.finditer(source(c))]
    notes = [k for k, c in enumerate(notebook) if source(c).startswith(JUPYTER_NOTE)]
    if not roles:
        assert not notes, f"{path.name}: a note about glued values, and none is glued"
        return
    assert notes == [1], f"{path.name}: the note for Jupyter readers belongs under the title"
    note = notebook[1]
    assert note["cell_type"] == "markdown" and "remove-cell" in tags(note), (
        f"{path.name}: the note for Jupyter readers is a Markdown cell tagged remove-cell")
    glued, figure = jupyter_note_examples(source(note))
    assert glued == roles[0][1], (
        f"{path.name}: the note's example should be the first glue role the text uses, "
        f"`{roles[0][1]}`, as jupyterlab-myst shows it")
    figures = [m.group(1) for c in notebook[2:] if c["cell_type"] == "markdown"
               for m in re.finditer(r"\{numref\}`(fig-[^`<]+)`", source(c))]
    assert figures[:1] == [figure], (
        f"{path.name}: the note's second example should be the first figure the text refers to: "
        f"{figures[:1]}")
    # Searching finds the name in a glue call, or the part of it before an f-string's first
    # field (glue(f"ch3-beta-{dtype}", ...)).
    code = "\n".join(line.split("#")[0] for c in notebook if c["cell_type"] == "code"
                     for line in source(c).splitlines())  # comments do not compute anything
    names = set(re.findall(r"""\bglue\(\s*["']([^"']+)["']""", code))
    stems = re.findall(r"""\bglue\(\s*f["']([^"'{]+)\{""", code)
    lost = sorted({body.split(":")[0] for _, body in roles} - names)
    lost = [name for name in lost if not any(name.startswith(stem) for stem in stems)]
    assert not lost, f"{path.name}: no glue call in the code computes {lost}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_output_checks_are_skipped_rarely_and_with_a_reason(path):
    skipped = [c for c in cells(path) if tags(c) & IGNORE_TAGS]
    assert len(skipped) <= 3, f"{path.name}: {len(skipped)} cells skip nbval's output check"
    for cell in skipped:
        lines = source(cell).splitlines()
        assert re.match(r"# nbval-[a-z-]+: \S", lines[0]), (
            f"{path.name}: a cell tagged {sorted(tags(cell) & IGNORE_TAGS)} needs a first line "
            f"'# nbval-...: why' saying why its output may vary:\n{source(cell)[:200]}"
        )
        # The web book leaves that line out (book/ext/byhand_readers.py): the reason is one line
        assert len(lines) < 2 or not lines[1].startswith("#"), (
            f"{path.name}: a comment right after the '# nbval-...: why' line would read, in the "
            f"web book, as the reason's lost first half: put the reason on one line, and code "
            f"first:\n{source(cell)[:200]}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_stderr_noise_is_stored(path):
    for cell in cells(path):
        for output in cell.get("outputs", []):
            if output.get("name") == "stderr":
                pytest.fail(f"{path.name}: a cell writes to stderr:\n{''.join(output['text'])[:300]}")


REFERENCE_CELLS = [
    (path, i, cell)
    for path in NOTEBOOKS
    for i, cell in enumerate(cells(path))
    if "reference" in tags(cell)
]


@pytest.mark.parametrize(
    "path, index, cell", REFERENCE_CELLS, ids=[f"{p.name}-cell{i}" for p, i, _ in REFERENCE_CELLS]
)
def test_reference_code_is_byhands_code(path, index, cell):
    """A cell tagged `reference` shows definitions that byhand runs, character for character."""
    code = source(cell)
    definitions = [
        node for node in ast.parse(code).body
        if isinstance(node, (ast.FunctionDef, ast.ClassDef))
    ]
    assert definitions, f"{path.name}: a `reference` cell must define a function or class"
    known = byhand_functions()
    for node in definitions:
        matches = known.get(node.name, [])
        assert len(matches) == 1, (
            f"{path.name}: `{node.name}` is defined in {len(matches)} byhand modules, not one"
        )
        # whole lines, so a comment at the end of the last line counts too
        start = (node.decorator_list[0] if node.decorator_list else node).lineno - 1
        shown = "\n".join(code.splitlines()[start:node.end_lineno])
        assert shown == inspect.getsource(matches[0]).rstrip("\n"), (
            f"{path.name}: `{node.name}` differs from {matches[0].__module__}.{node.name}; "
            "the chapter must show exactly the code byhand runs"
        )


ALL_NOTEBOOKS = sorted(p for folder in ("chapters", "exercises", "solutions", "appendices")
                       for p in (ROOT / folder).glob("*.ipynb"))


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_style_element_in_markdown(path):
    """JupyterLab drops <style> from a notebook's markdown, even in a trusted notebook; what
    styling a cell needs is inline (byhand.explore inlines its tables' and bars' styles)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    styled = [i for i, c in enumerate(cells)
              if c["cell_type"] == "markdown" and "<style" in "".join(c["source"]).lower()]
    assert styled == [], f"{path.name}: <style> in markdown cells {styled}"


# The web book's code column shows 88 characters (753 px of monospace); a longer line is cut
# off at the right edge or makes the reader scroll each block sideways. Every line a reader
# sees (a shown cell's source; printed text and plain-text results) fits.
CODE_COLUMN = 88
EVERY_NOTEBOOK = sorted(
    p for folder in ("chapters", "exercises", "solutions", "appendices")
    for p in ROOT.glob(f"{folder}/*.ipynb"))


# What the book (and JupyterLab) shows instead of the plain text, when an output has it.
RICHER = {"application/vnd.jupyter.widget-view+json", "text/html", "text/latex", "text/markdown"}


def shown_lines(cell):
    """The lines of a code cell the book shows: its source unless removed, then its outputs."""
    if not tags(cell) & {"remove-input", "remove-cell"}:
        yield from source(cell).splitlines()
    if tags(cell) & {"remove-output", "remove-cell"}:
        return
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            yield from "".join(output["text"]).splitlines()
        elif output.get("output_type") in {"execute_result", "display_data"}:
            data = output.get("data", {})
            if not any(kind in RICHER for kind in data) and not any(
                    kind.startswith("image/") for kind in data):
                yield from "".join(data.get("text/plain", "")).splitlines()


@pytest.mark.parametrize("path", EVERY_NOTEBOOK, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shown_line_fits_the_code_column(path):
    long = [(k, len(line), line[:60]) for k, cell in enumerate(cells(path))
            for line in shown_lines(cell) if len(line) > CODE_COLUMN]
    assert not long, (f"{len(long)} lines wider than {CODE_COLUMN} characters "
                      f"(code cell, length, start): {long[:6]}")


# A directive's title is the rest of its opening fence line. A backtick there (inline code)
# ends a ``` fence's info string in CommonMark, so jupyterlab-myst shows the whole block as
# plain text, options and all; titles are written without inline code.
DIRECTIVE = re.compile(r"^[ \t]*(`{3,}|~{3,}|:{3,})\{[\w:.-]+\}(.*)$", re.M)


def directive_titles_with_code(text):
    return [m.group(0).strip() for m in DIRECTIVE.finditer(text) if "`" in m.group(2)]


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_inline_code_in_a_directive_title(path):
    found = [(k, title) for k, cell in enumerate(json.loads(path.read_text())["cells"])
             if cell["cell_type"] == "markdown"
             for title in directive_titles_with_code(source(cell))]
    assert not found, f"{path.name}: inline code in a directive's title (cell, line): {found}"


@pytest.mark.parametrize("text, found", [
    ("```{admonition} Deep dive: `np.where` and branch prediction\n:class: dropdown\n", 1),
    ("::::{exercise} The `softmax` of a row\n", 1),
    ("```{admonition} Deep dive: branch prediction\n:class: dropdown\n\n`np.where`\n```", 0),
    ("A `{note}` role in prose, and ```` ``` ```` in code.", 0),
])
def test_the_title_rule_catches_inline_code(text, found):
    assert len(directive_titles_with_code(text)) == found


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_between_notebooks_are_markdown_links(path):
    """{doc} is Sphinx's: JupyterLab shows it as a link to a file that does not exist. A
    Markdown link to the .ipynb opens the notebook there, and myst-parser resolves (and checks)
    it to the same page in the web book."""
    cells = json.loads(path.read_text())["cells"]
    roles = [k for k, c in enumerate(cells) if c["cell_type"] == "markdown"
             and "{doc}" in source(c)]
    assert not roles, f"{path.name}: {{doc}} roles in markdown cells {roles}"
    for k, cell in enumerate(cells):
        for target in re.findall(r"\]\(([^)\s]+\.ipynb)(?:#[^)]*)?\)", source(cell)):
            assert (path.parent / target).resolve().is_file(), (
                f"{path.name}, cell {k}: a link to {target}, which does not exist")
