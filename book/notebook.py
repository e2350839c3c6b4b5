"""A chapter's single source, as a book edition shows it (the MyST-NB reader).

MyST-NB reads ``solutions/NN_name.py`` through :func:`reads` (``nb_custom_formats`` in
``book/conf.py``): jupytext parses the percent format, then the notebook is shaped for the
edition *before* it is executed, so what is executed, cached and rendered is already safe:

* every edition: the hidden tests are removed, exactly as the student release removes them
  (nbgrader's ``ClearHiddenTests``), so they are neither executed nor shown;
* ``reader``: every solution cell runs as written (without nbgrader's marker lines), with
  its code folded behind a "Show solution" toggle and preceded by the exercise as the
  student gets it;
* ``student``: every solution region is replaced by the release's stub (nbgrader's
  ``ClearSolutions`` with the course's ``nbgrader_config.py``); the exercise and test cells
  may raise (an unsolved exercise does) and their outputs are not shown;
* "chapter 4" in the prose becomes a link to chapter 4 when it is part of the book;
* two hidden cells measure the chapter's run time and collect its quality figures
  (``course_utils.runtime.report``); a line under the title shows them (a MyST-NB glue).
"""
from __future__ import annotations

import copy
import re
from functools import lru_cache
from pathlib import Path

import jupytext
import nbformat

REPO = Path(__file__).resolve().parents[1]
EDITIONS = ("reader", "student")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
KEEP_CELL_METADATA = ("nbgrader", "tags")
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
SUMMARY_KEY = "dlcv_run_summary"
WIDGET_NOTE = ("This is the widget's first view, saved when the book was built. "
               "Open the chapter in JupyterLab (<code>make lab</code>) to move the controls.")

# Hidden cells added around the chapter (prefixed names: nothing a chapter uses).
_START = """\
import os as _dlcv_os, tempfile as _dlcv_tempfile, time as _dlcv_time
_dlcv_book_report = _dlcv_tempfile.mkstemp(prefix="dlcv-book-report-", suffix=".jsonl")[1]
_dlcv_os.environ["DLCV_REPORT"] = _dlcv_book_report
_dlcv_book_start = (_dlcv_time.perf_counter(), _dlcv_time.process_time())"""

_SUMMARY = """\
def _dlcv_book_summary():
    import json
    from IPython.display import Markdown
    from myst_nb import glue
    from course_utils.runtime import is_quick
    wall = _dlcv_time.perf_counter() - _dlcv_book_start[0]
    cpu = _dlcv_time.process_time() - _dlcv_book_start[1]
    with open(_dlcv_book_report) as fh:
        figures = [json.loads(line) for line in fh if line.strip()]
    _dlcv_os.remove(_dlcv_book_report)
    mode = ("in quick mode (`DLCV_QUICK=1`: short training, so the figures fall short of their targets)"
            if is_quick() else "in full mode")
    text = (f"**Measured when this page was built**, {mode} on {_dlcv_os.cpu_count()} CPU cores: "
            f"the whole chapter ran in {wall:.0f} s of wall-clock time ({cpu:.0f} s of CPU time in the kernel).")
    if figures:
        parts = []
        for f in figures:
            part = f"{f['name']} = {f['value']:.4f}"
            if f.get("target") is not None:
                part += f" (target {f['target']})"
            parts.append(part)
        text += " Quality figures: " + "; ".join(parts) + "."
    glue("%s", Markdown(text), display=False)


_dlcv_book_summary()""" % SUMMARY_KEY

CHAPTER_MENTION = re.compile(r"\b([Cc]hapters?)(\s+)0?(\d{1,2})\b")
_CODE_SPAN = re.compile(r"(`+)(?:.+?)\1|\$[^$]+\$|\[[^\]]*\]\([^)]*\)")
TITLE_NUMBER = re.compile(r"^#\s*Chapter\s+0?(\d+)", re.M)


@lru_cache(maxsize=1)
def _course_config():
    from traitlets.config.loader import PyFileConfigLoader
    path = REPO / "autograder" / "nbgrader_config.py"
    return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()


def _clear_solutions():
    from nbgrader.preprocessors import ClearSolutions
    return ClearSolutions(config=_course_config())


def _clear_hidden():
    from nbgrader.preprocessors import ClearHiddenTests
    return ClearHiddenTests(config=_course_config())


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def is_solution(cell) -> bool:
    return bool(_meta(cell).get("solution"))


def is_test(cell) -> bool:
    return bool(_meta(cell).get("grade")) and cell.cell_type == "code"


def _add_tags(cell, *tags: str) -> None:
    current = list(cell.metadata.get("tags", []))
    cell.metadata["tags"] = current + [t for t in tags if t not in current]


def link_chapters(text: str, chapters: dict[int, str], own: int | None = None) -> str:
    """Turn "chapter 4" / "Chapter 04" in prose into a link to that chapter's page.

    Only chapters of the book are linked (a build of a subset leaves the others as text);
    headings, code spans, math and existing links are left alone, and so is the chapter's
    mention of itself.

    Examples:
        >>> link_chapters("as in chapter 2, and `chapter 2`", {2: "02_cnns"})
        'as in {doc}`chapter 2 <02_cnns>`, and `chapter 2`'
        >>> link_chapters("# Chapter 2 title", {2: "02_cnns"})
        '# Chapter 2 title'
    """
    def replace(match: re.Match) -> str:
        number = int(match.group(3))
        doc = chapters.get(number)
        if doc is None or number == own:
            return match.group(0)
        return f"{{doc}}`{match.group(0)} <{doc}>`"

    out = []
    for line in text.split("\n"):
        if line.lstrip().startswith("#"):
            out.append(line)
            continue
        pieces, last = [], 0
        for protected in _CODE_SPAN.finditer(line):
            pieces.append(CHAPTER_MENTION.sub(replace, line[last:protected.start()]))
            pieces.append(protected.group(0))
            last = protected.end()
        pieces.append(CHAPTER_MENTION.sub(replace, line[last:]))
        out.append("".join(pieces))
    return "\n".join(out)


def chapter_map(chapters) -> dict[int, str]:
    """``["02_cnns", ...]`` -> ``{2: "02_cnns", ...}``."""
    return {int(name[:2]): name for name in chapters if name[:2].isdigit()}


def shape(nb: nbformat.NotebookNode, edition: str = "reader", chapters=(),
          instrument: bool = True) -> nbformat.NotebookNode:
    """The notebook of ``edition`` made from a solution notebook (see the module docstring)."""
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {EDITIONS}, got {edition!r}")
    nb = copy.deepcopy(nb)
    nb.metadata = nbformat.from_dict({"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}})
    clear_hidden, clear_solutions = _clear_hidden(), _clear_solutions()
    resources = {"language": "python"}
    numbers = chapter_map(chapters)
    title = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    own = TITLE_NUMBER.search(title)
    own = int(own.group(1)) if own else None

    cells = []
    for cell in nb.cells:
        cell.metadata = nbformat.from_dict({k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA})
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell, _ = clear_hidden.preprocess_cell(cell, resources, 0)
        if cell.cell_type == "markdown":
            cell.source = link_chapters(cell.source, numbers, own)
        if is_solution(cell) and edition == "student":
            cell, _ = clear_solutions.preprocess_cell(cell, resources, 0)
        if is_solution(cell) and edition == "reader" and cell.cell_type == "code":
            stub, _ = clear_solutions.preprocess_cell(copy.deepcopy(cell), resources, 0)
            cells.append(nbformat.v4.new_markdown_cell(
                "```python\n" + stub.source.rstrip("\n") + "\n```", metadata={"tags": ["dlcv-exercise"]}))
            # The markers are for nbgrader, not for readers.
            cell.source = "\n".join(line for line in cell.source.split("\n")
                                     if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION))
            _add_tags(cell, "hide-input")
            cell.metadata["mystnb"] = {"code_prompt_show": "Show solution", "code_prompt_hide": "Hide solution"}
        if edition == "student" and cell.cell_type == "code" and (is_solution(cell) or is_test(cell)):
            # An unsolved exercise raises, and so do its tests: expected, and not shown.
            _add_tags(cell, "raises-exception", "remove-output")
        cells.append(cell)

    if instrument:
        first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
        after_title = next((i + 1 for i, c in enumerate(cells) if c.cell_type == "markdown"), 0)
        start = nbformat.v4.new_code_cell(_START, metadata={"tags": ["remove-cell"]})
        summary = nbformat.v4.new_markdown_cell(
            f"```{{glue:md}} {SUMMARY_KEY}\n:format: myst\n```", metadata={"tags": ["dlcv-run-summary"]})
        cells.insert(first_code, start)
        cells.insert(min(after_title, first_code), summary)
        cells.append(nbformat.v4.new_code_cell(_SUMMARY, metadata={"tags": ["remove-cell"]}))
    for i, cell in enumerate(cells):
        cell.id = f"book-{i:03d}"
    nb.cells = cells
    nbformat.validate(nb)
    return nb


def reads(text: str, edition: str = "reader", chapters=(), instrument: bool = True) -> nbformat.NotebookNode:
    """The MyST-NB reader (``nb_custom_formats``): percent-format text -> the edition's notebook."""
    return shape(jupytext.reads(text, fmt="py:percent"), edition, chapters, instrument)
