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

# Checks that pass record it in the user's progress file (byhand/progress.py): not from the test
# suite, nor from the notebook kernels it starts (they inherit this). tests/test_progress.py
# points it at a temporary file.
os.environ["BYHAND_PROGRESS"] = "off"

settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# ---------------------------------------------------------------- sharing the work (make test)
#
# `make test` runs on two workers with `--dist loadscope --no-loadscope-reorder` and the scheduler
# below. A unit of work is a file: a notebook must run on one worker, cell after cell, and a test
# module's expensive set-up (a Chromium, a Pyodide, a notebook executed twice) should happen
# once. The largest test files are cut into a few units (each then starts its own Chromium), and
# the units are queued longest first, so that no worker is left with one long file at the end
# while the other idles. The costs are rough shares of a run (`--durations`), not limits.
# (Not xdist_group marks: pytest 9 ignores the node ids xdist 3.8 rewrites for them, so every
# notebook cell became a unit of its own and ran in a fresh kernel.)
SPLIT = {"tests/test_site.py": 3, "tests/test_site_readers.py": 3, "tests/test_derive.py": 3,
         "tests/test_site_exercises.py": 2}
LONGEST_FIRST = [
    "chapters/10_mnist.ipynb", "tests/test_site_readers.py", "tests/test_site.py",
    "solutions/10_mnist.ipynb", "tests/test_derive.py", "tests/test_site_exercises.py",
    "tests/test_site_figures.py", "appendices/mistakes.ipynb", "chapters/08_residual.ipynb",
    "chapters/06_linear.ipynb", "tests/test_checks_mnist.py", "tests/test_execute.py",
    "tests/test_grade.py", "tests/test_derive_pyodide.py", "tests/test_exercises.py",
    "tests/test_hints.py", "tests/test_lite.py",
]


def _file_of(nodeid):
    return nodeid.split("::", 1)[0]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Longest files first (a stable sort: cells stay in order); the scheduler keeps this order.
    The workers collect, and the scheduler deals out their order: sort there (a worker's own
    `dist` option reads "no")."""
    if config.getoption("dist", "no") == "no" and not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    rank = {name: k for k, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(_file_of(item.nodeid), len(rank)))


def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadscope":
        return None  # xdist's own
    from xdist.scheduler import LoadScopeScheduling

    class ByFile(LoadScopeScheduling):
        """One unit per file, or per part of a file listed in SPLIT (items dealt in turn)."""

        def _split_scope(self, nodeid):
            name = _file_of(nodeid)
            parts = SPLIT.get(name, 1)
            if parts == 1:
                return name
            if not hasattr(self, "_part"):
                self._part, seen = {}, {}
                for other in self.collection:
                    file = _file_of(other)
                    self._part[other] = seen.get(file, 0) % SPLIT.get(file, 1)
                    seen[file] = seen.get(file, 0) + 1
            return f"{name}:{self._part[nodeid]}"

    return ByFile(config, log)
