"""The book's figures in the built pages, as readers see them in Chromium.

On a sample of chapter pages (the one with the most figures, one with a tall diagram, one with a
timing chart), every figure image in the article:
- is a numbered figure: inside a <figure> whose caption starts "Fig. N", with non-empty alt text;
- is sharp: at 1366 px, its PNG has at least twice the pixels of the width it is drawn at;
- fits: at 390 px (a phone) it is no wider than its column and keeps its proportions;
- reads in dark mode: not dimmed, on a light card (its own background), with some padding.
tests/test_figures.py checks every figure in the notebooks; this checks what the site makes of
them (the CSS in book/_static/readers.css). The site is BYHAND_SITE (default `_build/html`).
"""

import os
from pathlib import Path

import pytest
from browser import chromium, evaluate_bounded, only_local, serve

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("BYHAND_SITE") or ROOT / "_build" / "html").resolve()
PAGES = ["chapters/10_mnist.html", "chapters/09_graphs.html", "chapters/02_logsumexp.html"]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server():
    yield from serve(SITE, PAGES[0])


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


# Every figure image in the article once decoded, with what the checks need.
MEASURE = """async () => {
  const imgs = [...document.querySelectorAll('.bd-article .cell_output img')];
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  return imgs.map(img => {
    const box = img.getBoundingClientRect(), style = getComputedStyle(img);
    const figure = img.closest('figure');
    const caption = figure && figure.querySelector('figcaption');
    const column = img.closest('.cell_output').getBoundingClientRect();
    return {
      src: img.getAttribute('src').split('/').pop().slice(0, 12),
      alt: img.getAttribute('alt') || '',
      caption: caption ? caption.textContent.trim() : '',
      naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
      width: box.width, height: box.height, right: box.right,
      contentWidth: box.width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
      contentHeight: box.height - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom),
      columnRight: column.right, viewport: document.documentElement.clientWidth,
      filter: style.filter, background: style.backgroundColor,
      padding: parseFloat(style.paddingLeft),
      theme: document.documentElement.dataset.theme,
    };
  });
}"""


def figures_on(browser, server, path, viewport, scheme):
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    blocked = []
    context.route("**/*", only_local(server, blocked))
    page = context.new_page()
    try:
        page.goto(server + path, wait_until="load")
        found = evaluate_bounded(page, MEASURE, what="decoding the figures", seconds=60)
    finally:
        context.close()
    assert found, f"{path}: no figure images found"
    return found


def luminance(css_color):
    """Relative luminance (0 black .. 1 white) of an rgb()/rgba() color; None if transparent."""
    parts = [float(p) for p in css_color[css_color.index("(") + 1:-1].replace("/", ",").split(",")]
    if len(parts) == 4 and parts[3] == 0:
        return None
    r, g, b = (c / 255 for c in parts[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("path", PAGES)
def test_figures_are_numbered_described_and_sharp(browser, server, path):
    problems = []
    for fig in figures_on(browser, server, path, DESKTOP, "light"):
        name = f"{path} {fig['src']}"
        if not fig["alt"].strip():
            problems.append(f"{name}: no alt text")
        if not fig["caption"].startswith("Fig."):
            problems.append(f"{name}: not a numbered figure (caption {fig['caption'][:40]!r})")
        if fig["naturalWidth"] < 2 * fig["width"] - 1:
            problems.append(f"{name}: {fig['naturalWidth']} px drawn {fig['width']:.0f} px wide")
        if fig["right"] > fig["columnRight"] + 1:
            problems.append(f"{name}: wider than the column at 1366 px")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", PAGES)
def test_figures_fit_a_phone_and_sit_on_a_light_card_in_dark_mode(browser, server, path):
    """One visit at 390 px with the system in dark mode (the card's padding makes a figure's
    box wider there than in light mode: if it fits in dark, it fits in light)."""
    problems = []
    for fig in figures_on(browser, server, path, PHONE, "dark"):
        name = f"{path} {fig['src']}"
        if fig["theme"] != "dark":
            problems.append(f"{path}: the page did not follow the system to dark mode")
            break
        if fig["right"] > min(fig["columnRight"], fig["viewport"]) + 1:
            problems.append(f"{name}: right edge at {fig['right']:.0f} px, past its column")
        shown = fig["contentHeight"] / fig["contentWidth"]
        stored = fig["naturalHeight"] / fig["naturalWidth"]
        if abs(shown / stored - 1) > 0.03:
            problems.append(f"{name}: squashed (height/width {shown:.2f}, the PNG's {stored:.2f})")
        if fig["filter"] != "none":
            problems.append(f"{name}: dimmed ({fig['filter']})")
        light = luminance(fig["background"])
        if light is None or light < 0.9:
            problems.append(f"{name}: background {fig['background']} is not a light card")
        if fig["padding"] < 4:
            problems.append(f"{name}: no padding around the figure on its card")
    assert not problems, "\n".join(problems)
