"""The book's pieces without building it (fast; the build and the browser: test_book_build.py,
test_browser_book.py, test_browser_lab.py, all in `make test-browser`)."""
from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import nbformat
import pytest

from autograder.tools.validity import BEGIN_HIDDEN, END_HIDDEN, regions
from book import build, notebook, secrets, sphinxext

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "solutions" / "02_cnns.py"


def _cell(source, grade_id=None, *, solution=False, grade=False, points=0, cell_type="code"):
    make = nbformat.v4.new_code_cell if cell_type == "code" else nbformat.v4.new_markdown_cell
    cell = make(source)
    if grade_id:
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "solution": solution, "grade": grade,
                                     "locked": grade, "points": points, "schema_version": 3}
    return cell


def tiny_chapter():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _cell("# Chapter 3 — Tiny\n\nAs in chapter 2 and `chapter 2`, unlike chapter 9.", cell_type="markdown"),
        _cell("import math"),
        _cell("def double(x):\n    \"\"\"Twice x.\"\"\"\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
              "double", solution=True),
        _cell("assert double(2) == 4, 'double(2) should be 4'\n### BEGIN HIDDEN TESTS\n"
              "assert double(-7) == -14, 'secret negative case'\n### END HIDDEN TESTS",
              "test_double", grade=True, points=1),
    ]
    return nb


def _sources(nb):
    return "\n".join(c.source for c in nb.cells)


def test_reader_edition_folds_solutions_and_drops_hidden_tests():
    nb = notebook.shape(tiny_chapter(), "reader", ["02_cnns", "03_tiny"])
    text = _sources(nb)
    assert "secret negative case" not in text and BEGIN_HIDDEN not in text
    assert "assert double(2) == 4" in text                      # visible tests stay
    solution = next(c for c in nb.cells if c.cell_type == "code" and "return 2 * x" in c.source)
    assert "hide-input" in solution.metadata["tags"]
    assert solution.metadata["mystnb"]["code_prompt_show"] == "Show solution"
    assert "### BEGIN SOLUTION" not in solution.source           # markers are for nbgrader
    stub = nb.cells[nb.cells.index(solution) - 1]                # the exercise as students get it
    assert stub.cell_type == "markdown" and "raise NotImplementedError" in stub.source
    assert "return 2 * x" not in stub.source


def test_student_edition_shows_stubs_and_lets_unsolved_cells_raise():
    nb = notebook.shape(tiny_chapter(), "student", [])
    text = _sources(nb)
    assert "return 2 * x" not in text and "secret negative case" not in text
    assert 'raise NotImplementedError("Exercise: replace this line with your code")' in text
    for cell in nb.cells:
        if "nbgrader" in cell.metadata and cell.cell_type == "code":
            assert {"raises-exception", "remove-output"} <= set(cell.metadata["tags"])


def test_student_edition_matches_the_release():
    """The student edition's exercise and test cells are the committed student notebook's."""
    released = nbformat.read(REPO / "chapters" / "02_cnns.ipynb", as_version=4)
    by_id = {c.metadata["nbgrader"]["grade_id"]: c.source for c in released.cells if "nbgrader" in c.metadata}
    shown = notebook.reads(SOURCE.read_text(), "student", ["02_cnns"])
    ours = {c.metadata["nbgrader"]["grade_id"]: c.source for c in shown.cells if "nbgrader" in c.metadata}
    assert ours.keys() == by_id.keys()
    for grade_id, source in by_id.items():
        assert ours[grade_id].strip() == source.strip(), grade_id


def test_instrumentation_cells_are_hidden_and_summarise_the_run():
    nb = notebook.shape(tiny_chapter(), "reader", [])
    hidden = [c for c in nb.cells if "remove-cell" in c.metadata.get("tags", [])]
    assert len(hidden) == 2 and "DLCV_REPORT" in hidden[0].source and "glue(" in hidden[1].source
    assert nb.cells[1].source.startswith("```{glue:md} " + notebook.SUMMARY_KEY)  # right under the title
    assert len({c.id for c in nb.cells}) == len(nb.cells)


def test_chapter_mentions_link_to_chapters_of_the_book_only():
    chapters = {2: "02_cnns", 4: "04_segmentation"}
    text = "See chapter 2, Chapter 04 and chapter 9; `chapter 2` in code, [chapter 2](x.md), $chapter 2$."
    linked = notebook.link_chapters(text, chapters, own=3)
    assert "{doc}`chapter 2 <02_cnns>`" in linked and "{doc}`Chapter 04 <04_segmentation>`" in linked
    assert "chapter 9;" in linked                                  # not in the book: plain text
    assert "`chapter 2` in code" in linked and "[chapter 2](x.md)" in linked and "$chapter 2$" in linked
    assert notebook.link_chapters("# Chapter 2 title", chapters) == "# Chapter 2 title"
    assert notebook.link_chapters("this is chapter 2", chapters, own=2) == "this is chapter 2"


def test_every_chapter_is_on_the_landing_page():
    names = build.chapter_names()
    page = build.landing_page(names, "reader")
    for name in names:
        assert f"<{name}>`" in page, name
        assert f"- Chapter {int(name[:2])}, " in page, name   # its own number, whatever the subset
    assert "{{" not in page
    assert "Three ways to use the course" in page


def _widget_state():
    png = base64.b64encode(b"\x89PNG\r\n\x1a\nnot really").decode()
    return {
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_s", "IPY_MODEL_o"]}},
        "s": {"model_name": "IntSliderModel", "state": {"description": "stride S", "value": 3, "min": 1,
                                                          "max": 5, "step": 1, "readout_format": "d"}},
        "o": {"model_name": "OutputModel", "state": {"outputs": [
            {"output_type": "display_data", "data": {"image/png": png, "text/plain": "<Figure>"}, "metadata": {}},
            {"output_type": "stream", "name": "stdout", "text": "a <b>"}]}},
    }


def test_widgets_become_their_first_view():
    html = sphinxext.static_widget({"model_id": "box"}, _widget_state(), notebook.WIDGET_NOTE)
    assert "stride S" in html and 'type="range" disabled' in html and 'value="3"' in html
    assert 'src="data:image/png;base64,' in html
    assert "a &lt;b&gt;" in html                                   # text is escaped
    assert "make lab" in html                                      # the note says where to move them


def test_the_secret_search_finds_hidden_lines_however_written(tmp_path):
    """Every hidden-test line planted in a file, in every form the release check knows, is found."""
    found_secrets = secrets.secret_lines(["02_cnns"], "reader")
    hidden = [s for s in found_secrets if "hidden test" in found_secrets[s]]
    assert hidden, "chapter 02 has hidden tests"
    line = max(hidden, key=len)
    folder = tmp_path / "html"
    folder.mkdir()
    (folder / "clean.html").write_text("<p>nothing to see</p>")
    assert secrets.findings([folder], ["02_cnns"], "reader") == []
    highlighted = "".join(f'<span class="n">{word}</span> ' for word in line.split(" "))
    forms = {
        "plain.txt": line,
        "page.html": f"<pre>{highlighted.strip()}</pre>",
        "b64.js": base64.b64encode(line.encode()).decode(),
        "hex.txt": line.encode().hex(),
        "reversed.txt": line[::-1],
        "nb.ipynb": json.dumps({"cells": [{"cell_type": "code", "source": [line], "outputs": []}]}),
        "out.ipynb": json.dumps({"cells": [{"cell_type": "code", "source": [],
                                            "outputs": [{"output_type": "stream", "text": [line + "\n"]}]}]}),
    }
    for name, text in forms.items():
        (folder / name).write_text(text)
    problems = secrets.findings([folder], ["02_cnns"], "reader")
    flagged = {p.split(":", 1)[0] for p in problems}
    assert flagged == set(forms), problems


def test_the_student_edition_also_keeps_solutions_secret():
    student = secrets.secret_lines(["02_cnns"], "student")
    reader = secrets.secret_lines(["02_cnns"], "reader")
    assert set(reader) <= set(student)
    assert any("solution" in origin for origin in student.values())
    assert not any("solution" in origin for origin in reader.values())
    import jupytext
    nb = jupytext.read(SOURCE, fmt="py:percent")
    hidden = {line.strip() for c in nb.cells for r in regions(c.source, BEGIN_HIDDEN, END_HIDDEN)
              for line in r.splitlines()}
    assert set(reader) <= hidden                                   # a reader secret is a hidden-test line


def _make_lab_dry_run(*args):
    out = subprocess.run(["make", "-n", "--no-print-directory", "lab", *args], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if "jupyter lab" in line][-1]


def test_make_lab_allows_root_only_as_root_and_serves_the_root_asked_for():
    command = _make_lab_dry_run()
    assert "--notebook-dir=chapters" in command
    assert ("--allow-root" in command) == (os.geteuid() == 0)
    assert "--notebook-dir=." in _make_lab_dry_run("ROOT=.")


def test_the_jupyterlab_override_switches_the_news_off():
    """The shipped override names real settings with allowed values (JupyterLab ignores others)."""
    override = json.loads((REPO / "jupyterlab-settings" / "dlcv-course.json").read_text())
    schemas = Path(subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-c",
                                   "import sys; print(sys.prefix)"], capture_output=True, text=True).stdout.strip())
    schemas = schemas / "share" / "jupyter" / "lab" / "schemas"
    if not schemas.exists():
        pytest.skip("JupyterLab's schemas are not installed in .venv")
    for plugin, values in override.items():
        package, name = plugin.split(":")
        schema = json.loads((schemas / package / f"{name}.json").read_text())
        for key, value in values.items():
            spec = schema["properties"][key]
            allowed = [o["const"] for o in spec.get("oneOf", [])]
            assert not allowed or value in allowed, (plugin, key, value)
    assert override["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"


def test_a_hidden_line_shown_with_a_comment_elsewhere_is_not_a_secret(tmp_path):
    """The search strips trailing comments, so a line the book shows as `code  # comment` (in any
    chapter) shows its code: that code is no secret (found in 05 against 02's `continue`)."""
    (tmp_path / "01_one.py").write_text(
        "# %% [markdown]\n# # Chapter 1 — One\n\n"
        "# %% nbgrader={\"grade\": true, \"grade_id\": \"test_x\", \"locked\": true, \"points\": 1, "
        "\"schema_version\": 3, \"solution\": false}\n"
        "assert True\n### BEGIN HIDDEN TESTS\nfor k in range(3):\n    total_count += k\n"
        "assert total_count >= 0, 'secret bound'\n### END HIDDEN TESTS\n")
    (tmp_path / "02_two.py").write_text(
        "# %% [markdown]\n# # Chapter 2 — Two\n\n# %%\ntotal_count = 0\n"
        "for k in range(3):\n    total_count += k  # shown here, with a comment\n")
    both = secrets.secret_lines(["01_one", "02_two"], "reader", sources=tmp_path)
    assert "total_count += k" not in both
    assert "assert total_count >= 0, 'secret bound'" in both
    alone = secrets.secret_lines(["01_one"], "reader", sources=tmp_path)
    assert "total_count += k" in alone
