"""Backprop by Hand helpers."""

# The version is written once, in pyproject.toml, and shared by the book (its footer, via
# book/ext/byhand_version.py) and this package. In a checkout, read it there, so a bump needs no
# reinstall; an installed copy (a wheel, as in JupyterLite) asks its own metadata.


def _version():
    from pathlib import Path

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        import tomllib

        with open(pyproject, "rb") as f:
            project = tomllib.load(f).get("project", {})
        if project.get("name") == "byhand":
            return str(project["version"])
    except (OSError, ValueError, KeyError):  # no checkout here (tomllib errors are ValueErrors)
        pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("byhand")
    except PackageNotFoundError:
        return "unknown"


__version__ = _version()
