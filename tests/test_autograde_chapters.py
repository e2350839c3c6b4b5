"""End to end on the real demo chapters (02_cnns, 05_detection): the reference solution
earns full marks through the sandbox (the canary, graded before any student), a
submission that calls the library instead of implementing it (``F.conv2d``,
``torchvision.ops.nms``: the chapter mutants named ``*calls*``) loses exactly those
exercises to the hidden ``forbid`` tests, and no feedback shows a hidden test line.

On chapter 05 the hostile demo students of issue 12 are graded too: two that install an
input transformer through a path the old scan did not know (``ipywidgets.get_ipython()``,
``matplotlib_inline.backend_inline.get_ipython()``) score 0 and are flagged; two that
leak the hidden tests (printed, encoded, from ``linecache``; in an ``AssertionError``
message) earn exactly what they would without the leak, and their feedback holds no
hidden-test line in any form. The honest correct student (ada, written from the
alternatives) is neither flagged nor marked "needs review"; the one who copied the
solution verbatim (tom) keeps full marks and is marked "needs review" by the copy check.
"""
import json

import nbformat
import pytest

from autograder.tools import autograde, build, demo, feedback, validity

pytestmark = pytest.mark.slow

CHAPTERS = [c for c in demo.DEMO_CHAPTERS if c in build.chapter_names()]
HOSTILE = "05_detection" if "05_detection" in CHAPTERS else (CHAPTERS[-1] if CHAPTERS else None)


def _skipping_cells(chapter: str) -> set[str]:
    fails = set()
    for path in sorted((validity.MUTANTS / chapter).glob("*.py")):
        if not demo.is_skipping(path.stem):
            continue
        fails |= set(validity.parse_variant_file(path)[0].get("fails", "").split())
    return fails


def _tests_of(release, grade_id: str) -> list[str]:
    """The test cells between exercise ``grade_id`` and the next exercise."""
    tests, inside = [], False
    for cell in release.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            inside = meta.get("grade_id") == grade_id
        elif inside and meta.get("grade"):
            tests.append(meta["grade_id"])
    return tests


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_demo_chapter_grades_honestly(chapter, tmp_path):
    builder = demo.ClassBuilder(chapter)
    students = builder.students()
    names = ["nia"] + (["ada", "tom", "pia", "quin", "ros", "sam"] if chapter == HOSTILE else [])
    subs = tmp_path / "subs"
    for name in names:
        if name not in students:
            continue
        nb, stamp = students[name]
        (subs / name).mkdir(parents=True)
        nbformat.write(nb, subs / name / f"{chapter}.ipynb")
        (subs / name / "timestamp.txt").write_text(stamp)
    s = autograde.Settings(chapter=chapter, submissions=str(subs), out=str(tmp_path / "out"), workers=2,
                           progress=False, deadline=demo.DEADLINE)
    results = autograde.run(s, log=lambda *_: None)
    # The canary: the reference solution, graded first in the same sandbox.
    canary = autograde.Result(**json.loads((s.root / ".canary" / f"{chapter}.json").read_text())["result"])
    assert canary.total == canary.max_total > 0, f"the reference solution lost points: {canary.scores} {canary.notes}"
    full = canary.max_scores
    if "nia" in results:
        nia, calls = results["nia"], _skipping_cells(chapter)
        for cell, score in nia.scores.items():
            if cell in calls:
                assert score < nia.max_scores[cell], f"{cell}: calling the library still earned {score}"
        assert nia.total < canary.total
    source = nbformat.read(s.root / "source" / chapter / f"{chapter}.ipynb", as_version=4)
    release = nbformat.read(s.root / "release" / chapter / f"{chapter}.ipynb", as_version=4)
    secrets = feedback.hidden_lines(source, release)
    for name, res in results.items():
        with open(res.feedback) as fh:
            assert not feedback.leaks(fh.read(), secrets), f"{name}'s feedback shows hidden test lines"
    if chapter != HOSTILE:
        return
    # Honest and correct in the student's own words (the alternatives): full marks, clean.
    # A verbatim copy of the solution: full marks too, and "needs review" (copy check).
    ada, tom = results["ada"], results["tom"]
    assert ada.scores == full and ada.status == "ok" and not ada.flags and not ada.review, (ada.scores, ada.review)
    assert tom.scores == full and not tom.flags and tom.review, (tom.scores, tom.review)
    assert all("chapter's solution" in note for note in tom.review), tom.review
    for name in ("pia", "quin"):  # issue 12: 21/21 with nothing solved, before
        assert results[name].total == 0 and results[name].status == "flagged", (name, results[name].scores,
                                                                              results[name].flags)
    ros = results["ros"]
    assert ros.scores == full, f"the leak changed ros's grade: {ros.scores} ({ros.status}; {ros.notes[:2]})"
    assert ros.status == "ok" and ros.review, "linecache is a construct that needs review (graded normally)"
    gid, _ = builder.last_function_exercise()
    lost = _tests_of(release, gid)
    sam = results["sam"]
    assert lost and sam.scores == {c: (0.0 if c in lost else v) for c, v in full.items()}, (sam.scores, lost)
    for name in ("ros", "sam"):
        graded = nbformat.read(s.root / "autograded" / name / chapter / f"{chapter}.ipynb", as_version=4)
        assert feedback.leaks(outputs_text(graded), secrets), f"{name} leaked nothing: the test proves nothing"


def outputs_text(nb) -> str:
    """Everything the kernel wrote into a graded notebook (prints, error messages)."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts += [str(out.get("text", "")), str(out.get("evalue", "")), *map(str, out.get("data", {}).values())]
    return "\n".join(parts)
