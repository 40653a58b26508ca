"""Time every derivation check on its reference answer (run by hand; no test asserts a time).

    .venv/bin/python tests/derive_timing.py

Prints, per task, the time of the first check of that task in this process (after SymPy and
byhand.derive are imported) and of a second one, then the slowest. The first check of the whole
process also pays SymPy's one-time warm-up (its caches), so it is reported on its own line.
"""

import time

started = time.perf_counter()
import byhand.derive as derive  # noqa: E402  (imports SymPy)

print(f"import byhand.derive (SymPy included): {time.perf_counter() - started:.2f} s")
rows = []
for task in derive.TASKS:
    times = []
    for _ in range(2):
        started = time.perf_counter()
        derive.judge(task, task.reference)
        times.append(time.perf_counter() - started)
    rows.append((task.name, *times))
    print(f"  {task.name:<30} first {times[0]:.3f} s   again {times[1]:.3f} s")
slowest = max(rows[1:], key=lambda row: row[1])
print(f"warm-up (first check of the process, {rows[0][0]}): {rows[0][1]:.3f} s")
print(f"slowest first check after that: {slowest[0]} {slowest[1]:.3f} s")
