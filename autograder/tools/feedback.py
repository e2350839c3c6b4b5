"""Feedback that holds nothing student code could control once a hidden test has run.

Student code runs in the same kernel as the hidden tests, so after a hidden test has
run it can read that test's source (from ``linecache``, from IPython's input history)
and put it anywhere the kernel writes: a print, a figure, an exception message, an
exception's *class name*, in any encoding. No scrubber can recognise every encoding, so
the feedback follows a rule instead (the **one-pass** design):

* each test cell shows its visible source (as in the release), its score (nbgrader's
  feedback template reads it from the gradebook) and a one-line verdict;
* the verdict of a failed cell is the **author-written label of the failing check**: the
  ``what`` text of the ``course_utils.grading`` call (``expect_close(..., "box_iou of two
  empty sets")``) or the message of an ``assert``, taken from the test cell's *source*
  (string literals only; the holes of an f-string are shown as "…"). The error message
  that the kernel produced is used only to *choose* among these labels (and its line
  number to find the statement), never shown;
* otherwise the verdict is one of a few fixed sentences (passed, not attempted, your
  code raised an exception, not run because the notebook stopped earlier);
* no output of any cell is shown: no prints, no figures, no exception messages;
* the code of the solution cells is the student's own, written before anything ran.

Students see the full messages of the visible tests on their own machine with the
self-check (``python -m course_utils.selfcheck NB`` / ``make check NB=...``), which runs
exactly the visible tests.

After rendering, the page is searched once more for every hidden-test line, plain and
encoded (base64, hex, reversed): :func:`leaks`. That check cannot catch every encoding,
which is why the rule above is the real defence.
"""
from __future__ import annotations

import ast
import base64
import binascii
import copy
import html as html_lib
import re
from dataclasses import dataclass

import nbformat

from autograder.tools.validity import BEGIN_HIDDEN, END_HIDDEN, regions

SCRUBBED = "[hidden test line removed]"
HIDDEN_NOTE = "# (hidden tests also ran here; their source is not shown)"
HOLE = "\u2026"  # what an f-string hole shows as
SELF_CHECK = "python -m course_utils.selfcheck <notebook>"
HEADER = (
    "**About this feedback.** Each test cell shows its score and, when it failed, which check failed "
    "(the check's description, written by the course's authors). Hidden tests also ran; their code "
    "is not shown, and neither are the outputs of your cells or the messages of errors. To see the full "
    "message of a visible test, run the notebook on your machine with the self-check: "
    f"`{SELF_CHECK}` (or `make check NB=<notebook>`).")
# Checks whose third (or second) argument is the author's description of what is checked.
WHAT_ARG = {"expect_equal": 2, "expect_close": 2, "expect_answer": 2, "expect_raises": 2, "expect_tensor": 1,
            "as_number": 1, "as_numbers": 1, "hidden_check": 0, "check": 0}
FORBID_LABEL = "{exercise} must not call the library function it asks you to write"

# Fixed verdicts (nothing in them comes from the kernel).
PASSED = "Passed."
NOT_ATTEMPTED = "Not attempted: the exercise still raises NotImplementedError."
FAILED = "Failed: {label}"
FAILED_UNKNOWN = "Failed a check (run the self-check to see the visible tests' messages)."
RAISED = "Your code raised an exception in this test{where} (run the self-check to see it)."
DID_NOT_FINISH = "Did not finish: the cell ran out of time or the kernel stopped."
NOT_RUN = "Not run: an earlier cell stopped the notebook (it ran out of time or the kernel stopped)."
STOPPED = "Not run: grading stopped here; your instructor will look at this submission."


# ---------------------------------------------------------------- hidden lines

def hidden_lines(solution_nb, release_nb, min_len: int = 8) -> list[str]:
    """Lines of hidden-test regions that the release does not show anyway, longest first.

    A line that is part of a visible line (``integer=True)`` closing a call) gives
    nothing away and would make every page look leaky: it is left out."""
    public_text = "\n".join(cell.source for cell in release_nb.cells)
    secret = set()
    for cell in solution_nb.cells:
        for region in regions(cell.source, BEGIN_HIDDEN, END_HIDDEN):
            for line in region.splitlines():
                s = line.strip()
                if len(s) >= min_len and not s.startswith("#") and s not in public_text:
                    secret.add(s)
    return sorted(secret, key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    for s in secrets:
        if s in text:
            text = text.replace(s, SCRUBBED)
    return text


# ---------------------------------------------------------------- labels from the test source

@dataclass
class Label:
    """An author-written description of one check in a test cell."""
    text: str          # what the student reads ("box_iou on … random boxes")
    pattern: re.Pattern  # matches the start of the error message this check raises
    first_line: int    # the statement's lines in the cell (1-based)
    last_line: int
    weight: int        # literal characters: the more, the more specific


def _pieces(node: ast.AST) -> list[str | None] | None:
    """A string expression as literal pieces and holes (None); None if it is not text."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        out: list[str | None] = []
        for v in node.values:
            out.append(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else None)
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _pieces(node.left), _pieces(node.right)
        if left is None and right is None:
            return None
        return (left or [None]) + (right or [None])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):  # "x %s" % y
        left = _pieces(node.left)
        if left is None:
            return None
        out = []
        for piece in left:
            if piece is None:
                out.append(None)
            else:
                for i, part in enumerate(re.split(r"%[-#0 +]*\d*(?:\.\d+)?[sdrfgxe%]", piece)):
                    out += ([None] if i else []) + [part]
        return out
    return None


def _label(pieces: list[str | None], first: int, last: int) -> Label | None:
    """The label of a check's message (the grading helpers' messages start with it)."""
    merged: list[str | None] = []
    for p in pieces:
        if p == "":
            continue
        if p is None and merged and merged[-1] is None:
            continue
        merged.append(p)
    literal = "".join(p for p in merged if p)
    if len(literal.strip()) < 3:
        return None
    shown = "".join(HOLE if p is None else p for p in merged)
    regex = "".join("(?s:.*?)" if p is None else re.escape(p) for p in merged)
    return Label(" ".join(shown.split()), re.compile("^" + regex), first, last, len(literal))


def check_labels(source: str) -> list[Label]:
    """The labels of every check in a test cell's source (visible and hidden parts)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    labels: list[Label] = []
    for node in ast.walk(tree):
        first, last = getattr(node, "lineno", 0), getattr(node, "end_lineno", 0) or getattr(node, "lineno", 0)
        if isinstance(node, ast.Assert) and node.msg is not None:
            pieces = _pieces(node.msg)
            label = pieces and _label(pieces, first, last)
            if label:
                labels.append(label)
        elif isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else (
                node.func.attr if isinstance(node.func, ast.Attribute) else "")
            what = next((k.value for k in node.keywords if k.arg == "what"), None)
            if what is None and name in WHAT_ARG and len(node.args) > WHAT_ARG[name]:
                what = node.args[WHAT_ARG[name]]
            if name == "forbid":
                exercise = next((k.value for k in node.keywords if k.arg == "exercise"), None)
                pieces = _pieces(exercise) if exercise is not None else ["this exercise"]
                if pieces:
                    shown = "".join(HOLE if p is None else p for p in pieces)
                    regex = "".join("(?s:.*?)" if p is None else re.escape(p) for p in pieces)
                    labels.append(Label(FORBID_LABEL.format(exercise=shown),
                                        re.compile("^" + regex + re.escape(" asks you to write the computation yourself")),
                                        first, last, len("".join(p for p in pieces if p)) + 40))
            elif what is not None and name in WHAT_ARG:
                pieces = _pieces(what)
                label = pieces and _label(pieces, first, last)
                if label:
                    labels.append(label)
    return labels


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_LINE = re.compile(r"Cell In\s*\[\d*\]\s*,\s*line (\d+)")


def _failing_line(traceback: list) -> int | None:
    """The line of the test cell where the error was raised (the first "Cell In[...]" frame
    of IPython's traceback is the cell being run). Only an integer is taken from it."""
    for entry in traceback or []:
        m = _CELL_LINE.search(_ANSI.sub("", str(entry)))
        if m:
            return int(m.group(1))
    return None


def verdict(test_source: str, outputs: list) -> str:
    """The one-line verdict of a test cell, built only from ``test_source`` and fixed text.

    The outputs are read (the error's class name, message and line) only to choose.
    """
    from autograder.tools.safe_execute import KERNEL_DIED, NOT_RUN as NOT_RUN_ENAME, TAMPERED

    errors = [o for o in outputs if o.get("output_type") == "error"]
    if not errors:
        return PASSED
    err = errors[0]
    ename, evalue = str(err.get("ename", "")), str(err.get("evalue", ""))
    if ename == TAMPERED:
        return STOPPED
    if ename == NOT_RUN_ENAME:
        return NOT_RUN
    if ename in (KERNEL_DIED, "CellTimeoutError", "DeadKernelError"):
        return DID_NOT_FINISH
    if ename == "NotImplementedError":
        return NOT_ATTEMPTED
    labels = check_labels(test_source)
    line = _failing_line(err.get("traceback", []))
    # The check at the failing line (not a `with forbid(...)` block: an error raised by
    # the student's code inside it is not about calling the library).
    at_line = [lb for lb in labels if line is not None and lb.first_line <= line <= lb.last_line
               and not lb.text.endswith(FORBID_LABEL.split("}", 1)[1])]
    if ename == "AssertionError":
        matching = [lb for lb in labels if lb.pattern.match(evalue)]
        if matching:
            best = max(matching, key=lambda lb: (lb in at_line, lb.weight))
            return FAILED.format(label=best.text)
        if at_line:
            return FAILED.format(label=min(at_line, key=lambda lb: lb.last_line - lb.first_line).text)
        return FAILED_UNKNOWN
    if at_line:
        return RAISED.format(where=f" (while checking: {min(at_line, key=lambda lb: lb.last_line - lb.first_line).text})")
    return RAISED.format(where="")


# ---------------------------------------------------------------- the feedback notebook

def _verdict_output(text: str):
    if text == PASSED:
        return nbformat.v4.new_output("stream", name="stdout", text=text + "\n")
    return nbformat.v4.new_output("error", ename="Result", evalue=text, traceback=[text])


def sanitize(autograded_nb, release_nb, secrets: list[str]):
    """The copy of the autograded notebook that the student gets (one-pass design, see the
    module docstring): sources and verdicts, no outputs."""
    nb = copy.deepcopy(autograded_nb)
    release_tests = {c.metadata.nbgrader["grade_id"]: c for c in release_nb.cells
                     if c.get("metadata", {}).get("nbgrader", {}).get("grade") and c.cell_type == "code"}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id")
        if cell.cell_type == "code" and meta.get("grade") and gid in release_tests:
            text = verdict(cell.source, cell.get("outputs", []))
            visible = release_tests[gid].source
            cell.source = visible if cell.source.strip() == visible.strip() else f"{visible.rstrip()}\n{HIDDEN_NOTE}"
            cell.outputs = [_verdict_output(scrub(text, secrets))]
        elif cell.cell_type == "code":
            cell.source = scrub(cell.source, secrets)
            cell.outputs = []
            cell.execution_count = None
        else:
            cell.source = scrub(cell.source, secrets)
            cell.pop("attachments", None)
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(HEADER, id="dlcv-feedback-header"))
    return nb


# ---------------------------------------------------------------- the last check

_TAG = re.compile(r"<[^>]+>")
_B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")
_HEX_RUN = re.compile(r"(?:[0-9a-fA-F]{2}){6,}")


def visible_text(html: str) -> str:
    """What a reader of the HTML sees (tags removed, entities decoded)."""
    return html_lib.unescape(_TAG.sub("", html))


def decoded_views(text: str) -> list[str]:
    """``text`` read backwards, and every base64 or hex run in it decoded (at every
    alignment, so a secret inside a longer encoded blob is found too)."""
    views = [text[::-1]]
    compact = re.sub(r"\s+", "", text)  # encoders wrap long lines
    runs = set(_B64_RUN.findall(text)) | set(_B64_RUN.findall(compact))
    for run in runs:
        run = run.rstrip("=").translate(str.maketrans("-_", "+/"))
        for offset in range(4):
            chunk = run[offset:]
            if len(chunk) % 4 == 1:
                chunk = chunk[:-1]
            chunk += "=" * (-len(chunk) % 4)  # the padding a run ends with (or that it lost)
            if len(chunk) < 8:
                continue
            try:
                views.append(base64.b64decode(chunk).decode("utf-8", "replace"))
            except (binascii.Error, ValueError):
                pass
    for run in set(_HEX_RUN.findall(text)) | set(_HEX_RUN.findall(compact)):
        for offset in (0, 1):
            chunk = run[offset:]
            chunk = chunk[: len(chunk) - len(chunk) % 2]
            try:
                views.append(bytes.fromhex(chunk).decode("utf-8", "replace"))
            except ValueError:
                pass
    return views


def view_lines(text: str) -> set[str]:
    """The lines of every decoded view of ``text``, also split at quotes and at escaped
    newlines (an encoded leak often sits inside a string literal)."""
    def pieces(view: str) -> set[str]:
        return {part.strip() for part in re.split(r"\\n|\n|['\"]", view)}

    found = set()
    for view in decoded_views(text):
        found |= pieces(view)
    return found | {piece[::-1] for piece in pieces(text)}  # reversed inside a string literal


def leaks(text: str, secrets: list[str]) -> list[str]:
    """Hidden lines that occur in ``text``, plain or encoded (base64, hex, reversed). HTML
    is reduced to its visible text first."""
    plain = visible_text(text) if "<" in text else text
    views = [plain, *decoded_views(plain)]
    if plain != text:
        views += decoded_views(text)  # an encoded blob may sit inside an attribute
    joined = "\n\x00\n".join(views)
    squashed = re.sub(r"\s+", " ", joined)
    return [s for s in secrets if s in joined or re.sub(r"\s+", " ", s) in squashed]
