"""Building the book in quick mode: editions, the execution cache, errors, secrets, the PDF.

Part of `make test-browser` (marked slow and browser): the test book is chapters 02 and 05
in quick mode (book.testing); `make book` builds every chapter in full mode.
"""
from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest

from book import testing

pytestmark = [pytest.mark.slow, pytest.mark.browser]
if testing.skip_reason():
    pytestmark.append(pytest.mark.skip(reason=testing.skip_reason()))

REPO = Path(__file__).resolve().parents[1]


def _text(path: Path) -> str:
    return path.read_text(errors="replace")


def test_reader_edition_has_every_page_and_no_secret():
    from book.secrets import findings
    html = testing.quick_book("reader")
    for name in testing.TEST_CHAPTERS:
        page = _text(html / f"{name}.html")
        assert "Show solution" in page, name
        assert "Measured when this page was built" in page and "quick mode" in page, name
    index = _text(html / "index.html")
    assert "Three ways to use the course" in index
    for name in testing.TEST_CHAPTERS:
        assert f'href="{name}.html"' in index
    # the build already refused secrets; the proof again, over every file it wrote
    assert findings([html, html.parent / "jupyter_execute"], list(testing.TEST_CHAPTERS), "reader") == []
    assert not any((html / "_sources").rglob("*.py")), "the sources (with solutions) must not ship"


def test_reader_edition_is_offline_and_links_resolve():
    html = testing.quick_book("reader")
    for page in html.glob("*.html"):
        text = _text(page)
        # nothing is fetched from the network: no script, style, image or font from elsewhere
        assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', text), page.name
        for href in re.findall(r'href="([^"#?]+\.html)', text):
            if not href.startswith(("http:", "https:")):
                assert (page.parent / href).exists(), f"{page.name} links to missing {href}"
    assert (html / "_static" / "mathjax" / "tex-chtml.js").exists()
    chapter = _text(html / "02_cnns.html")
    # "chapter 4" and friends link to chapters of the book only: 05 is here, 04 is not
    assert "04_segmentation.html" not in chapter


def test_widgets_are_saved_with_their_first_view():
    chapter = _text(testing.quick_book("reader") / "02_cnns.html")
    assert chapter.count('class="dlcv-widget"') >= 1
    first = chapter[chapter.index('class="dlcv-widget"'):]
    assert "Open the chapter in JupyterLab" in first[:600]
    assert 'input type="range" disabled' in first and "data:image/png;base64," in first
    assert "application/vnd.jupyter.widget-view+json" not in chapter   # no JS widget manager


def test_student_edition_shows_the_exercises_without_solutions():
    html = testing.quick_book("student", testing.STUDENT_CHAPTERS)
    page = _text(html / "02_cnns.html")
    assert "Show solution" not in page
    assert "Exercise: replace this line with your code" in page
    assert "student edition" in _text(html / "index.html")
    # solutions and hidden tests: none (the build searched every file; check once more)
    from book.secrets import findings
    assert findings([html, html.parent / "jupyter_execute"], list(testing.STUDENT_CHAPTERS), "student") == []


def _tiny(folder: Path, name: str, body: str, title: str = "Tiny") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(f"""\
        # %% [markdown]
        # # Chapter {int(name[:2])} — {title}
        #
        # A tiny chapter.

        # %%
        {body}
        """))


def _cache_records(root: Path):
    from jupyter_cache import get_cache
    return {r.pk: r.created for r in get_cache(root / "book-cache" / "quick").list_cache_records()}


def test_the_cache_executes_again_only_what_changed(tmp_path):
    from book.build import build
    sources, root = tmp_path / "src", tmp_path / "build"
    _tiny(sources, "01_one", "print('one')")
    _tiny(sources, "02_two", "print('two')")
    html = build("reader", quick=True, root=root, sources=sources, log=lambda *a: None)
    first = _cache_records(root)
    assert len(first) == 2 and "one" in _text(html / "01_one.html")
    # A prose change, and the pages thrown away: nothing runs again.
    _tiny(sources, "01_one", "print('one')", title="Tiny, retitled")
    shutil.rmtree(html)
    build("reader", quick=True, root=root, sources=sources, log=lambda *a: None)
    assert _cache_records(root) == first
    assert "retitled" in _text(html / "01_one.html")
    # A code change: that chapter alone runs again.
    _tiny(sources, "02_two", "print('two, changed')")
    build("reader", quick=True, root=root, sources=sources, log=lambda *a: None)
    now = _cache_records(root)
    assert set(first) < set(now) and len(now) == 3
    assert "two, changed" in _text(html / "02_two.html")


def test_a_cell_error_fails_the_build(tmp_path):
    from book.build import build
    sources = tmp_path / "src"
    _tiny(sources, "01_broken", "raise ValueError('a broken chapter')")
    with pytest.raises(RuntimeError, match="sphinx-build failed"):
        build("reader", quick=True, root=tmp_path / "build", sources=sources, log=lambda *a: None)


def test_the_pdf_has_every_chapter_on_new_pages_and_no_secret():
    from pypdf import PdfReader

    from book.pdf import pdf_text, print_pdf
    from book.secrets import findings
    html = testing.quick_book("reader")
    out = print_pdf(html, html.parent / "book.pdf", log=lambda *a: None)
    reader = PdfReader(out)
    outline = [(item.title, reader.get_destination_page_number(item)) for item in reader.outline]
    titles = [t for t, _ in outline]
    assert titles[0] == "Deep Learning for Computer Vision"
    assert any("Convolutional networks" in t for t in titles) and any("Detection" in t or "detection" in t for t in titles)
    starts = [p for _, p in outline]
    assert starts == sorted(set(starts)), "each page of the book starts a new PDF page"
    assert len(reader.pages) > starts[-1]
    text = pdf_text(out)
    chapters_text = "\n".join(page.extract_text() or "" for page in reader.pages[starts[1]:])
    assert "Show solution" not in chapters_text                      # printed unfolded
    assert "def conv_output_size" in chapters_text                   # the solutions are printed
    assert findings([], list(testing.TEST_CHAPTERS), "reader", extra_texts=[("book.pdf", text)]) == []
