"""The book's version in every page's footer, read from pyproject.toml at build time.

The version is written in one place, pyproject.toml's `[project] version`, which is also
`byhand.__version__` and the version of the `byhand` wheel the JupyterLite site ships.
CITATION.cff and CHANGELOG.md repeat it for readers, and tests/test_release.py keeps them equal.

At `config-inited` this sets Sphinx's `version` and `release` (the pages' `docsearch:version`
meta tag) and puts a line "Version X · Changes" in front of the theme's `extra_footer`. That
option is set under `sphinx: config: html_theme_options` in _config.yml: Jupyter Book's own
`html: extra_footer` is dropped there, since that dictionary replaces the theme options Jupyter
Book would build.
"""

from __future__ import annotations

import html
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def book_version(root: Path = ROOT) -> str:
    with open(root / "pyproject.toml", "rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def footer_line(version: str, repository: str | None, branch: str = "main") -> str:
    text = f"Version {html.escape(version)}"
    if repository:
        changes = f"{repository.rstrip('/')}/blob/{branch}/CHANGELOG.md"
        text += f' · <a href="{html.escape(changes)}">Changes</a>'
    return f'<p class="byhand-version">{text}</p>'


def add_version(app, config):
    version = book_version()
    config.version = config.release = version
    options = dict(config.html_theme_options or {})
    line = footer_line(version, options.get("repository_url"),
                       options.get("repository_branch") or "main")
    options["extra_footer"] = line + options.get("extra_footer", "")
    config.html_theme_options = options


def setup(app):
    app.connect("config-inited", add_version)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
