// Run the derivation checks under Pyodide in Node, offline: the same code JupyterLite runs.
//
//   node tests/pyodide_derive.mjs <pyodide dir> <site-packages dir> <repository root> [--compile]
//
// Pyodide's core comes from npm (tools/fetch_assets.py puts it in _build/test-assets/pyodide).
// SymPy and mpmath are pure Python: their sources are copied from <site-packages> into Pyodide's
// file system, with byhand/failure.py and byhand/derive/, and put on sys.path. Then every task's
// reference answer and its first classic mistake are checked, and one JSON line per task is
// printed: {"task", "right_passed", "wrong_failed", "wrong_named", "seconds_right", ...}.
// The last line is {"import_seconds", "compile_seconds", ...}. Called by
// tests/test_derive_pyodide.py.

import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [pyodideDir, sitePackages, root, option] = process.argv.slice(2);
const compile = option === "--compile";
if (!root) {
  console.error("usage: node pyodide_derive.mjs <pyodide dir> <site-packages dir> <repo root>");
  process.exit(2);
}
const { loadPyodide } = await import(pathToFileURL(path.join(pyodideDir, "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL: pyodideDir + path.sep });

// Copy a directory of Python sources into Pyodide's file system (tests and caches left out:
// they are most of SymPy's size and never imported).
function copyTree(source, target) {
  pyodide.FS.mkdirTree(target);
  for (const entry of fs.readdirSync(source, { withFileTypes: true })) {
    if (entry.name === "__pycache__" || entry.name === "tests") continue;
    const from = path.join(source, entry.name);
    const to = target + "/" + entry.name;
    if (entry.isDirectory()) copyTree(from, to);
    else if (entry.name.endsWith(".py")) pyodide.FS.writeFile(to, fs.readFileSync(from));
  }
}

const SITE = "/home/pyodide/site";
copyTree(path.join(sitePackages, "mpmath"), SITE + "/mpmath");
copyTree(path.join(sitePackages, "sympy"), SITE + "/sympy");
pyodide.FS.mkdirTree(SITE + "/byhand");
pyodide.FS.writeFile(SITE + "/byhand/__init__.py", "");
pyodide.FS.writeFile(SITE + "/byhand/failure.py",
                     fs.readFileSync(path.join(root, "byhand", "failure.py")));
copyTree(path.join(root, "byhand", "derive"), SITE + "/byhand/derive");

// Pyodide's own SymPy package ships compiled bytecode. With --compile these sources are compiled
// first too (about a minute), so that the import time is comparable to JupyterLite's; without
// it the import also compiles them, which is what the test does, to stay short.
const lines = pyodide.runPython(`
import compileall, json, sys, time
started = time.perf_counter()
if ${compile ? "True" : "False"}:
    compileall.compile_dir("${SITE}", quiet=2)
compile_seconds = time.perf_counter() - started
sys.path.insert(0, "${SITE}")
started = time.perf_counter()
import byhand.derive as derive
from byhand.failure import CheckFailed
import_seconds = time.perf_counter() - started
assert "numpy" not in sys.modules
lines = []
for task in derive.TASKS:
    row = {"task": task.name}
    started = time.perf_counter()
    try:
        derive.judge(task, task.reference)
        row["right_passed"] = True
    except Exception as error:
        row["right_passed"] = False
        row["right_error"] = f"{type(error).__name__}: {error}"
    row["seconds_right"] = time.perf_counter() - started
    slip = task.slips[0]
    started = time.perf_counter()
    try:
        derive.judge(task, slip.answer)
        row["wrong_failed"] = False
    except CheckFailed as failure:
        row["wrong_failed"] = True
        row["wrong_named"] = slip.mistake in str(failure)
    except Exception as error:
        row["wrong_failed"] = False
        row["wrong_error"] = f"{type(error).__name__}: {error}"
    row["seconds_wrong"] = time.perf_counter() - started
    lines.append(json.dumps(row))
lines.append(json.dumps({"import_seconds": import_seconds, "compile_seconds": compile_seconds,
                         "python": sys.version.split()[0], "platform": sys.platform}))
"\\n".join(lines)
`);
console.log(lines);
