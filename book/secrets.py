"""No hidden test in any edition of the book, and no solution in the student edition.

The proof is the release check's (:mod:`autograder.tools.release`): every secret line (at
least 8 characters, not a comment, not a line the edition shows anyway, with or without its
trailing comment, nor a line of the library as it ships) is searched for in
every file of the build, as a line of the text, of the text without its trailing comment,
of what a reader of an HTML page sees (tags removed), of a notebook's cell sources and
outputs, and of the text read backwards or with every base64 or hex run decoded.

Secret lines:

* every edition: every line of every hidden-test region of the chapters in the book;
* the student edition: also every line of every solution region.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from functools import lru_cache
from pathlib import Path

import jupytext
from autograder.tools.feedback import decoded_views, visible_text
from autograder.tools.validity import BEGIN_HIDDEN, BEGIN_SOLUTION, END_HIDDEN, END_SOLUTION, regions
from autograder.tools.withhold import code_part, shipped_library_lines

MIN_LEN = 8  # as the release check
# Files that hold no text (images, fonts); everything else is read as text.
BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".ico", ".woff", ".woff2", ".ttf", ".eot", ".otf",
                   ".pickle", ".doctree", ".inv", ".pdf", ".zip"}


_B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")


def _lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines()}


def _padded_base64_views(text: str) -> list[str]:
    """Every base64 run decoded whole, its padding restored.

    The release check's decoder (``feedback.decoded_views``) cuts each run to a multiple of 4
    characters, which drops the last one or two bytes of a line whose length is not a multiple
    of 3 when the run is exactly that line: decode those here too."""
    views = []
    for run in set(_B64_RUN.findall(text)) | set(_B64_RUN.findall(re.sub(r"\s+", "", text))):
        run = run.rstrip("=").translate(str.maketrans("-_", "+/"))
        for offset in range(4):
            chunk = run[offset:]
            if len(chunk) % 4 == 1 or len(chunk) < 8:
                continue
            try:
                views.append(base64.b64decode(chunk + "=" * (-len(chunk) % 4)).decode("utf-8", "replace"))
            except (binascii.Error, ValueError):
                pass
    return views


SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"


@lru_cache(maxsize=1)
def _library_lines() -> frozenset[str]:
    """The lines of ``course_utils`` as it ships (computed once: it imports the library)."""
    return frozenset(shipped_library_lines())


def secret_lines(chapters, edition: str, sources: Path = SOLUTIONS) -> dict[str, str]:
    """Secret line -> where it comes from, for a book of ``chapters`` in ``edition``.

    A line that the edition shows anywhere (in any chapter: ``integer=True)`` closes a hidden
    call in one chapter and a visible one in another) is not a secret, as in the release check."""
    from book.notebook import shape

    notebooks = {name: jupytext.read(Path(sources) / f"{name}.py", fmt="py:percent") for name in chapters}
    # Shown anyway: the library as it ships (as in the release check), and every line the
    # edition shows, also without its trailing comment (the search strips comments too:
    # `continue  # ...` shown in one chapter shows the hidden-test line `continue`).
    public: set[str] = set(_library_lines())
    for nb in notebooks.values():
        for cell in shape(nb, edition, chapters, instrument=False).cells:
            public |= _lines(cell.source)
            public |= {code_part(line) for line in cell.source.splitlines()}
    kinds = [("hidden test", BEGIN_HIDDEN, END_HIDDEN)]
    if edition == "student":
        kinds.append(("solution", BEGIN_SOLUTION, END_SOLUTION))
    secrets: dict[str, str] = {}
    for name, nb in notebooks.items():
        for cell in nb.cells:
            where = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            for kind, begin, end in kinds:
                for region in regions(cell.source, begin, end):
                    for line in region.splitlines():
                        s = line.strip()
                        if len(s) >= MIN_LEN and not s.startswith("#") and s not in public:
                            secrets.setdefault(s, f"{name} {kind} {where}".rstrip())
    return secrets


def _notebook_text(text: str) -> str:
    """A notebook's cell sources and text outputs (JSON escapes quotes and newlines)."""
    try:
        nb = json.loads(text)
    except ValueError:
        return ""
    parts = []
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        parts.append("".join(cell.get("source", "")))
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", "")))
            parts.extend("".join(v) if isinstance(v, list) else str(v)
                         for k, v in out.get("data", {}).items() if k.startswith("text/"))
            parts.extend(out.get("traceback", []))
    return "\n".join(parts)


def present_lines(name: str, text: str) -> set[str]:
    """Every line under which a secret could be read in this file's text."""
    views = [text]
    if name.endswith((".html", ".htm", ".xml", ".svg")):
        views.append(visible_text(text))
    if name.endswith(".ipynb"):
        views.append(_notebook_text(text))
    present = set()
    for view in list(views):
        present |= _lines(view)
        present |= {code_part(line) for line in view.splitlines()}
        for decoded in decoded_views(view) + _padded_base64_views(view):  # base64, hex, reversed
            present |= _lines(decoded)
    return present


def texts(folder: Path):
    """(relative name, text) of every file under ``folder`` that can hold text."""
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and path.suffix.lower() not in BINARY_SUFFIXES:
            yield str(path.relative_to(folder)), path.read_bytes().decode("utf-8", "replace")


def findings(folders, chapters, edition: str, extra_texts=(), sources: Path = SOLUTIONS) -> list[str]:
    """Secret lines found in the files of ``folders`` (and in ``extra_texts``: (name, text)
    pairs, e.g. a PDF's extracted text). Empty: clean."""
    secrets = secret_lines(chapters, edition, sources)
    problems = []
    files = [t for folder in folders if Path(folder).exists() for t in texts(Path(folder))]
    for name, text in [*files, *extra_texts]:
        present = present_lines(name, text)
        for line, origin in secrets.items():
            if line in present:
                problems.append(f"{name}: contains a secret line ({origin}): {line[:80]}")
    return problems
