"""The pinned environment that `make` installs from requirements.txt."""

import importlib.util
import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)$")


def pins():
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return dict(PIN.match(line).groups() for line in lines if line and not line.startswith("#"))


def test_every_line_is_an_exact_pin_and_installed_at_it():
    wrong = {}
    for name, pinned in pins().items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = None
        if installed != pinned:
            wrong[name] = (pinned, installed)
    assert not wrong, f"pinned vs installed (run `make` to reinstall): {wrong}"


def test_no_grammar_compiling_format_checker():
    """requirements.txt's header says why rfc3987-syntax is left out: importing it costs every
    process that imports nbformat seconds. A regenerated requirements.txt brings it back."""
    assert "rfc3987-syntax" not in pins() and "lark" not in pins(), \
        "requirements.txt pins rfc3987-syntax or lark again: remove them (see its header)"
    assert importlib.util.find_spec("rfc3987_syntax") is None, \
        "rfc3987-syntax is installed here: `make distclean` and make again, or pip uninstall it"
