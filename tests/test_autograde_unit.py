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
_TEST = nbformat.v4.new_code_cell("x = torch.zeros(3)\nexpect_close(x, torch.zeros(len(x)), 'zeros')\n"
                                  "with forbid('torch.ones'):\n    pass")
_TEST.metadata["nbgrader"] = {"grade": True, "grade_id": "test_x", "locked": True, "points": 1, "solution": False,
                              "schema_version": 3}
RELEASE.cells.append(_TEST)

# Zero and flag: no honest use in an exercise, however the object was reached.
FLAGS = {
    "ast_transformer": "ip = get_ipython()\nip.ast_transformers.append(object())",
    "input_transformer": "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])",
    "via_ipywidgets": "import ipywidgets\nipywidgets.get_ipython().input_transformers_post.append(lambda l: ['pass\\n'])",
    "via_matplotlib_inline": ("from matplotlib_inline import backend_inline as bi\nsh = bi.get_ipython()\n"
                              "lst = sh.input_transformers_cleanup\nlst.insert(0, lambda l: [])"),
    "getattr_literal": "import ipywidgets\ngetattr(ipywidgets.get_ipython(), 'ast_transformers').append(1)",
    "custom_exc": "get_ipython().set_custom_exc((AssertionError,), lambda *a, **k: None)",
    "events": "get_ipython().events.register('post_run_cell', print)",
    "events_alias": "ev = get_ipython().events\nev.register(name, print)",
    "user_ns": "get_ipython().user_ns['expect_close'] = print",
    "kernel": "get_ipython().kernel.do_execute = None",
    "shell_push": "ip = get_ipython()\nip.push({'x': 1})",
    "numpy_testing": "import numpy.testing as npt\nnpt.assert_allclose = lambda *a, **k: None",
    "numpy_testing_alias": "t = np.testing\nt.assert_allclose = print",
    "torch_testing": "torch.testing.assert_close = lambda *a, **k: None",
    "tensor_eq": "torch.Tensor.__eq__ = lambda self, other: True",
    "grading_helper": "import course_utils.grading as g\ng.expect_close = lambda *a, **k: None",
    "grading_sys_modules": "import sys\nsys.modules['course_utils.grading'].expect_close = print",
    "grading_dunder_import": "__import__('course_utils.grading').grading.expect_close = print",
    "rebind_helper": "def expect_close(*args, **kwargs):\n    return None",
    "rebind_module": "from unittest.mock import MagicMock as torch",
    "setattr": "setattr(torch, 'allclose', lambda *a, **k: True)",
    "setattr_computed_on_module": "setattr(torch, name, f)",
    "builtins": "import builtins\nbuiltins.isinstance = lambda *a: True",
    "builtins_dunder": "__builtins__['len'] = lambda x: 3",
    "builtins_setattr": "import builtins as b\nsetattr(b, 'len', f)",
    "settrace": "import sys\nsys.settrace(None)",
    "setprofile": "import sys\nsys.setprofile(None)",
    "setprofile_from": "from sys import setprofile as sp\nsp(None)",
    "threading_setprofile": "import threading\nthreading.setprofile(None)",
    "sys_modules": "import sys\nsys.modules['course_utils.grading'] = None",
    "displayhook": "import sys\nsys.displayhook(3.0)",
    "ipython_displayhook": "import ipywidgets\nipywidgets.get_ipython().displayhook = print",
    "run_cell": "ip = get_ipython()\nip.run_cell = lambda *a, **k: None",
    "register_magic_function": "get_ipython().register_magic_function(print, 'cell', 'test')",
    "gradebook": "import sqlite3\nsqlite3.connect('../gradebook.db')",
    "nbgrader": "from nbgrader.api import Gradebook",
    "inside_time_magic": "%%time\nget_ipython().ast_transformers.append(1)",
    "global_rebind": "def f():\n    global forbid\n    forbid = print\nf()",
    "globals_rebind": "globals()['expect_close'] = print",
    "mock_patch": "from unittest import mock\nmock.patch('course_utils.grading.expect_close').start()",
}
# Needs review: could hide the above; rare honest uses. Graded normally.
REVIEWS = {
    "exec": "exec('x = 1')",
    "eval": "y = eval('1 + 1')",
    "compile": "c = compile('x', 'f', 'eval')",
    "getattr_computed": "value = getattr(torch, name)",
    "import_module_computed": "import importlib\nm = importlib.import_module(name)",
    "dunder_import_computed": "m = __import__(name)",
    "dunder_globals": "f = expect_close.__globals__",
    "dunder_dict": "d = torch.__dict__",
    "subclasses": "object.__subclasses__()",
    "vars_call": "d = vars(torch)",
    "globals_call": "g = globals()",
    "frames": "import sys\ncaller = sys._getframe(1)",
    "inspect": "import inspect\nsrc = inspect.getsource(f)",
    "traceback": "import traceback\ntraceback.print_exc()",
    "linecache": "import linecache\nlines = linecache.cache",
    "history_manager": "h = get_ipython().history_manager.input_hist_raw",
    "gc": "import gc\nobjs = gc.get_objects()",
    "ctypes": "import ctypes\nctypes.string_at(0)",
    "thread": "import threading\nthreading.Thread(target=print).start()",
    "subprocess": "import subprocess\nsubprocess.Popen(['sleep', '10'])",
    "fork": "import os\nos.fork()",
    "shell": "!cat /etc/passwd",
    "magic": "%load_ext something",
    "config_magic": "%config ZMQInteractiveShell.ast_node_interactivity = 'all'",
    "run_magic": "%run other.py",
    "self_written_module": "open('helper_mod.py', 'w').write('x = 1')\nimport helper_mod",
    "pickle": "import pickle\npickle.loads(b'')",
    "torch_load": "torch.load('x.pt', weights_only=False)",
    "sys_modules_read": "import sys\nm = sys.modules['torch']",
    "def_builtin_the_tests_call": "def len(x):\n    return 3",
}
# Instructor notes only: harmless now that the tests convert to plain values with exact types.
NOTES = {
    "eq": "class A:\n    def __eq__(self, other):\n        return True\nanswer = A()",
    "bool": "class B:\n    def __bool__(self):\n        return True",
    "torch_function": "class T:\n    @classmethod\n    def __torch_function__(cls, *a, **k):\n        return True",
    "type3": "Fake = type('Fake', (), {'x': 1})",
    "tensor_subclass": "class T(torch.Tensor):\n    pass",
    "history": "print(In[-1])",
    "history_i": "print(_i)",
    "plt_show": "import matplotlib.pyplot as plt\nplt.show = lambda *a: None",
    "np_float": "np.float = float",
    "stdout": "import sys, io\nsys.stdout = io.StringIO()",
}
# Issue 11's honest students (zeroed as cheats by the name-based scan) and other honest code.
HONEST_STUDENTS = {
    "knn_loop_variable_i": ("def knn_predict(train_x, train_y, test_x, k):\n    preds = []\n"
                            "    for _i in range(len(test_x)):\n        d = ((train_x - test_x[_i]) ** 2).sum(1)\n"
                            "        nearest = d.topk(k, largest=False).indices\n"
                            "        preds.append(torch.mode(train_y[nearest]).values)\n    return torch.stack(preds)"),
    "batch_norm_named_vars": ("def batch_norm(x, gamma, beta, eps=1e-5):\n    means = x.mean(dim=0)\n"
                              "    vars = x.var(dim=0, unbiased=False)\n"
                              "    return gamma * (x - means) / torch.sqrt(vars + eps) + beta"),
    "nms_heap_of_lt_class": ("import heapq\n\nclass _Candidate:\n    def __init__(self, score, index):\n"
                             "        self.score, self.index = score, index\n\n    def __lt__(self, other):\n"
                             "        return (self.score, -self.index) > (other.score, -other.index)\n\n"
                             "def nms(boxes, scores, iou_threshold):\n"
                             "    heap = [_Candidate(float(s), i) for i, s in enumerate(scores)]\n"
                             "    heapq.heapify(heap)\n    keep = []\n    while heap:\n"
                             "        keep.append(heapq.heappop(heap).index)\n"
                             "    return torch.tensor(keep, dtype=torch.int64)"),
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
    "vars = 3\nprint(vars)",
    "import heapq, itertools, collections, functools\n@functools.lru_cache(None)\ndef f(x):\n    return x",
    "%%capture out\nx = 1",
    "%load_ext autoreload\n%autoreload 2\n%config InlineBackend.figure_format = 'retina'",
    "%timeit -n 3 -r 1 sum(range(10))",
    "np.random.seed(0)\ntorch.manual_seed(0)\nimport warnings\nwarnings.filterwarnings('ignore')",
    "import importlib\nm = importlib.import_module('torch.nn')",
    "class Track:\n    def __init__(self):\n        self.events = []\nt = Track()\nt.events.append(1)",
    "from collections import namedtuple\nPoint = namedtuple('Point', 'x y')",
    *HONEST_STUDENTS.values(),
]


def _scan(source):
    return scan.scan_notebook(_nb(RELEASE.cells[0].source, source), RELEASE)


@pytest.mark.parametrize("name", sorted(FLAGS))
def test_scan_flags_what_has_no_honest_use(name):
    findings = _scan(FLAGS[name])
    assert scan.flags(findings), f"the scan let this through ({name}):\n{FLAGS[name]}\n{[str(f) for f in findings]}"


@pytest.mark.parametrize("name", sorted(REVIEWS))
def test_scan_marks_what_could_hide_it_for_review(name):
    findings = _scan(REVIEWS[name])
    assert scan.reviews(findings) and not scan.flags(findings), \
        f"{name}: expected 'needs review' only, got {[(f.severity, str(f)) for f in findings]}"


@pytest.mark.parametrize("name", sorted(NOTES))
def test_scan_only_notes_the_harmless(name):
    findings = _scan(NOTES[name])
    assert scan.notes(findings) and not scan.flags(findings) and not scan.reviews(findings), \
        f"{name}: expected a note only, got {[(f.severity, str(f)) for f in findings]}"


@pytest.mark.parametrize("source", HONEST)
def test_scan_accepts_honest_code(source):
    findings = _scan(source)
    assert not scan.flags(findings) and not scan.reviews(findings), \
        f"false alarm on honest code: {[str(f) for f in findings]}"


def test_scan_skips_unchanged_release_cells_and_restored_tests():
    rel = _nb("import numpy as np\nget_ipython().run_line_magic('config', 'x')")
    test_cell = nbformat.v4.new_code_cell("get_ipython()  # a test may do anything")
    test_cell.metadata["nbgrader"] = {"grade": True, "grade_id": "test_x", "locked": True, "points": 1,
                                      "solution": False, "schema_version": 3}
    rel.cells.append(test_cell)
    sub = nbformat.reads(nbformat.writes(rel), as_version=4)
    sub.cells[1].source = "get_ipython()  # edited, but restored from the gradebook before it runs"
    assert scan.scan_notebook(sub, rel) == []


def test_scan_reads_the_names_the_hidden_tests_use():
    """A name only a hidden test uses is protected too, when the source is given."""
    rel = _nb("import math")
    test = nbformat.v4.new_code_cell("assert True")
    test.metadata["nbgrader"] = {"grade": True, "grade_id": "test_x", "locked": True, "points": 1,
                                 "solution": False, "schema_version": 3}
    rel.cells.append(test)
    source = nbformat.reads(nbformat.writes(rel), as_version=4)
    source.cells[1].source = "assert True\n### BEGIN HIDDEN TESTS\nassert math.isclose(1, 1)\n### END HIDDEN TESTS"
    sub = _nb("import math", "math = object()")
    assert scan.scan_notebook(sub, rel) == [], "the visible tests do not use math"
    assert scan.notes(scan.scan_notebook(sub, rel, source)), "data bound to a name a hidden test uses: a note"
    sub.cells[1].source = "def math():\n    pass"
    assert scan.flags(scan.scan_notebook(sub, rel, source))


def _chapter_bodies(chapter):
    sol = build.load_solution(chapter)
    builder = demo.ClassBuilder(chapter)
    bodies = [("solution", builder.reference())]
    for kind, folder in (("mutant", validity.MUTANTS), ("alternative", validity.ALTERNATIVES)):
        for path in sorted((folder / chapter).glob("*.py")):
            header, body = validity.variant_source(path, sol)
            bodies.append((f"{kind} {path.stem}", {header["cell"]: body}))
    return sol, builder, bodies


@pytest.mark.parametrize("chapter", RELEASED)
def test_scan_accepts_every_solution_alternative_and_mutant(chapter):
    """No flag and no "needs review" on the course's own correct and mistaken code: a
    false accusation would zero an honest student (patches go through variant_source)."""
    rel = demo.release_notebook(chapter)
    sol, builder, bodies = _chapter_bodies(chapter)
    for origin, code in bodies:
        findings = scan.scan_notebook(builder.notebook(code), rel, sol)
        bad = scan.flags(findings) + scan.reviews(findings)
        assert not bad, f"{chapter} {origin}: false alarm {[str(f) for f in bad]}"


@pytest.mark.parametrize("name", sorted(HONEST_STUDENTS))
def test_issue_11_honest_students_are_not_accused(name):
    """The three correct submissions that the name-based scan zeroed: k-NN with a loop
    variable ``_i``, batch norm with a variable ``vars``, NMS with a heap of a class
    defining ``__lt__``; put into the chapter that has the exercise."""
    chapter = {"knn_loop_variable_i": "01_linear_models", "batch_norm_named_vars": "03_architectures",
               "nms_heap_of_lt_class": "05_detection"}[name]
    if chapter not in RELEASED:
        pytest.skip(f"{chapter} has no release")
    rel = demo.release_notebook(chapter)
    nb = nbformat.reads(nbformat.writes(rel), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(HONEST_STUDENTS[name]))
    findings = scan.scan_notebook(nb, rel, build.load_solution(chapter))
    assert not scan.flags(findings) and not scan.reviews(findings), [str(f) for f in findings]


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

def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def _error(ename, evalue, line=None):
    tb = [f"\x1b[0;31m{ename}\x1b[0m Traceback", f"Cell \x1b[0;32mIn[5], line {line}\x1b[0m"] if line else []
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=tb + [f"{ename}: {evalue}"])


def test_feedback_shows_no_output_and_only_verdicts_taken_from_the_source():
    """One pass: test cells keep their visible source and get a verdict built from the
    test's own source; no output of any cell reaches the student."""
    solution = _mini_release()
    _cell(solution, "test_ex").source += ("\n### BEGIN HIDDEN TESTS\nassert f(41) == 42, 'secret edge case'\n"
                                          "### END HIDDEN TESTS")
    rel = _mini_release()
    graded = nbformat.reads(nbformat.writes(solution), as_version=4)
    leak = "assert f(41) == 42, 'secret edge case'"
    _cell(graded, "test_ex").outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=leak + "\n"),
        _error("AssertionError", leak, line=3)]          # student code raised with the hidden source
    _cell(graded, "ex").outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"x {leak} y")]
    _cell(graded, "test_ex2").outputs = [_error("NotImplementedError", "Exercise: replace this line with your code")]
    secrets = feedback.hidden_lines(solution, rel)
    assert secrets == [leak]
    assert feedback.leaks(nbformat.writes(graded), secrets), "the check must see the leak before sanitizing"
    safe = feedback.sanitize(graded, rel, secrets)
    assert not feedback.leaks(nbformat.writes(safe), secrets)
    test = _cell(safe, "test_ex")
    assert test.source.startswith(_cell(rel, "test_ex").source) and feedback.HIDDEN_NOTE in test.source
    # The message matched no label, so the label is the statement at the failing line.
    assert [o.output_type for o in test.outputs] == ["error"]
    assert test.outputs[0].evalue == feedback.FAILED.format(label="secret edge case"), test.outputs[0].evalue
    assert _cell(safe, "ex").outputs == [], "no output of a student cell"
    assert _cell(safe, "test_ex2").outputs[0].evalue == feedback.NOT_ATTEMPTED
    assert feedback.HEADER in safe.cells[0].source
    assert feedback.leaks("<span>assert</span> f(41) == 42, &#39;secret edge case&#39;", secrets), "HTML is decoded"


TEST_SOURCE = """\
got = f(3)
expect_equal(got, 9, f"f(3) for {name} inputs")
assert type(got) is int, "f(3) should be an int"
### BEGIN HIDDEN TESTS
with forbid("math.pow", exercise="square"):
    _h = f(-4)
expect_close(_h, torch.tensor(16.0), "f of a negative number (hidden)")
### END HIDDEN TESTS
"""


@pytest.mark.parametrize("ename, evalue, line, expected", [
    (None, None, None, feedback.PASSED),
    ("AssertionError", "f(3) for small inputs: got 8, expected 9", 2, "Failed: f(3) for \u2026 inputs"),
    ("AssertionError", "f of a negative number (hidden): 1 of 1 values are wrong", 7,
     "Failed: f of a negative number (hidden)"),
    ("AssertionError", "square asks you to write the computation yourself, but your code called math.pow", 5,
     "Failed: square must not call the library function it asks you to write"),
    # A message the student wrote (a leak attempt): the label comes from the failing line.
    ("AssertionError", "aW1wb3J0IG9z... anything at all", 6, feedback.FAILED_UNKNOWN),
    ("AssertionError", "aW1wb3J0IG9z... anything at all", 7, "Failed: f of a negative number (hidden)"),
    ("AssertionError", "anything at all", None, feedback.FAILED_UNKNOWN),
    ("ValueError", "c2VjcmV0", 2, feedback.RAISED.format(where=" (while checking: f(3) for \u2026 inputs)")),
    ("SecretPayload_aW1wb3J0", "x", None, feedback.RAISED.format(where="")),
    ("NotImplementedError", "Exercise: replace this line with your code", 1, feedback.NOT_ATTEMPTED),
    ("GradingTampered", "not run: the grading machinery was changed", None, feedback.STOPPED),
    ("CellNotRun", "not run: the kernel died", None, feedback.NOT_RUN),
])
def test_verdict_is_built_from_the_test_source_only(ename, evalue, line, expected):
    outputs = [] if ename is None else [_error(ename, evalue, line)]
    text = feedback.verdict(TEST_SOURCE, outputs)
    assert text == expected
    assert "aW1wb3J0" not in text and "c2VjcmV0" not in text, "nothing the kernel produced is shown"


def test_leaks_are_found_in_every_encoding():
    import base64
    secret = "_h_expected = torchvision.ops.box_iou(_h_a, _h_b)"
    blob = f"some text\n{secret}\nmore text\n".encode()
    forms = {
        "plain": blob.decode(),
        "reversed": blob.decode()[::-1],
        "base64": base64.b64encode(blob).decode(),
        "base64 at an offset": base64.b64encode(b"xy" + blob).decode(),
        "base64 wrapped": base64.encodebytes(b"x" + blob).decode(),
        "urlsafe base64": base64.urlsafe_b64encode(blob).decode(),
        "hex": blob.hex(),
        "HEX at an odd offset": "7" + blob.hex().upper(),
        "in html": f"<pre>{base64.b64encode(blob).decode()}</pre>",
    }
    for name, text in forms.items():
        assert feedback.leaks(f"before {text} after", [secret]) == [secret], name
    assert feedback.leaks(base64.b64encode(b"nothing secret here at all").decode(), [secret]) == []


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


@pytest.mark.parametrize("form", ["base64", "hex", "reversed"])
def test_release_check_catches_an_encoded_leak(tmp_path, form):
    import base64
    folder, archive = release.build(tmp_path / "student-release")
    secrets = release.secret_lines()
    line = next((s for s, origin in secrets.items() if "hidden test" in origin), None)
    if line is None:
        pytest.skip("no chapter has hidden tests yet")
    blob = f"header\n{line}\n".encode()
    encoded = {"base64": base64.b64encode(blob).decode(), "hex": blob.hex(), "reversed": blob.decode()[::-1]}[form]
    (folder / "course_utils" / "oops.py").write_text(f"DATA = {encoded!r}\n")
    problems = release.secret_findings(folder, archive)
    assert any("oops.py" in p and "secret line" in p for p in problems), problems


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


# Issue 12 + 23: who in the demo class is flagged or marked "needs review", statically
# (scan and copy check); everyone else must be clean.
DEMO_FLAGGED = {"max": {"patches-testing"}, "pia": {"ipython-hook"}, "quin": {"ipython-hook"}}
DEMO_REVIEWED = {"ros": {"frame-access"}}   # linecache: a listed construct
DEMO_COPIES = {"tom"}                      # the reference solution verbatim


@pytest.mark.parametrize("chapter", [c for c in demo.DEMO_CHAPTERS if c in RELEASED])
def test_demo_honest_students_are_neither_flagged_nor_marked_for_review(chapter):
    """The demo's correct students are built from the alternatives, not copied from the
    solution: since issue 23 the copy check marks a verbatim copy "needs review", and issue
    12 asks that no honest student is. Only the hostile students are flagged, only the one
    using a listed construct (linecache) needs review, and the copier (tom) is caught."""
    from autograder.tools import copycheck
    builder = demo.ClassBuilder(chapter)
    sol = build.load_solution(chapter)
    seen = {}
    for name, (nb, _) in builder.students().items():
        findings = scan.scan_notebook(nb, builder.release, sol)
        copies = copycheck.check_notebook(chapter, nb)
        seen[name] = ({f.rule for f in scan.flags(findings)}, {f.rule for f in scan.reviews(findings)}, bool(copies))
    expected = {name: (DEMO_FLAGGED.get(name, set()), DEMO_REVIEWED.get(name, set()), name in DEMO_COPIES)
                for name in seen}
    assert seen == expected
    ref, own = builder.reference(), builder.correct()
    assert builder.alternatives and all(own[gid] != ref[gid] for gid in builder.alternatives if gid in ref)


# ---------------------------------------------------------------- runtime check (kernel_guard)

GUARD_SCRIPT = r"""
import math, sys, json
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
from autograder.tools import kernel_guard as g
out = {}
def fresh():
    g.install(["math"])
fresh(); out["untouched"] = g.check()
ip.run_cell("x = [i * i for i in range(3)]\nimport collections\n_i = 3\nvars = 4")
out["honest cells"] = g.check()
from matplotlib_inline import backend_inline
ip.events.register("post_execute", backend_inline.flush_figures)
out["trusted callback"] = g.check()
fresh(); ip.input_transformers_post.append(lambda lines: lines)
out["input transformer"] = g.check()
fresh(); ip.events.register("post_run_cell", lambda result: None)
out["event"] = g.check()
fresh(); ip.set_custom_exc((AssertionError,), lambda *a, **k: None)
out["custom exc"] = g.check()
fresh(); ip.ast_transformers.append(object())
out["ast transformer"] = g.check()
fresh(); isclose, math.isclose = math.isclose, lambda *a, **k: True
out["patched module"] = g.check()
math.isclose = isclose
fresh(); import builtins; length, builtins.len = builtins.len, lambda x: 3
out["builtins"] = g.check()
builtins.len = length
fresh(); sys.setprofile(lambda *a: None)
out["setprofile"] = g.check()
sys.setprofile(None)
fresh(); ip.run_cell = lambda *a, **k: None
out["run_cell"] = g.check()
print(json.dumps(out))
"""


def test_runtime_check_sees_changed_hooks_and_nothing_else():
    import subprocess
    import sys as _sys
    proc = subprocess.run([_sys.executable, "-c", GUARD_SCRIPT], capture_output=True, text=True, timeout=300,
                          cwd=build.REPO, env={"PYTHONPATH": str(build.REPO), "PATH": "/usr/bin:/bin",
                                               "MPLBACKEND": "Agg", "HOME": "/tmp"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    for honest in ("untouched", "honest cells", "trusted callback"):
        assert found.pop(honest) == "", honest
    for case, problem in found.items():
        assert problem, f"the runtime check missed: {case}"
