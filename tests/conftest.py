"""Hypothesis settings for the whole suite.

`make test` (and CI) uses the profile "ci": every property test draws the same examples on every
run, so a test fails because the code changed, never because the random search got lucky. To
search afresh, as you should before a release or after touching byhand.nn, run for example

    HYPOTHESIS_PROFILE=explore .venv/bin/python -m pytest tests/test_nn_*.py

a few times: "explore" draws new random examples each run and reports any failure it finds
with a seed to reproduce it.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
