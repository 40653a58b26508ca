"""Hypothesis settings for the whole suite, and how `make test` shares the work between workers.

`make test` (and CI) uses the profile "ci": every property test draws the same examples on every
run, so a test fails because the code changed, never because the random search got lucky. To
search afresh, as you should before a release or after touching byhand.nn, run for example

    HYPOTHESIS_PROFILE=explore .venv/bin/python -m pytest tests/test_nn_*.py

a few times: "explore" draws new random examples each run and reports any failure it finds
with a seed to reproduce it.
"""

import os
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# ---------------------------------------------------------------- sharing the work (make test)
#
# `make test` runs on two workers with `--dist loadgroup --no-loadscope-reorder`. Each notebook
# must run on one worker, cell after cell, and a test module's expensive set-up (a Chromium, a
# Pyodide, a notebook executed twice) should happen once: so every item is put in the group of its
# file. The largest files are cut into a few groups (each worker then starts its own Chromium),
# and the groups are queued longest first, so that no worker is left with one long file at the
# end while the other idles. The costs are rough shares of a run (`--durations`), not limits.
SPLIT = {"tests/test_site.py": 3, "tests/test_site_readers.py": 3, "tests/test_derive.py": 3,
         "tests/test_site_exercises.py": 2}
LONGEST_FIRST = [
    "chapters/10_mnist.ipynb", "tests/test_site_readers.py", "tests/test_site.py",
    "solutions/10_mnist.ipynb", "tests/test_derive.py", "tests/test_site_exercises.py",
    "tests/test_site_figures.py",
    "appendices/mistakes.ipynb", "chapters/08_residual.ipynb", "chapters/06_linear.ipynb",
    "tests/test_checks_mnist.py", "tests/test_execute.py", "tests/test_grade.py",
    "tests/test_derive_pyodide.py", "tests/test_exercises.py",
]


def _file_of(item, root):
    path = Path(str(item.path))
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    if config.getoption("dist", "no") != "loadgroup":
        return
    root = Path(str(config.rootpath))
    seen = {}
    for item in items:
        name = _file_of(item, root)
        parts = SPLIT.get(name, 1)
        index = seen.get(name, 0)
        seen[name] = index + 1
        group = name if parts == 1 else f"{name}:{index % parts}"
        item.add_marker(pytest.mark.xdist_group(group))
    rank = {name: k for k, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(_file_of(item, root), len(rank)))  # stable: cells stay in order
