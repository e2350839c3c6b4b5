"""Shared by the book's tests: the quick-mode test book, built once per test process.

The test book is a subset that still exercises everything the browser tests check: chapter
02 (math, a widget, exercises with solutions, a cross-link) and chapter 05 (the term the
search must find, next/previous links between two chapters). Its execution is cached in
``build/book-cache/quick/`` like any quick build, so a second run executes nothing.
"""
from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path

TEST_CHAPTERS = ("02_cnns", "05_detection")
STUDENT_CHAPTERS = ("02_cnns",)
SCREENSHOTS = Path(__file__).resolve().parents[1] / "build" / "screenshots"


def skip_reason() -> str | None:
    """Why the book cannot be built here (None: it can)."""
    if sys.version_info < (3, 11):
        return "the book (Sphinx 9, MyST-NB 1.4) needs Python 3.11 or newer"
    return None


@lru_cache(maxsize=None)
def quick_book(edition: str = "reader", chapters: tuple[str, ...] = TEST_CHAPTERS) -> Path:
    """Build (or reuse) the quick-mode book of ``chapters``; return its HTML folder."""
    from book.build import build
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return build(edition, quick=True, chapters=list(chapters), log=lambda *a: None)
