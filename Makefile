# Deep Learning for Computer Vision: every job goes through this file.
#   make lab        set up (first time only) and open the chapters in JupyterLab (ROOT=. for instructors)
#   make test       set up (first time only) and run every check: unit tests, grading validity, class grading
#   make book       the course as a book: build/book/reader/html/index.html
# See README.md for the rest.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Tools started by nbgrader (alembic, kernels) must come from the venv.
export PATH := $(abspath $(BIN)):$(PATH)
LAB_ARGS ?=
CHAPTER ?=
WORKERS ?= 2

.PHONY: setup lab student check check-student test test-fast test-unit test-grading validity timings bench samples clean help \
        book book-pdf test-browser

help:
	@sed -n '1,7p' Makefile

setup: $(STAMP)

# Idempotent: reinstalls only when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" > /dev/null
	@touch $(STAMP)

# make lab: the student notebooks (chapters/). make lab ROOT=.: the whole repository, for instructors
# (solutions/NN_name.py opens as a notebook through jupytext). JupyterLab refuses to run as root
# unless told to (containers and cloud VMs often run as root): --allow-root only then.
# The course's JupyterLab settings (no "Jupyter news?" pop-up) are installed into the venv.
ROOT ?= chapters
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.d/dlcv-course.json
lab: setup $(LAB_SETTINGS)
	$(BIN)/jupyter lab --notebook-dir=$(ROOT) $(if $(filter 0,$(shell id -u)),--allow-root,) $(LAB_ARGS)

$(LAB_SETTINGS): jupyterlab-settings/dlcv-course.json
	@mkdir -p $(dir $@)
	cp $< $@

# Regenerate the student notebooks (chapters/) from the single source (solutions/).
student: setup
	$(BIN)/python -m autograder.tools.build student $(CHAPTER)

check-student: setup
	$(BIN)/python -m autograder.tools.build check

# A student's self-check of one notebook: runs it as grading does (quick mode, visible tests)
# and lists every exercise as passed / failed (with the message) / not attempted; exit 1 on a failure.
NB ?=
check: setup
	@test -n "$(NB)" || { echo "usage: make check NB=chapters/02_cnns.ipynb"; exit 2; }
	$(BIN)/python -m course_utils.selfcheck $(NB)

# The README's test command: everything CI checks.
test: setup
	$(MAKE) --no-print-directory test-unit
	$(MAKE) --no-print-directory test-grading
	$(MAKE) --no-print-directory test-autograde
	$(MAKE) --no-print-directory test-release
	$(MAKE) --no-print-directory test-browser

# The book and JupyterLab in a real browser (Debian's chromium through Playwright; installed with
# apt-get when missing and root): a quick-mode book of two chapters, its PDF, the student edition
# of one chapter, and `make lab` / `make lab ROOT=.` driven as a student and an instructor would.
test-browser: setup
	OMP_NUM_THREADS=1 DLCV_QUICK=1 MPLBACKEND=Agg $(BIN)/python -m pytest -q -p no:xdist -m browser \
	  tests/test_book_build.py tests/test_browser_book.py tests/test_browser_lab.py

# Unit tests of course_utils, doctests and the fast checks of the tooling.
# One thread per pytest worker: two workers with two OpenMP threads each on two cores
# made small convolutions 3x slower through contention.
test-unit: setup
	OMP_NUM_THREADS=1 DLCV_QUICK=1 MPLBACKEND=Agg $(BIN)/python -m pytest -q -n $(WORKERS) -m "not slow"

# Fast inner loop: unit tests only, stop at the first failure.
test-fast: setup
	OMP_NUM_THREADS=1 DLCV_QUICK=1 MPLBACKEND=Agg $(BIN)/python -m pytest -q -n $(WORKERS) -x -m "not slow"

# Grading validity with real nbgrader for every chapter (or CHAPTER=02_cnns).
test-grading: setup
	DLCV_QUICK=1 MPLBACKEND=Agg $(BIN)/python -m pytest -q -m slow tests/test_grading.py $(if $(CHAPTER),-k $(CHAPTER),)

# A readable report of grading validity for one chapter or all.
validity: setup
	$(BIN)/python -m autograder.tools.validity $(CHAPTER)

# Run every solution notebook in full mode; print run time and quality figure per chapter.
timings: setup
	$(BIN)/python -m autograder.tools.timings $(CHAPTER)

# The course as a book (Sphinx + MyST-NB), every chapter executed in full mode (cached: a rebuild
# runs again only the chapters whose code changed). EDITION=student: exercises as students get
# them, no solutions. CHAPTER=02_cnns,05_detection: only those. Pages: build/book/$(EDITION)/html/.
EDITION ?= reader
book: setup
	$(BIN)/python -m book.build --edition $(EDITION) $(if $(CHAPTER),--chapters '$(CHAPTER)',)

# The whole book as one PDF, printed by headless Chromium: build/book/$(EDITION)/book.pdf.
book-pdf: book
	$(BIN)/python -m book.pdf --edition $(EDITION)

bench: setup
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

samples: setup
	$(BIN)/python scripts/sample_sheet.py build/samples

clean:
	rm -rf build .pytest_cache autograder/source autograder/release autograder/submitted \
	       autograder/autograded autograder/feedback autograder/gradebook.db autograder/.nbgrader.log
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +

# ---- Grading a class (see README "Grading a class") ----
.PHONY: release autograde test-autograde test-release hub
SUBMISSIONS ?=
DB_URL ?=
GRADE_WORKERS ?=
AUTOGRADE_ARGS ?=

# The student distribution: build/student-release/ and build/student-release.zip, checked for secrets.
# The readable references of graded exercises are withheld (their bodies call their PyTorch twins)
# except for the chapters in UNLOCK, e.g. make release UNLOCK=02_cnns,05_detection after their deadlines.
UNLOCK ?=
release: setup
	$(BIN)/python -m autograder.tools.release $(if $(UNLOCK),--unlock '$(UNLOCK)',)

# The release as students get it: installed in a fresh venv, every chapter run in quick mode (slow).
test-release: setup
	OMP_NUM_THREADS=1 DLCV_QUICK=1 MPLBACKEND=Agg $(BIN)/python -m pytest -q -m slow tests/test_release_student.py

# make autograde                                   grade the demo classes (chapters 02 and 05)
# make autograde CHAPTER=05_detection SUBMISSIONS=download.zip [DB_URL=postgresql://...] [GRADE_WORKERS=8]
# With a PostgreSQL DB_URL, any number of graders on any number of machines share one work queue
# kept in that database (autograder/tools/workqueue.py): run the same command on each.
# Installs bubblewrap (the kernel sandbox) with apt-get when it is missing and this runs as root.
autograde: setup
	$(BIN)/python -m autograder.tools.autograde $(CHAPTER) $(SUBMISSIONS) \
	  $(if $(DB_URL),--db-url '$(DB_URL)',) $(if $(GRADE_WORKERS),--workers $(GRADE_WORKERS),) $(AUTOGRADE_ARGS)

# The class-grading tests that need real nbgrader and sandboxed kernels (slow; the fast
# ones run in test-unit).
# Two pytest workers: much of this is waiting (servers starting, sleeps, kills, timeouts), not computing.
test-autograde: setup
	OMP_NUM_THREADS=1 DLCV_QUICK=1 MPLBACKEND=Agg $(BIN)/python -m pytest -q -n $(WORKERS) -m slow tests/test_autograde.py \
	  tests/test_autograde_resume.py tests/test_autograde_postgres.py tests/test_autograde_chapters.py \
	  tests/test_autograde_queue.py tests/test_hub.py

# A JupyterHub for a workshop or a small class (as root; README "Students on a JupyterHub"):
#   make hub HUB_ARGS="--instructor alice --students bob,carol"      then http://<this machine>:8000
# Unix accounts log in (PAM); nbgrader's exchange in /srv/nbgrader/exchange; students' servers see the
# student release (built first when missing), never the repository's solutions.
HUB_ARGS ?=
hub: setup
	@test -d build/student-release/course_utils || $(MAKE) --no-print-directory release
	$(BIN)/python -m autograder.tools.hub serve $(HUB_ARGS)
