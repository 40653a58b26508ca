# Backprop by Hand. Two commands matter (see README.md):
#   make book   set up, then build the web book into _build/html
#   make test   set up, then run every check
# Set-up is automatic and incremental: a virtual environment in .venv with the pinned
# requirements and the byhand package, the pinned JavaScript assets fetched with npm, and the
# pinned wheels the JupyterLite site ships (ipywidgets, comm, jupyterlab_widgets, tqdm; and
# jupyterlab-myst, pinned in requirements-lab.txt, whose lab extension renders MyST there) fetched
# with pip.
# The book build also builds the JupyterLite site into $(SITE)/lite (book/ext/byhand_lite.py).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SETUP  := $(VENV)/.installed
ASSETS := _build/extra/.fetched
SITE   := _build/html
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

# Notebook outputs are stored by `make execute` in this machine's default configuration and
# compared by `make test` in a second, portable one: OpenBLAS's AVX kernels without FMA
# (Sandybridge) on one thread, and NumPy without its AVX2 and AVX-512 loops (its exp, log and
# sums then take other code paths). An output that depends on the CPU, the BLAS kernel or the
# thread count fails here, not on a reader's machine. Every cell that once printed round-off
# digits (issue #12: appendices/mistakes cells 67 and 69, chapters/10 cell 17, solutions/06
# cell 10, at commit 9b06df4) fails in this configuration, as in the generic SSE3 one (Prescott),
# whose matrix products made chapter 10's training 1.6 times slower (51 s against 33 s).
# A machine that sets OPENBLAS_CORETYPE itself keeps its value.
# `make test PORTABLE=` compares in the default configuration instead.
ifeq ($(shell uname -m),x86_64)
PORTABLE ?= OPENBLAS_CORETYPE=$${OPENBLAS_CORETYPE:-Sandybridge} OPENBLAS_NUM_THREADS=1 \
            OMP_NUM_THREADS=1 NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4 AVX512_ICL AVX512_SPR"
else
PORTABLE ?= OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
endif

.PHONY: help book test unit notebooks site a11y execute exercises data bench lab lab-env lab-test clean distclean

help:
	@echo "make book       build the web book into $(SITE), with JupyterLite in $(SITE)/lite"
	@echo "make test       every check: unit tests, notebooks (nbval), book build (-W), browser test"
	@echo "make a11y       accessibility rules (axe-core) on every page; make test checks a sample"
	@echo "make lab        open JupyterLab at the repository root (its own environment, .venv/lab)"
	@echo "make lab-test   the student's path in a real JupyterLab, in Chromium (not part of make test)"
	@echo "make data       fetch MNIST into the cache (~/.cache/byhand/mnist or \$$BYHAND_DATA)"
	@echo "make bench      speed, side by side: softmax family vs SciPy/PyTorch; an MNIST epoch vs PyTorch;"
	@echo "                chapter pages in Chromium: time to math drawn and to load, 1x and 4x CPU"
	@echo "make execute    re-run every chapter and solution notebook in place, storing outputs"
	@echo "make exercises  regenerate the student notebooks in exercises/ from solutions/"
	@echo "make clean      remove _build;  make distclean  also remove .venv"

# requirements.txt pins every package, dependencies of dependencies included. They are installed
# as listed (--no-deps: nothing to resolve) by uv, the pinned UV below, which pip installs first:
# it fetches and unpacks wheels in parallel and compiles them on both cores, 25 s on a fresh
# machine where pip took 110 s. `pip check` then proves nothing is missing. Compiling matters:
# with PYTHONDONTWRITEBYTECODE set, as on some machines, nothing would compile them later, and
# every kernel and test process would compile SymPy and Matplotlib again (6 s each).
UV := uv==0.13.9
UV_INSTALL = $(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --compile-bytecode
$(SETUP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "make: Python >= 3.11 is needed ($(PYTHON) is $$($(PYTHON) --version 2>&1)); try PYTHON=python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(UV)
	$(UV_INSTALL) -r requirements.txt
	$(UV_INSTALL) -e .
	$(BIN)/python -m pip check --disable-pip-version-check || \
	  { echo "make: requirements.txt is not a complete set of pins (see above); CONTRIBUTING.md says how to regenerate it"; exit 1; }
	@touch $@

# Sphinx neither overwrites a file it copied from html_extra_path before nor copies one again
# when no page changed: start the site afresh when the assets change.
$(ASSETS): $(SETUP) tools/fetch_assets.py $(wildcard book/js/*.js) requirements.txt requirements-lab.txt
	$(BIN)/python tools/fetch_assets.py
	rm -rf $(SITE)
	@touch $@

# The same goes for the site's own static files and templates: a change there also starts the
# site afresh (a full build takes about half a minute).
$(SITE)/.inputs: $(ASSETS) $(shell find book -type f -not -name '*.pyc')
	rm -rf $(SITE)
	mkdir -p $(SITE)
	@touch $@

book: $(SETUP) $(ASSETS) $(SITE)/.inputs
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo
	@echo "The book is in $(SITE). Open $(CURDIR)/$(SITE)/index.html in a browser,"
	@echo "or serve it: $(BIN)/python -m http.server --directory $(SITE) 8000  ->  http://127.0.0.1:8000"
	@echo "(JupyterLite, in $(SITE)/lite, needs the served form: browsers do not run it from file://)"

# Every check. The book is built first (warnings are errors): the browser test reads it.
# MNIST is fetched meanwhile (a second make, two jobs; each job's output is shown when it ends).
test: $(SETUP)
	@$(MAKE) --no-print-directory -j2 --output-sync=target book data
	env $(PORTABLE) $(BIN)/pytest $(NBVAL) -n 2 --dist loadscope --no-loadscope-reorder \
	  --ignore=tests/test_lab.py tests chapters solutions appendices

# The tests of byhand and the pipeline alone; the ones that read the built site are left out.
unit: $(SETUP)
	$(BIN)/pytest tests --ignore-glob='tests/test_site*.py' --ignore=tests/test_lite.py \
	  --ignore=tests/test_lab.py

notebooks: $(SETUP) data
	env $(PORTABLE) $(BIN)/pytest $(NBVAL) chapters solutions appendices

site: book
	$(BIN)/pytest tests/test_site.py

# axe-core's accessibility rules on every page of the book (make test checks a sample).
a11y: book
	BYHAND_AXE_EVERY_PAGE=1 $(BIN)/pytest -n 2 tests/test_site_readers.py

execute: $(SETUP)
	$(BIN)/python tools/execute.py $(wildcard chapters/*.ipynb solutions/*.ipynb appendices/*.ipynb)

# MNIST, verified by sha256, into the per-user cache (byhand/data.py says where it looks).
data: $(SETUP)
	$(BIN)/python -m byhand.data

# Benchmarks print ratios measured side by side in one run; PyTorch is used where installed.
bench: book data
	$(BIN)/python bench/softmax.py
	$(BIN)/python bench/mnist_epoch.py
	$(BIN)/python bench/pages.py

exercises: $(SETUP)
	$(BIN)/python tools/make_exercises.py

clean:
	rm -rf _build

distclean: clean
	rm -rf $(VENV)

# JupyterLab to work through the notebooks (not needed for book/test), in an environment of its
# own, $(VENV)/lab: what the notebooks import (binder/requirements.txt), JupyterLab
# (requirements-lab.txt) and byhand, at the pins of requirements.txt, and nothing of the book's
# build; in particular not the JupyterLite kernel extension, which a real JupyterLab cannot load
# ("Shared module @jupyterlite/services doesn't exist"). It opens at the repository's root, so
# chapters/, exercises/ and solutions/ are all in its file browser.
LAB := $(VENV)/lab
$(LAB)/.installed: $(SETUP) requirements.txt requirements-lab.txt binder/requirements.txt pyproject.toml
	$(PYTHON) -m venv --clear $(LAB)
	$(BIN)/uv pip install --quiet --python $(LAB)/bin/python --compile-bytecode \
	  -r binder/requirements.txt -r requirements-lab.txt -c requirements.txt
	$(BIN)/uv pip install --quiet --python $(LAB)/bin/python --no-deps -e .
	$(LAB)/bin/python -m pip check --disable-pip-version-check || \
	  { echo "make: requirements-lab.txt misses a pin (see above)"; exit 1; }
	@touch $@

lab-env: $(LAB)/.installed

lab: $(LAB)/.installed
	$(LAB)/bin/jupyter lab --ServerApp.root_dir=$(CURDIR)

# The student's path in a real JupyterLab (tests/test_lab.py): an exercise notebook run top to
# bottom with a verdict under every check, chapter 2's explorer moved with a live kernel, MyST
# rendered by jupyterlab-myst. About a minute, plus a minute to build .venv/lab the first time;
# `make test` leaves it out to stay within its 10 minutes.
lab-test: $(LAB)/.installed
	$(BIN)/pytest tests/test_lab.py
