"""Feedback that never shows hidden tests.

nbgrader's ``generate_feedback`` renders the autograded notebook, and that notebook
holds the hidden tests verbatim (nbgrader issues 917 and 1363). Before rendering, each
test cell's source is replaced by its release (visible) source and its outputs by a
short verdict: the error's name and message, never a traceback (tracebacks quote source
lines). Outputs of other cells are kept, with every hidden-test line scrubbed out (code
the student wrote can print the source of the test that calls it). After rendering, the
HTML is searched for every hidden line once more (:func:`leaks`).
"""
from __future__ import annotations

import copy
import html as html_lib
import re

import nbformat

from autograder.tools.validity import BEGIN_HIDDEN, END_HIDDEN, regions

SCRUBBED = "[hidden test line removed]"
MAX_MESSAGE = 2000
HIDDEN_NOTE = "# (hidden tests also ran here; their source is not shown)"


def hidden_lines(solution_nb, release_nb, min_len: int = 8) -> list[str]:
    """Lines of hidden-test regions that the release does not show anyway, longest first."""
    public = {line.strip() for cell in release_nb.cells for line in cell.source.splitlines()}
    secret = set()
    for cell in solution_nb.cells:
        for region in regions(cell.source, BEGIN_HIDDEN, END_HIDDEN):
            for line in region.splitlines():
                s = line.strip()
                if len(s) >= min_len and not s.startswith("#") and s not in public:
                    secret.add(s)
    return sorted(secret, key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    for s in secrets:
        if s in text:
            text = text.replace(s, SCRUBBED)
    return text


def _scrub_output(out, secrets):
    out = copy.deepcopy(out)
    if "text" in out:
        out["text"] = scrub(out["text"] if isinstance(out["text"], str) else "".join(out["text"]), secrets)
    for key, value in list(out.get("data", {}).items()):
        if isinstance(value, str) and not key.startswith("image/"):
            out["data"][key] = scrub(value, secrets)
    if out.get("output_type") == "error":
        out["evalue"] = scrub(str(out.get("evalue", "")), secrets)[:MAX_MESSAGE]
        out["traceback"] = [scrub(str(line), secrets) for line in out.get("traceback", [])]
    return out


def _verdict(outputs, secrets):
    """A test cell's outputs reduced to its errors' names and messages."""
    kept = []
    for out in outputs:
        if out.get("output_type") != "error":
            continue
        ename = scrub(str(out.get("ename", "Error")), secrets)[:200]
        evalue = scrub(str(out.get("evalue", "")), secrets)[:MAX_MESSAGE]
        kept.append(nbformat.from_dict({"output_type": "error", "ename": ename, "evalue": evalue,
                                        "traceback": [f"{ename}: {evalue}"]}))
    return kept


def sanitize(autograded_nb, release_nb, secrets: list[str]):
    """A copy of the autograded notebook that is safe to give to the student."""
    nb = copy.deepcopy(autograded_nb)
    release_tests = {c.metadata.nbgrader["grade_id"]: c for c in release_nb.cells
                     if c.get("metadata", {}).get("nbgrader", {}).get("grade") and c.cell_type == "code"}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id")
        if cell.cell_type == "code" and meta.get("grade") and gid in release_tests:
            visible = release_tests[gid].source
            cell.source = visible if cell.source.strip() == visible.strip() else f"{visible.rstrip()}\n{HIDDEN_NOTE}"
            cell.outputs = _verdict(cell.get("outputs", []), secrets)
        elif cell.cell_type == "code":
            cell.source = scrub(cell.source, secrets)
            cell.outputs = [_scrub_output(o, secrets) for o in cell.get("outputs", [])]
        else:
            cell.source = scrub(cell.source, secrets)
    return nb


_TAG = re.compile(r"<[^>]+>")


def visible_text(html: str) -> str:
    """What a reader of the HTML sees (tags removed, entities decoded)."""
    return html_lib.unescape(_TAG.sub("", html))


def leaks(text: str, secrets: list[str]) -> list[str]:
    """Hidden lines that occur in ``text`` (HTML is reduced to its visible text first)."""
    plain = visible_text(text) if "<" in text else text
    squashed = re.sub(r"\s+", " ", plain)
    return [s for s in secrets if s in plain or re.sub(r"\s+", " ", s) in squashed]
