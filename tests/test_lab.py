"""The student's path in a real JupyterLab: the lab environment of `make lab` (.venv/lab), a
live kernel, driven in Debian's Chromium.

One JupyterLab server (at the repository's root, as `make lab` starts it) and one browser for
the module. The server gets settings of its own in a temporary folder: autosave off, so that
running cells never writes a notebook of the repository (checkpoints go to the temporary
folder too); no news or update checks (nothing leaves 127.0.0.1); every cell rendered at once
(no windowing), so that a cell's output is in the page when the test looks for it. The tests

- open exercises/03_softmax.ipynb from the file browser, Run → Run All Cells, and find a
  verdict (a check's one red line, or a line that it passed) under every check cell: the check
  cells are tagged `raises-exception`, so Run All goes on past a failing one;
- run chapter 2 and move its overflow explorer's slider with the keyboard;
- find no raw MyST (a `(label)=` line, a `{ref}`/`{numref}` role) in a chapter's first cell:
  jupyterlab-myst (requirements-lab.txt) renders MyST markdown in JupyterLab;
- in an exercise notebook, find every hint folded, its title "Hint k of n" beside a marker
  that says it opens, and every link to another notebook a link to that .ipynb that JupyterLab
  opens (a `{doc}` role, Sphinx's, made a link to a file that does not exist);
- in chapter 10, find every admonition's title rendered as its title (inline code in a
  directive's title line made jupyterlab-myst show the whole block as text).
"""

import json
import os
import posixpath
import re
import subprocess
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from browser import chromium, only_local
from test_notebooks import jupyter_note_examples

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / ".venv" / "lab"
START_SECONDS = 120  # the server's start, and a notebook's first rendering, on a busy machine
RUN_SECONDS = 300  # Run All on a notebook

# JupyterLab's user settings, by plugin: written into the server's own settings folder.
SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                    "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}

# The notebook in front (hidden tabs stay in the page).
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

# True when Run All is over in the notebook in front: its kernel idle, some cell run, and none
# waiting ("[*]"). If Run All stopped at an error, the cells after it are no longer waiting
# either: they are left without output. It reads JupyterLab's model (the server exposes the app
# to the page for this test).
RUN_OVER = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return false;
  const code = panel.content.widgets.filter(cell => cell.model.type === 'code');
  return code.some(cell => cell.model.executionCount !== null)
    && !code.some(cell => cell.promptNode && cell.promptNode.textContent.includes('*'));
}"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab from .venv/lab on 127.0.0.1, no token, root = the repository: its base URL."""
    jupyter = LAB / "bin" / "jupyter"
    if not jupyter.exists():
        pytest.fail(f"no JupyterLab environment in {LAB.relative_to(ROOT)}: `make lab-env` "
                    "sets it up (requirements-lab.txt)")
    home = tmp_path_factory.mktemp("lab")
    for plugin, values in SETTINGS.items():
        path = home / "settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    # Nothing from the user's own Jupyter folders (kernels, settings, workspaces, config).
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
           "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_DATA_DIR": str(home / "data"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "IPYTHONDIR": str(home / "ipython"),
           "MPLCONFIGDIR": str(home / "matplotlib")}
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
         "--ServerApp.port=0", "--IdentityProvider.token=", f"--ServerApp.root_dir={ROOT}",
         "--LabApp.extension_manager=readonly", "--LabApp.news_url=None",
         "--LabApp.expose_app_in_browser=True",
         # JupyterLab checkpoints a notebook when it opens it: not next to the repository's.
         f"--FileCheckpoints.checkpoint_dir={home / 'checkpoints'}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        # The server writes its URL into the runtime folder once it listens.
        deadline = time.monotonic() + START_SECONDS
        info = []
        while not info and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            for found in (home / "runtime").glob("jpserver-*.json"):
                try:
                    info = [json.loads(found.read_text())]
                except ValueError:  # still being written
                    pass
        if not info:
            pytest.fail("JupyterLab did not start:\n" + (home / "server.log").read_text()[-3000:])
        yield info[0]["url"].rstrip("/") + "/"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


def new_page(browser, lab):
    """A page on the server in a context of its own; every other request aborted and listed in
    `page.blocked`."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(START_SECONDS * 1000)
    page.blocked = []
    page.route("**/*", only_local(lab, page.blocked))
    return page


def open_notebook(page, lab, path):
    """Open `path` by its URL in a fresh workspace (?reset); wait for its kernel."""
    page.goto(f"{lab}lab/tree/{path}?reset")
    wait_for_notebook(page, path)


def wait_for_notebook(page, path):
    page.wait_for_selector(f"{PANEL} .jp-Notebook .jp-Cell")
    page.wait_for_function("(path) => { const p = window.jupyterapp.shell.currentWidget;"
                           " return p && p.context.path === path && p.sessionContext.isReady; }",
                           arg=path)


def run_all(page):
    """Run → Run All Cells, from the menu; wait until Run All is over (seen twice, a second
    apart: not a pause between two cells)."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    page.wait_for_function(RUN_OVER, timeout=RUN_SECONDS * 1000, polling=500)
    page.wait_for_timeout(1000)
    page.wait_for_function(RUN_OVER, timeout=RUN_SECONDS * 1000, polling=500)


def assert_no_raw_myst(page, path):
    """The notebook's first cell, rendered, shows its title first, and no `(label)=` line and
    no `{ref}`/`{numref}` role (jupyterlab-myst renders MyST; JupyterLab alone shows it raw)."""
    first = page.locator(f"{PANEL} .jp-MarkdownCell").first
    rendered = first.locator(".myst, .jp-MarkdownOutput").first
    rendered.wait_for()
    text = rendered.inner_text().strip()
    source = "".join(json.loads((ROOT / path).read_text())["cells"][0]["source"])
    label, title = source.splitlines()[:2]
    assert label.startswith("(") and label.endswith(")="), f"{path}: no label line to hide"
    assert ")=" not in text and "{ref}" not in text and "{numref}" not in text, (
        f"{path}: raw MyST in the first cell (is jupyterlab-myst installed in .venv/lab?):\n"
        f"{text[:300]}")
    assert text.startswith(title.lstrip("# ")), (
        f"{path}: the first cell does not start with its title:\n{text[:300]}")


def test_exercises_run_all_shows_a_verdict_under_every_check(browser, lab):
    page = new_page(browser, lab)
    path = "exercises/03_softmax.ipynb"
    # The file browser starts at the repository's root: exercises/ is there.
    page.goto(f"{lab}lab?reset")
    listing = page.locator(".jp-DirListing-content")
    listing.locator(".jp-DirListing-item", has_text="exercises").first.dblclick()
    page.wait_for_selector(".jp-FileBrowser .jp-BreadCrumbs >> text=exercises")
    listing.locator(".jp-DirListing-item", has_text="03_softmax.ipynb").first.dblclick()
    wait_for_notebook(page, path)
    assert_no_raw_myst(page, path)
    run_all(page)

    # The check cells, by the notebook on disk: those tagged raises-exception.
    cells = json.loads((ROOT / path).read_text())["cells"]
    checks = [(k, "".join(c["source"])) for k, c in enumerate(cells)
              if "raises-exception" in c["metadata"].get("tags", [])]
    assert len(checks) >= 5, f"only {len(checks)} check cells in {path}"
    shown = page.locator(f"{PANEL} .jp-Notebook .jp-Cell")
    assert shown.count() == len(cells)
    for k, source in checks:
        output = shown.nth(k).locator(".jp-OutputArea-output").first
        assert output.count(), f"no output under `{source}`: did Run All stop before it?"
        output.scroll_into_view_if_needed()
        assert output.is_visible(), f"the output under `{source}` is not visible"
        text = output.inner_text().strip()
        lines = text.splitlines()
        # A verdict: the check's own red CheckFailed line (a task not done yet), or its line
        # saying what passed; never a traceback.
        assert lines, f"an empty output under `{source}`"
        if lines[0].startswith("CheckFailed:"):
            red = output.locator(".ansi-red-fg, .ansi-red-intense-fg").first
            assert red.count() and red.inner_text().startswith("CheckFailed"), (
                f"the verdict under `{source}` is not red: {text[:200]}")
            assert "Traceback" not in text and len(lines) <= 8, (
                f"more than a short verdict under `{source}`:\n{text[:600]}")
        else:
            assert lines[0].startswith("✓"), f"no verdict under `{source}`: {text[:300]}"
    assert not page.blocked, f"JupyterLab asked for files elsewhere: {page.blocked[:5]}"
    page.context.close()


@pytest.fixture(scope="module")
def chapter_2(browser, lab):
    """Chapter 2 open in JupyterLab (its kernel started, nothing run yet)."""
    page = new_page(browser, lab)
    open_notebook(page, lab, "chapters/02_logsumexp.ipynb")
    yield page
    assert not page.blocked, f"JupyterLab asked for files elsewhere: {page.blocked[:5]}"
    page.context.close()


def test_chapter_shows_no_raw_myst(chapter_2):
    assert_no_raw_myst(chapter_2, "chapters/02_logsumexp.ipynb")


def note_examples(path):
    """The glued name and the figure label the note under `path`'s title shows as examples."""
    return jupyter_note_examples("".join(json.loads((ROOT / path).read_text())["cells"][1]["source"]))


def rendered_markdown(page, index):
    cell = page.locator(f"{PANEL} .jp-Cell").nth(index)
    rendered = cell.locator(".myst, .jp-MarkdownOutput").first
    rendered.wait_for()
    return rendered.inner_text()


def test_chapter_tells_jupyter_readers_what_glued_names_are(chapter_2):
    """The web book leaves this cell out (remove-cell); JupyterLab shows it, second, rendered.
    Its figure label shows where the text refers to that figure, as the note says."""
    path = "chapters/02_logsumexp.ipynb"
    cells = json.loads((ROOT / path).read_text())["cells"]
    glued, figure = note_examples(path)
    text = rendered_markdown(chapter_2, 1)
    assert text.startswith("Reading this in Jupyter?") and glued in text and figure in text, text[:300]
    assert "**" not in text, f"the note's Markdown is not rendered: {text[:300]}"
    first = next(k for k, c in enumerate(cells) if k > 1 and c["cell_type"] == "markdown"
                 and f"{{numref}}`{figure}`" in "".join(c["source"]))
    assert figure in rendered_markdown(chapter_2, first)


def test_a_glued_value_shows_as_the_note_says(browser, lab):
    """As the note says: a {glue:text} role shows its name and format (chapter 6's title cell
    holds `ch6-params:,d`, its note's example). If jupyterlab-myst learns glue, the note goes."""
    page = new_page(browser, lab)
    path = "chapters/06_linear.ipynb"
    open_notebook(page, lab, path)
    example, _ = note_examples(path)
    assert ":" in example and example in rendered_markdown(page, 1)
    assert example in rendered_markdown(page, 0), rendered_markdown(page, 0)[:400]
    page.context.close()


def test_chapter_2_explorer_responds_with_a_live_kernel(chapter_2):
    page = chapter_2
    # The outputs stored in the notebook name widgets no kernel has made: clear them first, so
    # that the explorer found below is the one this kernel made.
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    assert not page.locator(f"{PANEL} .byhand-explorer").count()
    run_all(page)
    explorer = page.locator(f"{PANEL} .byhand-explorer").first
    explorer.wait_for()
    explorer.scroll_into_view_if_needed()
    shown = ("(el) => [...el.querySelectorAll('.widget-html-content')].map(e => e.innerText)"
             ".filter(t => t.trim()).join(' | ')")
    before = explorer.evaluate(shown)
    assert before, "the explorer shows nothing"
    handle = explorer.locator(".noUi-handle").first
    handle.focus()
    handle.press("ArrowRight")
    changed = f"([el, old]) => ({shown})(el) !== old"
    page.wait_for_function(changed, arg=[explorer.element_handle(), before], timeout=10000)
    # and back again: the view depends on the slider alone
    handle.press("ArrowLeft")
    page.wait_for_function(f"([el, old]) => ({shown})(el) === old",
                           arg=[explorer.element_handle(), before], timeout=10000)


def markdown_sources(path):
    """(index, source) of the notebook's markdown cells, as stored."""
    cells = json.loads((ROOT / path).read_text())["cells"]
    return [(k, "".join(c["source"])) for k, c in enumerate(cells) if c["cell_type"] == "markdown"]


def wait_for_markdown(page, path):
    """Wait until jupyterlab-myst has rendered every markdown cell of the notebook in front."""
    count = sum(1 for _, source in markdown_sources(path) if source.strip())
    rendered = json.dumps(f"{PANEL} .jp-MarkdownCell .myst")
    page.wait_for_function(f"(n) => document.querySelectorAll({rendered}).length >= n",
                           arg=count)
    page.wait_for_timeout(1000)  # the notebook-wide pass (numbering, references) comes after


@pytest.fixture(scope="module")
def exercise_3(browser, lab):
    """exercises/03_softmax.ipynb open in JupyterLab, its markdown rendered, nothing run."""
    path = "exercises/03_softmax.ipynb"
    page = new_page(browser, lab)
    open_notebook(page, lab, path)
    wait_for_markdown(page, path)
    yield page, path
    assert not page.blocked, f"JupyterLab asked for files elsewhere: {page.blocked[:5]}"
    page.context.close()


# Whether a <summary> shows that it opens: the browser's own triangle (a list item whose
# marker is not switched off) or a visible icon drawn for it (jupyterlab-myst's chevron).
MARKED = """(summary) => {
  const style = getComputedStyle(summary);
  if (style.display === 'list-item' && style.listStyleType !== 'none') return true;
  return [...summary.querySelectorAll('.details-toggle')].some(icon => {
    const box = icon.getBoundingClientRect();
    return box.width >= 8 && box.height >= 8 && getComputedStyle(icon).visibility === 'visible';
  });
}"""


def test_exercise_hints_are_folded_and_marked(exercise_3):
    page, path = exercise_3
    cells = json.loads((ROOT / path).read_text())["cells"]
    hints = [(k, "".join(c["source"])) for k, c in enumerate(cells)
             if "hints" in c["metadata"].get("tags", [])]
    assert len(hints) >= 3, f"only {len(hints)} hints cells in {path}"
    shown = page.locator(f"{PANEL} .jp-Notebook .jp-Cell")
    for k, source in hints:
        titles = re.findall(r"Hint \d+ of \d+", source)
        boxes = shown.nth(k).locator("details")
        assert boxes.count() == len(titles) >= 2, (
            f"cell {k}: {boxes.count()} folded boxes for the hints {titles}")
        for title, box in zip(titles, boxes.all()):
            box.scroll_into_view_if_needed()
            summary = box.locator(":scope > summary")
            assert not box.evaluate("(d) => d.open"), f"cell {k}: {title} is open"
            assert summary.evaluate(MARKED), f"cell {k}: {title} has no marker that it opens"
            assert summary.inner_text().strip() == title, (
                f"cell {k}: a hint box titled {summary.inner_text()!r}, not {title!r}")
            assert not box.locator(":scope > :not(summary)").first.is_visible()
    # The first hint opens on a click, and the second stays folded.
    k, source = hints[0]
    first, second = shown.nth(k).locator("details").all()[:2]
    first.locator(":scope > summary").click()
    body = first.locator(":scope > :not(summary)").first
    body.wait_for(state="visible", timeout=10000)
    words = source.split(":class: dropdown", 1)[-1].split()[:4]  # before any quote mark
    assert " ".join(body.inner_text().split()).startswith(" ".join(words)), body.inner_text()
    assert not second.evaluate("(d) => d.open")


# A link from a notebook's markdown to another notebook: [text](../folder/name.ipynb).
NOTEBOOK_LINK = re.compile(r"\[([^\]]+)\]\((\.\./[\w/]+\.ipynb)\)")

# [text, href] of every link in the rendered markdown of the notebook in front.
LINKS = f"""() => [...document.querySelectorAll({json.dumps(PANEL)} + ' .jp-MarkdownCell .myst a')]
  .map(a => [a.innerText.trim(), a.href])"""


def test_links_to_other_notebooks_open_them(exercise_3, lab):
    page, path = exercise_3
    shown = page.locator(f"{PANEL} .jp-Notebook .jp-Cell")
    # What a student sees: no link into the server's files that leads nowhere.
    for text, href in page.evaluate(LINKS):
        if href.startswith(lab + "files/"):
            target = unquote(urlparse(href).path[len(urlparse(lab).path + "files/"):])
            assert (ROOT / target).is_file(), f"the link {text!r} leads nowhere: {href}"
    # Every link the notebook has to another notebook is a link to that .ipynb.
    links = [(k, text, posixpath.normpath(posixpath.join(posixpath.dirname(path), target)))
             for k, source in markdown_sources(path)
             for text, target in NOTEBOOK_LINK.findall(source)]
    assert len(links) >= 3, f"only {len(links)} links to other notebooks in {path}"
    for k, text, target in links:
        anchor = shown.nth(k).locator(".myst a", has_text=text).first
        assert anchor.count(), f"cell {k}: no link {text!r}"
        href = anchor.evaluate("(a) => a.href")
        assert urlparse(href).path.endswith("/" + target), f"cell {k}: {text!r} links to {href}"
    # ... and a click opens it in JupyterLab, next to the exercises.
    k, text, target = links[0]
    here = page.evaluate("() => window.jupyterapp.shell.currentWidget.id")
    shown.nth(k).locator(".myst a", has_text=text).first.click()
    page.wait_for_function("(path) => window.jupyterapp.shell.currentWidget.context"
                           " && window.jupyterapp.shell.currentWidget.context.path === path",
                           arg=target, timeout=60000)
    page.evaluate("(id) => window.jupyterapp.shell.activateById(id)", here)


# The title of an admonition: the rest of its opening fence line.
ADMONITION_TITLE = re.compile(r"^(?:`{3,}|:{3,})\{admonition\}[ \t]+(.+)$", re.M)


def test_admonition_titles_render_as_titles(browser, lab):
    path = "chapters/10_mnist.ipynb"
    page = new_page(browser, lab)
    open_notebook(page, lab, path)
    wait_for_markdown(page, path)
    shown = page.locator(f"{PANEL} .jp-Notebook .jp-Cell")
    checked = 0
    for k, source in markdown_sources(path):
        titles = ADMONITION_TITLE.findall(source)
        if not titles:
            continue
        cell = shown.nth(k)
        cell.scroll_into_view_if_needed()
        headers = [" ".join(t.split()) for t in
                   cell.locator(".myst-admonition-header").all_inner_texts()]
        for title in titles:
            checked += 1
            # its words, up to any math (typeset, so read otherwise)
            want = " ".join(title.replace("`", "").split("$")[0].split())
            assert any(header.startswith(want) for header in headers), (
                f"cell {k}: the admonition {title!r} has no title; titles shown: {headers}")
        text = cell.locator(".myst").first.inner_text()
        assert "{admonition}" not in text and ":class:" not in text, (
            f"cell {k}: a directive shown as text:\n{text[:400]}")
    assert checked >= 3, f"only {checked} admonition titles in {path}"
    assert not page.blocked, f"JupyterLab asked for files elsewhere: {page.blocked[:5]}"
    page.context.close()
