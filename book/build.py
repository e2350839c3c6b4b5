"""Build the course as a book (Sphinx + MyST-NB + sphinx-book-theme), then prove it is clean.

    python -m book.build                         # make book: the reader edition, full mode
    python -m book.build --edition student       # make book EDITION=student
    python -m book.build --quick                 # quick mode (DLCV_QUICK=1): tests the pipeline
    python -m book.build --chapters 02_cnns,05_detection

Pages: ``build/book/<edition>/html/index.html`` (quick mode: ``build/book-quick/<edition>/``); open
it from disk, no server or network needed. Every chapter in ``solutions/`` is in the book.

Execution uses MyST-NB's cache (jupyter-cache, in ``build/book-cache/<mode>/``): a rebuild
executes again only the chapters whose code changed. A cell error fails the build. After
Sphinx, every file written is searched for every hidden-test line (and, in the student
edition, every solution line), plain and encoded, as the release check does; a finding
fails the build (exit status 1).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
SOLUTIONS = REPO / "solutions"
EDITIONS = ("reader", "student")


def chapter_names(sources: Path = SOLUTIONS) -> list[str]:
    """Every chapter with a source, e.g. ``["01_linear_models", "02_cnns", ...]``."""
    return sorted(p.stem for p in Path(sources).glob("[0-9][0-9]_*.py"))


def paths(edition: str, quick: bool, root: Path | None = None) -> dict[str, Path]:
    """Where a build goes: html (what readers open), work (staged sources, doctrees), cache."""
    root = Path(root) if root else REPO / "build"
    mode = "quick" if quick else "full"
    base = root / ("book-quick" if quick else "book") / edition
    # MyST-NB writes the executed notebooks next to the HTML folder, in jupyter_execute/.
    return {"base": base, "html": base / "html", "src": base / "src", "doctrees": base / "doctrees",
            "executed": base / "jupyter_execute", "cache": root / "book-cache" / mode}


# ---------------------------------------------------------------- landing page

def _readme_lines() -> dict[str, str]:
    """Chapter -> its one-line description in the README's chapter table."""
    rows = {}
    readme = REPO / "README.md"
    if readme.exists():
        for line in readme.read_text().splitlines():
            m = re.match(r"^\|\s*\d+\s*\|\s*(.+?)\s*\|\s*`solutions/(\d\d_\w+)\.py`\s*\|$", line)
            if m:
                rows[m.group(2)] = m.group(1)
    return rows


def chapter_title(name: str, sources: Path = SOLUTIONS) -> str:
    """The chapter's title without "Chapter N —" (from its first heading)."""
    for line in (Path(sources) / f"{name}.py").read_text().splitlines():
        m = re.match(r"^#\s*#\s+(.*)$", line)
        if m:
            return re.sub(r"^Chapter\s+\d+\s*[—–:-]+\s*", "", m.group(1).strip())
    return name


def landing_page(chapters: list[str], edition: str, sources: Path = SOLUTIONS) -> str:
    """The landing page: what the course is, the three ways to use it, one line per chapter."""
    readme = _readme_lines()
    items = []
    for name in chapters:
        title = chapter_title(name, sources)
        line = readme.get(name, "")
        line = line.split(": ", 1)[-1] if ": " in line else line
        # a bullet list: an ordered Markdown list would renumber a subset (2, 5 shown as 2, 3)
        items.append(f"- Chapter {int(name[:2])}, {{doc}}`{title} <{name}>`" + (f": {line}" if line else ""))
    note = ("This is the **student edition**: the exercises are shown as students get them, "
            "without solutions." if edition == "student" else
            "This is the **reader edition**: each exercise is followed by its solution, folded "
            "behind a \"Show solution\" toggle.")
    text = (BOOK / "index.md").read_text()
    return (text.replace("{{EDITION_NOTE}}", note)
                .replace("{{CHAPTER_LIST}}", "\n".join(items))
                .replace("{{TOCTREE}}", "\n".join(chapters)))


def stage(chapters: list[str], edition: str, src: Path, sources: Path = SOLUTIONS) -> None:
    """The Sphinx source folder: the landing page and links to the chapters' sources."""
    src.mkdir(parents=True, exist_ok=True)
    for old in src.iterdir():
        if old.is_symlink() and old.stem not in chapters:
            old.unlink()
    for name in chapters:
        link = src / f"{name}.py"
        if link.is_symlink() and link.resolve() != (Path(sources) / f"{name}.py").resolve():
            link.unlink()
        if not link.is_symlink():
            link.unlink(missing_ok=True)
            link.symlink_to((Path(sources) / f"{name}.py").resolve())
    index = src / "index.md"
    text = landing_page(chapters, edition, sources)
    if not index.exists() or index.read_text() != text:  # unchanged: Sphinx need not re-read it
        index.write_text(text)


# ---------------------------------------------------------------- build

def build(edition: str = "reader", quick: bool = False, chapters: list[str] | None = None,
          root: Path | None = None, sources: Path = SOLUTIONS, log=print) -> Path:
    """Build one edition; return the HTML folder. Raises RuntimeError on failure or a leak.

    ``root``: the build folder (default ``build/``); ``sources``: where the chapters'
    ``NN_name.py`` are (default ``solutions/``)."""
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {EDITIONS}, got {edition!r}")
    available = chapter_names(sources)
    chapters = chapters or available
    unknown = sorted(set(chapters) - set(available))
    if unknown:
        raise ValueError(f"no chapter {unknown}; chapters are {available}")
    p = paths(edition, quick, root)
    stage(chapters, edition, p["src"], sources)
    env = dict(os.environ, DLCV_BOOK_EDITION=edition, DLCV_BOOK_CHAPTERS=",".join(chapters),
               DLCV_BOOK_CACHE=str(p["cache"]), PYDEVD_DISABLE_FILE_VALIDATION="1")
    env.pop("MPLBACKEND", None)  # figures must render inline in the kernel
    if quick:
        env["DLCV_QUICK"] = "1"
    else:
        env.pop("DLCV_QUICK", None)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(BOOK), "-d", str(p["doctrees"]),
           "-q", "--keep-going", str(p["src"]), str(p["html"])]
    log(f"building the {edition} edition ({'quick' if quick else 'full'} mode, {len(chapters)} chapters) "
        f"into {p['html'].relative_to(REPO) if p['html'].is_relative_to(REPO) else p['html']}")
    proc = subprocess.run(cmd, cwd=REPO, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"sphinx-build failed (exit {proc.returncode}); see the messages above")
    from book.secrets import findings
    problems = findings([p["html"], p["executed"]], chapters, edition, sources=sources)
    if problems:
        raise RuntimeError("the book contains secret lines:\n" + "\n".join(problems[:50]))
    return p["html"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edition", default="reader", choices=EDITIONS)
    parser.add_argument("--quick", action="store_true",
                        help="quick mode (short training), as with DLCV_QUICK=1; separate output and cache")
    parser.add_argument("--chapters", default="", help="comma-separated chapter names (default: all)")
    args = parser.parse_args(argv)
    quick = args.quick or os.environ.get("DLCV_QUICK", "").strip().lower() in {"1", "true", "yes", "on"}
    chapters = [c for c in args.chapters.replace(" ", ",").split(",") if c] or None
    wall, cpu = time.perf_counter(), _children_cpu()
    try:
        html = build(args.edition, quick, chapters)
    except (RuntimeError, ValueError) as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    print(f"wrote {html / 'index.html'} in {time.perf_counter() - wall:.0f} s "
          f"({_children_cpu() - cpu:.0f} s CPU in Sphinx and the kernels); no hidden test inside")
    return 0


def _children_cpu() -> float:
    t = os.times()
    return t.children_user + t.children_system


if __name__ == "__main__":
    sys.exit(main())
