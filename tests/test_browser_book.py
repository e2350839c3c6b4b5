"""The book in a real browser: Debian's Chromium through Playwright, pages opened from disk.

Part of `make test-browser`. Every page of the quick test book (chapters 02 and 05, see
book.testing) loads with no console error and no network request, every image has a
size, math is typeset, the table of contents and next/previous links work, a solution
toggle opens, and the search finds a term of chapter 05. Full-page screenshots of the
landing page and both chapters go to build/screenshots/.
"""
from __future__ import annotations

import pytest

from book import testing

pytestmark = [pytest.mark.slow, pytest.mark.browser]
if testing.skip_reason():
    pytestmark.append(pytest.mark.skip(reason=testing.skip_reason()))

SEARCH_TERM = "OverFeat"  # chapter 05's sliding-window detector


@pytest.fixture(scope="module")
def html():
    return testing.quick_book("reader")


@pytest.fixture(scope="module")
def browser():
    from book.browser import ChromiumMissing, launched
    try:
        with launched() as b:
            yield b
    except ChromiumMissing as err:
        pytest.fail(str(err))


class Page:
    """A page with its console errors, page errors and network requests recorded."""

    def __init__(self, browser):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.errors, self.requests = [], []
        self.page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url}"))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def open(self, path):
        self.page.goto(path.resolve().as_uri(), wait_until="load")
        return self.page

    def network(self):
        return [u for u in self.requests if not u.startswith(("file:", "data:", "blob:"))]

    def close(self):
        self.context.close()


@pytest.fixture
def tab(browser):
    t = Page(browser)
    yield t
    t.close()


def _typeset(page):
    page.evaluate("() => (window.MathJax && MathJax.startup && MathJax.startup.promise) || null")


def test_every_page_loads_cleanly_offline(html, browser):
    pages = sorted(html.glob("*.html"))
    assert {"index.html", "search.html", "02_cnns.html", "05_detection.html"} <= {p.name for p in pages}
    for path in pages:
        tab = Page(browser)
        try:
            page = tab.open(path)
            _typeset(page)
            # images load lazily on some themes: bring each into view, then ask for its size
            sizes = page.evaluate("""async () => {
                const out = [];
                for (const img of document.images) {
                    img.loading = 'eager'; img.scrollIntoView();
                    try { await img.decode(); } catch (e) {}
                    out.push([img.currentSrc.slice(0, 80), img.naturalWidth, img.naturalHeight]);
                }
                return out; }""")
            assert tab.errors == [], (path.name, tab.errors)
            assert tab.network() == [], (path.name, tab.network())
            empty = [s for s in sizes if not (s[1] > 0 and s[2] > 0)]
            assert empty == [], (path.name, empty)
            if path.stem in testing.TEST_CHAPTERS:
                assert len(sizes) >= 3, (path.name, "a chapter has figures")
        finally:
            tab.close()


def test_math_is_typeset(html, tab):
    page = tab.open(html / "02_cnns.html")
    _typeset(page)
    assert page.locator("mjx-container").count() >= 10
    assert page.locator("mjx-merror").count() == 0
    # no TeX source left untypeset in the text of the page
    assert "\\frac" not in page.locator("article").inner_text()


def test_table_of_contents_and_next_previous_links(html, tab):
    page = tab.open(html / "index.html")
    nav = page.locator("nav.bd-docs-nav")
    nav.get_by_role("link", name="Convolutional networks").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("02_cnns.html")
    assert page.locator("h1").first.inner_text().startswith("Chapter 2")
    page.locator("a.right-next").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("05_detection.html")
    page.locator("a.left-prev").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("02_cnns.html")
    # the chapter's own contents (right-hand side) jump to its sections
    toc = page.locator("#pst-page-toc-nav a")
    assert toc.count() >= 5
    assert tab.errors == []


def test_a_solution_toggle_opens(html, tab):
    page = tab.open(html / "02_cnns.html")
    toggle = page.locator("details.hide").first
    toggle.scroll_into_view_if_needed()
    assert toggle.get_attribute("open") is None
    assert not toggle.locator("div.cell_input").is_visible()
    summary = toggle.locator("summary")
    assert "Show solution" in summary.inner_text()
    summary.click()
    assert toggle.get_attribute("open") is not None
    code = toggle.locator("div.cell_input")
    assert code.is_visible() and "def conv_output_size" in code.inner_text()
    assert "Hide solution" in summary.inner_text()


def test_search_finds_a_term_of_chapter_05(html, tab):
    page = tab.open(html / "search.html")
    page.goto((html / "search.html").resolve().as_uri() + f"?q={SEARCH_TERM}")
    results = page.locator("#search-results ul.search li a")
    results.first.wait_for(timeout=30_000)
    hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
    assert any("05_detection.html" in h for h in hrefs), hrefs
    assert tab.errors == []


def test_screenshots_of_the_landing_page_and_two_chapters(html, tab):
    testing.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name in ("index", *testing.TEST_CHAPTERS):
        page = tab.open(html / f"{name}.html")
        _typeset(page)
        out = testing.SCREENSHOTS / f"book_{name}.png"
        page.screenshot(path=str(out), full_page=True)
        assert out.stat().st_size > 10_000
    # the first screen of chapter 02, the way a reader first sees it
    page = tab.open(html / "02_cnns.html")
    page.screenshot(path=str(testing.SCREENSHOTS / "book_02_cnns_first_screen.png"))
