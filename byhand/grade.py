"""Grade a class: run every submitted exercise notebook afresh, then the book's own checks.

    python -m byhand.grade SUBMISSIONS... [--seed K] [--out grades.csv] [--feedback DIR]
                           [--timeout SECONDS]

SUBMISSIONS are notebooks, or folders searched for *.ipynb. The student is the first folder
below a folder you name (`submissions/<student>/03_softmax.ipynb`, nbgrader's
`submitted/<student>/<assignment>/03_softmax.ipynb`); a notebook directly in it, or named on the
command line, is its file's stem (`submissions/alice.ipynb`), or its folder's name if the stem is
a chapter's. The chapter: the file's name (`03_softmax.ipynb`, `03_anything.ipynb`), else its
first line `(ex-softmax)=`. Its tasks, and what each check is given
(`check.softmax_rows(softmax_rows)`), come from the pristine notebook in exercises/.

Each notebook runs in a fresh kernel (a process group, killed at the end) in a temporary copy of
its folder without the other notebooks. Its check cells (locked, or only `check.<task>(...)`
calls) are not run: the grader notes there what the task's name holds (derivations all reuse
`answer`); after the student's cells it re-imports `byhand` and runs every check itself.
`--timeout` bounds the student's cells, and again the checks. A row per student, a column per
task: `passed`, `failed: <first line>`, `not attempted`, `error: ...` (timed out, kernel died),
`not submitted`; feedback files hold the checks' whole messages, which never show reference code.
This contains accidents and the usual mischief (sys.exit, os._exit, endless loops, deleting its
folder's files). It is no sandbox: the checks run in the student's process, so code written to
fool them (patching NumPy, absolute paths) can: grade untrusted work in a container.
"""

import argparse
import ast
import csv
import inspect
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

EXERCISES = Path(__file__).resolve().parent.parent / "exercises"
MIME = "application/x-byhand-grade+json"  # how a verdict leaves the kernel: one display output
NOT_ATTEMPTED = ("not implemented yet: replace `raise NotImplementedError()`",
                 "not answered yet: write your formula")


@dataclass(frozen=True)
class Task:
    check: str      # the check: softmax_rows, derive_softmax_vjp
    name: str       # what it is given, as the student defines it: softmax_rows, answer
    check_id: str   # nbgrader grade_id of its check cell
    answer_id: str  # nbgrader grade_id of the solution cell above it


def check_calls(source):
    """[(task, name given)] if the code is nothing but check.<task>(...) calls, else []."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return []
    calls = []
    for node in body:
        call = getattr(node, "value", None) if isinstance(node, ast.Expr) else None
        func = getattr(call, "func", None)
        owner = getattr(func, "value", None)
        if not (isinstance(func, ast.Attribute) and (getattr(owner, "id", None) == "check"
                                                     or getattr(owner, "attr", None) == "check")):
            return []
        given = call.args[0] if call.args else None
        calls.append((func.attr, given.id if isinstance(given, ast.Name) else None))
    return calls


@lru_cache(maxsize=None)
def chapter_tasks(exercise):
    """The tasks of a pristine exercise notebook, in order, from its locked check cells."""
    import nbformat
    tasks, answer_id = [], None
    for cell in nbformat.read(exercise, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            answer_id = meta["grade_id"]
        if meta.get("grade"):
            tasks += [Task(c, n, meta["grade_id"], answer_id) for c, n in check_calls(cell.source)]
    return tuple(tasks)


def first_line(notebook):
    cells = notebook.get("cells") or [{}]
    return re.sub(r"^\((ex|sol)-", "(", "".join(cells[0].get("source", "")).split("\n")[0])


def find_chapter(path, notebook, exercises):
    """The pristine exercise notebook a submission answers (None if no chapter fits)."""
    import nbformat
    pristine = sorted(Path(exercises).glob("*.ipynb"))
    number = re.match(r"\d+_", path.name)
    for fits in (lambda p: p.name == path.name, lambda p: number and p.name[:3] == number[0],
                 lambda p: first_line(nbformat.read(p, as_version=4)) == first_line(notebook)):
        found = [p for p in pristine if fits(p)]
        if len(found) == 1:
            return found[0]
    return None


def submissions(arguments, exercises):
    """(student, notebook path) pairs, by the convention in the module's docstring."""
    def owner(path):
        return path.resolve().parent.name if (Path(exercises) / path.name).exists() else path.stem
    for argument in map(Path, arguments):
        if not argument.is_dir():
            yield owner(argument), argument
            continue
        for path in sorted(argument.rglob("*.ipynb")):
            if ".ipynb_checkpoints" not in path.parts:
                inner = path.relative_to(argument).parts
                yield (inner[0] if len(inner) > 1 else owner(path)), path


# ------------------------------------------------------------ inside the student's kernel

def _seed_kwargs(check, seed):
    """{"seed": seed} if this check takes a seed (derivation checks, older checks do not)."""
    try:
        takes = "seed" in inspect.signature(check, follow_wrapped=False).parameters
    except (TypeError, ValueError):  # a builtin or an odd callable: assume not
        takes = False
    return {"seed": seed} if takes and seed is not None else {}


def _judge(captured, task, seed=None):
    """Run the real check of one task on what the student left; show the verdict to the grader."""
    import io
    from contextlib import redirect_stdout

    from IPython.display import display

    from byhand import check
    kwargs = _seed_kwargs(getattr(check, task), seed)
    verdict = {"status": "not attempted", "seeded": bool(kwargs),
               "message": f"the notebook defines nothing for {task} where its check cell was"}
    if task in captured:
        printed = io.StringIO()
        try:
            with redirect_stdout(printed):  # the ✓ line, and whatever the student's code prints
                getattr(check, task)(captured[task], **kwargs)
            ticks = [line for line in printed.getvalue().splitlines() if line.startswith("✓")]
            verdict.update(status="passed", message=(ticks or ["✓"])[-1])
        except check.CheckFailed as failure:
            attempted = not any(words in str(failure) for words in NOT_ATTEMPTED)
            verdict.update(status="failed" if attempted else "not attempted", message=str(failure))
        except BaseException as error:  # checks are total; if one is not, no traceback leaks
            verdict.update(status="error", message=f"the check stopped: {type(error).__name__}")
    display({MIME: verdict}, raw=True)


RESET = """\
import sys as __s
__s.path[:] = [p for p in __s.path if p not in ("", ".", {folder!r})]  # no byhand/ of theirs
for __m in [m for m in __s.modules if m == "byhand" or m.startswith("byhand.")]:
    del __s.modules[__m]  # undo anything the notebook did to the checks' modules
import byhand.grade"""


# ------------------------------------------------------------ running one notebook

def program(student, tasks, seed, folder):
    """[(code, the student's cell number or None)]: their cells, check cells replaced by
    captures of what each check will be given, then the grader's own cells."""
    def capture(chosen, unless_taken=False):
        return "\n".join(f"if {t.name!r} in globals()"
                         + (f" and {t.check!r} not in __byhand_grade__" if unless_taken else "")
                         + f": __byhand_grade__[{t.check!r}] = globals()[{t.name!r}]"
                         for t in chosen)

    cells = [("__byhand_grade__ = {}", None)]
    for number, cell in enumerate(student.cells, 1):
        meta, calls = cell.metadata.get("nbgrader", {}), check_calls(cell.source)
        if cell.cell_type != "code":
            continue
        if meta.get("grade") or calls:  # a check cell: not run, whatever it says now
            cells.append((capture([t for t in tasks if t.check_id == meta.get("grade_id")] or
                                  [t for t in tasks if t.check in {c for c, _ in calls}]), None))
            continue
        cells.append((cell.source, number))
        # Also right after an answer cell, in case its check cell was deleted.
        cells.append((capture([t for t in tasks if t.answer_id == meta.get("grade_id", 0)]), None))
    names = [t.name for t in tasks]  # a name only one task uses may also be taken at the end
    cells.append((capture([t for t in tasks if names.count(t.name) == 1], True), None))
    cells.append((RESET.format(folder=str(folder)), None))
    return cells + [(f"byhand.grade._judge(globals().get('__byhand_grade__', {{}}), "
                     f"{t.check!r}, {seed!r})", None) for t in tasks]


def run_notebook(path, tasks, seed=None, timeout=600):
    """({task: (status, message, seeded)}, [notes]) for one notebook, run in a fresh kernel."""
    import nbformat  # here, not at the top: the kernel imports this module, and nbformat is slow
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    class Client(NotebookClient):
        def output(self, outs, msg, display_id, cell_index):  # an endless print fills no memory
            if msg["msg_type"] == "error" or MIME in msg["content"].get("data", {}):
                return super().output(outs, msg, display_id, cell_index)

    verdicts, notes = {}, []
    student = nbformat.read(path, as_version=4)

    def quote(number):  # the cell as the student finds it: its number and first line
        line = (student.cells[number - 1].source.strip().splitlines() or [""])[0]
        return f"cell {number} (`{line[:60]}`)"

    with tempfile.TemporaryDirectory(prefix="byhand-grade-", ignore_cleanup_errors=True) as tmp:
        home = path.resolve()
        folder = Path(tmp) / home.parent.name  # a copy: deleting files there harms only it
        shutil.copytree(home.parent, folder, symlinks=True, ignore=lambda d, names: [
            n for n in names if n.endswith(".ipynb") and Path(d, n) != home])  # others' work
        cells = program(student, tasks, seed, folder)
        first_check = len(cells) - len(tasks)
        notebook = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(code) for code, _ in cells])
        client = Client(notebook, kernel_name="python3", allow_errors=True, timeout=timeout,
                        shutdown_kernel="immediate", resources={"metadata": {"path": str(folder)}})
        with client.setup_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            deadline = time.monotonic() + timeout
            for index, ((_, number), cell) in enumerate(zip(cells, notebook.cells)):
                if index == first_check - 1:  # the checks get their own time
                    deadline = time.monotonic() + timeout
                task = tasks[index - first_check].check if index >= first_check else None
                client.timeout = max(1, round(deadline - time.monotonic() + 0.5))
                try:
                    client.execute_cell(cell, index)
                except (CellTimeoutError, DeadKernelError) as stop:
                    what = (f"timed out: ran for more than {timeout:g} s"
                            if isinstance(stop, CellTimeoutError) else
                            "the kernel died (os._exit, a crash or out of memory)")
                    what += f" in {quote(number)}" if number else \
                        f" in the check of {task}" if task else ""
                    verdicts.update({t.check: ("error", what, None) for t in tasks
                                     if t.check not in verdicts})
                    notes.append(what)
                    break
                for out in cell.outputs:
                    if out.output_type == "error" and number:
                        value = str(out.evalue).strip().split("\n")[0][:120]
                        notes.append(f"{quote(number)} raised {out.ename}: {value}")
                    elif out.output_type == "error" and task:
                        verdicts[task] = ("error", f"could not be checked ({out.ename})", None)
                    elif out.output_type == "display_data" and task:
                        v = out.data[MIME]
                        verdicts[task] = (v["status"], v["message"], v["seeded"])
    return {t.check: verdicts.get(t.check, ("error", "no verdict came back", None))
            for t in tasks}, notes


# ------------------------------------------------------------ a class

def cell_text(status, message):
    return status if status in ("passed", "not attempted") else \
        f"{status}: {(message.strip().splitlines() or [''])[0]}"


def grade(arguments, seed=None, timeout=600, exercises=EXERCISES, log=print):
    """{student: {notebook name: (chapter or None, verdicts, notes)}} for every submission."""
    import nbformat
    graded = {}
    for student, path in submissions(arguments, exercises):
        start, mine = time.monotonic(), graded.setdefault(student, {})
        try:
            chapter = find_chapter(path, nbformat.read(path, as_version=4), exercises)
        except Exception:  # unreadable: its name may still say which chapter it was
            chapter = find_chapter(path, {}, exercises)
        if chapter is None or chapter.name in mine:
            why = f"a second notebook for {chapter.stem}" if chapter else "answers no chapter"
            mine[path.name] = (None, {}, [f"{path.name} not graded: {why}"])
            log(f"byhand.grade: {student}: {path} not graded: {why}")
            continue
        tasks = chapter_tasks(chapter)
        try:
            verdicts, notes = run_notebook(path, tasks, seed, timeout)
        except Exception as error:  # unreadable, a folder that cannot be copied, no kernel
            what = f"not run ({type(error).__name__}: {str(error)[:120]})"
            verdicts, notes = {t.check: ("error", what, None) for t in tasks}, [what]
        mine[chapter.name] = (chapter, verdicts, notes)
        count = sum(v[0] == "passed" for v in verdicts.values())
        log(f"byhand.grade: {student}: {path.name}: {count} of {len(tasks)} passed "
            f"({time.monotonic() - start:.1f} s)")
    return graded


def write(graded, out, feedback, seed=None):
    """Write the CSV and the feedback files; return the tasks graded without the seed asked for."""
    chapters = {c.name: c for notebooks in graded.values() for c, _, _ in notebooks.values() if c}
    columns = [t.check for name in sorted(chapters) for t in chapter_tasks(chapters[name])]
    unseeded = set()
    Path(feedback).mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as handle:
        rows = csv.writer(handle)
        rows.writerow(["student", *columns, "score", "notes"])
        for student, notebooks in sorted(graded.items()):
            cells, text = dict.fromkeys(columns, "not submitted"), [f"# Feedback for {student}\n"]
            for name, (_, verdicts, notes) in sorted(notebooks.items()):
                passed = sum(v[0] == "passed" for v in verdicts.values())
                text.append(f"## {name}: {passed} of {len(verdicts)} tasks passed\n")
                text += [f"- While running your notebook: {n}" for n in notes] + [""] * bool(notes)
                for task, (status, message, seeded) in verdicts.items():
                    cells[task] = cell_text(status, message)
                    if seed is not None and seeded is False:
                        unseeded.add(task)
                        status += " (default inputs: this check takes no seed yet)"
                    fence = "~" * max(3, 1 + max(map(len, re.findall("~+", message)), default=0))
                    text.append(f"### {task}: {status}\n\n{fence}text\n{message}\n{fence}\n")
            notes = "; ".join(f"{Path(name).stem}: {n}" for name, (_, _, ns) in notebooks.items()
                              for n in ns)
            score = sum(c == "passed" for c in cells.values())
            rows.writerow([student, *cells.values(), f"{score}/{len(columns)}", notes])
            Path(feedback, re.sub(r"[^\w.-]", "_", student) + ".md").write_text("\n".join(text))
    return sorted(unseeded)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m byhand.grade",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("submissions", nargs="+", help="notebooks, or folders of them")
    parser.add_argument("--seed", type=int, help="fresh inputs, for the checks that take a seed")
    parser.add_argument("--out", default="grades.csv", help="the CSV (default: grades.csv)")
    parser.add_argument("--feedback", default="feedback",
                        help="the folder for <student>.md (default: feedback)")
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds for a notebook's cells, and again for its checks (600)")
    parser.add_argument("--exercises", default=EXERCISES,
                        help="the pristine exercise notebooks (default: this book's)")
    args = parser.parse_args(argv)
    # the students' passes are not the instructor's progress (byhand/progress.py); the kernels
    # started below inherit this
    os.environ["BYHAND_PROGRESS"] = "off"
    start = time.monotonic()
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    graded = grade(args.submissions, args.seed, args.timeout, args.exercises, log)
    unseeded = write(graded, args.out, args.feedback, args.seed)
    if unseeded:
        log(f"byhand.grade: --seed {args.seed}: seeds are not supported yet by the checks of "
            f"{', '.join(unseeded)}; those tasks were graded with their default inputs")
    log(f"byhand.grade: {len(graded)} students, {sum(map(len, graded.values()))} notebooks in "
        f"{time.monotonic() - start:.1f} s; wrote {args.out} and {args.feedback}/")


if __name__ == "__main__":
    main()
