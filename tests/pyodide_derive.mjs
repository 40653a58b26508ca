// Run the derivation checks under Pyodide in Node, offline: the same code JupyterLite runs.
//
//   node tests/pyodide_derive.mjs <pyodide dir> <site-packages dir> <repository root> <cache dir>
//
// Pyodide's core comes from npm (tools/fetch_assets.py puts it in _build/test-assets/pyodide).
// SymPy and mpmath are pure Python: their sources are copied from <site-packages> into
// <cache dir> once (tests/test_derive_pyodide.py names it after the SymPy, mpmath and Pyodide
// versions), which is mounted into Pyodide's file system and put on sys.path. Pyodide's Python
// writes the bytecode it compiles on import beside those sources, so only the first run pays
// for compiling SymPy (about 30 s); later runs load the bytecode, which Python itself checks
// against each source's modification time and size. byhand/failure.py and byhand/derive/ are
// copied afresh on every run (never cached). Then every task's reference answer and its first
// classic mistake are checked, and one JSON line per task is printed: {"task", "right_passed",
// "wrong_failed", "wrong_named", "seconds_right", ...}; then one per hostile string, {"hostile",
// "outcome", "message", "seconds"}. The last line is {"import_seconds", "cached", ...}.
// Called by tests/test_derive_pyodide.py.

import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [pyodideDir, sitePackages, root, cacheDir] = process.argv.slice(2);
if (!cacheDir) {
  console.error("usage: node pyodide_derive.mjs <pyodide dir> <site-packages dir> <repo root> " +
                "<cache dir>");
  process.exit(2);
}
const { loadPyodide } = await import(pathToFileURL(path.join(pyodideDir, "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL: pyodideDir + path.sep });

// Copy a directory of Python sources (tests and caches left out: they are most of SymPy's size
// and never imported), with `mkdir` and `write` for the target file system.
function copyTree(source, target, mkdir, write) {
  mkdir(target);
  for (const entry of fs.readdirSync(source, { withFileTypes: true })) {
    if (entry.name === "__pycache__" || entry.name === "tests") continue;
    const from = path.join(source, entry.name);
    const to = target + "/" + entry.name;
    if (entry.isDirectory()) copyTree(from, to, mkdir, write);
    else if (entry.name.endsWith(".py")) write(to, fs.readFileSync(from));
  }
}
const intoPyodide = [(dir) => pyodide.FS.mkdirTree(dir),
                     (file, data) => pyodide.FS.writeFile(file, data)];
const intoHost = [(dir) => fs.mkdirSync(dir, { recursive: true }),
                  (file, data) => fs.writeFileSync(file, data)];

// The cache: SymPy's and mpmath's sources, filled once under a temporary name and renamed into
// place, so a run that is interrupted, or another one running beside it, never sees half a tree.
const cached = fs.existsSync(cacheDir);
if (!cached) {
  const partial = `${cacheDir}.partial-${process.pid}`;
  fs.rmSync(partial, { recursive: true, force: true });
  for (const name of ["mpmath", "sympy"]) {
    copyTree(path.join(sitePackages, name), path.join(partial, name), ...intoHost);
  }
  try {
    fs.renameSync(partial, cacheDir);
  } catch (error) {
    fs.rmSync(partial, { recursive: true, force: true });  // another run got there first
    if (!fs.existsSync(cacheDir)) throw error;
  }
}
const LIBS = "/home/pyodide/libs";
pyodide.FS.mkdirTree(LIBS);
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: path.resolve(cacheDir) }, LIBS);

const SITE = "/home/pyodide/site";
pyodide.FS.mkdirTree(SITE + "/byhand");
pyodide.FS.writeFile(SITE + "/byhand/__init__.py", "");
pyodide.FS.writeFile(SITE + "/byhand/failure.py",
                     fs.readFileSync(path.join(root, "byhand", "failure.py")));
pyodide.FS.writeFile(SITE + "/byhand/progress.py",
                     fs.readFileSync(path.join(root, "byhand", "progress.py")));
copyTree(path.join(root, "byhand", "derive"), SITE + "/byhand/derive", ...intoPyodide);

const lines = pyodide.runPython(`
import json, sys, time
sys.dont_write_bytecode = False  # write SymPy's bytecode into the cache
sys.path[:0] = ["${SITE}", "${LIBS}"]
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
# Hostile strings: deep nesting once overflowed the JavaScript stack here and killed the kernel
# (CPython only raised RecursionError); each must now be refused with CheckFailed.
HOSTILE = ["-" * 399 + "x", "(" * 200 + "x" + ")" * 200, "(" * 190 + "x" + ")" * 190,
           "x" + "+x" * 199, "x" + "*x" * 199, "x" + "^x" * 20, "1e99999999",
           "exp(exp(exp(1e12)))", "sum(eye(20000))"]
for text in HOSTILE:
    row = {"hostile": text[:40], "length": len(text)}
    started = time.perf_counter()
    try:
        derive.judge(derive.tasks.BY_NAME["centered_difference_error"], text)
        row["outcome"] = "passed"
    except CheckFailed as failure:
        row["outcome"] = "refused"
        row["message"] = str(failure)
    except BaseException as error:
        row["outcome"] = f"{type(error).__name__}: {error}"
    row["seconds"] = time.perf_counter() - started
    lines.append(json.dumps(row))
lines.append(json.dumps({"import_seconds": import_seconds, "cached": ${cached ? "True" : "False"},
                         "python": sys.version.split()[0], "platform": sys.platform}))
"\\n".join(lines)
`);
console.log(lines);
