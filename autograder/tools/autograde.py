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
3. **Scan.** Student-written cells are read for code that fakes passes
   (:mod:`autograder.tools.scan`); a finding zeroes the submission and flags it.
4. **Grade.** N worker processes (default: one per core) each run nbgrader's Autograde
   in-process over a queue of students (no 6 s CLI start per student), sharing one
   gradebook (SQLite by default, or any SQLAlchemy URL such as ``postgresql://...``).
   Kernels run sandboxed (:mod:`autograder.tools.sandbox`) with ``DLCV_QUICK=1``, through
   :class:`~autograder.tools.safe_execute.SafeExecute` (timeouts, dead kernels, output cap).
5. **Feedback.** One HTML per student, rendered by nbgrader from a sanitized copy of the
   graded notebook that holds no hidden test (:mod:`autograder.tools.feedback`).
6. **Marker.** ``course/.markers/<student>.json`` is written (atomically) only after the
   grade is in the gradebook and the feedback is written; a re-run grades exactly the
   students without an up-to-date marker.
7. **Report.** ``<out>/grades.csv`` (student, points per test cell, total, lateness,
   status, flags) and a table on the terminal.
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

import nbformat

from autograder.tools import collect, feedback, sandbox, scan
from autograder.tools.build import REPO, chapter_names, nbgrader, new_course_root, write_source

COURSE_ID = "dlcv"
GRADER_VERSION = "1"  # part of every marker: bump it to regrade everything after a grader change
DEMO = REPO / "autograder" / "demo"


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


def prepare_course(s: Settings, log=print) -> str:
    """Make ``<out>/course`` and generate the chapter into its gradebook (when needed).

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
        nbgrader(["generate_assignment", s.chapter, "--force"], root)
        collect.write_atomic(stamp, ahash)
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
    raws = collect.gather(Path(s.submissions), s.chapter, Path(s.out) / "collect", s.regex)
    students, pending = [], []
    for raw in raws:
        if not _safe_name(raw.student):
            log(f"skipping a submission with an unusable student id: {raw.student!r}")
            continue
        p = _paths(s, raw.student)
        nb = collect.read_notebook(raw.notebook)
        notes = []
        if nb is None:
            notes.append("no readable notebook in the submission: graded as the empty release")
            nb = release
        findings = scan.scan_notebook(nb, release) if s.scan else []
        graded_nb = collect.normalize_submission(nb, release)
        body = nbformat.writes(graded_nb)
        key = _sha(body, raw.timestamp or "", ahash, GRADER_VERSION, json.dumps([f.to_dict() for f in findings]))[:24]
        students.append(raw.student)
        marker = _read_marker(p["marker"])
        if marker and marker.get("key") == key and not s.force and p["feedback"].exists():
            continue
        # New or changed submission: replace it atomically (folder swap), then queue it.
        p["marker"].unlink(missing_ok=True)
        p["submitted"].parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".stage-", dir=p["submitted"].parent))
        (tmp / f"{s.chapter}.ipynb").write_text(body)
        if raw.timestamp:
            (tmp / "timestamp.txt").write_text(raw.timestamp)
        old = p["submitted"].with_name(f".old-{s.chapter}")
        if old.exists():
            shutil.rmtree(old)
        if p["submitted"].exists():
            p["submitted"].rename(old)
        tmp.rename(p["submitted"])
        shutil.rmtree(old, ignore_errors=True)
        collect.write_atomic(p["scan"], json.dumps({"key": key, "findings": [f.to_dict() for f in findings],
                                                   "notes": notes, "timestamp": raw.timestamp}))
        pending.append(raw.student)
    return students, pending


def _read_marker(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------- the worker

def nbgrader_config(s: Settings, runtime: Path):
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
        cfg = sandbox.SandboxConfig(mode=mode, python=sys.executable, scratch=str(self.scratch), mpl_cache=str(mpl),
                                    runtime=str(self.runtime), uid=sandbox.UID_BASE + wid, gid=sandbox.UID_BASE + wid,
                                    ro_paths=sandbox.needed_ro_paths(), env=env, memory=s.memory,
                                    cpu=max(sandbox.DEFAULT_CPU, 2 * s.notebook_timeout))
        cfg.write(base / "sandbox.json")
        sandbox.write_kernelspec(base / "kernels")
        os.environ["JUPYTER_PATH"] = str(base)
        os.environ["JUPYTER_RUNTIME_DIR"] = str(self.runtime)
        os.environ[sandbox.CONFIG_ENV] = str(base / "sandbox.json")
        self.config = nbgrader_config(s, self.runtime)
        release = s.root / "release" / s.chapter / f"{s.chapter}.ipynb"
        source = s.root / "source" / s.chapter / f"{s.chapter}.ipynb"
        self.release = nbformat.read(release, as_version=4)
        self.secrets = feedback.hidden_lines(nbformat.read(source, as_version=4), self.release)

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
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch.mkdir(parents=True, exist_ok=True)
        info = json.loads(p["scan"].read_text())
        res = Result(student, key=info["key"], timestamp=info.get("timestamp"),
                     flags=[str(scan.Finding(**f)) for f in info["findings"]], notes=list(info.get("notes", [])))
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
        if res.flags:
            res.status = "flagged"
            self._zero(student, "flagged by the pre-grading scan: " + "; ".join(res.flags)[:1000])
        self._read_grades(student, res)
        t = time.monotonic()
        res.feedback = str(self._feedback(student, graded, res))
        res.timings["feedback"] = time.monotonic() - t
        res.seconds = time.monotonic() - start
        collect.write_atomic(p["marker"], json.dumps(asdict(res), indent=1))
        return res

    def _notes_from_outputs(self, nb, res: Result) -> None:
        from autograder.tools.safe_execute import KERNEL_DIED, NOT_RUN
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error" and out.get("ename") == KERNEL_DIED:
                    res.status = "kernel died" if "died" in out.get("evalue", "") else "timeout"
                    res.notes.append(f"{cell.get('metadata', {}).get('nbgrader', {}).get('grade_id') or cell.get('id')}: "
                                     f"{out.get('evalue')}")
                elif out.get("output_type") == "error" and out.get("ename") == NOT_RUN and res.status == "ok":
                    res.status = "timeout"
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
        if bar:
            bar.close()
        for proc in procs.values():
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
        shutil.rmtree(sandbox_base, ignore_errors=True)
    return results


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
    w.writerow(["student", *cells, "total", "max", "timestamp", "seconds_late", "status", "flags"])
    for student in sorted(results):
        r = results[student]
        w.writerow([student, *[f"{r.scores.get(c, 0.0):g}" for c in cells], f"{r.total:g}", f"{r.max_total:g}",
                    r.timestamp or "", f"{r.seconds_late:.0f}", r.status, " | ".join(r.flags)])
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
    rows = [("student", "points", "late", "status", "why")]
    for student in sorted(results):
        r = results[student]
        why = (r.flags[0] if r.flags else (r.notes[0] if r.notes else ""))[:70]
        rows.append((student, f"{r.total:g} / {r.max_total:g}", _late(r.seconds_late), r.status, why))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    graded = [r for r in results.values() if r.max_total]
    if graded:
        mean = sum(r.total for r in graded) / len(graded)
        lines.append(f"{len(results)} students, mean {mean:.1f} / {graded[0].max_total:g}")
    return "\n".join(lines)


def run(s: Settings, log=print) -> dict[str, Result]:
    """The whole pipeline for one chapter; returns every student's result."""
    out = Path(s.out)
    with _run_lock(out):
        mode = sandbox.detect_mode(s.sandbox_mode, log)
        warning = sandbox.warning_for(mode)
        if warning:
            log(warning)
        ahash = prepare_course(s, log)
        students, pending = stage_submissions(s, ahash, log)
        log(f"{s.chapter}: {len(students)} submissions, {len(students) - len(pending)} already graded, "
            f"{len(pending)} to grade with {min(s.workers, max(1, len(pending)))} workers (sandbox: {mode})")
        start = time.monotonic()
        fresh = grade_pending(s, pending, mode, log)
        if pending:
            log(f"graded {len(pending)} notebooks in {time.monotonic() - start:.0f} s")
        results = load_results(s, students, fresh)
        write_csv(s, results, out / "grades.csv")
        return results


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
                     threads_per_kernel=args.threads)
        results = run(s)
        print()
        print(f"== {chapter}: grades in {Path(s.out) / 'grades.csv'}, feedback in {Path(s.out) / 'feedback'}/")
        print(summary_table(results))
        if any(r.status in ("grader error", "not graded") for r in results.values()):
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
