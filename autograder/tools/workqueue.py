"""Several graders, one gradebook: the work queue lives in PostgreSQL itself.

    make autograde CHAPTER=05_detection SUBMISSIONS=download.zip DB_URL=postgresql://grader@db.example/dlcv

Run the same command on any number of machines, at the same time or one after the other
(on one machine, give each grader its own ``--out``). With a PostgreSQL gradebook,
:func:`autograder.tools.autograde.run` takes its students from the table
``dlcv_grading_queue`` in the same database (one row per chapter and student) instead of
from a queue inside one process. Nothing here schedules anything: PostgreSQL's row locks
and one advisory lock do all the coordination.

* **Enqueue.** Every grader collects, normalizes and scans every submission on its own
  disk (cheap), then inserts one row per student with the submission's *key* (the hash
  that the markers use: submission, timestamp, assignment, grader version, scan). A row
  whose key changed (a new submission, a new grader version), or whose last grading was a
  grader error, goes back to ``pending``; ``--force`` sends every row back.
* **Claim.** A worker takes the next pending row with
  ``SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1`` and keeps that transaction open while it
  grades: the row lock *is* the claim. When the grade is in the gradebook, the same
  transaction stores the result (the CSV row, as JSON), the feedback page and who graded
  it, sets the row ``done`` and commits. No other worker can take a locked row, so no
  student is graded twice.
* **Crash.** A grader that dies (``kill -9``, a lost machine) loses its connection;
  PostgreSQL rolls its open transaction back and releases the lock, so the row is simply
  pending again and the next claim takes it: no student is lost, and there is no lease,
  heartbeat or timeout to tune. (A lost *machine* is noticed through TCP keepalives,
  which every worker session sets to about two minutes.) A worker process that dies while
  its grader lives marks its student ``error`` ("grader error", retried by the next run),
  as a single grader does, so that a submission that kills workers cannot loop forever.
* **Wait.** When no row is free, a worker waits on a locked one (``FOR UPDATE`` without
  ``SKIP LOCKED``): when its holder commits, the row is done and skipped; when its holder
  dies, the waiting worker takes it. A grader ends when no row it can grade is pending, so
  the last one to finish has every grade.
* **Set-up.** Generating the assignment into the gradebook and grading the canary (the
  reference solution, student ``__reference_solution__``) write to the shared gradebook,
  so they run under a PostgreSQL advisory lock, one grader at a time. Only the first
  grader writes the assignment into the gradebook; the others generate their local copy
  with ``--no-db`` (nbgrader deletes and re-creates an assignment's cells when it has no
  submission yet, which would pull them from under a grader that is starting).
* **Results.** Every grader writes the complete ``grades.csv`` and every feedback page
  from the table, whoever graded them, so any machine's output is the class's.

``SELECT student, graded_by, application_name FROM dlcv_grading_queue`` and
``SELECT application_name FROM pg_stat_activity WHERE application_name LIKE 'dlcv-grader%'``
show who graded what and who is grading what right now.

Connect the graders to PostgreSQL directly (or through a session-pooling PgBouncer): a
transaction-pooling proxy cannot keep a transaction open across the grading of a notebook.
All graders must run the same commit of the course with the same download: a grader whose
staged submission differs from the row's (another key) does not grade that row.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing as mp
import os
import queue
import socket
import tempfile
import time
import traceback
from dataclasses import asdict, fields
from pathlib import Path

TABLE = "dlcv_grading_queue"
ASSIGNMENTS = "dlcv_grading_assignments"
STATES = ("pending", "done", "error")
# Server-side TCP keepalives of every grader session: a grading machine that vanishes
# releases its rows after about idle + count * interval seconds (ignored on Unix sockets).
KEEPALIVE = {"tcp_keepalives_idle": 60, "tcp_keepalives_interval": 10, "tcp_keepalives_count": 6}
APP_NAME = "dlcv-grader"   # prefix of application_name, seen in pg_stat_activity
MAX_RESTARTS = 8           # worker processes restarted per run before giving up

SCHEMA = (f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    chapter     text        NOT NULL,
    student     text        NOT NULL,
    key         text        NOT NULL,
    state       text        NOT NULL DEFAULT 'pending' CHECK (state IN {STATES}),
    result      jsonb,
    feedback    text,
    graded_by   text,
    gradings    integer     NOT NULL DEFAULT 0,
    queued_at   timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    PRIMARY KEY (chapter, student))""", f"""
CREATE TABLE IF NOT EXISTS {ASSIGNMENTS} (
    chapter   text        PRIMARY KEY,
    ahash     text        NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now())""")

# The next pending row this grader can grade (its staged copy has the row's key).
# ``gradings`` counts committed gradings of the row over all its versions.
CLAIM = (f"SELECT student FROM {TABLE} WHERE chapter = :chapter AND state = 'pending' "
         f"AND key = (CAST(:keys AS jsonb) ->> student) ORDER BY student LIMIT 1 FOR UPDATE")
FINISH = (f"UPDATE {TABLE} SET state = :state, result = CAST(:result AS jsonb), feedback = :feedback, "
          f"graded_by = :graded_by, gradings = gradings + 1, finished_at = now() "
          f"WHERE chapter = :chapter AND student = :student AND state = 'pending'")


def wanted(s) -> bool:
    """True when the gradebook is PostgreSQL: then every run goes through the shared queue."""
    url = (s.db_url or "").strip()
    return url.split("://", 1)[0].split("+", 1)[0] in ("postgresql", "postgres") and "://" in url


def engine_for(s):
    """A SQLAlchemy engine without a pool (one connection per worker, closed with it)."""
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    from autograder.tools.autograde import database_url
    return sqlalchemy.create_engine(database_url(s.db_url), poolclass=NullPool)


def _session(conn, name: str) -> None:
    from sqlalchemy import text
    for key, value in KEEPALIVE.items():
        conn.execute(text(f"SET {key} = {int(value)}"))
    # The claim is a transaction held open while a notebook is graded: no server default
    # may end it.
    conn.execute(text("SET idle_in_transaction_session_timeout = 0"))
    conn.execute(text("SET statement_timeout = 0"))
    _name(conn, name)
    conn.commit()


def _name(conn, name: str) -> None:
    from sqlalchemy import text
    conn.execute(text("SELECT set_config('application_name', :n, false)"), {"n": name[:63]})


def _lock_key(chapter: str) -> int:
    """The advisory lock of one chapter's set-up (a signed 64-bit integer)."""
    digest = hashlib.sha256(f"dlcv-autograde-setup:{chapter}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def local_keys(s, students: list[str]) -> dict[str, str]:
    """student -> key of the submission as staged on this machine (from its scan record)."""
    from autograder.tools.autograde import _paths
    keys = {}
    for student in students:
        with contextlib.suppress(OSError, ValueError, KeyError):
            keys[student] = json.loads(_paths(s, student)["scan"].read_text())["key"]
    return keys


def result_from(data: dict):
    """A :class:`~autograder.tools.autograde.Result` from its JSON (unknown fields dropped:
    a row written by a newer grader still loads)."""
    from autograder.tools.autograde import Result
    known = {f.name for f in fields(Result)}
    return Result(**{k: v for k, v in data.items() if k in known})


class WorkQueue:
    """The shared queue of one chapter; :func:`autograder.tools.autograde.run` calls
    :meth:`setup`, :meth:`enqueue`, :meth:`grade` and :meth:`load_results` in that order
    (and :meth:`gradebook_has` / :meth:`gradebook_written` from ``prepare_course``)."""

    def __init__(self, s):
        self.s = s
        self.engine = engine_for(s)
        self.grader = f"{socket.gethostname()}:{os.getpid()}"
        self.keys = "{}"   # JSON student -> key of this grader's staged submissions (set by enqueue)

    # ------------------------------------------------------------ set-up

    @contextlib.contextmanager
    def setup(self):
        """One grader at a time: create the tables, generate the assignment, grade the canary."""
        from sqlalchemy import text
        with self.engine.connect() as conn:
            _session(conn, f"{APP_NAME} {os.getpid()} setup")
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _lock_key(self.s.chapter)})
            conn.commit()
            try:
                for statement in SCHEMA:
                    conn.execute(text(statement))
                conn.commit()
                yield self
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _lock_key(self.s.chapter)})
                conn.commit()

    def gradebook_has(self, ahash: str) -> bool:
        """True when a grader already wrote this version of the assignment into the gradebook."""
        from sqlalchemy import text
        with self.engine.connect() as conn:
            row = conn.execute(text(f"SELECT ahash FROM {ASSIGNMENTS} WHERE chapter = :c"),
                               {"c": self.s.chapter}).first()
        return row is not None and row[0] == ahash

    def gradebook_written(self, ahash: str) -> None:
        from sqlalchemy import text
        with self.engine.begin() as conn:
            conn.execute(text(f"INSERT INTO {ASSIGNMENTS} (chapter, ahash) VALUES (:c, :h) ON CONFLICT (chapter) "
                              "DO UPDATE SET ahash = excluded.ahash, stored_at = now()"),
                         {"c": self.s.chapter, "h": ahash})

    # ------------------------------------------------------------ the queue

    def enqueue(self, students: list[str]) -> list[str]:
        """Add this grader's staged submissions; return the students still to grade
        (pending rows whose key is this grader's, including rows other graders hold now)."""
        from sqlalchemy import text
        keys = self.keys = json.dumps(local_keys(self.s, students))
        params = {"chapter": self.s.chapter, "keys": keys, "force": bool(self.s.force)}
        rows = f"jsonb_each_text(CAST(:keys AS jsonb)) AS k(student, key)"
        with self.engine.begin() as conn:
            conn.execute(text(f"INSERT INTO {TABLE} (chapter, student, key) SELECT :chapter, k.student, k.key "
                              f"FROM {rows} ON CONFLICT (chapter, student) DO NOTHING"), params)
            # A plain UPDATE locks only the rows it changes: a row another grader is grading
            # with the same key is not waited for.
            conn.execute(text(f"UPDATE {TABLE} AS q SET key = k.key, state = 'pending', result = NULL, "
                              f"feedback = NULL, graded_by = NULL, finished_at = NULL, queued_at = now() "
                              f"FROM {rows} WHERE q.chapter = :chapter AND q.student = k.student "
                              f"AND (q.key <> k.key OR q.state = 'error' OR :force)"), params)
            pending = conn.execute(text(f"SELECT student FROM {TABLE} WHERE chapter = :chapter "
                                        f"AND state = 'pending' AND key = (CAST(:keys AS jsonb) ->> student) "
                                        f"ORDER BY student"), params).scalars().all()
        return list(pending)

    def grade(self, s, pending: list[str], mode: str, log=print) -> dict:
        """Grade with ``s.workers`` processes that claim rows until none is left; returns
        what this grader graded (the table has everyone's)."""
        from autograder.tools import autograde
        from autograder.tools.autograde import Result
        results: dict[str, Result] = {}
        if not pending:
            return results
        ctx = mp.get_context("spawn")
        out_q = ctx.Queue()
        n = max(1, min(s.workers, len(pending)))
        sandbox_base = Path(tempfile.mkdtemp(prefix="dlcvsb-"))  # short: ipc socket paths are limited
        os.chmod(sandbox_base, 0o755)
        s_dict = asdict(s)
        keys = self.keys

        def start(wid):
            proc = ctx.Process(target=_worker_main, args=(s_dict, wid, mode, str(sandbox_base), keys,
                                                          self.grader, out_q), daemon=True)
            proc.start()
            return proc

        procs = {wid: start(wid) for wid in range(n)}
        inflight: dict[int, str] = {}
        restarts = 0
        bar = None
        if s.progress:
            import sys

            from tqdm.auto import tqdm
            bar = tqdm(total=len(pending), desc=f"grading {s.chapter} (shared queue)", unit="nb", file=sys.stderr)
        try:
            while procs:
                try:
                    kind, wid, payload = out_q.get(timeout=1.0)
                except queue.Empty:
                    for wid, proc in list(procs.items()):
                        if proc.is_alive():
                            continue
                        procs.pop(wid)
                        student = inflight.pop(wid, None)
                        if student is not None:
                            res = Result(student, status="grader error",
                                         notes=[f"worker process died (exit code {proc.exitcode})"])
                            results[student] = res
                            self._mark_error(student, res)
                            bar and bar.update()
                        if proc.exitcode != 0 and restarts < MAX_RESTARTS:
                            restarts += 1
                            procs[wid] = start(wid)
                    continue
                if kind == "fatal":
                    raise RuntimeError(f"grading worker {wid} could not start:\n{payload}")
                if kind == "start":
                    inflight[wid] = payload
                elif kind == "done":
                    inflight.pop(wid, None)
                    res = result_from(payload)
                    results[res.student] = res
                    if bar:
                        bar.update()
                        bar.set_postfix_str(f"{res.student}: {res.total:g}/{res.max_total:g}")
                elif kind == "exit":
                    proc = procs.pop(wid, None)
                    if proc is not None:
                        proc.join(timeout=10)
        finally:
            autograde.finish_workers(procs.values(), sandbox_base, bar)
        return results

    def _mark_error(self, student: str, res) -> None:
        """A worker died under a live grader: its student is a grader error (retried by
        the next run), unless another grader has taken the row in the meantime."""
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError
        with contextlib.suppress(DBAPIError), self.engine.connect() as conn:
            conn.execute(text("SET lock_timeout = '20s'"))
            conn.execute(text(FINISH), {"state": "error", "result": json.dumps(asdict(res)), "feedback": None,
                                        "graded_by": self.grader, "chapter": self.s.chapter, "student": student})
            conn.commit()

    def load_results(self, students: list[str]) -> dict:
        """Every student's result from the table (whoever graded it); each feedback page
        is written to this grader's ``feedback/`` folder, and a done row whose key is this
        grader's gets a local marker (a later run here need not stage it again)."""
        from sqlalchemy import text

        from autograder.tools import collect
        from autograder.tools.autograde import Result, _paths
        keys = local_keys(self.s, students)
        order = _test_cells(self.s)
        with self.engine.connect() as conn:
            rows = {r.student: r for r in conn.execute(
                text(f"SELECT student, key, state, result, feedback FROM {TABLE} "
                     f"WHERE chapter = :c AND student = ANY(:students)"),
                {"c": self.s.chapter, "students": list(students)})}
        out = {}
        for student in students:
            row, p = rows.get(student), _paths(self.s, student)
            if row is None or row.result is None:
                out[student] = Result(student, status="not graded",
                                      notes=["still pending in the shared queue" if row is not None
                                             else "not in the shared queue"])
                continue
            res = result_from(row.result)
            # jsonb keeps its keys in its own order: the CSV's columns follow the notebook.
            for name in ("scores", "max_scores"):
                d = getattr(res, name)
                setattr(res, name, {c: d[c] for c in sorted(d, key=lambda c: order.get(c, len(order)))})
            if row.feedback is not None:
                if not p["feedback"].exists() or p["feedback"].read_text() != row.feedback:
                    collect.write_atomic(p["feedback"], row.feedback)
                res.feedback = str(p["feedback"])
            if row.key != keys.get(student):
                res.notes.append("graded by another grader from a different copy of this submission")
            elif row.state == "done":
                marker = p["marker"]
                current = _read_json(marker)
                if not current or current.get("key") != row.key:
                    collect.write_atomic(marker, json.dumps(asdict(res), indent=1))
            out[student] = res
        return out


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _test_cells(s) -> dict[str, int]:
    """grade id -> position of the release's graded cells."""
    import nbformat
    with contextlib.suppress(OSError, ValueError):
        nb = nbformat.read(s.root / "release" / s.chapter / f"{s.chapter}.ipynb", as_version=4)
        gids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade")]
        return {gid: i for i, gid in enumerate(gids) if gid}
    return {}


# ---------------------------------------------------------------- the worker

def _claim(conn, chapter: str, keys: str, wait: bool) -> str | None:
    from sqlalchemy import text
    sql = CLAIM if wait else CLAIM + " SKIP LOCKED"
    return conn.execute(text(sql), {"chapter": chapter, "keys": keys}).scalar()


def _worker_main(s_dict: dict, wid: int, mode: str, sandbox_base: str, keys: str, grader: str, results) -> None:
    """One worker process: claim a row, grade it, store the result in the same transaction."""
    from autograder.tools import autograde
    autograde._die_with_parent()
    import logging
    import warnings
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    s = autograde.Settings(**s_dict)
    me = f"{grader}/w{wid}"
    label = f"{APP_NAME} {grader.rsplit(':', 1)[-1]}.w{wid}"
    try:
        worker = autograde.Worker(s, wid, mode, Path(sandbox_base))
        conn = engine_for(s).connect()
        _session(conn, f"{label} idle")
    except Exception:  # noqa: BLE001
        results.put(("fatal", wid, traceback.format_exc()))
        return
    from sqlalchemy import text
    while True:
        tx = conn.begin()
        # A free row; else wait for a row another worker holds (taken if its holder dies).
        student = _claim(conn, s.chapter, keys, wait=False) or _claim(conn, s.chapter, keys, wait=True)
        if student is None:
            tx.rollback()
            break
        _name(conn, f"{label} {student}")
        results.put(("start", wid, student))
        try:
            res = worker.grade(student)
        except Exception:  # noqa: BLE001
            tb = traceback.format_exc()
            res = autograde.Result(student, status="grader error", notes=[tb.strip().splitlines()[-1][:300], tb[-1500:]])
        page = None
        if res.feedback:
            with contextlib.suppress(OSError):
                page = Path(res.feedback).read_text()
        state = "error" if res.status == "grader error" else "done"
        conn.execute(text(FINISH), {"state": state, "result": json.dumps(asdict(res)), "feedback": page,
                                    "graded_by": me, "chapter": s.chapter, "student": student})
        _name(conn, f"{label} idle")
        tx.commit()
        results.put(("done", wid, asdict(res)))
    conn.close()
    worker.close()
    results.put(("exit", wid, None))
    time.sleep(0.1)  # let the queue's feeder thread flush
