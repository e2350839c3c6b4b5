"""The student self-check (course_utils.selfcheck): it runs a notebook as grading does and
tells the truth about every exercise, with an exit status scripts can trust."""
import copy
import json

import nbformat
import pytest

from course_utils import selfcheck

STUB = 'raise NotImplementedError("Exercise: replace this line with your code")'


def _cell(source, grade_id, *, solution=False, grade=False, points=0):
    cell = nbformat.v4.new_code_cell(source)
    meta = {"grade": grade, "grade_id": grade_id, "locked": grade, "schema_version": 3, "solution": solution}
    if grade:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta
    cell.metadata["nbgrader"]["checksum"] = selfcheck._checksum(cell)
    return cell


def tiny_notebook(double_body=STUB, square_body=STUB, answer_body=STUB):
    """Three exercises in the shape of a released chapter: two functions and a quiz answer."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A tiny chapter"),
        nbformat.v4.new_code_cell("import os\nquick = os.environ.get('DLCV_QUICK')"),
        _cell(f"def double(x):\n    {double_body}", "double", solution=True),
        _cell("assert double(2) == 4, f'double(2) should be 4, got {double(2)}'", "test_double", grade=True, points=2),
        _cell(f"def square(x):\n    {square_body}", "square", solution=True),
        _cell("assert square(3) == 9, f'square(3) should be 9, got {square(3)}'", "test_square", grade=True, points=3),
        _cell(answer_body if answer_body != STUB else STUB, "answers", solution=True),
        _cell("assert type(answer) is int, 'answer should be an int'\nassert quick == '1', 'not quick mode'",
              "test_answer", grade=True, points=1),
    ]
    return nb


def _write(tmp_path, nb, name="tiny.ipynb"):
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def _outputs(nb, errors):
    """Fake the outputs of an execution: ``errors`` maps a grade id to (ename, evalue)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in errors:
            ename, evalue = errors[gid]
            cell.outputs = [nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])]
    return nb


def test_analyse_classifies_passed_failed_and_not_attempted():
    stub_err = ("NotImplementedError", "Exercise: replace this line with your code")
    nb = _outputs(tiny_notebook("return 2 * x", "return x + x"),
                  {"test_square": ("AssertionError", "square(3) should be 9, got 6"),
                   "answers": stub_err, "test_answer": ("NameError", "name 'answer' is not defined")})
    by_id = {t.grade_id: t for e in selfcheck.analyse(nb) for t in e.tests}
    assert by_id["test_double"].status == "passed"
    assert by_id["test_square"].status == "failed" and "got 6" in by_id["test_square"].message
    assert by_id["test_answer"].status == "not attempted"  # the answer cell still raises its stub
    report = selfcheck.format_report("tiny.ipynb", selfcheck.analyse(nb))
    assert "FAILED" in report and "square(3) should be 9, got 6" in report and "not attempted" in report
    assert "1 test cells passed (2 of 6 points), 1 failed, 1 not attempted" in report


def test_analyse_notices_an_edited_test_cell():
    nb = tiny_notebook("return 2 * x")
    nb.cells[3].source = "pass  # the test was emptied"
    tests = {t.grade_id: t for e in selfcheck.analyse(nb) for t in e.tests}
    assert tests["test_double"].edited and not tests["test_square"].edited
    assert "grading uses the original" in selfcheck.format_report("tiny.ipynb", selfcheck.analyse(nb))


def test_selfcheck_runs_the_notebook_in_quick_mode_and_sets_the_exit_status(tmp_path, capsys):
    """One kernel run each: solved, stub, partly wrong. The file itself is not modified."""
    solved = _write(tmp_path, tiny_notebook("return 2 * x", "return x * x", "answer = 42"), "solved.ipynb")
    before = solved.read_text()
    assert selfcheck.main([str(solved)]) == 0
    out = capsys.readouterr().out
    assert "3 test cells passed (6 of 6 points), 0 failed, 0 not attempted" in out
    assert solved.read_text() == before

    stub = _write(tmp_path, tiny_notebook(), "stub.ipynb")
    assert selfcheck.main([str(stub)]) == 0  # nothing failed: everything is simply not attempted
    out = capsys.readouterr().out
    assert "0 failed, 3 not attempted" in out
    assert selfcheck.main([str(stub), "--strict"]) == 1
    capsys.readouterr()

    wrong = _write(tmp_path, tiny_notebook("return 2 * x", "return x + x"), "wrong.ipynb")
    assert selfcheck.main([str(wrong)]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "square(3) should be 9, got 6" in out
    assert "test_double" in out and "passed" in out


def test_selfcheck_refuses_a_missing_or_ungraded_notebook(tmp_path, capsys):
    assert selfcheck.main([str(tmp_path / "nope.ipynb")]) == 2
    plain = nbformat.v4.new_notebook()
    plain.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    plain.cells = [nbformat.v4.new_code_cell("1 + 1")]
    assert selfcheck.main([str(_write(tmp_path, plain, "plain.ipynb"))]) == 2


@pytest.mark.slow
def test_selfcheck_on_a_real_chapter(tmp_path, capsys):
    """Chapter 02 as released (nothing attempted, exit 0), solved (all passed) and with one mistake (exit 1)."""
    from autograder.tools.build import CHAPTERS, load_solution
    from autograder.tools.validity import solution_cells

    release = nbformat.read(CHAPTERS / "02_cnns.ipynb", as_version=4)
    solution = solution_cells(load_solution("02_cnns"))

    def with_answers(change=None):
        nb = copy.deepcopy(release)
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.metadata.get("nbgrader", {}).get("solution") and gid in solution:
                cell.source = "\n".join(line for line in solution[gid].source.splitlines()
                                        if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
                if change and gid == change[0]:
                    cell.source = cell.source.replace(*change[1:])
        return nb

    path = _write(tmp_path, release, "02_cnns.ipynb")
    assert selfcheck.main([str(path)]) == 0
    out = capsys.readouterr().out
    assert "\n0 test cells passed" in out and ", 0 failed" in out

    path = _write(tmp_path, with_answers(), "02_cnns.ipynb")
    assert selfcheck.main([str(path)]) == 0
    out = capsys.readouterr().out
    assert " 0 failed, 0 not attempted" in out and "FAILED" not in out

    path = _write(tmp_path, with_answers(("conv_output_size", "return steps + 1", "return steps")), "02_cnns.ipynb")
    assert selfcheck.main([str(path)]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "conv_output_size" in out
    assert json.loads(path.read_text())  # the notebook file is left as it was
