"""Grading validity of every chapter, with real nbgrader (slow: run by `make test-grading`).

For each chapter in solutions/ (see autograder/tools/validity.py for what each check
proves): the solution, with warnings and stderr noise, scores full marks; the student
release scores 0 on every test cell; every mutant loses points with a message on the test
cells it names; every alternative and every generated float32/float64 twin keeps full
marks; isolation (an exercise alone earns exactly its points, and missing it costs only
its points); no graded quiz answer shows in what the release displays; and the static
checks (no solution or hidden line in the release, visible asserts with messages, every
test cell targeted by a mutant, known `# validity:` declarations).

The chapters selected for this session are graded together in one pool of two workers,
so that the cores stay busy from the first chapter to the last.
"""
import pytest

from autograder.tools import build, validity

CHAPTERS = build.chapter_names()


@pytest.mark.slow
def test_chapters_are_up_to_date():
    stale = build.stale_chapters()
    assert not stale, f"chapters/ is out of date with solutions/ for {stale}: run `make student` and commit"


@pytest.fixture(scope="module")
def validity_results(request):
    selected = sorted({item.callspec.params["chapter"] for item in request.session.items
                       if getattr(item, "originalname", None) == "test_grading_validity"
                       and hasattr(item, "callspec")})
    return validity.check_chapters(selected or CHAPTERS, workers=2)


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_grading_validity(chapter, validity_results):
    problems = validity_results[chapter]
    assert not problems, f"{chapter}: grading validity fails:\n" + "\n".join(problems)


PROBE = '''# %%
import torch
from course_utils.grading import expect_answer, expect_close, expect_equal

# %% nbgrader={"grade": false, "grade_id": "double", "locked": false, "schema_version": 3, "solution": true}
def double(x):
    """2 * x for a float tensor x."""
    ### BEGIN SOLUTION
    return x * 2
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_double", "locked": true, "points": 2, "schema_version": 3, "solution": false}
expect_close(double(torch.tensor([1.5, -2.0])), torch.tensor([3.0, -4.0]), "double of [1.5, -2]")

# %% nbgrader={"grade": false, "grade_id": "quadruple", "locked": false, "schema_version": 3, "solution": true}
def quadruple(x):
    """4 * x for a float tensor x."""
    ### BEGIN SOLUTION
    return x * 4
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_quadruple", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# planted: reads another exercise's function without `# validity: builds-on double`
expect_close(quadruple(torch.tensor([1.0])), double(torch.tensor([2.0])), "quadruple of 1")

# %% nbgrader={"grade": false, "grade_id": "third", "locked": false, "schema_version": 3, "solution": true}
def third(x):
    """x / 3 for a float64 tensor x."""
    ### BEGIN SOLUTION
    return x / 3
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_third", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# planted: a float64-exact check that a float32 computation fails (no dtype-stated)
x = torch.tensor([1.0, 2.0], dtype=torch.float64)
assert torch.equal(third(x), x / 3), "third must be exact"

# %% nbgrader={"grade": false, "grade_id": "quiz", "locked": false, "schema_version": 3, "solution": true}
### BEGIN SOLUTION
params = 1234
small = 7
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_quiz", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
expect_answer(params, 1234, "params")
expect_answer(small, 7, "small")
### END HIDDEN TESTS

# %%
# planted: a printout after the quiz that gives the graded number away
print("a 3 x 3 x 137 layer has", 3 * 3 * 137 + 1, "parameters")
'''


@pytest.mark.slow
def test_validity_catches_planted_problems(tmp_path, monkeypatch):
    """A small chapter with one planted problem per check: each must be reported."""
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "99_probe.py").write_text(PROBE)
    mutants = tmp_path / "mutants" / "99_probe"
    mutants.mkdir(parents=True)
    (mutants / "triple.py").write_text("# mutant: triples\n# cell: double\n# fails: test_double\n"
                                       "@@\n-    return x * 2\n+    return x * 3\n")
    (mutants / "harmless.py").write_text("# mutant: a change the test cannot see\n# cell: quadruple\n"
                                         "# fails: test_quadruple\n@@\n-    return x * 4\n+    return x * 4.0\n")
    monkeypatch.setattr(build, "SOLUTIONS", tmp_path / "solutions")
    monkeypatch.setattr(validity, "MUTANTS", tmp_path / "mutants")
    monkeypatch.setattr(validity, "ALTERNATIVES", tmp_path / "alternatives")
    problems = "\n".join(validity.check_chapters(["99_probe"], workers=2)["99_probe"])
    assert "mutant-harmless" in problems and "still scored full marks" in problems, problems
    assert "mutant-triple" not in problems, problems
    assert "no mutant targets test cell test_third" in problems, problems
    assert "its exercise quadruple is unsolved" not in problems  # test_quadruple belongs to quadruple ...
    assert "test_quadruple scored 0.0/2.0 (isolation: solved quadruple" in problems, problems  # ... but needs double
    assert "isolation: quadruple alone earns 0.0" in problems, problems
    assert "prec-third: test_third scored 0.0/2.0" in problems, problems
    assert "prec-double" not in problems and "prec-quadruple" not in problems, problems
    assert "answer leak: test_quiz: the graded answer 1234 shows in the stub run's output of" in problems, problems
    assert "answer leak: test_quiz: the quiz answer 7 is too generic" in problems, problems
