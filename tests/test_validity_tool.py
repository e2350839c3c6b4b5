"""Fast tests of the grading-validity tool's logic (autograder/tools/validity.py).

The real-nbgrader runs are the slow tests in tests/test_grading.py; these check the parts
that decide what those runs prove: patches, declarations, exercises and units, the
separating family of isolation runs, the precision twins, lean submissions, the answer-leak
search and the isolation table.
"""
import math
import re

import nbformat
import numpy as np
import pytest
import torch

from autograder.tools import build
from autograder.tools import validity as V

CHAPTERS = build.chapter_names()


def _nb(*sources):
    """A notebook from sources; "#sol <id>" / "#test <id>" first lines mark nbgrader cells."""
    cells = []
    for i, src in enumerate(sources):
        meta, cid = {}, f"c{i}"
        if src.startswith("#sol "):
            cid = src.split()[1]
            meta = {"nbgrader": {"solution": True, "grade": False, "grade_id": cid, "locked": False}}
        elif src.startswith("#test "):
            cid = src.split()[1]
            meta = {"nbgrader": {"solution": False, "grade": True, "grade_id": cid, "points": 2, "locked": True}}
        if src.startswith("#md "):
            cell = nbformat.v4.new_markdown_cell(src[4:])
        else:
            cell = nbformat.v4.new_code_cell(src, metadata=meta)
        cell.id = cid
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


# ---------------------------------------------------------------- patches

SOLUTION_CELL = "def f(x):\n    y = x + 1\n    return y * 2\n"


def test_patch_applies_with_context():
    patch = "@@\n     y = x + 1\n-    return y * 2\n+    return y * 3\n"
    assert V.apply_patch(SOLUTION_CELL, patch, "m.py") == "def f(x):\n    y = x + 1\n    return y * 3\n"


def test_patch_several_hunks_and_blank_context():
    src = "def f(x):\n\n    y = x + 1\n\n    return y * 2\n"
    patch = "@@ first\n-    y = x + 1\n+    y = x - 1\n@@ second\n\n-    return y * 2\n+    return y\n"
    assert V.apply_patch(src, patch, "m.py") == "def f(x):\n\n    y = x - 1\n\n    return y\n"


@pytest.mark.parametrize("patch, why", [
    ("@@\n-    return y * 4\n+    return y\n", "is not found"),
    ("@@\n+    pass\n", "no '-' or context line"),
    ("-    return y * 2\n", "must start with a line '@@'"),
    ("@@\n*    return y * 2\n", "must start with '-', '+', ' ' or '@@'"),
])
def test_patch_fails_loudly_naming_the_file(patch, why):
    with pytest.raises(ValueError, match=re.escape(why)) as err:
        V.apply_patch(SOLUTION_CELL, patch, "autograder/mutants/xx/m.py")
    assert "autograder/mutants/xx/m.py" in str(err.value)


def test_ambiguous_patch_asks_for_context():
    src = "a = 1\nb = 2\na = 1\n"
    with pytest.raises(ValueError, match="found 2 times"):
        V.apply_patch(src, "@@\n-a = 1\n+a = 3\n", "m.py")


def test_variant_file_patch_and_whole_cell(tmp_path):
    sol = _nb("#sol f\n" + SOLUTION_CELL)
    patch = tmp_path / "m.py"
    patch.write_text("# mutant: times three\n# cell: f\n# fails: test_f\n@@\n-    return y * 2\n+    return y * 3\n")
    header, source = V.variant_source(patch, sol)
    assert header == {"mutant": "times three", "cell": "f", "fails": "test_f"}
    assert "return y * 3" in source and source.startswith("#sol f\ndef f(x):")
    whole = tmp_path / "a.py"
    whole.write_text("# alternative: direct\n# cell: f\ndef f(x):\n    return 2 * x + 2\n")
    assert V.variant_source(whole, sol)[1] == "def f(x):\n    return 2 * x + 2\n"
    bad = tmp_path / "b.py"
    bad.write_text("# mutant: x\n# cell: nope\n# fails: t\n@@\n-x\n+y\n")
    with pytest.raises(ValueError, match="no solution cell 'nope'"):
        V.variant_source(bad, sol)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_variant_applies_to_the_current_solution(chapter):
    solution = build.load_solution(chapter)
    for folder in (V.MUTANTS / chapter, V.ALTERNATIVES / chapter):
        for path in sorted(folder.glob("*.py")):
            V.variant_source(path, solution)  # raises, naming the file, when a patch no longer applies


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_whole_cell_variants_do_not_copy_the_docstring(chapter):
    from autograder.tools.patchify import docstring_lines
    cells = V.solution_cells(build.load_solution(chapter))
    for folder in (V.MUTANTS / chapter, V.ALTERNATIVES / chapter):
        for path in sorted(folder.glob("*.py")):
            header, body = V.parse_variant_file(path)
            if V.is_patch(body) or header["cell"] not in cells:
                continue
            sol = cells[header["cell"]].source.splitlines()
            doc = "\n".join(sol[i] for i in sorted(docstring_lines(cells[header["cell"]].source)))
            lines = body.splitlines()
            for i in docstring_lines(body):
                assert len(lines[i].strip()) < 30 or lines[i] not in doc, (
                    f"{path.name}: a whole-cell variant repeats the solution's docstring line {lines[i].strip()!r}; "
                    "write it as a patch, or drop the docstring")


# ---------------------------------------------------------------- declarations, exercises, units

def test_declarations_are_parsed_and_checked():
    nb = _nb("#sol a\ndef a(x):\n    return x",
             "#sol b\ndef b(x):\n    return a(x)",
             "#test test_b\n# validity: builds-on a\n# validity: dtype-stated\nassert b(1) == 1, 'b'",
             "#test test_c\n# validity: builds-on nothing_here\n# validity: magic\nassert True, 'c'",
             "#test test_d\n# validity: builds-on\n# validity: generic-answer\nassert True, 'd'")
    found, problems = V.declarations(nb)
    assert found["test_b"] == {"builds-on": ["a"], "dtype-stated": []}
    assert found["test_d"]["generic-answer"] == []
    assert any("nothing_here" in p and "not exercises" in p for p in problems)
    assert any("unknown declaration" in p and "magic" in p for p in problems)
    assert any("test_d" in p and "needs one or more exercise names" in p for p in problems)


def test_tests_belong_to_the_exercise_they_read_and_builds_on_joins_units():
    nb = _nb("import math",
             "#sol a\ndef a(x):\n    return x",
             "#sol b\ndef b(x):\n    return a(x) + 1",
             "#test test_a\nassert a(1) == 1, 'a'",      # after b, but reads a only
             "#test test_b\nassert b(1) == 2, 'b'",
             "#sol c\nc = 3",
             "#test test_c\n# validity: builds-on a\nassert c == 3, 'c'")
    owner = V.exercise_of_tests(nb)
    assert owner == {"test_a": "a", "test_b": "b", "test_c": "c"}
    decl, problems = V.declarations(nb)
    assert not problems
    assert V.exercise_units(nb, owner, decl) == [["a", "c"], ["b"]]


# ---------------------------------------------------------------- separating family

@pytest.mark.parametrize("n_units", range(1, 41))
def test_separating_family_separates_every_ordered_pair(n_units):
    family = V.separating_family(n_units)
    assert V.is_separating(family, n_units)
    bit_codes = 2 * math.ceil(math.log2(n_units)) if n_units > 1 else 0
    assert len(family) <= bit_codes, (n_units, len(family), bit_codes)
    assert all(0 < len(s) < n_units for s in family)


def test_is_separating_rejects_a_family_that_misses_a_pair():
    assert not V.is_separating([frozenset({0}), frozenset({1})], 3)  # unit 2 is never solved
    assert V.is_separating([frozenset({0}), frozenset({1})], 2)


# ---------------------------------------------------------------- precision twins

def _twin_namespace(source):
    ns = {"torch": torch, "np": np}
    exec(V.precision_twin(source), ns)  # noqa: S102  (test of generated code)
    return ns


def test_precision_twin_computes_in_the_other_precision_and_casts_back():
    ns = _twin_namespace("def seen(x):\n    return x.dtype, x * 1\n\ndef total(x):\n    return float(x.sum())\n")
    x64 = torch.tensor([1 / 3, 2 / 3], dtype=torch.float64)
    assert ns["seen"](x64)[0] == torch.float32
    assert ns["seen"](x64.float())[0] == torch.float64
    # floating results come back in the dtype of the input
    out = ns["seen"](x64)
    assert out[1].dtype == torch.float64 and out[1][0].item() == torch.tensor(1 / 3, dtype=torch.float32).item()
    assert isinstance(ns["total"](x64), float)
    # ints and Python floats are left alone
    assert ns["seen"](torch.tensor([1, 2]))[0] == torch.int64
    arr = np.array([0.1, 0.2], dtype=np.float32)
    ns2 = _twin_namespace("def g(a):\n    return a.dtype, a * 2\n")
    dtype, doubled = ns2["g"](arr)
    assert dtype == np.float64 and doubled.dtype == np.float32
    # inside lists and tuples too
    ns3 = _twin_namespace("def h(xs):\n    return [x.dtype for x in xs]\n")
    assert ns3["h"]((x64, x64.float())) == [torch.float32, torch.float64]


def test_precision_twin_copies_back_in_place_updates_and_leaves_inputs_alone():
    ns = _twin_namespace("def update(stats, x):\n    stats.mul_(0.5).add_(x)\n    return stats\n"
                         "\ndef pure(p):\n    return p + 0\n")
    stats = torch.tensor([1.0, 2.0], dtype=torch.float64)
    ns["update"](stats, torch.tensor([1.0, 1.0], dtype=torch.float64))
    assert stats.tolist() == [1.5, 2.0]
    p = torch.tensor([1 / 3], dtype=torch.float64)
    before = p.clone()
    ns["pure"](p)
    assert torch.equal(p, before), "an input the function does not change must keep its float64 bits"


def test_precision_twin_passes_modules_through_and_does_not_cast_twice():
    ns = _twin_namespace("def inner(x):\n    return x.dtype\n\ndef outer(x):\n    return x.dtype, inner(x)\n"
                         "\ndef apply(layer, x):\n    return layer(x).dtype\n")
    assert ns["outer"](torch.ones(2, dtype=torch.float64)) == (torch.float32, torch.float32)
    layer = torch.nn.Linear(2, 2)
    assert ns["apply"](layer, torch.ones(1, 2)) == torch.float32  # unchanged call: no dtype clash
    with torch.no_grad():
        x = torch.ones(3, dtype=torch.float64, requires_grad=True)
    ns_grad = _twin_namespace("def square_sum(x):\n    return (x * x).sum()\n")
    ns_grad["square_sum"](x).backward()
    assert x.grad is not None and x.grad.dtype == torch.float64


def test_precision_twin_only_for_cells_that_define_functions():
    assert V.precision_twin("answer = 3\n") is None
    twin = V.precision_twin("def f(x):\n    return x\n\nclass M:\n    pass\n")
    assert twin.rstrip().endswith("f = _validity_other_precision(f)")
    assert "M = _validity" not in twin


# ---------------------------------------------------------------- lean submissions

def test_lean_keeps_what_tests_need_and_global_state():
    nb = _nb("import torch\nimport matplotlib.pyplot as plt\nimport os\ntorch.set_num_threads(1)",
             "data = torch.arange(3)",
             "fig, ax = plt.subplots()\nax.plot([1, 2])\nax.set_title('x')",        # a plot: dropped
             "model = torch.nn.Linear(2, 2)\nfor _ in range(100):\n    pass",        # training: dropped
             "torch.manual_seed(0)",                                               # seeding: dropped
             "os.environ['X'] = '1'",                                              # state: kept
             "torch.set_default_dtype(torch.float64)",                             # state: kept
             "%matplotlib inline",                                                 # magic: kept
             "#sol f\ndef f(x):\n    return x",
             "#test test_f\nassert f(data).tolist() == [0, 1, 2], 'f'")
    keep = V.lean_keep(nb)
    assert keep == {0, 1, 5, 6, 7, 8, 9}
    lean = V.make_lean(nb, keep)
    assert [c.id for c in lean.cells] == ["c0", "c1", "c5", "c6", "c7", "f", "test_f"]


def test_lean_counts_the_names_variants_read():
    nb = _nb("import torch", "helper = 2", "#sol f\ndef f(x):\n    return x", "#test test_f\nassert f(1) == 1, 'f'")
    assert 1 not in V.lean_keep(nb)
    assert 1 in V.lean_keep(nb, {"f": ["def f(x):\n    return x * helper"]})


def test_answer_recording_cells_precede_each_test(tmp_path):
    nb = _nb("#sol f\nf = 1", "#test test_f\nassert f == 1, 'f'")
    rec = V._answer_recording(nb, tmp_path)
    assert rec.cells[0].id == "f" and len(rec.cells) == 3
    assert "DLCV_RECORD_ANSWERS" in rec.cells[1].source and str(tmp_path / "test_f.jsonl") in rec.cells[1].source
    assert rec.cells[2].id == "test_f"


# ---------------------------------------------------------------- answer leaks

@pytest.mark.parametrize("value, generic", [
    (True, True), (7, True), (99, True), (100, False), (0.5, True), (2.0, True), (0.25, True),
    (0.6142857142857143, False), (3025.0, False), ("yes", True), ("stride", False),
    ([2, 3], True), ([2, 3, 5], False), ((1, 1), True), (None, True),
])
def test_generic_values(value, generic):
    assert V.is_generic(value) is generic


@pytest.mark.parametrize("text, found", [
    ("AP = 0.6143", True), ("ap: 0.614", True), ("tensor(0.6142857)", True), ("61.43%", True),
    ("6.143e-01", True), ("0.6142857142857143", True),
    ("AP = 0.6144", False), ("10.6143", False), ("0.61", False), ("0.61428576", False),
])
def test_float_answer_found_in_its_printed_forms(text, found):
    hit = any(p.search(text) for p in V.answer_patterns(0.6142857142857143))
    assert hit is found, text


@pytest.mark.parametrize("text, found", [
    ("params: 3025", True), ("3,025 weights", True), ("3025.0", True), ("3.02e+03", True), ("3.02k", True),
    ("13025", False), ("3025.5", False), ("30250", False),
])
def test_int_answer_found_in_its_printed_forms(text, found):
    assert any(p.search(text) for p in V.answer_patterns(3025)) is found, text


def test_sequence_and_string_answers():
    pats = V.answer_patterns([13, 13, 256])
    assert any(p.search("torch.Size([13, 13, 256])") for p in pats)
    assert any(p.search("shape 13 x 13 x 256") for p in pats)
    assert not any(p.search("[113, 13, 256]") for p in pats)
    pats = V.answer_patterns("bilinear")
    assert any(p.search("The answer is Bilinear.") for p in pats)
    assert not any(p.search("bilinearly") for p in pats)


def test_find_leaks_reports_shown_answers_and_undeclared_generic_ones():
    texts = [("output of c3", "the AP is 0.6143 on the toy set"), ("markdown cell c4", "no numbers")]
    answers = {"test_ap": [0.6142857142857143], "test_small": [4], "test_declared": [4], "test_hidden": [1234]}
    problems = V.find_leaks(answers, {"test_declared"}, texts)
    assert any(p.startswith("test_ap:") and "output of c3" in p for p in problems)
    assert any(p.startswith("test_small:") and "generic-answer" in p for p in problems)
    assert not any(p.startswith(("test_declared:", "test_hidden:")) for p in problems)


def test_output_texts_read_streams_data_and_errors_but_not_images():
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="printed 0.6143\n"),
                    nbformat.v4.new_output("display_data", data={"text/plain": "shown", "text/html": "<b>html 42</b>",
                                                                 "image/png": "iVBORw0KGgo="}),
                    nbformat.v4.new_output("error", ename="AssertionError", evalue="bad",
                                           traceback=["\x1b[31mAssertionError\x1b[0m: bad 7.25"])]
    texts = V.output_texts(nbformat.v4.new_notebook(cells=[cell]))
    joined = "\n".join(t for _, t in texts)
    assert "printed 0.6143" in joined and "shown" in joined and "html 42" in joined and "bad 7.25" in joined
    assert "iVBOR" not in joined and "\x1b" not in joined


def test_read_answers(tmp_path):
    (tmp_path / "test_q.jsonl").write_text('{"what": "q", "expected": 12.5}\n{"what": "r", "expected": [1, 2]}\n')
    (tmp_path / "test_empty.jsonl").write_text("")
    assert V.read_answers(tmp_path) == {"test_q": [12.5, [1, 2]]}


# ---------------------------------------------------------------- isolation table

def _plan_for_table(units, unit_of_test, points):
    return V.Plan("x", None, None, [], [], units, unit_of_test, points, {}, [], {}, {}, set())


def _runs(family_solved, score_of):
    runs = []
    for solved in family_solved:
        cells = {t: V.CellGrade(score_of(t, solved), 2.0, None) for t in ("ta", "tb", "tc")}
        runs.append((solved, cells))
    return runs


def test_isolation_table_derives_alone_and_lost_points():
    plan = _plan_for_table([["a"], ["b"], ["c"]], {"ta": 0, "tb": 1, "tc": 2}, {"ta": 2.0, "tb": 2.0, "tc": 2.0})
    family = [frozenset(), None] + V.separating_family(3)

    def honest(t, solved):
        unit = {"ta": 0, "tb": 1, "tc": 2}[t]
        return 2.0 if solved is None or unit in solved else 0.0

    lines, problems = V.isolation_table(plan, _runs(family, honest))
    assert not problems, problems
    assert all("alone   2.0  lost   2.0  own   2.0" in line for line in lines), lines

    def tb_needs_a(t, solved):  # test_b also needs exercise a
        ok = honest(t, solved)
        if t == "tb" and not (solved is None or 0 in solved):
            return 0.0
        return ok

    lines, problems = V.isolation_table(plan, _runs(family, tb_needs_a))
    # a's absence costs b's points too, and b alone earns nothing
    assert any(p.startswith("isolation: a alone earns 2.0 and missing it costs 4.0") for p in problems), problems
    assert any(p.startswith("isolation: b alone earns 0.0 and missing it costs 2.0") for p in problems), problems


# ---------------------------------------------------------------- warm kernels

def test_warm_kernels_are_fresh_processes(tmp_path, monkeypatch):
    """Each notebook gets its own forked kernel: own pid, environment and working directory,
    no names from the previous notebook; an interrupt reaches it; the server logs its CPU."""
    import os

    from nbclient import NotebookClient

    from autograder.tools import warmkernel
    sock = str(tmp_path / "s")
    server = warmkernel.start_server(sock, ["json"], dict(os.environ))
    try:
        name = warmkernel.kernelspec(tmp_path, sock)
        monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
        seen = []
        for k in range(2):
            run_dir = tmp_path / f"run{k}"
            run_dir.mkdir()
            monkeypatch.setenv("DLCV_WARM_PROBE", str(k))
            nb = nbformat.v4.new_notebook(cells=[
                nbformat.v4.new_code_cell("import os\nprint(os.getpid(), os.getcwd(), os.environ['DLCV_WARM_PROBE'], "
                                          "'left_over' in globals())\nleft_over = 1"),
                nbformat.v4.new_code_cell("import time\ntime.sleep(60)")])
            NotebookClient(nb, kernel_name=name, timeout=3, allow_errors=True, interrupt_on_timeout=True,
                           resources={"metadata": {"path": str(run_dir)}}).execute()
            pid, cwd, probe, left_over = nb.cells[0].outputs[0]["text"].split()
            assert (cwd, probe, left_over) == (str(run_dir), str(k), "False")
            assert any(o.get("ename") == "KeyboardInterrupt" for o in nb.cells[1].outputs)
            seen.append(pid)
        assert seen[0] != seen[1]
        assert len(open(warmkernel.cpu_log(sock)).read().splitlines()) == 2
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_lean_keeps_cells_that_change_an_object_a_test_reads():
    nb = _nb("import torch",
             "model = torch.nn.Linear(2, 2)",
             "model.eval()",                                   # changes model in place: kept
             "print(model)\nshow(model)",                      # passes model to a call: kept (conservative)
             "other = torch.zeros(3)\nother.add_(1)",          # changes an object no test reads: dropped
             "#sol f\ndef f(m):\n    return m.training",
             "#test test_f\nassert f(model) is False, 'f'")
    assert V.lean_keep(nb) == {0, 1, 2, 3, 5, 6}
    found = V.mutated_names("x.fit()\ny[0] = 1\nz += 1\nw = 2\ntrain(v, epochs=3)\nfit(model=u)\nprint(p)\n"
                            "torch.manual_seed(0)\ntorch.nn.init.zeros_(q)\ntorch.save(r, 'f')\n", frozenset({"torch"}))
    assert found == {"x", "y", "z", "v", "u", "q"}
