"""Fast checks of the course tooling: jupytext round trip and the static validity checks."""
import json

import nbformat
import pytest

from autograder.tools import build, validity

CHAPTERS = build.chapter_names()


def test_there_are_chapters():
    assert CHAPTERS, "solutions/ holds no chapter sources"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_solution_sources_parse_with_unique_grade_ids(chapter):
    nb = build.load_solution(chapter)
    graded = validity.graded_cells(nb)
    assert graded, f"{chapter} has no graded test cell"
    for grade_id, cell in graded.items():
        assert cell.metadata.nbgrader.get("points", 0) > 0, f"{grade_id} is graded but worth no points"
        assert cell.metadata.nbgrader.get("locked"), f"test cell {grade_id} must be locked"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_visible_asserts_carry_messages(chapter):
    bad = validity.asserts_without_message(build.load_solution(chapter))
    assert not bad, "visible tests must say what is wrong; asserts without a message:\n" + "\n".join(bad)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_test_cell_has_a_mutant(chapter):
    missing = validity.untargeted_tests(chapter)
    assert not missing, f"{chapter}: no mutant in autograder/mutants/{chapter}/ targets {missing}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_mutant_and_alternative_files_are_well_formed(chapter):
    variants = validity.build_variants(chapter, build.load_solution(chapter))
    assert any(v.kind == "mutant" for v in variants)


def test_jupytext_round_trip_keeps_nbgrader_metadata(tmp_path):
    """Open a solution source the way JupyterLab does, save, mark a cell for nbgrader, save again.

    Without the repository's jupytext.toml, jupytext records `cell_metadata_filter: -all`
    on the first save of a header-less file and silently drops metadata added later
    (checked by hand with jupytext 1.19.6).
    """
    from jupytext import TextFileContentsManager

    (tmp_path / "jupytext.toml").write_text((build.REPO / "jupytext.toml").read_text())
    (tmp_path / "nb.py").write_text("# %% [markdown]\n# Prose.\n\n# %%\ndef f(x):\n    return x\n")
    cm = TextFileContentsManager(root_dir=str(tmp_path))
    cm.save(cm.get("nb.py"), "nb.py")  # first save from JupyterLab
    model = cm.get("nb.py")
    model["content"].cells[1].metadata["nbgrader"] = {
        "grade": False, "grade_id": "ex", "locked": False, "schema_version": 3, "solution": True}
    model["content"].cells.append(nbformat.v4.new_code_cell("assert f(1) == 1, 'f(1) should be 1'", metadata={
        "nbgrader": {"grade": True, "grade_id": "test_ex", "locked": True, "points": 1, "schema_version": 3,
                     "solution": False}}))
    cm.save(model, "nb.py")
    reread = cm.get("nb.py")["content"]
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in reread.cells]
    assert ids == [None, "ex", "test_ex"], f"nbgrader metadata lost in the round trip: {ids}"
    assert reread.cells[2].metadata["nbgrader"]["points"] == 1


def test_leak_detector_finds_solution_lines():
    sol = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "def f(x):\n    ### BEGIN SOLUTION\n    return x * 2 + 1\n    ### END SOLUTION")])
    leaky = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def f(x):\n    return x * 2 + 1")])
    clean = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def f(x):\n    raise NotImplementedError()")])
    assert validity.leaked_lines(sol, leaky)
    assert not validity.leaked_lines(sol, clean)


def test_bare_assert_detector():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "assert 1 == 1\nassert 2 == 2, 'msg'\n### BEGIN HIDDEN TESTS\nassert 3 == 3\n### END HIDDEN TESTS",
        metadata={"nbgrader": {"grade": True, "grade_id": "t", "points": 1, "locked": True, "solution": False}})])
    bad = validity.asserts_without_message(nb)
    assert len(bad) == 1 and "line 1" in bad[0]


def test_committed_chapters_carry_no_solution_regions():
    for path in sorted((build.REPO / "chapters").glob("*.ipynb")):
        text = path.read_text()
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS"):
            assert marker not in text, f"{path.name} contains '{marker}'"
        json.loads(text)


def _nb(*sources):
    cells = []
    for i, src in enumerate(sources):
        meta = {}
        cid = f"c{i}"
        if src.startswith("#sol "):
            cid = src.split()[1]
            meta = {"nbgrader": {"solution": True, "grade": False, "grade_id": cid, "locked": False}}
        elif src.startswith("#test "):
            cid = src.split()[1]
            meta = {"nbgrader": {"solution": False, "grade": True, "grade_id": cid, "points": 1, "locked": True}}
        cell = nbformat.v4.new_code_cell(src, metadata=meta)
        cell.id = cid
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


def test_dependency_closure_follows_names_not_locals():
    nb = _nb("#sol a\ndef a(x):\n    return x + 1",
             "#sol b\ndef b(x):\n    y = [v for v in range(x)]\n    return a(x) * 2",
             "#sol c\ndef c(x):\n    return x",
             "out = c(3)",
             "#test test_b\nv = 1\nassert b(v) == 4, 'b'",
             "#test test_c\nassert out == 3, 'c'")
    closure = validity.dependency_closure(nb)
    assert closure[4] == {0, 1}          # test_b -> b -> a (through b's body)
    assert closure[5] == {2, 3}          # test_c -> out -> c; v in test_b is its own


def test_batching_keeps_interfering_mutants_apart():
    sol = _nb("#sol a\ndef a(x):\n    return x + 1",
              "#sol b\ndef b(x):\n    return a(x) * 2",
              "#sol c\ndef c(x):\n    return x",
              "#test test_a\nassert a(1) == 2, 'a'",
              "#test test_b\nassert b(1) == 4, 'b'",
              "#test test_c\nassert c(1) == 1, 'c'")

    def mutant(cell, fails, src):
        return validity.Variant(f"m-{cell}", "mutant", validity.replace_cell(sol, cell, src, "t"), cell, cell, fails)

    subs = validity.batch_variants(sol, [mutant("a", ["test_a"], "def a(x):\n    return x"),
                                         mutant("b", ["test_b"], "def b(x):\n    return a(x)"),
                                         mutant("c", ["test_c"], "def c(x):\n    return 0")])
    groups = [sorted(v.cell for v in s.members) for s in subs]
    # b's test runs a's code, so a and b never share a notebook; c is independent.
    assert all(not {"a", "b"} <= set(g) for g in groups), groups
    assert len(groups) == 2, groups
