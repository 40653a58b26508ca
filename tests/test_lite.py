"""The book's JupyterLite site (`$BYHAND_SITE/lite`, default `_build/html/lite`, as built by
`make book`).

Checks the files, not a running kernel: every chapter, exercise and solution notebook is in the
site, listed in its contents index, with the install cell before its first code cell; the wheels
that cell installs are shipped, indexed and complete (every dependency resolvable without PyPI);
the site stays lean. In Chromium, offline: a chapter opened in the lite app shows its MyST
rendered (jupyterlab-myst), not raw. Opening a notebook from its page's launch button is in
tests/test_site.py. What no offline test can do, booting Pyodide from its CDN, is said in the
README.

Also here: the Binder environment agrees with requirements.txt.
"""

import ast
import asyncio
import hashlib
import json
import os
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from browser import chromium, fail_if_stale, only_local, serve
from test_notebooks import JUPYTER_NOTE, jupyter_note_examples
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("BYHAND_SITE") or ROOT / "_build" / "html").resolve()
LITE = SITE / "lite"
sys.path.insert(0, str(ROOT / "book" / "ext"))
import byhand_lite  # noqa: E402

NOTEBOOKS = sorted(p.relative_to(ROOT).as_posix() for p in byhand_lite.notebooks(ROOT))
KERNEL_INDEX = LITE / "extensions" / "@jupyterlite" / "pyodide-kernel-extension" / "static" / "pypi" / "all.json"
# The whole lite site, uncompressed: JupyterLab's code is ~20 MB of it, jupyterlab-myst's
# 7.4 MB (its JavaScript is split in chunks loaded on demand: a chapter loads a fraction).
LITE_BUDGET = 36_000_000

# What the Pyodide distribution the kernel loads (314.0.6, jupyterlite-pyodide-kernel 0.8.6's
# default) provides among our wheels' dependencies, from its pyodide-lock.json. A dependency
# found neither here nor in the site's own indexes would send piplite to PyPI.
PYODIDE_PROVIDES = {
    "numpy": "2.4.6", "sympy": "1.14.0", "mpmath": "1.4.1", "matplotlib": "3.10.8",
    "scipy": "1.18.0", "ipython": "9.12.0", "traitlets": "5.14.3", "tqdm": "4.67.3",
}
# The platform piplite resolves for (markers of optional dependencies are evaluated there).
PYODIDE_ENV = {"python_version": "3.14", "python_full_version": "3.14.2", "sys_platform": "emscripten",
               "platform_system": "Emscripten", "implementation_name": "cpython", "extra": ""}


@pytest.fixture(scope="module")
def lite():
    if not (LITE / "lab" / "index.html").exists():
        pytest.fail(f"no JupyterLite site in {LITE}: run `make book` first (or set BYHAND_SITE)")
    if SITE == ROOT / "_build" / "html":  # BYHAND_SITE may name another build
        fail_if_stale(SITE)
    return LITE


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def listing(folder):
    """The lite contents API's listing of a folder ("" is the root), as {path: type}."""
    index = LITE / "api" / "contents" / folder / "all.json"
    assert index.exists(), f"the lite site has no contents index for /{folder}"
    return {item["path"]: item["type"] for item in load(index)["content"]}


def index_of(path):
    return {canonicalize_name(name): project for name, project in load(path).items()}


def wheel_metadata(wheel):
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return zf.read(name).decode()


def requires(wheel):
    for line in wheel_metadata(wheel).splitlines():
        if line.startswith("Requires-Dist:"):
            req = Requirement(line.split(":", 1)[1].strip())
            if req.marker is None or req.marker.evaluate(PYODIDE_ENV):
                yield req


def test_every_notebook_is_in_the_lite_site(lite):
    assert any(p.startswith("chapters/") for p in NOTEBOOKS)
    assert any(p.startswith("exercises/") for p in NOTEBOOKS)
    root = listing("")
    for folder in byhand_lite.NOTEBOOK_DIRS:
        assert root.get(folder) == "directory", f"{folder}/ is not in the lite site's root listing"
    for path in NOTEBOOKS:
        assert (LITE / "files" / path).exists(), f"{path} is not in the lite site"
        folder = path.rsplit("/", 1)[0]
        assert listing(folder).get(path) == "notebook", f"{path} is not indexed as a notebook"


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_lite_notebook_is_the_source_plus_the_install_cell(lite, path):
    source = load(ROOT / path)
    lite = load(LITE / "files" / path)
    installs = [c for c in lite["cells"] if byhand_lite.INSTALL_TAG in c["metadata"].get("tags", [])]
    assert len(installs) == 1, "the lite copy must have exactly one install cell"
    first_code = next(c for c in lite["cells"] if c["cell_type"] == "code")
    assert first_code is installs[0], "the install cell must come before every other code cell"
    assert "".join(first_code["source"]) == "".join(byhand_lite.INSTALL_SOURCE)
    rest = [c for c in lite["cells"] if c is not first_code]
    assert [c["source"] for c in rest] == [c["source"] for c in source["cells"]], (
        "the lite copy is out of date with the source notebook")


def test_install_cell_does_nothing_outside_pyodide():
    code = compile("".join(byhand_lite.INSTALL_SOURCE), "<install cell>", "exec",
                   flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace = {}
    result = eval(code, namespace)  # a coroutine, because the cell contains `await`
    if asyncio.iscoroutine(result):
        asyncio.run(result)
    assert "piplite" not in namespace


def test_wheels_are_shipped_and_indexed(lite):
    index = index_of(LITE / "pypi" / "all.json")
    for project in ("byhand", "ipywidgets", "comm", "jupyterlab-widgets", "tqdm"):
        assert project in index, f"{project} is not in the lite site's pypi/all.json"
        releases = index[project]["releases"]
        assert len(releases) == 1, f"{project}: one version expected, found {list(releases)}"
        (dist,) = next(iter(releases.values()))
        wheel = LITE / "pypi" / dist["url"].removeprefix("./")
        assert wheel.exists(), f"{project}: {dist['url']} is indexed but not shipped"
        assert hashlib.sha256(wheel.read_bytes()).hexdigest() == dist["digests"]["sha256"]


def test_the_kernel_reads_the_site_index(lite):
    config = load(LITE / "jupyter-lite.json")["jupyter-config-data"]
    kernel = config["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    # The site's index comes first, before the kernel's own; the query pins its content.
    path, _, query = kernel["pipliteUrls"][0].partition("?")
    assert path == "./pypi/all.json"
    index = (LITE / "pypi" / "all.json").read_bytes()
    assert query == f"sha256={hashlib.sha256(index).hexdigest()}"


def test_shipped_wheels_resolve_without_pypi(lite):
    ours = index_of(LITE / "pypi" / "all.json")
    kernels = index_of(KERNEL_INDEX)  # piplite's own wheels, incl. a stand-in widgetsnbextension
    for wheel in sorted((LITE / "pypi").glob("*.whl")):
        for req in requires(wheel):
            name = canonicalize_name(req.name)
            versions = [v for idx in (ours, kernels) if name in idx for v in idx[name]["releases"]]
            if name in PYODIDE_PROVIDES:
                versions.append(PYODIDE_PROVIDES[name])
            assert versions, f"{wheel.name} needs {req}, which neither the site nor Pyodide has"
            assert any(Version(v) in req.specifier for v in versions), (
                f"{wheel.name} needs {req}; available: {versions}")


def test_a_shipped_wheel_pyodide_also_has_is_the_one_installed():
    """piplite (micropip) takes a package from Pyodide's own distribution first whenever its
    version satisfies the requirement: a wheel the site ships of a project Pyodide also has
    (tqdm: Pyodide's 4.67.3 draws text, not its widget, in JupyterLite) is installed only if
    byhand's requirement leaves Pyodide's version out and the pinned one in."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needs = {canonicalize_name(r.name): r for r in map(Requirement, project["dependencies"])}
    pins = {canonicalize_name(line.split("==")[0]): line.split("==")[1].strip()
            for line in (ROOT / "requirements.txt").read_text().splitlines() if "==" in line}
    both = [canonicalize_name(p) for p in byhand_lite.SHIPPED
            if canonicalize_name(p) in PYODIDE_PROVIDES]
    assert "tqdm" in both
    for name in both:
        assert name in needs, f"byhand does not require {name}: Pyodide's copy would be used"
        assert Version(PYODIDE_PROVIDES[name]) not in needs[name].specifier, (
            f"byhand requires {needs[name]}, which Pyodide's {name} "
            f"{PYODIDE_PROVIDES[name]} satisfies: the shipped wheel would not be used")
        assert Version(pins[name]) in needs[name].specifier, (
            f"requirements.txt pins {name}=={pins[name]}, outside byhand's {needs[name]}")


def test_byhand_wheel_is_the_package(lite):
    (wheel,) = (LITE / "pypi").glob("byhand-*.whl")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert wheel.name == f"byhand-{project['version']}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        shipped = {n: zf.read(n) for n in zf.namelist() if n.startswith("byhand/")}
    sources = {p.relative_to(ROOT).as_posix(): p.read_bytes()
               for p in (ROOT / "byhand").rglob("*.py") if "__pycache__" not in p.parts}
    assert shipped.keys() == sources.keys()
    assert all(shipped[n] == sources[n] for n in sources), "the byhand wheel is out of date"
    assert sorted(str(r) for r in requires(wheel)) == sorted(project["dependencies"])


def test_lite_site_is_lean(lite):
    maps = [p.relative_to(LITE).as_posix() for p in LITE.rglob("*.map")]
    assert maps == [], f"source maps in the lite site: {maps[:5]}"
    extensions = sorted(p.parent.relative_to(LITE / "extensions").as_posix()
                        for p in (LITE / "extensions").rglob("package.json"))
    assert extensions == sorted([*byhand_lite.LAB_EXTENSIONS, *byhand_lite.EXTENSION_WHEELS])
    size = sum(p.stat().st_size for p in LITE.rglob("*") if p.is_file())
    assert size <= LITE_BUDGET, f"the lite site holds {size:,} bytes; budget {LITE_BUDGET:,}"


def test_lite_myst_is_the_version_jupyterlab_gets(lite):
    """The lite site renders MyST with the jupyterlab-myst that requirements-lab.txt pins for
    `make lab` (a changed pin needs `tools/fetch_assets.py` run again)."""
    pins = {canonicalize_name(line.split("==")[0]): line.split("==")[1].strip()
            for line in (ROOT / "requirements-lab.txt").read_text().splitlines() if "==" in line}
    for name in byhand_lite.EXTENSION_WHEELS:
        shipped = load(LITE / "extensions" / name / "package.json")["version"]
        assert shipped == pins[canonicalize_name(name)], (
            f"the lite site has {name} {shipped}, requirements-lab.txt pins {pins[name]}")


def test_binder_pins_agree_with_requirements():
    def pins(path):
        return {canonicalize_name(line.split("==")[0]): line.split("==")[1].strip()
                for line in path.read_text().splitlines() if "==" in line and not line.startswith("#")}

    binder, main = pins(ROOT / "binder" / "requirements.txt"), pins(ROOT / "requirements.txt")
    assert binder, "binder/requirements.txt pins nothing"
    for name, version in binder.items():
        assert main.get(name) == version, f"binder pins {name}=={version}, requirements.txt {main.get(name)}"
    post_build = ROOT / "binder" / "postBuild"
    assert post_build.stat().st_mode & 0o111, "binder/postBuild must be executable"
    assert "pip install" in post_build.read_text()


# --- in the browser: what a student sees in the lite app ---------------------------------------

# A markdown cell's rendered view: jupyterlab-myst's, or else JupyterLab's own renderer's.
VIEW = ".jp-Cell-inputArea > .myst, .jp-RenderedMarkdown"
# How many markdown cells of the open notebook are rendered.
RENDERED = f"""() => [...document.querySelectorAll('.jp-Notebook .jp-MarkdownCell')]
  .filter(cell => cell.querySelector('{VIEW}')?.textContent.trim()).length"""
# Per markdown cell of the open notebook, in order: what its rendered view shows. Text is read with
# textContent: the app skips laying out cells out of view (CSS content-visibility), and
# innerText would leave their text out. `prose` is the text without the typeset formulas (their
# markup keeps the TeX for screen readers) and without inline code, where a `$` may stand; a
# fenced block (`pre`) stays in: a `$` there is raw TeX in a directive shown as code.
VIEWS = f"""() => {{
const titles = (view, box) => [...view.querySelectorAll(box + ' .myst-exercise-title')]
  .map(e => e.textContent.replace(/\\s+/g, ' ').trim());
return [...document.querySelectorAll('.jp-Notebook .jp-MarkdownCell')].map(cell => {{
  const view = cell.querySelector('{VIEW}');
  const prose = view.cloneNode(true);
  prose.querySelectorAll('.katex, mjx-container, :not(pre) > code').forEach(e => e.remove());
  return {{
    text: view.textContent.trim(),
    prose: prose.textContent,
    math: view.querySelectorAll('.katex, mjx-container').length,
    exercises: titles(view, 'aside.myst-exercise'),
    folded: titles(view, 'details.myst-exercise:not([open])'),
  }};
}});
}}"""


@pytest.fixture(scope="module")
def server(lite):
    yield from serve(SITE, "lite/lab/index.html")


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


def test_a_chapter_in_the_lite_app_shows_myst_rendered(browser, server):
    """jupyterlab-myst renders the chapter's MyST as the book does (and as `make lab` does):
    no `(label)=` line above the title, each {exercise} a titled exercise box rather than a
    code block and its {solution} folded below it, every formula typeset. Without the
    extension all of them show raw."""
    path = "chapters/03_softmax.ipynb"
    cells = load(LITE / "files" / path)["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    label, title = sources[0].splitlines()[:2]
    assert label.startswith("(") and label.endswith(")="), f"{path}: no label line to hide"
    exercises = sum(s.count("```{exercise}") for s in sources)
    assert exercises > 0, f"{path} has no exercise to look at"

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    blocked = []
    context.route("**/*", only_local(server, blocked))
    page = context.new_page()
    try:
        page.goto(f"{server}lite/lab/index.html?path={path}")
        # The app opens the notebook after it has loaded, then renders cell after cell.
        page.wait_for_function(f"() => ({RENDERED})() === {len(sources)}",
                               timeout=120_000, polling=500)
        views = page.evaluate(VIEWS)
    finally:
        context.close()

    first = views[0]["text"]
    assert not first.startswith(label), f"{path}: the label line shows raw:\n{first[:200]}"
    assert first.startswith(title.lstrip("# ")), (
        f"{path}: the first cell does not start with its title:\n{first[:200]}")
    # The note for Jupyter readers (tests/test_notebooks.py), which the web book leaves out
    assert sources[1].startswith(JUPYTER_NOTE) and views[1]["text"].startswith(
        JUPYTER_NOTE.strip("*")), f"{path}: the note for Jupyter readers:\n{views[1]['text'][:200]}"
    assert jupyter_note_examples(sources[1])[0] in views[1]["text"]
    shown = [t for v in views for t in v["exercises"]]
    assert shown == [f"Exercise {n}" for n in range(1, exercises + 1)], (
        f"{path}: {exercises} exercises in the source, shown as exercise boxes: {shown}")
    folded = [t for v in views for t in v["folded"]]
    assert folded == [f"Solution to Exercise {n}" for n in range(1, exercises + 1)], (
        f"{path}: {exercises} solutions in the source, shown folded: {folded}")
    for source, view in zip(sources, views):
        if "$" in source:
            assert view["math"] > 0 and "$" not in view["prose"], (
                f"{path}: raw TeX in the cell starting {source[:60]!r}:\n{view['prose'][:300]}")
    # The kernel's worker asks for Pyodide from its CDN (blocked here); nothing else leaves.
    assert all(url.endswith("/pyodide.mjs") for url in blocked), (
        f"requests to other hosts: {blocked}")
