"""What you have passed: a small record the checks keep on this machine, and a table of it.

    python -m byhand.progress            every chapter's tasks, ✓ where a check has passed
    python -m byhand.progress --reset    forget them

    from byhand import progress; progress.show()      the same table, in a notebook

Every check that passes (`check.softmax_rows(...)`, `check.derive_...(...)`) adds its task to a
JSON file: `$BYHAND_PROGRESS` if set, else `$XDG_DATA_HOME/byhand/progress.json` (by default
`~/.local/share/byhand/progress.json`). Nothing leaves the machine, and nothing here needs a
network. `BYHAND_PROGRESS=off` keeps no record (the test suite and the grader set it).

In JupyterLite the kernel's home folder lives in the browser tab's memory: the record lasts
until the page is reloaded. To keep it, point it at the notebook's own folder, which JupyterLite
stores in the browser: `import os; os.environ["BYHAND_PROGRESS"] = "progress.json"`.

Recording never gets in a check's way: a folder that cannot be written, or a record that cannot
be read, is skipped without a word; `show()` says when the record is unreadable and starts it
afresh on the next pass. Standard library only, so it runs under Pyodide as well.
"""

import json
import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

VERSION = 1


def location():
    """The record's path, or None when recording is off."""
    chosen = os.environ.get("BYHAND_PROGRESS")
    if chosen:
        return None if chosen.lower() == "off" else Path(chosen).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "byhand" / "progress.json"


def load(path=None):
    """{task: {"first": iso time, "passes": n, "seeds": [...]}}; raises ValueError if unreadable."""
    path = path or location()
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"the progress record {path} is unreadable ({error})") from None
    if not (isinstance(data, dict) and data.get("version") == VERSION
            and isinstance(data.get("passed"), dict)):
        raise ValueError(f"the progress record {path} is not one this version of byhand wrote")
    return data["passed"]


def record(task, seed=None):
    """Note that `task` passed (with `seed`, if any). Silent, and never raises."""
    path = location()
    if path is None:
        return
    try:
        try:
            passed = load(path)
        except ValueError:
            passed = {}  # an unreadable record is started afresh (show() says so first)
        entry = passed.setdefault(task, {"first": _now(), "passes": 0, "seeds": []})
        entry["passes"] += 1
        if seed is not None and seed not in entry["seeds"]:
            entry["seeds"].append(seed)
        _write(path, {"version": VERSION, "passed": passed})
    except Exception:  # noqa: BLE001  (a record must never break the check that passed)
        pass


def _write(path, data):
    """Write atomically: two kernels passing checks at once leave one whole file, not half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".progress-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        json.dump(data, file, indent=1, sort_keys=True)
    os.replace(temporary, path)


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def chapters():
    """[(chapter number, title, [task names])]: the code tasks, then the derivation tasks."""
    from byhand import check, derive

    found = {}
    for name in check.__all__:
        function = getattr(check, name)
        module = getattr(function, "__module__", "")
        if name.startswith("derive_") or ".ch" not in module:
            continue
        number = int(module.rsplit(".ch", 1)[1][:2])
        found.setdefault(number, []).append(name)
    for task in derive.TASKS:
        found.setdefault(task.chapter, []).append(task.check_name)
    titles = derive.task.CHAPTER_LABELS
    return [(n, titles.get(n, "").removeprefix("ch-"), found[n]) for n in sorted(found)]


def show(file=None):
    """Print every chapter's tasks, ✓ for those passed, and the totals."""
    file = file or sys.stdout
    path = location()
    if path is None:
        print("No progress is recorded: BYHAND_PROGRESS is off.", file=file)
        return
    try:
        passed = load(path)
    except ValueError as error:
        print(f"{error}; it will be started afresh at the next check that passes.", file=file)
        passed = {}
    total = done = 0
    for number, topic, tasks in chapters():
        ticks = [task in passed for task in tasks]
        total, done = total + len(tasks), done + sum(ticks)
        print(f"Chapter {number:2d} ({topic}): {sum(ticks)} of {len(tasks)}", file=file)
        for task, tick in zip(tasks, ticks):
            print(f"  {'✓' if tick else '·'} {task}", file=file)
    print(f"{done} of {total} tasks passed. Record: {path}", file=file)


def reset():
    path = location()
    if path is not None and path.exists():
        path.unlink()
    print(f"Progress forgotten ({path})." if path else "No progress is recorded.")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--reset"]:
        reset()
    elif not argv:
        show()
    else:
        print("usage: python -m byhand.progress [--reset]", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
