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
