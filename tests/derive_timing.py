"""Time every derivation check on its reference answer (run by hand; no test asserts a time).

    .venv/bin/python tests/derive_timing.py

Prints, per task, the CPU time and the wall time of the first check of that task in this
process (after SymPy and byhand.derive are imported) and the CPU time of a second one, then the
slowest. CPU time is what the check costs; wall time also counts whatever else the machine runs.
The first check of the whole process also pays SymPy's one-time warm-up (its caches), so it is
reported on its own line.
"""

import time

started = time.perf_counter()
import byhand.derive as derive  # noqa: E402  (imports SymPy)

print(f"import byhand.derive (SymPy included): {time.perf_counter() - started:.2f} s")


def timed(task):
    wall, cpu = time.perf_counter(), time.process_time()
    derive.judge(task, task.reference)
    return time.process_time() - cpu, time.perf_counter() - wall


rows = []
for task in derive.TASKS:
    (cpu, wall), (again, _) = timed(task), timed(task)
    rows.append((task.name, cpu, wall))
    print(f"  {task.name:<30} first: cpu {cpu:.3f} s, wall {wall:.3f} s; again: cpu {again:.3f} s")
print(f"warm-up (the process's first check, {rows[0][0]}): cpu {rows[0][1]:.3f} s")
for label, column in (("cpu", 1), ("wall", 2)):
    slowest = max(rows[1:], key=lambda row: row[column])
    print(f"slowest first check after that ({label}): {slowest[0]} {slowest[column]:.3f} s")
