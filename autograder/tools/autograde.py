"""Grade a class: from an LMS download (or a folder) to grades, feedback and a table.

    python -m autograder.tools.autograde 05_detection path/to/download.zip
    python -m autograder.tools.autograde 02_cnns path/to/folder --workers 2
    python -m autograder.tools.autograde            # the demo class of every demo chapter

What happens (every step can be interrupted, even by ``kill -9``, and re-run):

1. **Course.** ``<out>/course`` is an nbgrader course root with the course's
   ``nbgrader_config.py``; the chapter is generated from ``solutions/`` into it (again
   only when the solution changed).
2. **Collect.** Submissions come from a zip (nbgrader ``zip_collect``, full timestamps,
   see :mod:`autograder.tools.collect`) or a folder, are normalized against the release
   (tampered tests undone) and written to ``submitted/`` atomically.
3. **Scan.** Student-written cells are read for what their code can do to the grading
   (:mod:`autograder.tools.scan`): a "flag" finding zeroes the submission and flags it,
   a "review" finding marks it "needs review" for the instructor (graded normally), a
   "note" is a note.
4. **Canary.** Before any student, the reference solution (built from ``solutions/``) is
   graded in the same sandbox with the same settings. If it does not earn full marks the
   run stops, naming the failing cell and its error: a broken grading environment must
   not give a whole class 0 (:func:`check_canary`).
5. **Grade.** N worker processes (default: one per core) each run nbgrader's Autograde
   in-process over a queue of students (no 6 s CLI start per student), sharing one
   gradebook (SQLite by default, or any SQLAlchemy URL such as ``postgresql://...``).
   Kernels run sandboxed (:mod:`autograder.tools.sandbox`) with ``DLCV_QUICK=1``, through
   :class:`~autograder.tools.safe_execute.SafeExecute` (timeouts, dead kernels, output cap,
   and a check before each test cell that IPython's hooks and the testing modules are
   untouched). Code cells after the last test cell are not run: they cannot change a
   score.
6. **Feedback.** One HTML per student (:mod:`autograder.tools.feedback`): per test cell
   the score and, for a failed cell, the author-written label of the failing check; no
   output and no error message of any cell (student code could have put a hidden test
   there).
7. **Marker.** ``course/.markers/<student>.json`` is written (atomically) only after the
   grade is in the gradebook and the feedback is written; a re-run grades exactly the
   students without an up-to-date marker.
8. **Report.** ``<out>/grades.csv`` (student, points per test cell, total, lateness,
   status, flags, needs review, notes) and a table on the terminal; a warning when more
   than half the class stopped with an error in the same first cell.

**Instructor-only review notes.** ``Result.review`` is a list of notes ("needs review")
for the instructor: it shows in the CSV column ``review`` and as a marker in the table,
never in the student's feedback, and never changes a grade. The scan fills it; class-wide
checks (such as a copy check) plug in as *review checks*: callables
``check(settings, results) -> {student: [note, ...]}`` passed to :func:`run`
(``review_checks=``) or appended to :data:`REVIEW_CHECKS`. They run after grading, on
every run (their notes are not stored in the markers), and may read each student's
graded submission with :func:`submitted_notebook`.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import fcntl
import hashlib
import io
import json
import multiprocessing as mp
import os
import queue
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import nbformat

from autograder.tools import collect, feedback, sandbox, scan, warmkernel, zygote
from autograder.tools.build import REPO, chapter_names, nbgrader, new_course_root, write_source

COURSE_ID = "dlcv"
GRADER_VERSION = "3"  # part of every marker: bump it to regrade everything after a grader change
DEMO = REPO / "autograder" / "demo"
CANARY = "__reference_solution__"   # the canary's student id (removed from the gradebook afterwards)
# Errors that are a student's own business (a failed check, an unfinished exercise), not
# a sign that the grading environment is broken.
STUDENT_ERRORS = ("AssertionError", "NotImplementedError")


@dataclass
class Settings:
    chapter: str
    submissions: str
    out: str
    workers: int = max(1, os.cpu_count() or 1)
    db_url: str | None = None
    cell_timeout: int = 120
    notebook_timeout: int = 900
    kill_grace: float = 10.0
    memory: int = sandbox.DEFAULT_MEMORY
    sandbox_mode: str = "auto"
    regex: str = collect.DEFAULT_REGEX
    deadline: str | None = None
    quick: bool = True
    force: bool = False
    progress: bool = True
    threads_per_kernel: int = 1
    scan: bool = True          # False only to test the sandbox on its own
    source: str | None = None  # solution source (.py percent or .ipynb); default solutions/<chapter>.py
    guard: bool = True         # check IPython's hooks and the testing modules before each test cell
    canary: bool = True        # grade the reference solution first; stop if it loses points
    ro_paths: list[str] | None = None  # read-only paths a kernel sees; default sandbox.needed_ro_paths()
    warm: bool = True          # fork kernels from a zygote that has imported torch and the course (zygote.py)

    @property
    def root(self) -> Path:
        return Path(self.out) / "course"

    @property
    def url(self) -> str:
        return database_url(self.db_url) if self.db_url else f"sqlite:///{self.root / 'gradebook.db'}"


def database_url(url: str) -> str:
    """``postgresql://...`` with the PostgreSQL driver that is installed (SQLAlchemy 2.1
    picks psycopg 3 for a bare ``postgresql://``; psycopg2-binary is the common one)."""
    import importlib.util
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgresql", "postgres") and sep:
        if importlib.util.find_spec("psycopg") is None and importlib.util.find_spec("psycopg2") is not None:
            return f"postgresql+psycopg2://{rest}"
        return f"postgresql://{rest}"
    return url


@dataclass
class Result:
    """One student's grade and what the instructor should know about it.

    ``flags`` (the submission was zeroed or stopped for changing the grading machinery),
    ``review`` ("needs review": instructor-only notes that never change the grade) and
    ``notes`` go to the CSV and the table, never to the student's feedback.
    """
    student: str
    status: str = "ok"                  # ok | flagged | kernel died | timeout | no notebook | grader error
    scores: dict[str, float] = field(default_factory=dict)
    max_scores: dict[str, float] = field(default_factory=dict)
    total: float = 0.0
    max_total: float = 0.0
    timestamp: str | None = None
    seconds_late: float = 0.0
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    feedback: str | None = None
    key: str = ""
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step, for the benchmark
    review: list[str] = field(default_factory=list)   # "needs review" notes, instructor only
    first_error: str = ""               # "<cell>: <ename>" of the first cell that raised (not a failed check)


# A class-wide check that marks submissions "needs review" (e.g. a copy check):
# check(settings, results) -> {student: [note, ...]}. See the module docstring.
ReviewCheck = Callable[["Settings", dict[str, Result]], dict[str, list[str]]]
REVIEW_CHECKS: list[ReviewCheck] = []


def _copy_check(s: "Settings", results: dict[str, Result]) -> dict[str, list[str]]:
    """Near copies of a withheld reference or of the solution (autograder/tools/copycheck.py)."""
    from autograder.tools.copycheck import review_check
    return review_check(s, results)


REVIEW_CHECKS.append(_copy_check)


# ---------------------------------------------------------------- course set-up

def _sha(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()


def _course_config_text(s: Settings) -> str:
    from autograder.tools.build import CONFIG
    extra = f"\nc.CourseDirectory.db_url = {s.url!r}\n" if s.db_url else ""
    return CONFIG.read_text() + extra


def prepare_course(s: Settings, log=print, shared=None) -> str:
    """Make ``<out>/course`` and generate the chapter into its gradebook (when needed).

    ``shared`` is the work queue of several graders on one PostgreSQL gradebook
    (:class:`autograder.tools.workqueue.WorkQueue`): when another grader already wrote this
    version of the assignment into the gradebook, only the local copy is generated.
    Returns the assignment hash (changes when the solution or the config changes)."""
    from nbgrader.api import Gradebook
    from autograder.tools.build import solution_path

    root = s.root
    new_course_root(root)
    (root / "nbgrader_config.py").write_text(_course_config_text(s))
    src = Path(s.source) if s.source else solution_path(s.chapter)
    ahash = _sha(src.read_bytes(), _course_config_text(s), s.url)[:16]
    stamp = root / ".assignment" / s.chapter
    known = False
    with contextlib.suppress(Exception), Gradebook(s.url, COURSE_ID) as gb:
        gb.find_assignment(s.chapter)
        known = True
    release = root / "release" / s.chapter / f"{s.chapter}.ipynb"
    if not (known and release.exists() and stamp.exists() and stamp.read_text() == ahash):
        log(f"generating {s.chapter} into {root} ...")
        if s.source:
            target = root / "source" / s.chapter / f"{s.chapter}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nb = load_source_file(src)
            nbformat.write(nb, target)
        else:
            write_source(s.chapter, root)
        # nbgrader re-creates the cells of an assignment without submissions: not under a
        # grader that may be starting on the shared gradebook.
        local_only = known and shared is not None and shared.gradebook_has(ahash)
        nbgrader(["generate_assignment", s.chapter, "--force", *(["--no-db"] if local_only else [])], root)
        collect.write_atomic(stamp, ahash)
    if shared is not None:
        shared.gradebook_written(ahash)
    with Gradebook(s.url, COURSE_ID) as gb:
        duedate = collect.parse_timestamp(s.deadline) if s.deadline else None
        gb.update_or_create_assignment(s.chapter, duedate=duedate)
    return ahash


def load_source_file(path: Path):
    """A solution notebook from a jupytext percent file or an .ipynb (for small test courses)."""
    if path.suffix == ".ipynb":
        return nbformat.read(path, as_version=4)
    import jupytext
    nb = jupytext.read(path, fmt="py:percent")
    nb.metadata = nbformat.from_dict({"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                                     "name": "python3"}, "language_info": {"name": "python"}})
    for i, cell in enumerate(nb.cells):
        cell.metadata = nbformat.from_dict({k: v for k, v in cell.metadata.items() if k in ("nbgrader", "deletable", "editable", "tags")})
        cell.id = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell-{i:03d}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def _paths(s: Settings, student: str) -> dict[str, Path]:
    r = s.root
    return {"submitted": r / "submitted" / student / s.chapter,
            "autograded": r / "autograded" / student / s.chapter,
            "feedback_src": r / "feedback_src" / student / s.chapter,
            "marker": r / ".markers" / s.chapter / f"{student}.json",
            "scan": r / ".scan" / s.chapter / f"{student}.json",
            "feedback": Path(s.out) / "feedback" / f"{student}.html"}


def _safe_name(student: str) -> bool:
    return bool(student) and student not in (".", "..") and "/" not in student and not student.startswith(".")


def stage_submissions(s: Settings, ahash: str, log=print) -> tuple[list[str], list[str]]:
    """Collect, normalize and scan every submission; return (all students, students to grade)."""
    release = nbformat.read(s.root / "release" / s.chapter / f"{s.chapter}.ipynb", as_version=4)
    source = nbformat.read(s.root / "source" / s.chapter / f"{s.chapter}.ipynb", as_version=4)
    raws = collect.gather(Path(s.submissions), s.chapter, Path(s.out) / "collect", s.regex)
    students, pending = [], []
    for raw in raws:
        if not _safe_name(raw.student) or raw.student == CANARY:
            log(f"skipping a submission with an unusable student id: {raw.student!r}")
            continue
        nb = collect.read_notebook(raw.notebook)
        notes = []
        if nb is None:
            notes.append("no readable notebook in the submission: graded as the empty release")
            nb = release
        students.append(raw.student)
        if _stage(s, raw.student, nb, raw.timestamp, ahash, release, source, notes):
            pending.append(raw.student)
    return students, pending


def _stage(s: Settings, student: str, nb, timestamp: str | None, ahash: str, release, source,
           notes: list[str]) -> bool:
    """Scan and write one submission into ``submitted/``; False when it is graded already."""
    p = _paths(s, student)
    findings = scan.scan_notebook(nb, release, source) if s.scan else []
    graded_nb = collect.normalize_submission(nb, release)
    body = nbformat.writes(graded_nb)
    key = _sha(body, timestamp or "", ahash, GRADER_VERSION, json.dumps([f.to_dict() for f in findings]),
               json.dumps([s.guard, s.ro_paths]))[:24]
    marker = _read_marker(p["marker"])
    if marker and marker.get("key") == key and not s.force and p["feedback"].exists():
        return False
    # New or changed submission: replace it atomically (folder swap), then queue it.
    p["marker"].unlink(missing_ok=True)
    p["submitted"].parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".stage-", dir=p["submitted"].parent))
    (tmp / f"{s.chapter}.ipynb").write_text(body)
    if timestamp:
        (tmp / "timestamp.txt").write_text(timestamp)
    old = p["submitted"].with_name(f".old-{s.chapter}")
    if old.exists():
        shutil.rmtree(old)
    if p["submitted"].exists():
        p["submitted"].rename(old)
    tmp.rename(p["submitted"])
    shutil.rmtree(old, ignore_errors=True)
    collect.write_atomic(p["scan"], json.dumps({"key": key, "findings": [f.to_dict() for f in findings],
                                               "notes": notes, "timestamp": timestamp}))
    return True




def submitted_notebook(s: Settings, student: str):
    """The notebook that was graded for ``student`` (normalized against the release: the
    student's solution cells and added cells, the course's test cells)."""
    return nbformat.read(_paths(s, student)["submitted"] / f"{s.chapter}.ipynb", as_version=4)


def _read_marker(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------- the worker

def nbgrader_config(s: Settings, runtime: Path, report_file: Path | None = None):
    """The traitlets Config every worker grades with: the course's config plus ours."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput,
                                        SaveAutoGrades)
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    from autograder.tools.safe_execute import SafeExecute

    c = PyFileConfigLoader("nbgrader_config.py", path=str(s.root)).load_config()
    c.merge(Config())
    c.CourseDirectory.root = str(s.root)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.db_url = s.url
    c.Autograde.autograde_preprocessors = [SafeExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                           SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
    c.SafeExecute.timeout = s.cell_timeout
    c.SafeExecute.notebook_timeout = s.notebook_timeout
    c.SafeExecute.kill_grace = s.kill_grace
    c.SafeExecute.kernel_name = sandbox.KERNEL_NAME
    c.SafeExecute.interrupt_on_timeout = True
    c.SafeExecute.shutdown_kernel = "immediate"  # every kernel is thrown away: no need to wait for a clean exit
    c.SafeExecute.guard = s.guard
    if report_file is not None:
        c.SafeExecute.report_file = str(report_file)
    c.KernelManager.transport = "ipc"
    c.KernelManager.connection_file = str(runtime / "kernel.json")
    c.KernelManager.shutdown_wait_time = 2.0
    return c


class Worker:
    """Grades students one after the other inside one process."""

    def __init__(self, s: Settings, wid: int, mode: str, sandbox_base: Path):
        self.s, self.wid = s, wid
        base = sandbox_base / f"w{wid}"
        self.runtime, self.scratch = base / "runtime", base / "scratch"
        for d in (self.runtime, self.scratch, base / "kernels"):
            d.mkdir(parents=True, exist_ok=True)
        os.chmod(base, 0o755)
        env = {"DLCV_QUICK": "1" if s.quick else "0", "MPLBACKEND": "Agg",
               "OMP_NUM_THREADS": str(s.threads_per_kernel), "MKL_NUM_THREADS": str(s.threads_per_kernel),
               "PYTHONWARNINGS": "ignore"}
        mpl = base / "matplotlib"
        mpl.mkdir(exist_ok=True)
        import subprocess
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env={**os.environ, "MPLCONFIGDIR": str(mpl)},
                       capture_output=True, timeout=300)
        ro_paths = s.ro_paths if s.ro_paths is not None else sandbox.needed_ro_paths()
        cfg = sandbox.SandboxConfig(mode=mode, python=sys.executable, scratch=str(self.scratch), mpl_cache=str(mpl),
                                    runtime=str(self.runtime), uid=sandbox.UID_BASE + wid, gid=sandbox.UID_BASE + wid,
                                    ro_paths=ro_paths, env=env, memory=s.memory,
                                    cpu=max(sandbox.DEFAULT_CPU, 2 * s.notebook_timeout))
        self.zygote = None
        release = s.root / "release" / s.chapter / f"{s.chapter}.ipynb"
        source = s.root / "source" / s.chapter / f"{s.chapter}.ipynb"
        self.release = nbformat.read(release, as_version=4)
        if s.warm and zygote.supported(mode):
            cfg.zygote = self._start_zygote(cfg, base)
        cfg.write(base / "sandbox.json")
        sandbox.write_kernelspec(base / "kernels")
        os.environ["JUPYTER_PATH"] = str(base)
        os.environ["JUPYTER_RUNTIME_DIR"] = str(self.runtime)
        os.environ[sandbox.CONFIG_ENV] = str(base / "sandbox.json")
        self.report_file = base / "execute-report.json"
        self.config = nbgrader_config(s, self.runtime, self.report_file)
        self.secrets = feedback.hidden_lines(nbformat.read(source, as_version=4), self.release)

    def _start_zygote(self, cfg, base: Path) -> str:
        """Start this worker's zygote (zygote.py): kernels forked warm, each in a sandbox of
        its own. Returns its socket, or "" (cold kernels) when it does not start."""
        sock_dir = base / "zygote"
        sock_dir.mkdir(exist_ok=True)
        sock = str(sock_dir / "sock")
        code = "\n".join(c.source for c in self.release.cells if c.cell_type == "code")
        modules = warmkernel.warm_modules([code], warmkernel.WARM_PACKAGES + ("course_utils",)) + list(zygote.KERNEL_MODULES)
        self.zygote = zygote.start(cfg, sock, modules, str(base / "zygote.log"))
        if zygote.wait_ready(self.zygote, sock):
            return sock
        zygote.stop(self.zygote)
        self.zygote = None
        try:
            why = (base / "zygote.log").read_text()[-1500:]
        except OSError:
            why = ""
        print(f"grading worker {self.wid}: the warm-kernel zygote did not start, so every kernel starts cold "
              f"(slower, as safe).\n{why}", file=sys.stderr)
        return ""

    def close(self) -> None:
        """Stop the zygote (it would also die with this process)."""
        zygote.stop(self.zygote)
        self.zygote = None

    def _coursedir(self, student: str, **extra):
        from nbgrader.coursedir import CourseDirectory
        cd = CourseDirectory(config=self.config)
        cd.root = str(self.s.root)
        cd.assignment_id = self.s.chapter
        cd.student_id = student
        for k, v in extra.items():
            setattr(cd, k, v)
        return cd

    def _run(self, app) -> str:
        import logging
        buf = io.StringIO()
        handler = logging.StreamHandler(buf)
        app.log.addHandler(handler)
        app.log.propagate = False
        try:
            app.start()
        finally:
            app.log.removeHandler(handler)
        return buf.getvalue()

    def grade(self, student: str) -> Result:
        from nbgrader.converters import Autograde

        start = time.monotonic()
        s, p = self.s, _paths(self.s, student)
        for folder in (self.scratch, self.runtime):  # nothing a kernel wrote there reaches the next student
            _empty(folder)
        info = json.loads(p["scan"].read_text())
        findings = [scan.Finding(**f) for f in info["findings"]]
        res = Result(student, key=info["key"], timestamp=info.get("timestamp"),
                     flags=[str(f) for f in scan.flags(findings)], review=[str(f) for f in scan.reviews(findings)],
                     notes=list(info.get("notes", [])) + [str(f) for f in scan.notes(findings)])
        self.report_file.unlink(missing_ok=True)
        app = Autograde(coursedir=self._coursedir(student), config=self.config)
        app.force = True
        app.create_student = True
        try:
            self._run(app)
            res.timings["autograde"] = time.monotonic() - start
        except Exception as err:  # noqa: BLE001  (the grader's fault, not the student's: report it)
            res.status = "grader error"
            res.notes.append(f"{type(err).__name__}: {err}"[:500])
            res.seconds = time.monotonic() - start
            return res
        graded = nbformat.read(p["autograded"] / f"{s.chapter}.ipynb", as_version=4)
        self._notes_from_outputs(graded, res)
        self._read_execute_report(res)
        if scan.flags(findings):
            # The scan found code that changes the grading machinery: 0 for the whole
            # submission. The student's comment shows the findings (their own code, as code).
            res.status = "flagged"
            self._zero(student, "This submission was set to 0 and flagged for your instructor: its code "
                                "changes the grading machinery. " + "; ".join(
                                    f"cell {f.cell}, line {f.line}: {f.detail}" for f in scan.flags(findings))[:1000])
        self._read_grades(student, res)
        t = time.monotonic()
        res.feedback = str(self._feedback(student, graded, res))
        res.timings["feedback"] = time.monotonic() - t
        res.seconds = time.monotonic() - start
        collect.write_atomic(p["marker"], json.dumps(asdict(res), indent=1))
        return res

    def _read_execute_report(self, res: Result) -> None:
        """What SafeExecute's runtime check found (see safe_execute.py)."""
        try:
            report = json.loads(self.report_file.read_text())
        except (OSError, ValueError):
            return
        for key, name in (("cell_seconds", "cells"), ("kernel_start_seconds", "kernel start"),
                          ("shutdown_seconds", "kernel shutdown")):
            if key in report:
                res.timings[name] = float(report[key])
        if report.get("tampered"):
            # Instructor only: this text was produced inside the student's kernel.
            res.flags.append(f"runtime check: {report['tampered']}"[:600])
            res.status = "flagged"
        guard = report.get("guard")
        if guard and guard not in ("ok", "off"):
            res.notes.append(f"runtime check {guard}"[:300])

    def _notes_from_outputs(self, nb, res: Result) -> None:
        from autograder.tools.safe_execute import KERNEL_DIED, NOT_RUN, TAMPERED
        for cell in nb.cells:
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or cell.get("id")
            for out in cell.get("outputs", []):
                if (out.get("output_type") == "error" and not res.first_error
                        and out.get("ename") not in (*STUDENT_ERRORS, NOT_RUN, TAMPERED)):
                    res.first_error = f"{gid} ({_first_code_line(cell)!r}): {out.get('ename')}: " \
                                      f"{str(out.get('evalue', ''))[:200]}"
                if out.get("output_type") == "error" and out.get("ename") == TAMPERED:
                    continue
                if out.get("output_type") == "error" and out.get("ename") == KERNEL_DIED:
                    res.status = "kernel died" if "died" in out.get("evalue", "") else "timeout"
                    res.notes.append(f"{cell.get('metadata', {}).get('nbgrader', {}).get('grade_id') or cell.get('id')}: "
                                     f"{out.get('evalue')}")
                elif out.get("output_type") == "error" and out.get("ename") == NOT_RUN and res.status == "ok":
                    res.status = "kernel died" if "kernel died" in str(out.get("evalue", "")) else "timeout"
                elif out.get("output_type") == "error" and out.get("ename") == "CellTimeoutError" and res.status == "ok":
                    res.status = "timeout"
                elif out.get("output_type") == "stream" and "[output limit of" in str(out.get("text", "")):
                    res.notes.append("output capped")

    def _zero(self, student: str, comment: str) -> None:
        from nbgrader.api import Gradebook
        with Gradebook(self.s.url, COURSE_ID) as gb:
            sub = gb.find_submission(self.s.chapter, student)
            for nb in sub.notebooks:
                for grade in nb.grades:
                    grade.manual_score = 0.0
                    grade.needs_manual_grade = False
                for comment_row in nb.comments:
                    comment_row.manual_comment = comment
            gb.db.commit()

    def _read_grades(self, student: str, res: Result) -> None:
        from nbgrader.api import Gradebook
        with Gradebook(self.s.url, COURSE_ID) as gb:
            sub = gb.find_submission(self.s.chapter, student)
            res.seconds_late = float(sub.total_seconds_late or 0.0)
            for nb in sub.notebooks:
                for grade in nb.grades:
                    res.scores[grade.name] = float(grade.score or 0.0)
                    res.max_scores[grade.name] = float(grade.max_score)
                    if grade.needs_manual_grade and res.status == "ok":
                        res.status = "needs manual grading"
        res.total = sum(res.scores.values())
        res.max_total = sum(res.max_scores.values())

    def _feedback(self, student: str, graded, res: Result) -> Path:
        from nbgrader.converters import GenerateFeedback
        from traitlets.config import Config

        s, p = self.s, _paths(self.s, student)
        safe = feedback.sanitize(graded, self.release, self.secrets)
        shutil.rmtree(p["feedback_src"], ignore_errors=True)
        p["feedback_src"].mkdir(parents=True)
        nbformat.write(safe, p["feedback_src"] / f"{s.chapter}.ipynb")
        ts = p["autograded"] / "timestamp.txt"
        if ts.exists():
            shutil.copy(ts, p["feedback_src"] / "timestamp.txt")
        try:
            text = self._render(student, safe)
        except Exception:  # noqa: BLE001  (fall back on nbgrader's own converter)
            c = Config(self.config)
            c.HTMLExporter.template_name = "feedback"
            cd = self._coursedir(student, autograded_directory="feedback_src")
            app = GenerateFeedback(coursedir=cd, config=c)
            app.force = True
            self._run(app)
            text = (s.root / "feedback" / student / s.chapter / f"{s.chapter}.html").read_text()
        leaked = feedback.leaks(text, self.secrets)
        if leaked:  # must never happen: ship a bare score sheet instead
            res.notes.append(f"feedback withheld: {len(leaked)} hidden lines survived sanitizing")
            text = ("<html><body><h1>Feedback</h1><p>Score: "
                    f"{res.total:g} / {res.max_total:g}</p></body></html>")
        collect.write_atomic(p["feedback"], text)
        return p["feedback"]


    def _render(self, student: str, nb) -> str:
        """nbgrader's feedback HTML (GetGrades + its ``feedback`` template), with one
        exporter per worker: building the exporter and its templates is half the cost."""
        if getattr(self, "_exporter", None) is None:
            from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
            from nbgrader.converters import GenerateFeedback
            from nbgrader.preprocessors import GetGrades
            from traitlets.config import Config

            probe = GenerateFeedback(coursedir=self._coursedir(student), config=Config(self.config))
            c = Config(probe.config)
            c.HTMLExporter.template_name = "feedback"
            self._exporter = _feedback_exporter_class()(config=c)
            self._exporter.register_preprocessor(GetGrades(config=c), enabled=True)
            self._exporter.register_preprocessor(CSSHTMLHeaderPreprocessor(config=c), enabled=True)
        resources = {"unique_key": self.s.chapter, "output_files_dir": f"{self.s.chapter}_files",
                     "nbgrader": {"student": student, "assignment": self.s.chapter, "notebook": self.s.chapter,
                                  "db_url": self.s.url}}
        body, _ = self._exporter.from_notebook_node(nb, resources=resources)
        return body


def _feedback_exporter_class():
    """nbconvert's HTMLExporter without its accessibility pass: after rendering, it parses
    the whole page again with BeautifulSoup to add ``alt``/``tabindex`` attributes that the
    classic feedback template has no use for. That pass was 40 % of a feedback page's cost
    (about 0.4 s of CPU per chapter-sized notebook, paid once per student)."""
    from nbconvert.exporters import HTMLExporter, TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class FeedbackExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            # What HTMLExporter.from_notebook_node does (nbconvert 7), minus the soup.
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return FeedbackExporter


def _empty(folder: Path) -> None:
    """Remove what ``folder`` holds, not the folder itself (the zygote's sandbox binds it)."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _first_code_line(cell) -> str:
    return next((line for line in cell.get("source", "").splitlines() if line.strip() and not line.startswith("#")),
                "")[:80]


def _die_with_parent() -> None:
    sandbox.die_with_parent()


def _worker_main(s_dict: dict, wid: int, mode: str, sandbox_base: str, tasks, results) -> None:
    _die_with_parent()
    import logging
    import warnings
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    s = Settings(**s_dict)
    try:
        worker = Worker(s, wid, mode, Path(sandbox_base))
    except Exception:  # noqa: BLE001
        results.put(("fatal", wid, traceback.format_exc()))
        return
    try:
        while True:
            student = tasks.get()
            if student is None:
                return
            results.put(("start", wid, student))
            try:
                res = worker.grade(student)
            except Exception:  # noqa: BLE001
                tb = traceback.format_exc()
                res = Result(student, status="grader error", notes=[tb.strip().splitlines()[-1][:300], tb[-1500:]])
            results.put(("done", wid, asdict(res)))
    finally:
        worker.close()


# ---------------------------------------------------------------- the run

@contextlib.contextmanager
def _run_lock(out: Path):
    """One grading run per output folder at a time (the lock dies with its process)."""
    out.mkdir(parents=True, exist_ok=True)
    fh = open(out / ".lock", "w")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(f"another grading run is using {out}; wait for it or stop it") from None
    try:
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def grade_pending(s: Settings, pending: list[str], mode: str, log=print) -> dict[str, Result]:
    """Grade ``pending`` students with ``s.workers`` processes; survive worker crashes."""
    results: dict[str, Result] = {}
    if not pending:
        return results
    ctx = mp.get_context("spawn")
    tasks, out_q = ctx.Queue(), ctx.Queue()
    for student in pending:
        tasks.put(student)
    n = max(1, min(s.workers, len(pending)))
    sandbox_base = Path(tempfile.mkdtemp(prefix="dlcvsb-"))  # short path: ipc socket names are limited to 107 bytes
    os.chmod(sandbox_base, 0o755)
    s_dict = asdict(s)

    def start(wid):
        proc = ctx.Process(target=_worker_main, args=(s_dict, wid, mode, str(sandbox_base), tasks, out_q), daemon=True)
        proc.start()
        return proc

    procs = {wid: start(wid) for wid in range(n)}
    for _ in range(n):
        tasks.put(None)
    inflight: dict[int, str] = {}
    bar = None
    if s.progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(pending), desc=f"grading {s.chapter}", unit="nb", file=sys.stderr)
    try:
        while len(results) < len(pending):
            try:
                kind, wid, payload = out_q.get(timeout=1.0)
            except queue.Empty:
                for wid, proc in list(procs.items()):
                    if proc.is_alive():
                        continue
                    student = inflight.pop(wid, None)
                    if student is not None and student not in results:
                        results[student] = Result(student, status="grader error",
                                                  notes=[f"worker process died (exit code {proc.exitcode})"])
                        bar and bar.update()
                    if len(results) < len(pending) and proc.exitcode != 0:
                        procs[wid] = start(wid)
                        tasks.put(None)
                    elif proc.exitcode == 0:
                        procs.pop(wid)
                if not procs and len(results) < len(pending):
                    for student in pending:
                        results.setdefault(student, Result(student, status="grader error", notes=["not graded"]))
                continue
            if kind == "fatal":
                raise RuntimeError(f"grading worker {wid} could not start:\n{payload}")
            if kind == "start":
                inflight[wid] = payload
            else:
                inflight.pop(wid, None)
                res = Result(**payload)
                results[res.student] = res
                if bar:
                    bar.update()
                    bar.set_postfix_str(f"{res.student}: {res.total:g}/{res.max_total:g}")
    finally:
        finish_workers(procs.values(), sandbox_base, bar)
    return results


def finish_workers(procs, sandbox_base: Path, bar=None) -> None:
    """Close the progress bar, give each worker process 5 s to end (then kill it) and
    remove the workers' sandbox folder."""
    if bar:
        bar.close()
    for proc in procs:
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
    shutil.rmtree(sandbox_base, ignore_errors=True)


def _shared_queue(s: Settings):
    """The work queue shared by every grader of a PostgreSQL gradebook, or None."""
    from autograder.tools import workqueue
    return workqueue.WorkQueue(s) if workqueue.wanted(s) else None


def load_results(s: Settings, students: list[str], fresh: dict[str, Result] | None = None) -> dict[str, Result]:
    """Every student's latest result, from the markers (written after the gradebook);
    ``fresh`` supplies this run's results for students without a marker (grader errors)."""
    out = {}
    for student in students:
        marker = _read_marker(_paths(s, student)["marker"])
        if marker:
            out[student] = Result(**marker)
        else:
            out[student] = (fresh or {}).get(student) or Result(student, status="not graded")
    return out


def write_csv(s: Settings, results: dict[str, Result], path: Path) -> Path:
    cells = []
    for res in results.values():
        for name in res.max_scores:
            if name not in cells:
                cells.append(name)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["student", *cells, "total", "max", "timestamp", "seconds_late", "status", "flags", "review", "notes"])
    for student in sorted(results):
        r = results[student]
        w.writerow([student, *[f"{r.scores.get(c, 0.0):g}" for c in cells], f"{r.total:g}", f"{r.max_total:g}",
                    r.timestamp or "", f"{r.seconds_late:.0f}", r.status, " | ".join(r.flags), " | ".join(r.review),
                    " | ".join(n.splitlines()[0] for n in r.notes if n.strip())])
    collect.write_atomic(path, buf.getvalue())
    return path


def _late(seconds: float) -> str:
    if seconds <= 0:
        return "-"
    d = dt.timedelta(seconds=int(seconds))
    if d.days:
        return f"{d.days}d {d.seconds // 3600}h{(d.seconds // 60) % 60:02d}m"
    if d.seconds >= 3600:
        return f"{d.seconds // 3600}h{(d.seconds // 60) % 60:02d}m"
    return f"{d.seconds // 60}m{d.seconds % 60:02d}s"


def summary_table(results: dict[str, Result]) -> str:
    rows = [("student", "points", "late", "status", "review", "why")]
    for student in sorted(results):
        r = results[student]
        why = (r.flags[0] if r.flags else r.review[0] if r.review else (r.notes[0] if r.notes else ""))[:70]
        review = f"needs review ({len(r.review)})" if r.review else ""
        rows.append((student, f"{r.total:g} / {r.max_total:g}", _late(r.seconds_late), r.status, review, why))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    graded = [r for r in results.values() if r.max_total]
    if graded:
        mean = sum(r.total for r in graded) / len(graded)
        lines.append(f"{len(results)} students, mean {mean:.1f} / {graded[0].max_total:g}")
    return "\n".join(lines)


def run(s: Settings, log=print, review_checks: list[ReviewCheck] | None = None) -> dict[str, Result]:
    """The whole pipeline for one chapter; returns every student's result.

    ``review_checks`` (default :data:`REVIEW_CHECKS`) add "needs review" notes after
    grading (see the module docstring). Raises :class:`CanaryError` before any student
    is graded when the reference solution does not earn full marks in the sandbox.
    """
    out = Path(s.out)
    # A PostgreSQL gradebook: students come from the work queue that every grader of the
    # class shares (autograder/tools/workqueue.py); the set-up runs one grader at a time.
    shared = _shared_queue(s)
    with _run_lock(out):
        mode = sandbox.detect_mode(s.sandbox_mode, log)
        warning = sandbox.warning_for(mode)
        if warning:
            log(warning)
        with shared.setup() if shared else contextlib.nullcontext():
            ahash = prepare_course(s, log, shared=shared)
            students, pending = stage_submissions(s, ahash, log)
            if shared:
                pending = shared.enqueue(students)
            if pending and s.canary:
                check_canary(s, ahash, mode, log)
        log(f"{s.chapter}: {len(students)} submissions, {len(students) - len(pending)} already graded, "
            f"{len(pending)} to grade with {min(s.workers, max(1, len(pending)))} workers (sandbox: {mode})"
            + (" from the queue shared with other graders" if shared else ""))
        start = time.monotonic()
        fresh = (shared.grade if shared else grade_pending)(s, pending, mode, log)
        if pending:
            log(f"graded {len(fresh) if shared else len(pending)} notebooks in {time.monotonic() - start:.0f} s")
        results = shared.load_results(students) if shared else load_results(s, students, fresh)
        for check in (REVIEW_CHECKS if review_checks is None else review_checks):
            for student, extra in (check(s, results) or {}).items():
                if student in results:
                    results[student].review += [n for n in extra if n not in results[student].review]
        write_csv(s, results, out / "grades.csv")
        warning = class_warning(results)
        collect.write_atomic(out / "warnings.txt", (warning + "\n") if warning else "")
        if warning:
            log(warning)
        return results


# ---------------------------------------------------------------- is the environment sound?

class CanaryError(RuntimeError):
    """The reference solution lost points in the grading sandbox: nobody was graded."""


def class_warning(results: dict[str, Result]) -> str | None:
    """A warning when more than half the class stopped with an error (not a failed check)
    in the same first cell: more likely the grading environment than the students."""
    graded = [r for r in results.values() if r.max_total]
    firsts: dict[str, list[str]] = {}
    for r in graded:
        if r.first_error:
            cell = r.first_error.split(" ", 1)[0]
            firsts.setdefault(cell, []).append(r.student)
    if not firsts or len(graded) < 2:
        return None
    cell, who = max(firsts.items(), key=lambda kv: len(kv[1]))
    if len(who) * 2 <= len(graded):
        return None
    example = next(r.first_error for r in graded if r.student == who[0])
    return (f"WARNING: {len(who)} of {len(graded)} students stopped with an error in the same first cell, "
            f"{cell} (e.g. {example[:200]}). Check the grading environment before trusting these grades.")


def _environment_key(s: Settings, mode: str) -> str:
    """Changes when anything the canary depends on changes: the grader, the sandbox, the
    settings, the installed packages, course_utils."""
    import site
    parts = [GRADER_VERSION, mode, sys.executable, json.dumps([s.quick, s.cell_timeout, s.notebook_timeout, s.memory,
                                                              s.threads_per_kernel, s.guard, s.ro_paths, s.warm])]
    for d in {*site.getsitepackages(), site.getusersitepackages()}:
        with contextlib.suppress(OSError):
            parts.append(",".join(sorted(os.listdir(d))))
    for f in sorted((REPO / "course_utils").rglob("*.py")):
        st = f.stat()
        parts.append(f"{f}:{st.st_size}:{st.st_mtime_ns}")
    for f in sorted(Path(__file__).parent.glob("*.py")):
        parts.append(f"{f.name}:{f.stat().st_mtime_ns}")
    return _sha(*parts)[:24]


def check_canary(s: Settings, ahash: str, mode: str, log=print) -> Result:
    """Grade the reference solution like a student (same sandbox, same settings) and
    raise :class:`CanaryError` unless it earns full marks and no cell raises. A passing
    canary is remembered until the assignment, the settings or the environment change
    (``--force`` grades it again)."""
    stamp = s.root / ".canary" / f"{s.chapter}.json"
    key = _sha(ahash, _environment_key(s, mode))[:24]
    known = _read_marker(stamp)
    if known and known.get("key") == key and not s.force:
        return Result(**known["result"])
    log(f"{s.chapter}: grading the reference solution first (the canary) ...")
    release = nbformat.read(s.root / "release" / s.chapter / f"{s.chapter}.ipynb", as_version=4)
    source = nbformat.read(s.root / "source" / s.chapter / f"{s.chapter}.ipynb", as_version=4)
    canary = replace_settings(s, progress=False, force=True, workers=1)
    try:
        _stage(canary, CANARY, source, None, ahash, release, source, [])
        res = grade_pending(canary, [CANARY], mode, log)[CANARY]
        graded_path = _paths(s, CANARY)["autograded"] / f"{s.chapter}.ipynb"
        graded = nbformat.read(graded_path, as_version=4) if graded_path.exists() else None
    finally:
        _forget_student(s, CANARY)
    errors = [cell for cell in (graded.cells if graded is not None else [])
              if "raises-exception" not in cell.get("metadata", {}).get("tags", [])
              and any(o.get("output_type") == "error" for o in cell.get("outputs", []))]
    ok = res.status == "ok" and res.max_total > 0 and res.total == res.max_total and not res.flags and not errors
    if not ok:
        raise CanaryError(canary_message(s, res, graded))
    collect.write_atomic(stamp, json.dumps({"key": key, "result": asdict(res)}))
    log(f"{s.chapter}: the reference solution earns {res.total:g} / {res.max_total:g} in the sandbox")
    return res


def canary_message(s: Settings, res: Result, graded) -> str:
    """Why the canary failed: the first cell with an error, and its error."""
    head = (f"STOPPED before grading any student: the reference solution of {s.chapter} scored "
            f"{res.total:g} / {res.max_total:g} in the grading sandbox (status {res.status!r}), or one of its "
            "cells raised an error.")
    lines = [head]
    first = None
    for cell in (graded.cells if graded is not None else []):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                first = (cell, out)
                break
        if first:
            break
    if first:
        cell, out = first
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or cell.get("id")
        ename, evalue = out.get("ename", ""), str(out.get("evalue", ""))[:500]
        code = _first_code_line(cell)
        if ename in ("ModuleNotFoundError", "ImportError") and "course_utils" in evalue:
            lines.append(f"course_utils cannot be imported inside the sandbox: {ename}: {evalue}")
        lines.append(f"First failing cell: {gid} ({code[:80]!r}): {ename}: {evalue}")
    for note in [*res.flags, *res.notes][:5]:
        lines.append(f"  {note.splitlines()[0][:300]}")
    lost = [c for c, v in res.scores.items() if v < res.max_scores.get(c, 0)]
    if lost:
        lines.append(f"Test cells that lost points: {', '.join(lost)}")
    lines.append("Check the environment the sandbox sees (`python -m autograder.tools.sandbox check`, "
                 "the installed packages, --sandbox, --memory-gb, --cell-timeout).")
    return "\n".join(lines)


def replace_settings(s: Settings, **changes) -> Settings:
    return Settings(**{**asdict(s), **changes})


def _forget_student(s: Settings, student: str) -> None:
    """Remove a student (the canary) from the gradebook and the course folders."""
    from nbgrader.api import Gradebook, MissingEntry
    with contextlib.suppress(Exception), Gradebook(s.url, COURSE_ID) as gb:
        with contextlib.suppress(MissingEntry):
            gb.remove_submission(s.chapter, student)
        with contextlib.suppress(MissingEntry):
            gb.remove_student(student)
    p = _paths(s, student)
    for key in ("submitted", "autograded", "feedback_src"):
        shutil.rmtree(p[key].parent, ignore_errors=True)
    for key in ("marker", "scan", "feedback"):
        p[key].unlink(missing_ok=True)
    shutil.rmtree(s.root / "feedback" / student, ignore_errors=True)


# ---------------------------------------------------------------- command line

def demo_chapters() -> list[str]:
    from autograder.tools import demo
    return [c for c in demo.DEMO_CHAPTERS if c in chapter_names()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapter", nargs="?", help="chapter to grade, e.g. 05_detection (default: the demo class)")
    parser.add_argument("submissions", nargs="?", help="LMS download (.zip) or folder of <student>/<notebook>.ipynb")
    parser.add_argument("--out", help="output folder (default: build/autograde/<chapter>)")
    parser.add_argument("--workers", type=int, default=max(1, os.cpu_count() or 1))
    parser.add_argument("--db-url", default=os.environ.get("DB_URL") or None,
                        help="gradebook database URL (default: SQLite in the output folder; e.g. postgresql://...)")
    parser.add_argument("--regex", default=collect.DEFAULT_REGEX, help="file-name pattern for zip_collect")
    parser.add_argument("--deadline", help="due date, e.g. '2026-05-03 23:59:00' (UTC)")
    parser.add_argument("--cell-timeout", type=int, default=None,
                        help="seconds per cell before it is interrupted (default 120; 60 for the demo class)")
    parser.add_argument("--notebook-timeout", type=int, default=900)
    parser.add_argument("--memory-gb", type=float, default=sandbox.DEFAULT_MEMORY / 2**30)
    parser.add_argument("--sandbox", default="auto", choices=["auto", *sandbox.MODES])
    parser.add_argument("--threads", type=int, default=1, help="torch/OpenMP threads per kernel (default 1)")
    parser.add_argument("--full", action="store_true", help="grade in full mode (default: DLCV_QUICK=1)")
    parser.add_argument("--force", action="store_true", help="regrade every submission")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--source", help="solution source of the assignment (default: solutions/<chapter>.py)")
    parser.add_argument("--no-scan", action="store_true", help="skip the pre-grading scan (only to test the sandbox)")
    parser.add_argument("--cold", action="store_true",
                        help="start every kernel from scratch instead of forking it from a warm zygote (zygote.py)")
    args = parser.parse_args(argv)

    jobs = []
    if args.chapter and args.submissions:
        jobs.append((args.chapter, args.submissions, args.deadline))
        cell_timeout = args.cell_timeout or 120
    else:
        from autograder.tools import demo
        chapters = [args.chapter] if args.chapter else demo_chapters()
        if not chapters:
            print("no demo chapter has a solution yet")
            return 1
        cell_timeout = args.cell_timeout or 60  # the demo's looping student need not wait long
        for chapter in chapters:
            folder = demo.ensure_demo(chapter)
            jobs.append((chapter, str(folder), args.deadline or demo.DEADLINE))
    status = 0
    for chapter, submissions, deadline in jobs:
        s = Settings(chapter=chapter, submissions=submissions,
                     out=args.out if args.out and len(jobs) == 1 else str(REPO / "build" / "autograde" / chapter),
                     workers=args.workers, db_url=args.db_url, cell_timeout=cell_timeout,
                     notebook_timeout=args.notebook_timeout, memory=int(args.memory_gb * 2**30),
                     sandbox_mode=args.sandbox, regex=args.regex, deadline=deadline, quick=not args.full,
                     force=args.force, progress=not args.no_progress, source=args.source, scan=not args.no_scan,
                     threads_per_kernel=args.threads, warm=not args.cold)
        try:
            results = run(s)
        except CanaryError as err:
            print(f"\n{err}", file=sys.stderr)
            status = 2
            continue
        print()
        print(f"== {chapter}: grades in {Path(s.out) / 'grades.csv'}, feedback in {Path(s.out) / 'feedback'}/")
        print(summary_table(results))
        warning = class_warning(results)
        if warning:  # run() said it before the table too; say it again where it will be read
            print(warning)
        if any(r.status in ("grader error", "not graded") for r in results.values()):
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
