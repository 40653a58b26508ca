"""Every figure in the book is numbered, described, referenced and sharp, in one style.

Read from the stored notebooks (what the web book renders), no kernel needed:
- every image output is a MyST-NB figure: its cell's metadata has `mystnb.figure.caption`,
  `mystnb.figure.name` (fig-<topic>-<what>, unique in the book) and `mystnb.image.alt`, a
  sentence that says what the figure shows;
- each PNG has at least twice the pixels of the width it is displayed at (the `width` that
  Jupyter's "retina" format stores beside it, which the page uses as the image's CSS width);
- the prose of its chapter refers to each figure with {numref}`name`, and to no figure that
  does not exist;
- a chapter with figures calls `figures.use()` (byhand/figures.py) in its set-up cell, and no
  figure cell sets text below `figures.SMALLEST` points or a figure wider than
  `figures.MAX_WIDTH` inches.
tests/test_site_figures.py checks the same figures in the built pages, in Chromium.
"""

import base64
import json
import re
import struct
from pathlib import Path

import pytest

from byhand import figures

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(ROOT.glob("chapters/*.ipynb")) + sorted(ROOT.glob("appendices/*.ipynb"))
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
NAME = re.compile(r"fig-[a-z0-9]+(-[a-z0-9]+)+")
NUMREF = re.compile(r"\{numref\}`(?:[^`<]*<)?(fig-[a-z0-9-]+)>?`")


def load(path):
    return json.loads(path.read_text())


def text(value):
    return "".join(value) if isinstance(value, list) else value


def figure_cells(notebook):
    """(cell, [image outputs]) for every code cell that displays an image."""
    found = []
    for cell in notebook["cells"]:
        images = [o for o in cell.get("outputs", []) if set(IMAGE_TYPES) & set(o.get("data", {}))]
        if images:
            found.append((cell, images))
    return found


def png_size(payload):
    data = base64.b64decode(text(payload))
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


FIGURES = [
    (path, cell, images)
    for path in NOTEBOOKS
    for cell, images in figure_cells(load(path))
]
IDS = [f"{path.stem}-{cell.get('id', '?')}" for path, cell, _ in FIGURES]


def test_the_book_has_figures():
    assert len(FIGURES) >= 18, f"only {len(FIGURES)} figures found in chapters/"


@pytest.mark.parametrize("path, cell, images", FIGURES, ids=IDS)
def test_figure_has_caption_name_and_alt_text(path, cell, images):
    meta = cell.get("metadata", {}).get("mystnb", {})
    figure, image = meta.get("figure", {}), meta.get("image", {})
    where = f"{path.name}, cell {cell.get('id')}"
    assert len(images) == 1, f"{where}: one figure per cell (a figure has one name), not {len(images)}"
    caption, name, alt = figure.get("caption", ""), figure.get("name", ""), image.get("alt", "")
    assert len(caption.split()) >= 6, f"{where}: no caption (metadata mystnb.figure.caption)"
    assert NAME.fullmatch(name), f"{where}: figure name {name!r} is not fig-<topic>-<what>"
    # Alt text says what the figure shows, in a sentence or two: not "a plot", not the caption.
    assert len(alt.split()) >= 12, f"{where}: alt text {alt!r} is too short to say what it shows"
    assert alt != caption, f"{where}: the alt text repeats the caption; say what the figure shows"
    assert not re.match(r"(?i)(a |the )?(plot|figure|image|chart)\.?$", alt), where


def test_figure_names_are_unique():
    names = [c["metadata"]["mystnb"]["figure"]["name"] for _, c, _ in FIGURES
             if "name" in c.get("metadata", {}).get("mystnb", {}).get("figure", {})]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"figure names used twice: {duplicates}"


@pytest.mark.parametrize("path, cell, images", FIGURES, ids=IDS)
def test_figure_is_stored_at_twice_its_display_width(path, cell, images):
    for output in images:
        assert "image/png" in output["data"], f"{path.name}: figures are stored as PNG (not SVG)"
        width, height = png_size(output["data"]["image/png"])
        shown = output.get("metadata", {}).get("image/png", {})
        where = f"{path.name}, cell {cell.get('id')}: {width}×{height} px"
        assert "width" in shown, f"{where} with no display width: is figures.use() called?"
        assert width >= 2 * shown["width"], f"{where} shown {shown['width']} px wide: under 2×"
        assert shown["width"] <= 100 * figures.MAX_WIDTH + 20, f"{where}: wider than the column"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_is_referenced_and_every_reference_exists(path):
    notebook = load(path)
    names = {c["metadata"].get("mystnb", {}).get("figure", {}).get("name")
             for c, _ in figure_cells(notebook)} - {None}
    prose = "\n".join(text(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")
    referenced = set(NUMREF.findall(prose))
    assert not names - referenced, (
        f"{path.name}: no {{numref}} in the prose for {sorted(names - referenced)}"
    )
    # References across chapters are allowed; to a figure that exists somewhere.
    every_name = {c["metadata"]["mystnb"]["figure"]["name"] for _, c, _ in FIGURES
                  if "name" in c.get("metadata", {}).get("mystnb", {}).get("figure", {})}
    assert not referenced - every_name, f"{path.name}: {{numref}} to no figure: {sorted(referenced - every_name)}"
    assert not re.search(r"\bFigure \d+\.\d+", prose), f"{path.name}: a hand-typed figure number"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_with_figures_uses_the_book_style(path):
    notebook = load(path)
    if not figure_cells(notebook):
        return
    code = [text(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    setup = code[0]
    assert re.search(r"^figures\.use\(\)", setup, re.M), (
        f"{path.name}: the set-up cell should call figures.use() (from byhand import figures)"
    )
    for cell, _ in figure_cells(notebook):
        source = text(cell["source"])
        for size in re.findall(r"\b(?:fontsize|labelsize)\s*=\s*([0-9.]+)", source):
            assert float(size) >= figures.SMALLEST, (
                f"{path.name}, cell {cell.get('id')}: text at {size} pt, under "
                f"{figures.SMALLEST} pt"
            )
        for width in re.findall(r"figsize=\(([0-9.]+)", source):
            assert float(width) <= figures.MAX_WIDTH, (
                f"{path.name}, cell {cell.get('id')}: a figure {width} inches wide is shrunk "
                f"in the column; at most {figures.MAX_WIDTH}"
            )
        assert "tight_layout" not in source, (
            f"{path.name}, cell {cell.get('id')}: the style lays figures out (constrained "
            "layout); fig.tight_layout() would switch engines and warn"
        )


def test_the_style_sets_readable_text():
    import matplotlib as mpl

    with mpl.rc_context():
        figures.use()
        sizes = {key: mpl.rcParams[key] for key in (
            "font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize",
            "ytick.labelsize", "legend.fontsize")}
        for key, size in sizes.items():
            points = size if isinstance(size, (int, float)) else mpl.font_manager.font_scalings[size] * mpl.rcParams["font.size"]
            assert points >= figures.SMALLEST, f"{key} = {size}: under {figures.SMALLEST} pt"
        assert mpl.rcParams["figure.figsize"][0] <= figures.MAX_WIDTH
