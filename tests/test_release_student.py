"""Every chapter runs from the student release as a student runs it (slow: about 105 s of CPU
with eight chapters, measured on the shared 2-core machine; all chapters run in one interpreter).

The release is built (references withheld), checked for secrets, and installed with
``pip install -e .`` into a fresh virtual environment. Installing PyTorch again would cost
minutes and gigabytes, so the new environment reaches the project's packages through a
``.pth`` file pointing at the project venv's site-packages; its own ``course_utils`` is the
release's (checked). Then, in that environment:

* the student edition of ``course_utils`` agrees with the full library
  (:func:`autograder.tools.withhold.agreement_problems`: doctests and differential cases);
* every chapter's cells run in quick mode, top to bottom, as *Run All* would: a cell may fail
  only because it calls an exercise the student has not written yet (the stub's
  ``NotImplementedError``); test cells run too (later cells use names they define) and may
  fail for the same reason.
"""
from __future__ import annotations

import json
import os
import site
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.tools import release, withhold

pytestmark = pytest.mark.slow

RUN_CHAPTERS = r"""
import json, os, sys
import nbformat
release, notebooks = sys.argv[1], sys.argv[2:]
import course_utils
assert os.path.realpath(course_utils.__file__).startswith(os.path.realpath(release)), course_utils.__file__
import matplotlib.pyplot as plt
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
for nb_path in notebooks:  # one interpreter for all chapters: importing torch & co. costs ~8 s of CPU each time
    shell.reset(new_session=True)
    plt.close("all")
    report = {"notebook": os.path.basename(nb_path), "cells": 0, "needs_exercise": 0, "tests_failing": 0, "errors": []}
    for i, cell in enumerate(nbformat.read(nb_path, as_version=4).cells):
        if cell.cell_type != "code":
            continue
        is_test = bool(cell.metadata.get("nbgrader", {}).get("grade"))
        result = shell.run_cell(cell.source, silent=True)
        report["cells"] += 1
        err = result.error_in_exec or result.error_before_exec
        if err is None:
            continue
        if isinstance(err, NotImplementedError) and "Exercise" in str(err):
            report["needs_exercise"] += 1
        elif is_test:
            report["tests_failing"] += 1  # a test of an unwritten exercise: expected to fail
        else:
            report["errors"].append(f"cell {i}: {type(err).__name__}: {err}"[:400])
    print("REPORT " + json.dumps(report), flush=True)
"""


def _student_venv(where: Path, release_dir: Path) -> Path:
    """A fresh venv that sees the project's packages through a .pth file, with the release installed."""
    base = Path(getattr(sys, "_base_executable", sys.executable))
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    (Path(purelib) / "dlcv_project_packages.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    # pip and setuptools come from the project venv; nothing is downloaded.
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
                    "-e", "."], cwd=release_dir, check=True)
    return python


def test_chapters_run_from_the_student_release(tmp_path):
    folder, archive = release.build(tmp_path / "student-release")
    checks = [*release.secret_findings(folder, archive), *withhold.dangling_names(folder),
              *withhold.near_copies_in_release(folder)]
    python = _student_venv(tmp_path / "venv", folder)
    where = subprocess.run([str(python), "-c", "import course_utils; print(course_utils.__file__)"], cwd=tmp_path,
                           check=True, capture_output=True, text=True).stdout.strip()
    assert Path(where).resolve().is_relative_to(folder.resolve()), f"course_utils resolves to {where}"

    failures = checks + [f"student edition differs from the full library: {p}"
                         for p in withhold.agreement_problems(folder, python=str(python))]

    env = {**os.environ, "DLCV_QUICK": "1", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "PYTHONPATH": "",
           "PYTHONNOUSERSITE": "1"}
    notebooks = sorted((folder / "chapters").glob("*.ipynb"))
    proc = subprocess.run([str(python), "-c", RUN_CHAPTERS, str(folder), *map(str, notebooks)],
                          cwd=folder / "chapters", env=env, capture_output=True, text=True, timeout=3600)
    reports = {r["notebook"]: r for r in (json.loads(ln[len("REPORT "):]) for ln in proc.stdout.splitlines()
                                          if ln.startswith("REPORT "))}
    for nb in notebooks:
        report = reports.get(nb.name)
        if report is None:
            failures.append(f"{nb.name}: did not run:\n{proc.stderr[-2000:]}")
            break  # the interpreter stopped: later chapters did not run either
        failures += [f"{nb.name}: a cell fails for another reason than an unwritten exercise: {e}"
                     for e in report["errors"]]
        if report["cells"] <= 10:
            failures.append(f"{nb.name}: only {report['cells']} cells ran")
    assert not failures, "\n".join(failures)
