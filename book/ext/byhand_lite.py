"""The book's JupyterLite site: every notebook of the book, runnable in the browser.

A Sphinx extension around jupyterlite-sphinx. It

- stages what `jupyter lite build` reads in `<build dir>/lite-src/` (never in the source tree):
  a copy of every notebook in chapters/, exercises/ and solutions/ with one extra code cell (below),
  and in `pypi/` the wheels piplite installs from the site itself: `byhand`, built here from this
  repository; ipywidgets, comm and jupyterlab_widgets, which Pyodide does not distribute; and
  tqdm, whose copy in Pyodide (4.67.3) is too old to draw its widget in JupyterLite (byhand
  requires tqdm>=4.68.3, so piplite takes this one). tools/fetch_assets.py downloads them at
  the versions pinned in requirements.txt;
- has jupyterlite-sphinx build the site into `<html outdir>/lite/` (source maps stripped, only
  the shared packages the apps use, only the lab extensions the notebooks need: the Pyodide
  kernel's and the widget manager's from this environment, and jupyterlab-myst's, which renders
  the notebooks' MyST markdown (labels, roles, exercises, admonitions, math) as JupyterLab does
  with `make lab`, from its wheel in `_build/wheels/`: it is not installed here);
- points each notebook page's "JupyterLite" launch button (sphinx-book-theme) at that page's
  notebook in the lite site with a page-relative URL, so the book works from any sub-path;
- drops the CSS and JavaScript jupyterlite-sphinx adds to every page (a web font from another
  host among them): the book uses none of its directives.

The extra cell. The source notebooks stay as they are (they run in any Jupyter with `byhand`
importable); in the lite copies, before the first code cell, sits

    import sys
    if sys.platform == "emscripten":  # Pyodide ...
        import piplite
        await piplite.install(["byhand", "ipywidgets"])

which installs both from the site's own `pypi/` index (their dependencies, tqdm among them, come
from there or from Pyodide's distribution), and does nothing in any other Jupyter.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import shutil
import subprocess
import sys
import tomllib
import types
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIRS = ("chapters", "exercises", "solutions")
LITE_DIR = "lite"  # jupyterlite-sphinx's output folder inside the html outdir
LAB_URL = f"{LITE_DIR}/lab/index.html"
# Downloaded by tools/fetch_assets.py (pins from requirements.txt; jupyterlab-myst's from
# requirements-lab.txt); byhand is built here.
FETCHED_WHEELS = ROOT / "_build" / "wheels"
SHIPPED = ("ipywidgets", "comm", "jupyterlab_widgets", "tqdm")
# Lab extensions the lite site needs: the Pyodide kernel and the ipywidgets manager...
LAB_EXTENSIONS = ("@jupyterlite/pyodide-kernel-extension", "@jupyter-widgets/jupyterlab-manager")
# ...and, by the wheel that carries it (fetched, never offered to piplite), the MyST renderer.
# Its wheel's server part (a notebook-trust notary) is for jupyter-server, which the lite site
# has none of; JupyterLite takes only the prebuilt extension in share/jupyter/labextensions.
EXTENSION_WHEELS = {"jupyterlab-myst": "jupyterlab_myst"}
INSTALL_TAG = "byhand-lite-install"
INSTALL_SOURCE = [
    "# In JupyterLite (Python in the browser), install the book's helpers from this site.\n",
    "# In any other Jupyter this cell does nothing: there, `pip install -e .` in the repository.\n",
    "import sys\n",
    'if sys.platform == "emscripten":  # Pyodide, the Python of JupyterLite\n',
    "    import piplite\n",
    '    await piplite.install(["byhand", "ipywidgets"])',
]
# A fixed timestamp, so the same sources give the same wheel byte for byte.
WHEEL_DATE = (2026, 1, 1, 0, 0, 0)


class LiteError(RuntimeError):
    pass


# --- the notebooks ---------------------------------------------------------------------------

def lite_notebook(nb: dict) -> dict:
    """A copy of the notebook `nb` (as JSON) with the install cell before its first code cell."""
    nb = copy.deepcopy(nb)
    cells = nb["cells"]
    at = next((i for i, c in enumerate(cells) if c["cell_type"] == "code"), len(cells))
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": [INSTALL_TAG]},
        "outputs": [],
        "source": list(INSTALL_SOURCE),
    }
    if nb.get("nbformat", 4) >= 4 and nb.get("nbformat_minor", 0) >= 5:
        cell["id"] = INSTALL_TAG
    cells.insert(at, cell)
    return nb


def notebooks(srcdir: Path):
    for folder in NOTEBOOK_DIRS:
        yield from sorted((srcdir / folder).glob("*.ipynb"))


def stage_contents(srcdir: Path, contents: Path) -> int:
    count = 0
    for path in notebooks(srcdir):
        target = contents / path.relative_to(srcdir)
        target.parent.mkdir(parents=True, exist_ok=True)
        nb = json.loads(path.read_text(encoding="utf-8"))
        target.write_text(json.dumps(lite_notebook(nb), indent=1, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        count += 1
    return count


# --- the wheels ------------------------------------------------------------------------------

def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def build_byhand_wheel(project: Path, dest: Path) -> Path:
    """A pure-Python wheel of the `byhand` package, from pyproject.toml and byhand/**.py.

    Written directly (a wheel is a zip with a .dist-info folder): no build backend, no network,
    nothing written into the source tree, and the same bytes for the same sources.
    """
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    name, version = meta["name"], meta["version"]
    dist_info = f"{name}-{version}.dist-info"
    files = {}
    for path in sorted((project / name).rglob("*.py")):
        if "__pycache__" not in path.parts:
            files[path.relative_to(project).as_posix()] = path.read_bytes()
    metadata = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        f"Summary: {meta.get('description', '')}",
        f"Requires-Python: {meta['requires-python']}",
        *(f"Requires-Dist: {dep}" for dep in meta.get("dependencies", [])),
    ]
    files[f"{dist_info}/METADATA"] = ("\n".join(metadata) + "\n").encode()
    files[f"{dist_info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: byhand_lite\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    ).encode()
    files[f"{dist_info}/top_level.txt"] = f"{name}\n".encode()
    record = [f"{path},{_record_hash(data)},{len(data)}" for path, data in files.items()]
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()

    dest.mkdir(parents=True, exist_ok=True)
    wheel = dest / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path, data in files.items():
            info = zipfile.ZipInfo(path, date_time=WHEEL_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return wheel


def fetched_wheel(project: str) -> Path:
    """The one wheel of `project` that tools/fetch_assets.py downloaded."""
    found = sorted(FETCHED_WHEELS.glob(f"{project}-*-py3-none-any.whl"))
    if len(found) != 1:
        raise LiteError(
            f"expected one {project} wheel in {FETCHED_WHEELS}, found {len(found)}: "
            "run `make book` (or `.venv/bin/python tools/fetch_assets.py`) first"
        )
    return found[0]


def stage_wheels(pypi: Path) -> list[Path]:
    if pypi.exists():
        shutil.rmtree(pypi)
    pypi.mkdir(parents=True)
    staged = []
    for project in SHIPPED:
        wheel = fetched_wheel(project)
        staged.append(Path(shutil.copy2(wheel, pypi / wheel.name)))
    staged.append(build_byhand_wheel(ROOT, pypi))
    return staged


# --- the JupyterLite build -------------------------------------------------------------------

def extension_wheel(name: str, project: str) -> Path:
    """The fetched wheel of `project`, checked to carry the prebuilt lab extension `name`
    (jupyter lite build skips a wheel's extension without load information, silently)."""
    wheel = fetched_wheel(project)
    with zipfile.ZipFile(wheel) as zf:
        manifests = [n for n in zf.namelist()
                     if n.endswith(f"/share/jupyter/labextensions/{name}/package.json")]
        package = json.loads(zf.read(manifests[0])) if manifests else {}
    if not package.get("jupyterlab", {}).get("_build", {}).get("load"):
        raise LiteError(f"{wheel.name} carries no prebuilt lab extension {name} "
                        f"(share/jupyter/labextensions/{name}/package.json with jupyterlab._build)")
    return wheel


def lite_build_config() -> dict:
    labextensions = Path(sys.prefix) / "share" / "jupyter" / "labextensions"
    extensions = []
    for name in LAB_EXTENSIONS:
        path = labextensions / name
        if not (path / "package.json").exists():
            raise LiteError(f"the lab extension {name} is not installed in {sys.prefix}")
        extensions.append(str(path))
    # jupyter lite build unpacks a local .whl and copies its share/jupyter/labextensions/*.
    extensions += [str(extension_wheel(name, project))
                   for name, project in EXTENSION_WHEELS.items()]
    return {
        "LiteBuildConfig": {
            "no_sourcemaps": True,
            "no_unused_shared_packages": True,
            # Only the extensions listed, not every one installed in the environment.
            "ignore_sys_prefix": ["federated_extensions"],
            "federated_extensions": extensions,
        }
    }


def staging_dir(app) -> Path:
    return Path(app.outdir).resolve().parent / "lite-src"


def run_lite_build_in(staging: Path):
    """Have jupyterlite-sphinx run `jupyter lite build` in `staging` instead of the source dir.

    Its paths are all absolute but doit keeps its state in `.jupyterlite.doit.db` in the working
    directory: in the source tree, two builds into different output dirs would share (and delete)
    it. jupyterlite-sphinx 0.23 takes `subprocess` from its module namespace; only its `run` is
    replaced, and only the working directory changes.
    """
    import jupyterlite_sphinx.jupyterlite_sphinx as module

    def run(command, **kwargs):
        kwargs["cwd"] = str(staging)
        return subprocess.run(command, **kwargs)

    module.subprocess = types.SimpleNamespace(
        run=run, PIPE=subprocess.PIPE, CalledProcessError=subprocess.CalledProcessError)


def configure(app, config):
    """Before jupyterlite-sphinx's own config-inited: stage under the build dir, not srcdir."""
    staging = staging_dir(app)
    run_lite_build_in(staging)
    config.jupyterlite_dir = str(staging)
    config.jupyterlite_content_dir = str(staging / "contents")  # absolute: joined to srcdir as is
    config.jupyterlite_contents = None
    config.jupyterlite_bind_ipynb_suffix = False  # .ipynb pages stay MyST-NB's


def stage(app, exception):
    """Runs at build-finished before jupyterlite-sphinx's build (which reads what this stages)."""
    if exception is not None or app.builder.format != "html":
        return
    staging = staging_dir(app)
    count = stage_contents(Path(app.srcdir), staging / "contents")
    wheels = stage_wheels(staging / "pypi")
    config = staging / "jupyter_lite_config.json"
    text = json.dumps(lite_build_config(), indent=2) + "\n"
    site = Path(app.outdir) / LITE_DIR
    if (not config.exists() or config.read_text(encoding="utf-8") != text
            or not (site / "lab" / "index.html").exists()):
        # doit's state says which tasks are done, but it counts neither the configuration among
        # a task's inputs nor every output: from a state of an earlier build (another
        # configuration, or a site since removed) it skips tasks (an extension is not copied).
        (staging / ".jupyterlite.doit.db").unlink(missing_ok=True)
    config.write_text(text, encoding="utf-8")
    print(f"[byhand-lite] staged {count} notebooks and {len(wheels)} wheels in {staging}")


def report(app, exception):
    """After the lite build: clean up what it leaves behind and say how big the site is."""
    if exception is not None or app.builder.format != "html":
        return
    site = Path(app.outdir) / LITE_DIR
    if not (site / "lab" / "index.html").exists():
        raise LiteError(f"the JupyterLite build left no {site}/lab/index.html")
    size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    print(f"[byhand-lite] the JupyterLite site in {site} holds {size / 1e6:.1f} MB")


def launch_url(app, pagename, templatename, context, doctree):
    """Make the theme's JupyterLite launch button page-relative (it writes the URL as given)."""
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []) if isinstance(group, dict) else []:
            if button.get("text") == "JupyterLite":
                button["url"] = f"{context['pathto'](LAB_URL, 1)}?path={pagename}.ipynb"


def drop_page_assets(app):
    """jupyterlite-sphinx adds a remote web font, a style sheet and a script to every page."""
    registry = app.registry
    registry.css_files = [
        (name, attrs) for name, attrs in registry.css_files
        if not (name.startswith(("http://", "https://")) or name == "jupyterlite_sphinx.css")
    ]
    registry.js_files = [(n, a) for n, a in registry.js_files if n != "jupyterlite_sphinx.js"]


def setup(app):
    app.setup_extension("jupyterlite_sphinx")
    drop_page_assets(app)
    app.connect("config-inited", configure, priority=100)
    app.connect("build-finished", stage, priority=100)
    app.connect("build-finished", report, priority=900)
    app.connect("html-page-context", launch_url, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
