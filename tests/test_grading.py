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
