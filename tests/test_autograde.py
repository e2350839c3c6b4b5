"""Hostile submissions, graded for real (nbgrader, sandboxed kernels) on a tiny assignment.

The assignment (autograder/demo/mini_course.py) has three exercises worth 2 + 3 + 1
points and needs no torch, so a notebook grades in about a second. Each hostile case is
its own student in one class run, next to an honest student whose grades must stay
exactly right. In every case the submission gains no point it did not earn, the run
completes, and no feedback file shows a hidden test line.

Two runs: one with the pre-grading scan (the default), one without it, to show that
the sandbox and the hardened executor hold on their own (escapes, display-hook partial
credit, feedback leaks) and that the fakes the scan stops are real threats.
"""
import os
import sqlite3
import time
from pathlib import Path

import nbformat
import pytest

from autograder.tools import autograde, feedback, sandbox

pytestmark = pytest.mark.slow

MINI = autograde.REPO / "autograder" / "demo" / "mini_course.py"
STUB = 'raise NotImplementedError("Exercise: replace this line with your code")'
GOOD = {"square": "return x * x", "hypot": "return math.sqrt(a * a + b * b)", "answer_cell": "answer = 42"}
FULL = {"test_square": 2.0, "test_hypot": 3.0, "test_answer": 1.0}


def release(settings):
    return nbformat.read(settings.root / "release" / "00_mini" / "00_mini.ipynb", as_version=4)


def fill(rel, code):
    """The release with each stub replaced by ``code[grade_id]`` (indented like the stub)."""
    nb = nbformat.reads(nbformat.writes(rel), as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in code and STUB in cell.source:
            line = next(l for l in cell.source.splitlines() if STUB in l)
            indent = line[: len(line) - len(line.lstrip())]
            body = "\n".join(indent + l if i else l for i, l in enumerate(code[gid].splitlines()))
            cell.source = cell.source.replace(STUB, body)
    return nb


def insert_after(nb, grade_id, source):
    idx = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    nb.cells.insert(idx + 1, nbformat.v4.new_code_cell(source))
    return nb


def graded_of(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


def write_class(folder: Path, students: dict):
    for name, nb in students.items():
        (folder / name).mkdir(parents=True)
        nbformat.write(nb, folder / name / "00_mini.ipynb")


def settings(tmp_path, name, **kw):
    base = dict(chapter="00_mini", submissions=str(tmp_path / f"{name}-subs"), out=str(tmp_path / f"{name}-out"),
                workers=2, cell_timeout=4, kill_grace=2, notebook_timeout=60, memory=2 * 2**30,
                source=str(MINI), progress=False)
    base.update(kw)
    return autograde.Settings(**base)


def partial(**scores):
    return {k: scores.get(k, 0.0) for k in FULL}


def check_feedback(s, results):
    src = nbformat.read(s.root / "source" / "00_mini" / "00_mini.ipynb", as_version=4)
    secrets = feedback.hidden_lines(src, release(s))
    assert len(secrets) >= 4, secrets
    graded = (s.root / "autograded" / "good" / "00_mini" / "00_mini.ipynb").read_text()
    assert feedback.leaks(graded, secrets), "the instructor's graded copy holds the hidden tests (sanity)"
    for student, res in results.items():
        html = Path(res.feedback).read_text()
        assert not feedback.leaks(html, secrets), f"{student}'s feedback shows hidden test lines"
        assert "hidden_square_probe" not in html and "hidden_hypot_probe" not in html


def test_hostile_class_with_scan(tmp_path):
    s = settings(tmp_path, "scan")
    autograde.prepare_course(s)
    rel = release(s)
    students, expected = {}, {}

    def add(name, nb, scores, status=None):
        students[name] = nb
        expected[name] = (scores, status)

    add("good", fill(rel, GOOD), FULL, "ok")
    add("half", fill(rel, {"square": GOOD["square"], "hypot": "return a + b", "answer_cell": "answer = 41"}),
        partial(test_square=2), "ok")
    add("stub", fill(rel, {}), partial(), "ok")
    # Tampering with the tests (the exercises are left undone: every point would be unearned).
    for kind in ("pass", "edit", "delete", "strip", "points"):
        nb = fill(rel, {"answer_cell": "answer = 0"})
        for cell in graded_of(nb):
            if kind == "pass":
                cell.source = "pass"
            elif kind == "edit":
                cell.source = "assert True, 'fine'"
            elif kind == "strip":
                cell.metadata.pop("nbgrader")
                cell.source = "pass"
            elif kind == "points":
                cell.metadata.nbgrader["points"] = 100
                cell.source = "pass"
        if kind == "delete":
            nb.cells = [c for c in nb.cells if not c.metadata.get("nbgrader", {}).get("grade")]
        add(f"tamper-{kind}", nb, partial(), "ok")
    # Runaway code: cells before it keep their points, the rest score 0.
    add("exit", insert_after(fill(rel, GOOD), "test_square", "import os\nos._exit(3)"), partial(test_square=2), "kernel died")
    add("segfault", insert_after(fill(rel, GOOD), "test_square", "import faulthandler\nfaulthandler._sigsegv()"),
        partial(test_square=2), "kernel died")
    add("sysexit", insert_after(fill(rel, {**GOOD, "hypot": "return None"}), "test_square", "import sys\nsys.exit(1)"),
        partial(test_square=2, test_answer=1), "ok")
    add("loop-nosigint", fill(rel, {**GOOD, "hypot": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                                     "while True:\n    pass"}), partial(test_square=2), "timeout")
    add("loop", fill(rel, {**GOOD, "hypot": "while True:\n    pass"}), partial(test_square=2, test_answer=1), "timeout")
    # A memory bomb raises MemoryError at the limit; what runs after it may or may not
    # find memory, so only the points earned before it are certain.
    add("membomb", insert_after(fill(rel, GOOD), "test_square",
                                "hog = []\nwhile True:\n    hog.append(bytearray(2**28))"),
        lambda sc: sc["test_square"] == 2 and all(sc[k] <= FULL[k] for k in FULL), None)
    # 100 MB of prints: capped while they stream in; on a slow machine the cell may also
    # hit its timeout, which costs the cells after it.
    add("bigprint", insert_after(fill(rel, GOOD), "test_square",
                                 "line = 'x' * 1_000_000\nfor _ in range(100):\n    print(line)"),
        lambda sc: sc["test_square"] == 2 and all(sc[k] <= FULL[k] for k in FULL), None)
    # Faking passes (stopped by the scan; see test_hostile_class_without_scan for their effect).
    add("eq", fill(rel, {"answer_cell": "class Answer:\n    def __eq__(self, other):\n        return True\n"
                                        "    def __ne__(self, other):\n        return False\nanswer = Answer()"}),
        partial(), "flagged")
    add("monkeypatch", insert_after(fill(rel, GOOD), "answer_cell",
                                    "import numpy.testing as npt\nimport torch\nnpt.assert_allclose = lambda *a, **k: None\n"
                                    "torch.testing.assert_close = lambda *a, **k: None"), partial(), "flagged")
    for name, code in ASSERT_REMOVERS.items():
        add(name, insert_after(fill(rel, NONE_ANSWERS), "square", code), partial(), "flagged")
    write_class(Path(s.submissions), students)

    results = autograde.run(s, log=lambda *_: None)
    problems = []
    for name, (scores, status) in expected.items():
        res = results[name]
        if callable(scores):
            if not scores(res.scores):
                problems.append(f"{name}: scores {res.scores} ({res.status}; {res.notes[:1]})")
        elif res.scores != scores:
            problems.append(f"{name}: scores {res.scores}, expected {scores} ({res.status}; {res.notes[:1]})")
        if status and res.status != status:
            problems.append(f"{name}: status {res.status!r}, expected {status!r} ({res.notes[:1]})")
        if res.max_total != 6:
            problems.append(f"{name}: max {res.max_total}, expected 6")
    assert not problems, "\n".join(problems)
    check_feedback(s, results)
    assert Path(results["bigprint"].feedback).stat().st_size < 5_000_000, "100 MB of prints must be capped"
    from nbgrader.api import Gradebook
    with Gradebook(s.url, autograde.COURSE_ID) as gb:
        for name in expected:
            sub = gb.find_submission("00_mini", name)
            assert not sub.needs_manual_grade, f"{name} sits in 'needs manual grading'"
    # Idempotent: a second run grades nothing and reports the same.
    again = autograde.run(s, log=lambda *_: None)
    assert {k: v.scores for k, v in again.items()} == {k: v.scores for k, v in results.items()}
    assert all(again[k].seconds == results[k].seconds for k in results), "nothing may be regraded"
    csv_text = (Path(s.out) / "grades.csv").read_text()
    assert csv_text.splitlines()[0].startswith("student,test_square,test_hypot,test_answer,total,max")
    assert "\ngood,2,3,1,6,6," in csv_text


NONE_ANSWERS = {"square": "return 9", "hypot": "return 5.0", "answer_cell": "answer = 0"}
# Each makes later test cells pass without the work (the answers above satisfy only the
# visible tests; the hidden asserts are what these remove or hide).
ASSERT_REMOVERS = {
    "ast-transformer": (
        "import ast\nclass NoAsserts(ast.NodeTransformer):\n    def visit_Assert(self, node):\n"
        "        return ast.Pass()\nget_ipython().ast_transformers.append(NoAsserts())"),
    "input-transformer": "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])",
    "custom-exc": ("def swallow(self, etype, value, tb, tb_offset=None):\n    return None\n"
                   "get_ipython().set_custom_exc((AssertionError,), swallow)"),
    "event-hook": ("def hook(result):\n    result.error_in_exec = None\n"
                   "get_ipython().events.register('post_run_cell', hook)"),
}


def test_hostile_class_without_scan(tmp_path):
    """The sandbox and the executor alone: escapes fail, display-hook credit is refused,
    feedback stays clean even when student code echoes the hidden tests."""
    s = settings(tmp_path, "noscan", scan=False)
    autograde.prepare_course(s)
    rel = release(s)
    root = s.root.resolve()
    gradebook = root / "gradebook.db"
    secret_paths = [gradebook, root / "source" / "00_mini" / "00_mini.ipynb",
                    root / "submitted" / "good" / "00_mini" / "00_mini.ipynb", root / "nbgrader_config.py",
                    autograde.REPO / "solutions", Path("../../../gradebook.db"), Path("../../../source")]
    probe = "\n".join([
        "import os, sqlite3, subprocess, sys",
        f"targets = {[str(p) for p in secret_paths]!r}",
        "stolen = []",
        "for t in targets:",
        "    try:",
        "        stolen.append(os.listdir(t) if os.path.isdir(t) else open(t, 'rb').read(100))",
        "    except Exception:",
        "        pass",
        "wrote = 0",
        f"for t in [{str(gradebook)!r}, {str(root / 'pwned.txt')!r}, {str(autograde.REPO / 'pwned.txt')!r}, '../../../pwned.txt']:",
        "    try:",
        "        open(t, 'a').write('pwned')",
        "        wrote += 1",
        "    except Exception:",
        "        pass",
        "try:",
        f"    con = sqlite3.connect({str(gradebook)!r}); con.execute('update grade set manual_score = 100'); con.commit()",
        "    wrote += 1",
        "except Exception:",
        "    pass",
        # A detached process that tries again after the kernel has gone.
        "later = ('import time, sqlite3; time.sleep(6); '",
        f"         'open({str(root / 'pwned-later.txt')!r}, \"w\").write(\"x\"); '",
        f"         'c = sqlite3.connect({str(gradebook)!r}); c.execute(\"update grade set manual_score = 100\"); c.commit()')",
        "subprocess.Popen([sys.executable, '-c', later], start_new_session=True,",
        "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)",
        "answer = 42 if (stolen or wrote) else 0",
    ])
    students = {
        "good": fill(rel, GOOD),
        "escape": insert_after(fill(rel, {}), "answer_cell", probe),
        # nbgrader would read a number published as a test cell's result as partial credit.
        "displayhook": fill(rel, {**GOOD, "hypot": "import sys\nsys.displayhook(3.0)\nreturn 0.0"}),
        # Student code echoing the test that calls it: the feedback must still not show it.
        "echo": fill(rel, {"square": "src = '\\n'.join(get_ipython().history_manager.input_hist_raw[-1:])\n"
                                     "print(src)\nraise ValueError(src)",
                           "hypot": GOOD["hypot"], "answer_cell": GOOD["answer_cell"]}),
        "ast-transformer": insert_after(fill(rel, NONE_ANSWERS), "square", ASSERT_REMOVERS["ast-transformer"]),
    }
    write_class(Path(s.submissions), students)
    results = autograde.run(s, log=lambda *_: None)
    time.sleep(8)  # give the detached process its chance
    assert results["good"].scores == FULL
    assert results["escape"].scores == partial(), f"escape gained points: {results['escape'].notes}"
    assert results["displayhook"].scores == partial(test_square=2, test_answer=1), results["displayhook"].scores
    assert results["echo"].scores == partial(test_hypot=3, test_answer=1)
    # Without the scan this fake is a real threat: it passes hidden asserts it never met.
    assert results["ast-transformer"].total > 3, "the AST transformer case no longer fakes anything: update the test"
    assert not list(root.rglob("pwned*")) and not (autograde.REPO / "pwned.txt").exists()
    con = sqlite3.connect(gradebook)
    assert con.execute("select count(*) from grade where manual_score = 100").fetchone()[0] == 0
    check_feedback(s, results)
    html = Path(results["echo"].feedback).read_text()
    assert "ValueError" in html, "a failing test still reports its error"


def test_lms_zip_keeps_full_timestamps(tmp_path):
    """An LMS bulk download goes through nbgrader's zip_collect; a submission 30 s after
    the deadline is late (nbgrader's own collector reads 23:59:30 as 23:00 and misses it)."""
    import zipfile
    s = settings(tmp_path, "zip", submissions=str(tmp_path / "download.zip"), deadline="2026-05-03 23:59:00")
    autograde.prepare_course(s)
    rel = release(s)
    with zipfile.ZipFile(s.submissions, "w") as zf:
        for student, stamp in (("amy", "2026-05-03-23-59-30"), ("bo", "2026-05-03-23-58-59")):
            zf.writestr(f"gradebook_00_mini/hw_{student}_attempt_{stamp}_00_mini.ipynb", nbformat.writes(fill(rel, GOOD)))
    results = autograde.run(s, log=lambda *_: None)
    assert {k: (r.total, r.timestamp, r.seconds_late) for k, r in results.items()} == {
        "amy": (6.0, "2026-05-03 23:59:30", 30.0), "bo": (6.0, "2026-05-03 23:58:59", 0.0)}


@pytest.mark.parametrize("mode", ["none", "bwrap-userns"])
def test_weaker_sandbox_warns_and_still_limits_resources(tmp_path, mode):
    """Where the grader cannot drop privileges (not root: ``bwrap-userns``) or has no
    bubblewrap at all (``none``), it says so, and the resource limits still stop runaway
    code: the class completes and nobody gains points."""
    if mode != "none" and not sandbox._probe(mode):
        pytest.skip(f"sandbox mode {mode} does not work on this machine")
    s = settings(tmp_path, mode, sandbox_mode=mode, workers=1)
    autograde.prepare_course(s)
    rel = release(s)
    write_class(Path(s.submissions), {
        "good": fill(rel, GOOD),
        "membomb": insert_after(fill(rel, GOOD), "test_square", "hog = []\nwhile True:\n    hog.append(bytearray(2**28))"),
        "loop-nosigint": fill(rel, {**GOOD, "hypot": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                                     "while True:\n    pass"}),
    })
    logged = []
    results = autograde.run(s, log=lambda *a: logged.append(" ".join(map(str, a))))
    warning = sandbox.warning_for(mode)
    assert warning and warning in logged, f"no warning about the weaker sandbox in the log: {logged}"
    assert results["good"].scores == FULL
    assert results["membomb"].scores["test_square"] == 2 and results["membomb"].total <= 6
    assert results["loop-nosigint"].scores == partial(test_square=2), results["loop-nosigint"].scores
    assert results["loop-nosigint"].status == "timeout"
