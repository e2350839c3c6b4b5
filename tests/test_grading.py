"""Grading validity of every chapter, with real nbgrader (slow: run by `make test-grading`).

For each chapter: the solution scores full marks, the student stub scores 0 on every
test cell, the release leaks no solution or hidden-test line, every test cell is
targeted by a mutant and every mutant loses points with a message, other correct
solutions and a solution that writes warnings to stderr keep full marks. See
autograder/tools/validity.py.
"""
import pytest

from autograder.tools import build, validity

CHAPTERS = build.chapter_names()


@pytest.mark.slow
def test_chapters_are_up_to_date():
    stale = build.stale_chapters()
    assert not stale, f"chapters/ is out of date with solutions/ for {stale}: run `make student` and commit"


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_grading_validity(chapter):
    problems = validity.check_chapter(chapter, workers=2)
    assert not problems, f"{chapter}: grading validity fails:\n" + "\n".join(problems)
