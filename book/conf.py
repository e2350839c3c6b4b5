"""Sphinx configuration of the book (``python -m book.build`` passes ``-c book``).

The build script stages a source folder (the landing page and links to the chapters'
``solutions/NN_name.py``) and sets, in the environment:

* ``DLCV_BOOK_EDITION``: ``reader`` (solutions folded) or ``student`` (stubs);
* ``DLCV_BOOK_CHAPTERS``: the chapters in this build, e.g. ``02_cnns,05_detection``;
* ``DLCV_BOOK_CACHE``: MyST-NB's execution cache (one per mode: quick and full outputs differ,
  and the cache keys only on code).
"""
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

EDITION = os.environ.get("DLCV_BOOK_EDITION", "reader")
CHAPTERS = [c for c in os.environ.get("DLCV_BOOK_CHAPTERS", "").split(",") if c]

project = "Deep Learning for Computer Vision"
author = "the course's authors"
copyright = "the course's authors"
html_title = project + (" (student edition)" if EDITION == "student" else "")

extensions = [
    "myst_nb",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 from PyPI, copied into _static: no CDN
    "book.sphinxext",
]
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# ---- MyST and MyST-NB
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
nb_custom_formats = {
    # jupytext reads the percent format; book.notebook shapes it for the edition
    ".py": ["book.notebook.reads", {"edition": EDITION, "chapters": CHAPTERS}],
}
nb_execution_mode = "cache"
nb_execution_cache_path = os.environ.get("DLCV_BOOK_CACHE", str(REPO / "build" / "book-cache" / "full"))
nb_execution_timeout = 1800
nb_execution_raise_on_error = True  # a cell error fails the build
nb_execution_show_tb = True
nb_execution_in_temp = True
nb_merge_streams = True
nb_ipywidgets_js = {}  # no CDN: book.sphinxext renders widgets from their saved state

# The chapters are long notebooks: a heading jumping from # to ### is theirs, not an error.
suppress_warnings = ["myst.header"]

# ---- HTML
html_theme = "sphinx_book_theme"
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": False,   # it would offer the .py source, solutions and all
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "show_prev_next": True,
    "navigation_with_keys": False,
}
html_copy_source = False        # _sources/ would hold solutions/NN_name.py verbatim
html_show_sourcelink = False
html_context = {"default_mode": "light"}  # no stored choice on a first visit: light, not an error
html_static_path = [str(REPO / "book" / "static")]
html_css_files = ["book.css"]
html_last_updated_fmt = None
# The search page fetches each hit's page for a summary: a page opened from disk (file://) may
# not fetch another, so every search would log errors. Titles only.
html_show_search_summary = False
html_permalinks_icon = "#"
