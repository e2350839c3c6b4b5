"""Fast tests of the class-grading tools: scan, collect, feedback, sandbox, release, demo.

The slow end-to-end tests with real nbgrader are in tests/test_autograde.py,
tests/test_autograde_resume.py, tests/test_autograde_postgres.py and
tests/test_autograde_chapters.py.
"""
import json
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.tools import build, collect, demo, feedback, release, sandbox, scan, validity

CHAPTERS = build.chapter_names()
# Chapters with a committed student release: the others would need nbgrader to build one (slow).
RELEASED = [c for c in CHAPTERS if (build.CHAPTERS / f"{c}.ipynb").exists()]
STUB = 'raise NotImplementedError("Exercise: replace this line with your code")'


def _nb(*sources, release_cells=()):
    return nbformat.v4.new_notebook(cells=[*release_cells, *[nbformat.v4.new_code_cell(s) for s in sources]])


RELEASE = _nb("import numpy as np\nimport torch\nfrom course_utils.grading import expect_close, forbid\n%matplotlib inline")

CHEATS = {
    "eq": "class A:\n    def __eq__(self, other):\n        return True\nanswer = A()",
    "bool": "class B:\n    def __bool__(self):\n        return True",
    "torch_function": "class T:\n    @classmethod\n    def __torch_function__(cls, *a, **k):\n        return True",
    "type3": "Fake = type('Fake', (), {'__eq__': lambda s, o: True})",
    "tensor_subclass": "class T(torch.Tensor):\n    pass",
    "ast_transformer": "ip = get_ipython()\nip.ast_transformers.append(object())",
    "input_transformer": "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])",
    "custom_exc": "get_ipython().set_custom_exc((AssertionError,), lambda *a, **k: None)",
    "events": "get_ipython().events.register('post_run_cell', print)",
    "numpy_testing": "import numpy.testing as npt\nnpt.assert_allclose = lambda *a, **k: None",
    "numpy_testing_alias": "t = np.testing\nt.assert_allclose = print",
    "torch_testing": "torch.testing.assert_close = lambda *a, **k: None",
    "tensor_eq": "torch.Tensor.__eq__ = lambda self, other: True",
    "grading_helper": "import course_utils.grading as g\ng.expect_close = lambda *a, **k: None",
    "rebind_helper": "def expect_close(*args, **kwargs):\n    return None",
    "rebind_module": "from unittest.mock import MagicMock as torch",
    "setattr": "setattr(torch, 'allclose', lambda *a, **k: True)",
    "builtins": "import builtins\nbuiltins.isinstance = lambda *a: True",
    "dunder_globals": "f = expect_close.__globals__",
    "frames": "import sys\ncaller = sys._getframe(1)",
    "settrace": "import sys\nsys.setprofile(None)",
    "sys_modules": "import sys\nsys.modules['course_utils.grading'] = None",
    "displayhook": "import sys\nsys.displayhook(3.0)",
    "history": "print(In[-1])",
    "exec": "exec('x = 1')",
    "thread": "import threading\nthreading.Thread(target=print).start()",
    "subprocess": "import subprocess\nsubprocess.Popen(['sleep', '10'])",
    "fork": "import os\nos.fork()",
    "shell": "!cat /etc/passwd",
    "magic": "%load_ext something",
    "self_written_module": "open('helper_mod.py', 'w').write('x = 1')\nimport helper_mod",
    "ctypes": "import ctypes\nctypes.string_at(0)",
    "pickle": "import pickle\npickle.loads(b'')",
    "torch_load": "torch.load('x.pt', weights_only=False)",
}

HONEST = [
    "import torch.nn.functional as F\nimport math\n\ndef conv(x, w):\n    out = x.new_zeros(3)\n"
    "    for _ in range(3):\n        out[_] = 1\n    return [y for _ in range(2) for y in (1, 2)]",
    "class Net(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = torch.nn.Linear(2, 2)\n"
    "    def forward(self, x):\n        return self.fc(x)\n\nnet = Net()\nnet.fc = torch.nn.Linear(2, 3)",
    "class Data(torch.utils.data.Dataset):\n    def __len__(self):\n        return 3\n    def __getitem__(self, i):\n        return i",
    "%time x = 1\n%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.rcParams['figure.figsize'] = (4, 3)",
    "torch.backends.cudnn.deterministic = True\nimport os\npath = os.path.join('a', 'b')",
    "import sys\nprint('warning', file=sys.stderr)\nsys.exit(0)",
    "import os\nos._exit(1)",
    "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
    "from IPython.display import display, Image\nimport numpy as np\nimport torch",
    "value = getattr(torch, 'float32')\nfor _ in range(2):\n    pass\n_ = 3",
]


@pytest.mark.parametrize("name", sorted(CHEATS))
def test_scan_flags_every_way_to_fake_a_pass(name):
    findings = scan.scan_notebook(_nb(*RELEASE.cells[0].source.split("\n\n"), CHEATS[name]), RELEASE)
    assert findings, f"the scan let this through ({name}):\n{CHEATS[name]}"


@pytest.mark.parametrize("source", HONEST)
def test_scan_accepts_honest_code(source):
    findings = scan.scan_notebook(_nb(RELEASE.cells[0].source, source), RELEASE)
    assert not findings, f"false alarm on honest code: {[str(f) for f in findings]}"


def test_scan_skips_unchanged_release_cells_and_restored_tests():
    rel = _nb("import numpy as np\nget_ipython().run_line_magic('config', 'x')")
    test_cell = nbformat.v4.new_code_cell("get_ipython()  # a test may do anything")
    test_cell.metadata["nbgrader"] = {"grade": True, "grade_id": "test_x", "locked": True, "points": 1,
                                      "solution": False, "schema_version": 3}
    rel.cells.append(test_cell)
    sub = nbformat.reads(nbformat.writes(rel), as_version=4)
    sub.cells[1].source = "get_ipython()  # edited, but restored from the gradebook before it runs"
    assert scan.scan_notebook(sub, rel) == []


@pytest.mark.parametrize("chapter", RELEASED)
def test_scan_accepts_every_solution_alternative_and_mutant(chapter):
    """No false alarm on the course's own correct and mistaken code: it would zero honest students."""
    rel = demo.release_notebook(chapter)
    builder = demo.ClassBuilder(chapter)
    bodies = [("solution", builder.correct())]
    for kind, folder in (("mutant", validity.MUTANTS), ("alternative", validity.ALTERNATIVES)):
        for path in sorted((folder / chapter).glob("*.py")):
            header, body = validity.variant_source(path)
            bodies.append((f"{kind} {path.stem}", {header["cell"]: body}))
    for origin, code in bodies:
        findings = scan.scan_notebook(builder.notebook(code), rel)
        assert not findings, f"{chapter} {origin}: false alarm {[str(f) for f in findings]}"


# ---------------------------------------------------------------- collect

def test_full_timestamps_are_kept():
    from nbgrader.utils import parse_utc
    assert collect.normalize_timestamp("2026-05-02-09-30-00") == "2026-05-02 09:30:00"
    assert str(collect.parse_timestamp("2026-05-02-09-30-45")) == "2026-05-02 09:30:45"
    # The bug being worked around: nbgrader's own parsing loses the minutes.
    assert parse_utc("2026-05-02-09-30-00").minute != 30


def test_collector_plugin_normalizes_timestamps(tmp_path):
    plugin = collect.FullTimestampCollector(named_regexp=collect.DEFAULT_REGEX)
    info = plugin.collect(str(tmp_path / "ps1_jdoe_attempt_2026-05-02-09-30-00_05_detection.ipynb"))
    assert info == {"student_id": "jdoe", "timestamp": "2026-05-02 09:30:00", "file_id": "05_detection.ipynb"}


def _mini_release():
    cells = []
    for gid, kind, src in [("ex", "solution", f"def f(x):\n    {STUB}"),
                           ("test_ex", "test", "assert f(1) == 2, 'f(1) should be 2'"),
                           ("ex2", "solution", f"def g(x):\n    {STUB}"),
                           ("test_ex2", "test", "assert g(1) == 3, 'g(1) should be 3'")]:
        cell = nbformat.v4.new_code_cell(src)
        cell.id = gid
        cell.metadata["nbgrader"] = {"grade_id": gid, "schema_version": 3, "solution": kind == "solution",
                                     "grade": kind == "test", "locked": kind == "test"}
        if kind == "test":
            cell.metadata["nbgrader"]["points"] = 2
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"), *cells])


@pytest.mark.parametrize("tamper", ["pass", "edit", "delete", "strip", "points", "duplicate", "retype"])
def test_normalize_undoes_tampering(tamper):
    rel = _mini_release()
    sub = nbformat.reads(nbformat.writes(rel), as_version=4)
    sub.cells[1].source = "def f(x):\n    return x + 1"
    test = sub.cells[2]
    if tamper == "pass":
        test.source = "pass"
    elif tamper == "edit":
        test.source = "assert True"
    elif tamper == "delete":
        del sub.cells[2]
    elif tamper == "strip":
        test.metadata.pop("nbgrader")
        test.source = "pass"
    elif tamper == "points":
        test.metadata.nbgrader["points"] = 100
    elif tamper == "duplicate":
        sub.cells.insert(3, nbformat.from_dict(json.loads(json.dumps(test))))
        sub.cells[3].source = "pass"
    elif tamper == "retype":
        sub.cells[2] = nbformat.v4.new_markdown_cell("pass", metadata=test.metadata)
    out = collect.normalize_submission(sub, rel)
    graded = validity.graded_cells(out)
    assert set(graded) == {"test_ex", "test_ex2"}
    for gid, cell in graded.items():
        ref = validity.graded_cells(rel)[gid]
        assert cell.source == ref.source and cell.metadata.nbgrader == ref.metadata.nbgrader, f"{tamper}: {gid} not restored"
        assert cell.cell_type == "code"
    assert validity.solution_cells(out)["ex"].source == "def f(x):\n    return x + 1", "the student's code must stay"
    ids = [c.get("id") for c in out.cells]
    assert len(ids) == len(set(ids)), f"duplicate cell ids {ids}"
    order = [c.metadata.get("nbgrader", {}).get("grade_id") for c in out.cells if c.metadata.get("nbgrader")]
    assert order == ["ex", "test_ex", "ex2", "test_ex2"], order


def test_read_folder_picks_notebook_and_timestamp(tmp_path):
    (tmp_path / "amy").mkdir()
    nbformat.write(_mini_release(), tmp_path / "amy" / "whatever.ipynb")
    (tmp_path / "amy" / "timestamp.txt").write_text("2026-05-02-09-30-00\n")
    (tmp_path / "bob").mkdir()
    subs = collect.read_folder(tmp_path, "05_detection")
    assert [(s.student, s.notebook.name if s.notebook else None, s.timestamp) for s in subs] == [
        ("amy", "whatever.ipynb", "2026-05-02 09:30:00"), ("bob", None, None)]
    assert collect.read_notebook(None) is None
    (tmp_path / "bad.ipynb").write_text("{not json")
    assert collect.read_notebook(tmp_path / "bad.ipynb") is None


# ---------------------------------------------------------------- feedback

def test_feedback_sanitize_removes_hidden_tests_and_their_echoes():
    solution = _mini_release()
    solution.cells[2].source += "\n### BEGIN HIDDEN TESTS\nassert f(41) == 42, 'secret edge case'\n### END HIDDEN TESTS"
    rel = _mini_release()
    graded = nbformat.reads(nbformat.writes(solution), as_version=4)
    graded.cells[2].source = graded.cells[2].source.replace("### BEGIN HIDDEN TESTS\n", "").replace("\n### END HIDDEN TESTS", "")
    graded.cells[2].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="assert f(41) == 42, 'secret edge case'\n"),
        nbformat.v4.new_output("error", ename="AssertionError", evalue="assert f(41) == 42, 'secret edge case'",
                               traceback=["----> 3 assert f(41) == 42, 'secret edge case'"])]
    graded.cells[3].source = "print('echo')"
    graded.cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x assert f(41) == 42, 'secret edge case' y")]
    secrets = feedback.hidden_lines(solution, rel)
    assert secrets == ["assert f(41) == 42, 'secret edge case'"]
    assert feedback.leaks(nbformat.writes(graded), secrets), "the check must see the leak before sanitizing"
    safe = feedback.sanitize(graded, rel, secrets)
    assert not feedback.leaks(nbformat.writes(safe), secrets)
    assert safe.cells[2].source.startswith(rel.cells[2].source) and feedback.HIDDEN_NOTE in safe.cells[2].source
    assert [o.output_type for o in safe.cells[2].outputs] == ["error"], "a failing test still says it failed"
    assert feedback.leaks("<span>assert</span> f(41) == 42, &#39;secret edge case&#39;", secrets), "HTML is decoded"


# ---------------------------------------------------------------- sandbox

def test_bwrap_command_hides_everything_but_the_allow_list(tmp_path):
    cfg = sandbox.SandboxConfig(mode="bwrap", python="/usr/bin/python3", scratch=str(tmp_path), runtime=str(tmp_path / "rt"),
                                ro_paths=["/opt/venv"], env={"DLCV_QUICK": "1"})
    argv = sandbox.bwrap_argv(cfg, str(tmp_path / "run"), "/course/autograded/amy/ch", ["python", "-m", "ipykernel_launcher"])
    joined = " ".join(argv)
    for flag in ("--die-with-parent", "--unshare-pid", "--unshare-net", "--new-session", "--clearenv"):
        assert flag in argv
    assert "--ro-bind / /" not in joined, "the root file system must not be visible"
    assert f"--bind {tmp_path / 'run'} /course/autograded/amy/ch" in joined
    assert "--ro-bind /opt/venv /opt/venv" in joined
    assert argv[argv.index("setpriv") + 1] == f"--reuid={cfg.uid}"
    assert argv[-3:] == ["python", "-m", "ipykernel_launcher"]


def test_kernelspec_uses_interrupt_messages(tmp_path):
    spec = json.loads((sandbox.write_kernelspec(tmp_path) / "kernel.json").read_text())
    assert spec["interrupt_mode"] == "message" and "{connection_file}" in spec["argv"]


def test_sandbox_mode_is_detected():
    assert sandbox.detect_mode("none") == "none"
    assert sandbox.detect_mode() in sandbox.MODES
    with pytest.raises(ValueError, match="sandbox mode"):
        sandbox.detect_mode("chroot")


# ---------------------------------------------------------------- release and demo

def test_student_release_holds_no_secret(tmp_path):
    folder, archive = release.build(tmp_path / "student-release")
    assert (folder / "README.md").exists() and (folder / "pyproject.toml").exists()
    assert (folder / "course_utils" / "__init__.py").exists()
    assert sorted(p.name for p in (folder / "chapters").glob("*.ipynb")) == sorted(
        p.name for p in release.released_chapters())
    names = zipfile.ZipFile(archive).namelist()
    assert f"{release.TOP}/pyproject.toml" in names
    problems = release.secret_findings(folder, archive)
    assert not problems, "secrets in the student release:\n" + "\n".join(problems[:20])


def test_release_check_catches_a_leak(tmp_path):
    folder, archive = release.build(tmp_path / "student-release")
    secrets = release.secret_lines()
    if not secrets:
        pytest.skip("no chapter has solution or hidden lines yet")
    line = next(iter(secrets))
    (folder / "course_utils" / "oops.py").write_text(f"    {line}\n")
    (folder / "solutions").mkdir()
    (folder / "solutions" / "02_cnns.py").write_text("# the solutions\n")
    problems = release.secret_findings(folder, archive)
    assert any("secret line" in p for p in problems) and any("forbidden path" in p for p in problems)


@pytest.mark.parametrize("chapter", RELEASED)
def test_demo_class_is_reproducible_and_complete(chapter, tmp_path):
    for attempt in range(3):  # the chapter's sources may be regenerated meanwhile (other work in progress)
        before = demo._inputs_stamp(chapter)
        a = demo.write_class(chapter, tmp_path / f"a{attempt}")
        b = demo.write_class(chapter, tmp_path / f"b{attempt}")
        if demo._inputs_stamp(chapter) == before:
            break
    students = sorted(p.name for p in a.iterdir() if p.is_dir())
    assert len(students) >= 12, students
    for s in students:
        assert (a / s / f"{chapter}.ipynb").read_bytes() == (b / s / f"{chapter}.ipynb").read_bytes()
        assert collect.parse_timestamp((a / s / "timestamp.txt").read_text()) is not None
    assert (a / "ivan" / "timestamp.txt").read_text().strip() == "2026-05-03-23-59-30"
