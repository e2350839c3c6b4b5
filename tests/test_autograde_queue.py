"""Several graders, one PostgreSQL gradebook (autograder/tools/workqueue.py), with a real
PostgreSQL server started by the test (tests/test_autograde_postgres.py's set-up).

Twenty submissions of the tiny assignment (autograder/demo/mini_course.py) are graded by
two grader processes at once, each with its own output folder as on two machines. One of
them is killed with SIGKILL while it grades a student; the other finishes, including that
student. Then: every student's grade is in the gradebook and the queue exactly once, no
student that the killed grader had finished was graded again, the CSV equals the one a
single grader writes (SQLite, no queue), and the killed grader, restarted, grades nothing
and writes the same CSV.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder.tools import autograde, workqueue
from tests.test_autograde_postgres import postgres_url  # noqa: F401  (the server fixture)
from tests.test_autograde_resume import _alive, _children

pytestmark = pytest.mark.slow

MINI = autograde.REPO / "autograder" / "demo" / "mini_course.py"
STUB = 'raise NotImplementedError("Exercise: replace this line with your code")'
N = 20  # as issue 21 asks: 20 submissions, two graders, one killed
SLEEP = 0.5   # seconds per notebook: long enough to kill a grader while it grades


def _make_class(folder: Path, release_nb) -> dict[str, float]:
    """good (6 points), half (3) and empty (0) submissions, in turn."""
    expected = {}
    for i in range(N):
        kind = i % 3
        nb = nbformat.reads(nbformat.writes(release_nb), as_version=4)
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid == "square" and kind != 2:
                cell.source = cell.source.replace(STUB, f"import time\n    time.sleep({SLEEP})\n    return x * x")
            elif gid == "hypot" and kind == 0:
                cell.source = cell.source.replace(STUB, "return math.sqrt(a * a + b * b)")
            elif gid == "answer_cell" and kind != 2:
                cell.source = cell.source.replace(STUB, "answer = 42")
        (folder / f"s{i:02d}").mkdir(parents=True)
        nbformat.write(nb, folder / f"s{i:02d}" / "00_mini.ipynb")
        expected[f"s{i:02d}"] = (6.0, 3.0, 0.0)[kind]
    return expected


def _grader(subs: Path, out: Path, db_url: str | None, log: Path, workers: int = 1) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "autograder.tools.autograde", "00_mini", str(subs), "--out", str(out),
           "--source", str(MINI), "--workers", str(workers), "--no-progress", "--cell-timeout", "30"]
    if db_url:
        cmd += ["--db-url", db_url]
    env = {k: v for k, v in os.environ.items() if k != "DB_URL"}
    return subprocess.Popen(cmd, cwd=autograde.REPO, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True, env=env)


def _wait(proc: subprocess.Popen, log: Path, timeout: float = 600) -> float:
    start = time.monotonic()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"a grader did not finish in {timeout} s:\n{log.read_text()[-3000:]}")
    assert proc.returncode == 0, log.read_text()[-3000:]
    return time.monotonic() - start


def _children_cpu() -> float:
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _query(db_url: str, sql: str, **params):
    from sqlalchemy import text
    s = autograde.Settings(chapter="00_mini", submissions="", out="", db_url=db_url)
    with workqueue.engine_for(s).connect() as conn:
        return conn.execute(text(sql), params).all()


def test_two_graders_one_killed(tmp_path, postgres_url):  # noqa: F811
    subs = tmp_path / "subs"
    cpu0 = _children_cpu()
    single = autograde.Settings(chapter="00_mini", submissions=str(subs), out=str(tmp_path / "single"),
                                source=str(MINI), progress=False)
    autograde.prepare_course(single)
    release = nbformat.read(single.root / "release" / "00_mini" / "00_mini.ipynb", as_version=4)
    expected = _make_class(subs, release)

    # The reference: one grader process (two workers), SQLite, no queue.
    proc = _grader(subs, tmp_path / "single", None, tmp_path / "single.log", workers=2)
    single_seconds = _wait(proc, tmp_path / "single.log")
    single_cpu = _children_cpu() - cpu0
    reference_csv = (tmp_path / "single" / "grades.csv").read_text()

    # Two graders on the same PostgreSQL gradebook; A is killed while it grades a student.
    a_out, b_out = tmp_path / "a", tmp_path / "b"
    t0 = time.monotonic()
    a = _grader(subs, a_out, postgres_url, tmp_path / "a.log")
    b = _grader(subs, b_out, postgres_url, tmp_path / "b.log")
    host = socket.gethostname()
    in_flight, done_by_a = None, []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and a.poll() is None:
        with_table = _query(postgres_url, "SELECT to_regclass(:t) IS NOT NULL", t=workqueue.TABLE)[0][0]
        if with_table:
            done_by_a = [r[0] for r in _query(postgres_url, f"SELECT student FROM {workqueue.TABLE} "
                                              "WHERE state = 'done' AND graded_by LIKE :who",
                                              who=f"{host}:{a.pid}/%")]
            grading = _query(postgres_url, "SELECT application_name FROM pg_stat_activity "
                             "WHERE application_name LIKE :name AND state = 'idle in transaction'",
                             name=f"{workqueue.APP_NAME} {a.pid}.w0 s%")
            if len(done_by_a) >= 2 and grading:
                in_flight = grading[0][0].rsplit(" ", 1)[-1]
                break
        time.sleep(0.1)
    assert a.poll() is None and in_flight, (
        "grader A finished or never graded two students:\n" + (tmp_path / "a.log").read_text()[-3000:])
    descendants = _children(a.pid)
    os.kill(a.pid, signal.SIGKILL)
    a.wait()
    for _ in range(100):
        if not _alive(descendants):
            break
        time.sleep(0.2)
    assert not _alive(descendants), f"processes outlived the killed grader: {_alive(descendants)}"
    _wait(b, tmp_path / "b.log", timeout=600)
    two_seconds = time.monotonic() - t0
    two_cpu = _children_cpu() - cpu0 - single_cpu  # B's, and A's until it was killed (not its orphaned workers)

    # Every grade exactly once, in the queue and in the gradebook.
    rows = {r.student: r for r in _query(postgres_url, f"SELECT student, state, gradings, graded_by, result "
                                         f"FROM {workqueue.TABLE} WHERE chapter = '00_mini'")}
    assert sorted(rows) == sorted(expected)
    for student, total in expected.items():
        r = rows[student]
        assert (r.state, r.gradings) == ("done", 1), f"{student}: {r.state}, graded {r.gradings} times"
        assert r.result["total"] == total, f"{student}: {r.result['total']} != {total}"
    assert rows[in_flight].graded_by.startswith(f"{host}:{b.pid}/"), \
        f"{in_flight} was being graded by the killed grader and must have been finished by the other"
    for student in done_by_a:
        assert rows[student].graded_by.startswith(f"{host}:{a.pid}/"), f"{student} was graded again"
    from nbgrader.api import Gradebook
    with Gradebook(autograde.database_url(postgres_url), autograde.COURSE_ID) as gb:
        assert sorted(st.id for st in gb.students) == sorted(expected)
        subs_db = gb.assignment_submissions("00_mini")
        assert sorted(sub.student.id for sub in subs_db) == sorted(expected)
        for sub in subs_db:
            assert sub.score == expected[sub.student.id], (sub.student.id, sub.score)
    assert (b_out / "grades.csv").read_text() == reference_csv
    pages = {p.name: p.read_text() for p in (tmp_path / "single" / "feedback").glob("*.html")}
    assert {p.name: p.read_text() for p in (b_out / "feedback").glob("*.html")} == pages

    # The killed grader, restarted, finds nothing to grade and writes the same class.
    restart = subprocess.run([sys.executable, "-m", "autograder.tools.autograde", "00_mini", str(subs), "--out",
                              str(a_out), "--source", str(MINI), "--workers", "1", "--no-progress",
                              "--db-url", postgres_url], cwd=autograde.REPO, capture_output=True, text=True,
                             timeout=600)
    assert restart.returncode == 0, restart.stdout[-3000:] + restart.stderr[-3000:]
    assert f"{N} submissions, {N} already graded, 0 to grade" in restart.stdout, restart.stdout[-2000:]
    assert (a_out / "grades.csv").read_text() == reference_csv
    assert {p.name: p.read_text() for p in (a_out / "feedback").glob("*.html")} == pages
    print(json.dumps({"single grader wall s": round(single_seconds, 1), "cpu s": round(single_cpu, 1),
                      "two graders (one killed) wall s": round(two_seconds, 1), "cpu s ": round(two_cpu, 1),
                      "restart cpu s": round(_children_cpu() - cpu0 - single_cpu - two_cpu, 1),
                      "killed while grading": in_flight, "finished by the killed grader": len(done_by_a),
                      "load": os.getloadavg()[0]}))
