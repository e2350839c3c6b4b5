"""Hostile submissions, graded for real (nbgrader, sandboxed kernels) on a tiny assignment.

The assignment (autograder/demo/mini_course.py) has three exercises worth 2 + 3 + 1
points and needs no torch, so a notebook grades in about a second. Each hostile case is
its own student in one class run, next to an honest student whose grades must stay
exactly right. In every case the submission gains no point it did not earn, the run
completes, and no feedback file shows a hidden test line, plain or encoded.

Runs: with every defence (the default); without the pre-grading scan, to show that the
sandbox, the hardened executor and the runtime check hold on their own; without the
scan and the runtime check, to show that the fakes they stop are real threats; and in a
deliberately broken environment, which the canary must stop before any student.
"""
import os
import sqlite3
import time
from pathlib import Path

import nbformat
import pytest

from autograder.tools import autograde, feedback, sandbox, zygote

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


def secrets_of(s):
    src = nbformat.read(s.root / "source" / "00_mini" / "00_mini.ipynb", as_version=4)
    return feedback.hidden_lines(src, release(s))


def check_feedback(s, results):
    secrets = secrets_of(s)
    assert len(secrets) >= 4, secrets
    graded = (s.root / "autograded" / "good" / "00_mini" / "00_mini.ipynb").read_text()
    assert feedback.leaks(graded, secrets), "the instructor's graded copy holds the hidden tests (sanity)"
    for student, res in results.items():
        html = Path(res.feedback).read_text()
        assert not feedback.leaks(html, secrets), f"{student}'s feedback shows hidden test lines (plain or encoded)"
        assert "hidden_square_probe" not in html and "hidden_hypot_probe" not in html
        for note in [*res.review, *res.flags[:0]]:
            assert note not in html, f"{student}: an instructor-only review note reached the feedback"


def leaked(s, student) -> list[str]:
    """Hidden lines the kernel wrote (prints, error messages) in ``student``'s graded notebook."""
    nb = nbformat.read(s.root / "autograded" / student / "00_mini" / "00_mini.ipynb", as_version=4)
    text = "\n".join(str(o.get("text", "")) + str(o.get("evalue", "")) for c in nb.cells for o in c.get("outputs", []))
    return feedback.leaks(text, secrets_of(s))


# Issue 12: input transformers installed through a path the old, name-based scan did not
# know. With nothing solved they turned every later cell into `pass`: full marks.
BYPASSES = {
    "via-ipywidgets": "import ipywidgets\nipywidgets.get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])",
    "via-mpl-inline": ("from matplotlib_inline import backend_inline\n"
                       "backend_inline.get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])"),
}
# Issue 12: leaking the hidden tests (they ran in the same kernel) through the feedback.
LEAK_PRINT = ("import base64, linecache\n"
              "blob = '\\n'.join(In) + '\\n'.join(''.join(v[2]) for v in list(linecache.cache.values()) if len(v) > 2)\n"
              "print(blob)\nprint(base64.b64encode(blob.encode()).decode())\nprint(blob.encode().hex())\nprint(blob[::-1])")
LEAK_ASSERT = ("import base64\n"
               "raise AssertionError(base64.b64encode('\\n'.join(In).encode()).decode() + '\\n'.join(In)[::-1])")


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
    # An object equal to everything: harmless now that tests check exact types (a note only).
    add("eq", fill(rel, {"answer_cell": "class Answer:\n    def __eq__(self, other):\n        return True\n"
                                        "    def __ne__(self, other):\n        return False\nanswer = Answer()"}),
        partial(), "ok")
    add("monkeypatch", insert_after(fill(rel, GOOD), "answer_cell",
                                    "import numpy.testing as npt\nimport torch\nnpt.assert_allclose = lambda *a, **k: None\n"
                                    "torch.testing.assert_close = lambda *a, **k: None"), partial(), "flagged")
    for name, code in {**ASSERT_REMOVERS, **BYPASSES}.items():
        add(name, insert_after(fill(rel, NONE_ANSWERS), "square", code), partial(), "flagged")
    # Leaks: graded exactly as without the leak.
    add("leak-print", insert_after(fill(rel, GOOD), "test_square", LEAK_PRINT), FULL, "ok")
    add("leak-assert", fill(rel, {**GOOD, "hypot": LEAK_ASSERT}), partial(test_square=2, test_answer=1), "ok")
    add("assert-plain", fill(rel, {**GOOD, "hypot": "raise AssertionError('no leak here')"}),
        partial(test_square=2, test_answer=1), "ok")
    # Code cells after the last test cell are not run (they cannot change a score): a kernel
    # killer there costs nothing, and runs nothing.
    after = fill(rel, GOOD)
    after.cells.append(nbformat.v4.new_code_cell("import os\nprint('ran after the last test')\nos._exit(3)"))
    add("after-last-test", after, FULL, "ok")
    write_class(Path(s.submissions), students)

    def copy_check(settings, results):  # the plug-in point of a class-wide "needs review" check
        return {"half": ["similar to stub (test of the review channel)"]}

    results = autograde.run(s, log=lambda *_: None, review_checks=[copy_check])
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
    for name in ("leak-print", "leak-assert"):
        assert leaked(s, name), f"{name} leaked nothing: the test proves nothing"
    assert results["leak-print"].review, "linecache needs review (graded normally)"
    assert not results["eq"].review and results["eq"].notes, "__eq__ is a note, not an accusation"
    assert results["half"].review == ["similar to stub (test of the review channel)"]
    tail = nbformat.read(s.root / "autograded" / "after-last-test" / "00_mini" / "00_mini.ipynb", as_version=4).cells[-1]
    assert "os._exit" in tail.source and not tail.get("outputs") and tail.get("execution_count") is None, tail
    table = autograde.summary_table(results)
    assert "needs review" in table.split("\nhalf ", 1)[1].splitlines()[0]
    assert Path(results["bigprint"].feedback).stat().st_size < 5_000_000, "100 MB of prints must be capped"
    from nbgrader.api import Gradebook
    with Gradebook(s.url, autograde.COURSE_ID) as gb:
        for name in expected:
            sub = gb.find_submission("00_mini", name)
            assert not sub.needs_manual_grade, f"{name} sits in 'needs manual grading'"
    # Idempotent: a second run grades nothing and reports the same.
    again = autograde.run(s, log=lambda *_: None, review_checks=[copy_check])
    assert {k: v.scores for k, v in again.items()} == {k: v.scores for k, v in results.items()}
    assert all(again[k].seconds == results[k].seconds for k in results), "nothing may be regraded"
    csv_text = (Path(s.out) / "grades.csv").read_text()
    assert csv_text.splitlines()[0].startswith("student,test_square,test_hypot,test_answer,total,max")
    assert csv_text.splitlines()[0].endswith(",status,flags,review,notes")
    assert "\ngood,2,3,1,6,6," in csv_text
    assert "similar to stub" in next(line for line in csv_text.splitlines() if line.startswith("half,"))


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
        # Caught at run time: the check before each test cell sees the changed hooks.
        **{name: insert_after(fill(rel, NONE_ANSWERS), "square", code)
           for name, code in {**ASSERT_REMOVERS, **BYPASSES}.items()},
    }
    write_class(Path(s.submissions), students)
    results = autograde.run(s, log=lambda *_: None)
    time.sleep(8)  # give the detached process its chance
    assert results["good"].scores == FULL
    assert results["escape"].scores == partial(), f"escape gained points: {results['escape'].notes}"
    assert results["displayhook"].scores == partial(test_square=2, test_answer=1), results["displayhook"].scores
    assert results["echo"].scores == partial(test_hypot=3, test_answer=1)
    for name in {**ASSERT_REMOVERS, **BYPASSES}:
        res = results[name]
        assert res.scores == partial() and res.status == "flagged", (name, res.scores, res.status, res.flags)
        assert any(f.startswith("runtime check:") for f in res.flags), res.flags
    assert not list(root.rglob("pwned*")) and not (autograde.REPO / "pwned.txt").exists()
    con = sqlite3.connect(gradebook)
    assert con.execute("select count(*) from grade where manual_score = 100").fetchone()[0] == 0
    check_feedback(s, results)
    html = Path(results["echo"].feedback).read_text()
    assert "raised an exception in this test" in html, "a failing test still says that it failed"


def test_the_fakes_are_real_threats_without_scan_and_runtime_check(tmp_path):
    """With neither defence, the hooks do fake passes: what the scan and the check stop is real."""
    s = settings(tmp_path, "bare", scan=False, guard=False)
    autograde.prepare_course(s)
    rel = release(s)
    students = {name: insert_after(fill(rel, NONE_ANSWERS), "square", code)
                for name, code in (("ast-transformer", ASSERT_REMOVERS["ast-transformer"]),
                                   ("via-ipywidgets", BYPASSES["via-ipywidgets"]))}
    write_class(Path(s.submissions), students)
    results = autograde.run(s, log=lambda *_: None)
    for name, res in results.items():
        assert res.total > 3, f"{name} no longer fakes anything without the defences: update the test ({res.scores})"


def test_canary_stops_a_broken_environment_before_any_student(tmp_path):
    """A sandbox that cannot import course_utils (here: its folder is left out of the
    sandbox) must stop the run before any student is graded, naming the cell and the
    error. Without the canary, the class-level warning still says what happened."""
    broken = [p for p in sandbox.needed_ro_paths() if Path(p).name != "course_utils"]
    s = settings(tmp_path, "broken", ro_paths=broken)
    autograde.prepare_course(s)
    rel = release(s)
    write_class(Path(s.submissions), {"good": fill(rel, GOOD), "half": fill(rel, {"square": GOOD["square"]}),
                                      "other": fill(rel, GOOD)})
    with pytest.raises(autograde.CanaryError) as info:
        autograde.run(s, log=lambda *_: None)
    message = str(info.value)
    assert "course_utils cannot be imported inside the sandbox" in message and "ModuleNotFoundError" in message
    assert "STOPPED before grading any student" in message
    from nbgrader.api import Gradebook
    with Gradebook(s.url, autograde.COURSE_ID) as gb:
        graded = [sub.student.id for sub in gb.assignment_submissions("00_mini")]
    assert graded == [], f"students were graded in a broken environment: {graded}"
    assert not list(Path(s.out).glob("feedback/*.html")), "no feedback may be written"
    # Without the canary: everyone stops with the same error in the same first cell.
    s2 = settings(tmp_path, "broken-nocanary", ro_paths=broken, canary=False)
    autograde.prepare_course(s2)
    write_class(Path(s2.submissions), {n: fill(release(s2), GOOD) for n in ("a", "b", "c")})
    logged = []
    results = autograde.run(s2, log=lambda *a: logged.append(" ".join(map(str, a))))
    warning = autograde.class_warning(results)
    assert warning and "3 of 3 students" in warning and "ModuleNotFoundError" in warning, warning
    assert warning in logged and warning in (Path(s2.out) / "warnings.txt").read_text()


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


# Issue 20: kernels are forked warm from a zygote (autograder/tools/zygote.py). Each
# student first looks for what an earlier student might have left, then leaves all of it:
# a module attribute, an environment variable, files in /tmp, /dev/shm, the run folder and
# the kernel's connection folder. One worker grades both, one after the other, from the
# same zygote; whichever comes second must find nothing.
LEAVE_AND_LOOK = """import math, os, sys
import numpy
conn_dir = os.path.dirname(sys.argv[sys.argv.index("-f") + 1])
places = {"module attribute": lambda: hasattr(math, "dlcv_left") or hasattr(numpy, "dlcv_left"),
          "environment variable": lambda: "DLCV_LEFT" in os.environ,
          "/tmp file": lambda: os.path.exists("/tmp/dlcv_left"),
          "/dev/shm file": lambda: os.path.exists("/dev/shm/dlcv_left"),
          "run-folder file": lambda: os.path.exists("dlcv_left"),
          "connection-folder file": lambda: os.path.exists(os.path.join(conn_dir, "dlcv_left"))}
print("FOUND:", sorted(name for name, seen in places.items() if seen()))
print("PID1:", open("/proc/1/cmdline").read().replace(chr(0), " ")[:300])
math.dlcv_left = numpy.dlcv_left = 1
os.environ["DLCV_LEFT"] = "1"
for path in ("/tmp/dlcv_left", "/dev/shm/dlcv_left", "dlcv_left", os.path.join(conn_dir, "dlcv_left")):
    try:
        open(path, "w").write("from an earlier student")
    except OSError as err:
        print("could not write", path, err)
print("LEFT:", sorted(name for name, seen in places.items() if seen()))
"""


@pytest.mark.skipif(not sandbox.is_root(), reason="warm kernels need the root sandbox (bwrap mode)")
def test_warm_kernels_share_nothing_between_students(tmp_path):
    # A read-only path under /tmp (as the Python installation is when the course is checked
    # out there, as in CI): the kernel's fresh /tmp must still show it, read-only.
    shelf = tmp_path / "read-only-shelf"
    shelf.mkdir()
    (shelf / "book.txt").write_text("on the shelf")
    s = settings(tmp_path, "warm", workers=1, scan=False,  # the sandbox on its own: no static scan
                 ro_paths=sandbox.needed_ro_paths() + [str(shelf)])
    assert s.warm, "class grading forks warm kernels by default"
    autograde.prepare_course(s)
    rel = release(s)
    names = ("first", "second")
    shelf_check = (f"print('SHELF:', open({str(shelf / 'book.txt')!r}).read())\n"
                   f"try:\n    open({str(shelf / 'new.txt')!r}, 'w')\n    print('SHELF WRITABLE')\n"
                   "except OSError:\n    pass\n")
    write_class(Path(s.submissions), {n: insert_after(fill(rel, GOOD), "square", LEAVE_AND_LOOK + shelf_check)
                                      for n in names})
    results = autograde.run(s, log=lambda *a: None)
    for name in names:
        nb = nbformat.read(s.root / "autograded" / name / "00_mini" / "00_mini.ipynb", as_version=4)
        text = "".join(str(o.get("text", "")) for c in nb.cells for o in c.get("outputs", []))
        assert "FOUND: []" in text, f"{name} found what the student graded before it left behind:\n{text}"
        assert "SHELF: on the shelf" in text and "SHELF WRITABLE" not in text, f"read-only path under /tmp:\n{text}"
        assert "zygote.py" in text.split("PID1:")[1].splitlines()[0], f"{name}'s kernel was not forked warm:\n{text}"
        left = text.split("LEFT:")[1].splitlines()[0]
        for place in ("module attribute", "environment variable", "/tmp file", "/dev/shm file", "run-folder file",
                      "connection-folder file"):
            assert place in left, f"{name} could not leave a {place} (the test would prove nothing): {left}"
        res = results[name]
        assert res.total == sum(FULL.values()), (name, res)
        assert res.timings["cells"] > 0 and res.timings["kernel start"] >= 0, res.timings


@pytest.mark.skipif(not sandbox.is_root(), reason="warm kernels need the root sandbox (bwrap mode)")
def test_a_dead_zygote_means_cold_kernels_not_lost_students(tmp_path):
    """The zygote dies (killed, out of memory): the next kernels start cold, and grade the same."""
    s = settings(tmp_path, "deadzygote", workers=1)
    ahash = autograde.prepare_course(s)
    rel = release(s)
    src = nbformat.read(s.root / "source" / "00_mini" / "00_mini.ipynb", as_version=4)
    autograde._stage(s, "good", fill(rel, GOOD), None, ahash, rel, src, [])
    base = tmp_path / "sb"
    base.mkdir()
    saved = dict(os.environ)  # the worker sets JUPYTER_PATH and the sandbox's config for its process
    worker = autograde.Worker(s, 0, "bwrap", base)
    try:
        assert worker.zygote is not None and worker.zygote.poll() is None, "the worker started no zygote"
        cfg = sandbox.SandboxConfig.read(base / "w0" / "sandbox.json")
        with pytest.raises(ConnectionError, match="could not build"):  # a sandbox that cannot be built: cold
            zygote.connect(cfg.zygote, str(Path(cfg.runtime) / "kernel-x.json"), "/tmp", {})
        worker.zygote.kill()
        worker.zygote.wait(timeout=10)
        res = worker.grade("good")
    finally:
        worker.close()
        os.environ.clear()
        os.environ.update(saved)
    assert res.status == "ok" and res.total == sum(FULL.values()), res
    assert "no warm kernel" in (base / "w0" / "kernel.log").read_text(), "the launcher did not say it started cold"


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
