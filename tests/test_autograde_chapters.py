"""End to end on the real demo chapters (02_cnns, 05_detection once it exists): the
reference solution earns full marks through the sandbox, a submission that calls the
library instead of implementing it (``F.conv2d``, ``torchvision.ops.nms``: the chapter
mutants named ``*calls*``) loses exactly those exercises to the hidden ``forbid`` tests,
and no feedback shows a hidden test line."""
import pytest

from autograder.tools import autograde, build, demo, feedback, validity

pytestmark = pytest.mark.slow

CHAPTERS = [c for c in demo.DEMO_CHAPTERS if c in build.chapter_names()]


def _skipping_cells(chapter: str) -> set[str]:
    fails = set()
    for path in sorted((validity.MUTANTS / chapter).glob("*.py")):
        if not demo.is_skipping(path.stem):
            continue
        fails |= set(validity.parse_variant_file(path)[0].get("fails", "").split())
    return fails


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_demo_chapter_grades_honestly(chapter, tmp_path):
    builder = demo.ClassBuilder(chapter)
    students = builder.students()
    keep = {"ada": students["ada"]}
    if "nia" in students:
        keep["nia"] = students["nia"]
    subs = tmp_path / "subs"
    for name, (nb, stamp) in keep.items():
        (subs / name).mkdir(parents=True)
        import nbformat
        nbformat.write(nb, subs / name / f"{chapter}.ipynb")
        (subs / name / "timestamp.txt").write_text(stamp)
    s = autograde.Settings(chapter=chapter, submissions=str(subs), out=str(tmp_path / "out"), workers=2,
                           progress=False, deadline=demo.DEADLINE)
    results = autograde.run(s, log=lambda *_: None)
    ada = results["ada"]
    assert ada.total == ada.max_total > 0, f"the reference solution lost points: {ada.scores} {ada.notes}"
    if "nia" in results:
        nia, calls = results["nia"], _skipping_cells(chapter)
        for cell, score in nia.scores.items():
            if cell in calls:
                assert score < nia.max_scores[cell], f"{cell}: calling the library still earned {score}"
        assert nia.total < ada.total
    import nbformat
    source = nbformat.read(s.root / "source" / chapter / f"{chapter}.ipynb", as_version=4)
    release = nbformat.read(s.root / "release" / chapter / f"{chapter}.ipynb", as_version=4)
    secrets = feedback.hidden_lines(source, release)
    for name, res in results.items():
        with open(res.feedback) as fh:
            assert not feedback.leaks(fh.read(), secrets), f"{name}'s feedback shows hidden test lines"
