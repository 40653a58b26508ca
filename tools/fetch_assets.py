"""Fetch the book's JavaScript assets from npm at pinned versions and lay them out for the site.

The web book must work with the network cut, so the math fonts and the ipywidgets HTML manager
are served from the site itself (the formulas are written as MathML at build time by Temml in
Node, laid out in `_build/build-assets/`). They come from the npm registry (`npm pack` downloads a package's
tarball without running any of its scripts), are checked against the sha256 recorded below, and
only the files the pages actually load are copied into `_build/extra/vendor/`, which Sphinx copies
to the site root (`html_extra_path`). Nothing fetched here is committed.

It also downloads, with pip, the wheels the book's JupyterLite site ships because Pyodide does not
distribute them (ipywidgets, comm, jupyterlab_widgets) or distributes an older one than byhand
needs (tqdm), at the versions pinned in requirements.txt, into `_build/wheels/`
(book/ext/byhand_lite.py puts them in the lite site); and the jupyterlab-myst wheel, at the
version requirements-lab.txt pins, whose prebuilt lab extension renders the notebooks' MyST in
the lite site as in JupyterLab (byhand_lite.py extracts the extension; piplite never sees it).

Run by `make assets`; safe to run again (a verified tarball is reused).
"""

import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARBALLS = ROOT / "_build" / "npm"
SITE_EXTRA = ROOT / "_build" / "extra"

PACKAGES = {
    # The fonts the formulas are drawn in. The formulas are written as MathML when the book is
    # built (book/ext/byhand_math.py, with Temml: see BUILD_PACKAGES) and the browser lays them
    # out itself, in STIX Two Math: an OpenType math font (it has the MATH table the layout of
    # fractions, scripts and stretched delimiters needs). Fontsource calls the file "latin",
    # but it is the whole font (every glyph the book uses: tests/test_math_prerender.py).
    "@fontsource/stix-two-math@5.3.0": {
        "tarball": "fontsource-stix-two-math-5.3.0.tgz",
        "sha256": "948de1b5470fbbd745fedbe6135797454fe833d94feecc6f2073cd771fe2f5fd",
        "dest": "vendor/stix-two-math",
        "files": ["files/stix-two-math-latin-400-normal.woff2", "LICENSE"],
        "strip": "files/",
    },
    # Temml's own font: its \mathscr letters (a page loads it only if it has one).
    "temml@0.13.5": {
        "tarball": "temml-0.13.5.tgz",
        "sha256": "bca5b76dd26d1d6c81f8d817f6cc8bf0f0a1a7787512e281d5c22b986f8ae582",
        "dest": "vendor/temml",
        "files": ["dist/Temml.woff2", "LICENSE"],
        "strip": "dist/",
    },
    "@jupyter-widgets/html-manager@1.0.15": {
        "tarball": "jupyter-widgets-html-manager-1.0.15.tgz",
        "sha256": "2b9d65cb7913e1c7d671757a10008b32c9c2448d4429513371e55c07d6107638",
        "dest": "vendor/widgets",
        # The standalone bundle (built-in widgets only) finds its icon fonts beside itself.
        # Browsers that can run it take woff2, so the older font formats are left out.
        "files": ["dist/embed.js", "dist/*.woff2", "dist/embed.js.LICENSE.txt", "LICENSE"],
        "strip": "dist/",
    },
}

# For the build only, never served by the site: Temml (TeX to MathML) and its style sheet for
# MathML Core browsers, with which book/ext/byhand_math.py writes the formulas (the same tarball).
BUILD_ASSETS = ROOT / "_build" / "build-assets"
BUILD_PACKAGES = {
    "temml@0.13.5": dict(
        PACKAGES["temml@0.13.5"],
        dest="temml",
        files=["dist/temml.cjs", "dist/Temml-Local.css", "LICENSE"],
    ),
}

# For the browser tests only, never served by the site: axe-core, the accessibility engine that
# tests/test_site_readers.py injects into each page. Laid out in _build/test-assets/, not in
# _build/extra/ (which Sphinx copies into the site).
TEST_ASSETS = ROOT / "_build" / "test-assets"
TEST_PACKAGES = {
    "axe-core@4.14.1": {
        "tarball": "axe-core-4.14.1.tgz",
        "sha256": "e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745",
        "dest": "axe-core",
        "files": ["axe.min.js", "LICENSE"],
        "strip": "",
    },
    # Pyodide's core (the wasm runtime and the standard library, no packages), which Node runs
    # offline: tests/test_derive_pyodide.py checks the derivation checker under it. 314.0.6 is
    # the version the JupyterLite kernel (jupyterlite-pyodide-kernel 0.8.6) loads.
    "pyodide@314.0.6": {
        "tarball": "pyodide-314.0.6.tgz",
        "sha256": "d78ac549b28a2a58600cd06f44e017024151775f8c6b2d73fab1475400d38ea2",
        "dest": "pyodide",
        "files": ["pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip",
                  "pyodide-lock.json", "package.json", "README.md"],
        "strip": "",
    },
}

# embed.js carries the source maps of its 17 style sheets (416 kB of its 1.9 MB), which only a
# browser's developer tools read; its style loader appends them to each <style> as base64 when
# present and skips them when the map is null (css-loader's runtime: `if (!map) return css`).
# Replacing them with null is the one change made to a vendored file.
CSS_SOURCE_MAP = re.compile(
    r'\{version:3,sources:\[[^\]]*\],names:\[\],mappings:"[^"]*",'
    r'sourcesContent:\[(?:"(?:[^"\\]|\\.)*",?)*\],sourceRoot:""\}'
)
CSS_SOURCE_MAPS_IN_EMBED = 17

# Our own small scripts that go beside the vendored ones.
OWN_JS = ROOT / "book" / "js"

# Wheels for the JupyterLite site (pure Python; pinned in requirements.txt): the kernel's...
WHEELS = ROOT / "_build" / "wheels"
LITE_WHEELS = ("ipywidgets", "comm", "jupyterlab_widgets", "tqdm")
# ...and the lab extension's, pinned for `make lab` in requirements-lab.txt (one pin for both).
LAB_EXTENSION_WHEELS = ("jupyterlab_myst",)


def fail(message):
    sys.exit(f"fetch_assets: {message}")


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(spec, meta):
    tarball = TARBALLS / meta["tarball"]
    if tarball.exists() and sha256(tarball) == meta["sha256"]:
        return tarball
    TARBALLS.mkdir(parents=True, exist_ok=True)
    if shutil.which("npm") is None:
        fail(
            "npm was not found on PATH. The book serves its math fonts and the widget manager from npm "
            "packages; install Node.js (which brings npm), e.g. `apt-get install npm`, then run "
            "the command again."
        )
    result = subprocess.run(
        ["npm", "pack", spec, "--silent", "--pack-destination", str(TARBALLS)],
        capture_output=True, text=True,
    )
    if result.returncode != 0 or not tarball.exists():
        fail(f"`npm pack {spec}` failed (exit {result.returncode}):\n{result.stderr.strip()}")
    got = sha256(tarball)
    if got != meta["sha256"]:
        tarball.unlink()
        fail(f"{tarball.name}: sha256 {got} does not match the pinned {meta['sha256']}")
    return tarball


def wanted(name, patterns):
    from fnmatch import fnmatch
    for pattern in patterns:
        full = "package/" + pattern
        if fnmatch(name, full) or name.startswith(full + "/"):
            return True
    return False


def unpack(tarball, meta, root=SITE_EXTRA):
    dest = root / meta["dest"]
    if dest.exists():
        shutil.rmtree(dest)
    copied = 0
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            if not member.isfile() or not wanted(member.name, meta["files"]):
                continue
            relative = member.name.removeprefix("package/").removeprefix(meta["strip"])
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as src:
                target.write_bytes(src.read())
            copied += 1
    if copied == 0:
        fail(f"nothing was copied from {tarball.name}: has the package layout changed?")
    return copied


def strip_css_source_maps(embed):
    text = embed.read_text(encoding="utf-8")
    stripped, count = CSS_SOURCE_MAP.subn("null", text)
    if count != CSS_SOURCE_MAPS_IN_EMBED:
        fail(f"{embed.name}: expected {CSS_SOURCE_MAPS_IN_EMBED} CSS source maps, found {count}")
    embed.write_text(stripped, encoding="utf-8")
    return len(text) - len(stripped)


def pinned(project, requirements="requirements.txt"):
    normal = project.lower().replace("_", "-")
    for line in (ROOT / requirements).read_text(encoding="utf-8").splitlines():
        name, sep, version = line.strip().partition("==")
        if sep and name.lower().replace("_", "-") == normal:
            return version
    fail(f"{project} is not pinned in {requirements}")


def fetch_wheels():
    specs = [f"{project}=={pinned(project)}" for project in LITE_WHEELS]
    specs += [f"{project}=={pinned(project, 'requirements-lab.txt')}"
              for project in LAB_EXTENSION_WHEELS]
    wanted_names = {spec.split("==")[0].lower().replace("-", "_") + "-" + spec.split("==")[1]
                    for spec in specs}
    WHEELS.mkdir(parents=True, exist_ok=True)
    have = {"-".join(w.name.split("-")[:2]).lower() for w in WHEELS.glob("*-py3-none-any.whl")}
    if not wanted_names <= have:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
             "--no-deps", "--only-binary=:all:", "--dest", str(WHEELS), *specs],
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            fail(f"`pip download {' '.join(specs)}` failed:\n{result.stderr.strip()}")
    # Only the pinned versions stay (a pin may have changed since the last download).
    for wheel in WHEELS.glob("*.whl"):
        if "-".join(wheel.name.split("-")[:2]).lower() not in wanted_names:
            wheel.unlink()
    print(f"fetch_assets: wheels for the JupyterLite site -> _build/wheels: {', '.join(specs)}")


def main():
    for spec, meta in PACKAGES.items():
        copied = unpack(fetch(spec, meta), meta)
        print(f"fetch_assets: {spec}: {copied} files -> _build/extra/{meta['dest']}")
    for spec, meta in BUILD_PACKAGES.items():
        copied = unpack(fetch(spec, meta), meta, root=BUILD_ASSETS)
        print(f"fetch_assets: {spec}: {copied} files -> _build/build-assets/{meta['dest']} (build only)")
    for spec, meta in TEST_PACKAGES.items():
        copied = unpack(fetch(spec, meta), meta, root=TEST_ASSETS)
        print(f"fetch_assets: {spec}: {copied} files -> _build/test-assets/{meta['dest']} (tests only)")
    saved = strip_css_source_maps(SITE_EXTRA / "vendor" / "widgets" / "embed.js")
    print(f"fetch_assets: embed.js: CSS source maps removed ({saved:,} bytes)")
    own = SITE_EXTRA / "vendor" / "book"
    own.mkdir(parents=True, exist_ok=True)
    for script in OWN_JS.glob("*.js"):
        shutil.copy2(script, own / script.name)
    fetch_wheels()


if __name__ == "__main__":
    main()
