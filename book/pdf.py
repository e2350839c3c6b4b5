"""The whole book as one PDF, printed by headless Chromium (no TeX).

    python -m book.pdf                      # make book-pdf: build/book/reader/book.pdf
    python -m book.pdf --edition student    # make book-pdf EDITION=student

Each page of the built book (the landing page, then the chapters in the order of the table
of contents) is opened from disk, its math typeset by the local MathJax, and printed to PDF
by Chromium through Playwright; the pages are merged with pypdf, one bookmark per chapter.
Every chapter starts on a new page. A PDF cannot unfold a toggle, so the solutions of the
reader edition are printed unfolded. The merged PDF's text is searched for the edition's
secret lines like every other output file.
"""
from __future__ import annotations

import argparse
import io
import os
import re
import sys
import time
from pathlib import Path

from book.build import EDITIONS, paths

MARGIN = {"top": "14mm", "bottom": "14mm", "left": "12mm", "right": "12mm"}
# Print the article only: no navigation bars or sidebars, solutions unfolded.
PRINT_CSS = """
.bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer, .bd-footer-article,
.prev-next-area, .header-article, .bd-header-article, #pst-skip-link, .search-button-field { display: none !important; }
.bd-main, .bd-content, .bd-article-container, .bd-page-width { max-width: 100% !important; width: 100% !important;
  margin-left: 0 !important; margin-right: 0 !important; }
details.hide > summary { display: none !important; }
.cell_output img, .dlcv-widget img { max-width: 100% !important; break-inside: avoid; }
"""


def page_order(html: Path) -> list[Path]:
    """The landing page, then every page its table of contents links to, in order."""
    index = html / "index.html"
    order = [index]
    toc = re.findall(r'<a class="reference internal" href="([^"#]+\.html)"', index.read_text())
    for href in toc:
        page = html / href
        if page.exists() and page not in order:
            order.append(page)
    return order


def _title(page_html: str, fallback: str) -> str:
    m = re.search(r"<h1>(.*?)<", page_html, re.S)
    return re.sub(r"\s+", " ", m.group(1)).strip() if m else fallback


def print_pdf(html: Path, out: Path, open_solutions: bool = True, log=print) -> Path:
    """Print every page of the book in ``html`` and merge them into ``out``."""
    from pypdf import PdfReader, PdfWriter

    from book.browser import launched

    writer = PdfWriter()
    pages = page_order(Path(html))
    with launched() as browser:
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        page.emulate_media(media="print")
        for path in pages:
            page.goto(path.resolve().as_uri(), wait_until="load")
            page.add_style_tag(content=PRINT_CSS)
            if open_solutions:
                page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            # Typeset math with the local MathJax before printing.
            page.evaluate("() => (window.MathJax && MathJax.startup && MathJax.startup.promise) || null")
            page.evaluate("() => document.fonts.ready.then(() => true)")
            data = page.pdf(format="A4", print_background=True, margin=MARGIN)
            first = len(writer.pages)
            for p in PdfReader(io.BytesIO(data)).pages:
                writer.add_page(p)
            writer.add_outline_item(title=_title(path.read_text(), path.stem), page_number=first)
            log(f"  {path.name}: {len(writer.pages) - first} pages")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as fh:
        writer.write(fh)
    return out


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    return "\n".join(p.extract_text() or "" for p in PdfReader(path).pages)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edition", default="reader", choices=EDITIONS)
    parser.add_argument("--quick", action="store_true", help="print the quick-mode build (build/book-quick/)")
    args = parser.parse_args(argv)
    quick = args.quick or os.environ.get("DLCV_QUICK", "").strip().lower() in {"1", "true", "yes", "on"}
    p = paths(args.edition, quick)
    if not (p["html"] / "index.html").exists():
        print(f"ERROR: no book in {p['html']}: run `make book EDITION={args.edition}` first", file=sys.stderr)
        return 1
    start = time.perf_counter()
    out = print_pdf(p["html"], p["base"] / "book.pdf", open_solutions=args.edition == "reader")
    from book.build import chapter_names
    from book.secrets import findings
    chapters = [c for c in chapter_names() if (p["html"] / f"{c}.html").exists()]
    problems = findings([], chapters, args.edition, extra_texts=[(out.name, pdf_text(out))])
    if problems:
        out.unlink()
        print("ERROR: the PDF contains secret lines:\n" + "\n".join(problems[:50]), file=sys.stderr)
        return 1
    from pypdf import PdfReader
    print(f"wrote {out} ({len(PdfReader(out).pages)} pages) in {time.perf_counter() - start:.0f} s; no hidden test inside")
    return 0


if __name__ == "__main__":
    sys.exit(main())
