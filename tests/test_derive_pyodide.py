"""The derivation checks run under Pyodide, as in JupyterLite: offline, in Node.

Pyodide's core (npm `pyodide`, the version the lite kernel loads) is fetched by
tools/fetch_assets.py into _build/test-assets/pyodide. tests/pyodide_derive.mjs loads it in Node,
gives it SymPy and mpmath (pure Python, from this environment) and byhand/failure.py and
byhand/derive/, and checks every task's reference answer and its first classic mistake.

SymPy's sources are compiled to bytecode on import, which under Pyodide takes about 30 s. They
are kept, with the bytecode Pyodide writes beside them, in _build/test-assets/pyodide-site/,
one folder per SymPy, mpmath and Pyodide version, so only the first run pays for it. The
bytecode cannot go stale: Python checks it against its source's modification time and size on
every import. byhand.derive itself is never cached: it is copied afresh on every run. The times
the script reports are printed (run pytest with -s to see them); they are not asserted.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import mpmath
import pytest
import sympy

from byhand.derive import TASKS

ROOT = Path(__file__).resolve().parent.parent
PYODIDE = ROOT / "_build" / "test-assets" / "pyodide"
SCRIPT = ROOT / "tests" / "pyodide_derive.mjs"
CACHE = ROOT / "_build" / "test-assets" / "pyodide-site"


def cache_folder():
    """Where SymPy and mpmath, with their Pyodide bytecode, are kept for these versions."""
    pyodide = json.loads((PYODIDE / "package.json").read_text())["version"]
    return CACHE / f"sympy-{sympy.__version__}-mpmath-{mpmath.__version__}-pyodide-{pyodide}"


@pytest.fixture(scope="module")
def pyodide_rows():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the Pyodide test needs Node.js >= 20 "
                    "(apt-get install nodejs)")
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
    major = int(re.match(r"v(\d+)", version).group(1))
    assert major >= 20, f"Pyodide 314 needs Node.js >= 20, found {version.strip()}"
    if not (PYODIDE / "pyodide.mjs").exists():
        pytest.fail(f"Pyodide is missing from {PYODIDE.relative_to(ROOT)}: run `make book` "
                    "(or `.venv/bin/python tools/fetch_assets.py`) to fetch it from npm")
    site_packages = Path(sympy.__file__).parent.parent
    assert Path(mpmath.__file__).parent.parent == site_packages
    CACHE.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([node, str(SCRIPT), str(PYODIDE), str(site_packages), str(ROOT),
                             str(cache_folder())], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    summary = rows.pop()
    how = "its bytecode cached" if summary["cached"] else "compiling its sources, then cached"
    print(f"\nPyodide {summary['python']} ({summary['platform']}): import byhand.derive "
          f"(with SymPy, {how}) {summary['import_seconds']:.1f} s")
    for row in (row for row in rows if "task" in row):
        print(f"  {row['task']:<30} reference {row['seconds_right']:.2f} s, "
              f"a slip {row['seconds_wrong']:.2f} s")
    for row in rows:
        if "hostile" in row:
            print(f"  hostile {row['hostile'][:24]!r:<28} {row['outcome']} {row['seconds']:.2f} s")
    return {row.get("task") or f"hostile {row['length']} {row['hostile']}": row for row in rows}


@pytest.mark.parametrize("task", TASKS, ids=[t.name for t in TASKS])
def test_reference_passes_and_a_slip_is_named_under_pyodide(task, pyodide_rows):
    row = pyodide_rows[task.name]
    assert row["right_passed"], row
    assert row["wrong_failed"] and row["wrong_named"], row


def test_hostile_strings_are_refused_under_pyodide(pyodide_rows):
    # 399 minus signs once overflowed the JavaScript stack and killed the kernel; the parser
    # now refuses nesting deeper than 40 before recursing into it
    rows = [row for name, row in pyodide_rows.items() if name.startswith("hostile ")]
    assert len(rows) == 9
    for row in rows:
        assert row["outcome"] == "refused", row
    deep = [row for row in rows if row["hostile"].startswith(("---", "((("))]
    assert all("nested more than 40 deep" in row["message"] or "characters; the limit" in
               row["message"] for row in deep), deep
