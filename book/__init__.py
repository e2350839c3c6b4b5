"""The course as a book: Sphinx + MyST-NB read ``solutions/NN_name.py`` through jupytext.

``python -m book.build`` (``make book``) builds it; see :mod:`book.build`. The pieces:

* :mod:`book.notebook`: the MyST-NB reader: a chapter's source turned into what an edition
  shows (hidden tests removed in every edition; solutions folded or replaced by stubs).
* :mod:`book.sphinxext`: Sphinx glue: widgets shown as their saved first view, no network.
* :mod:`book.secrets`: the proof that no hidden test (and, in the student edition, no
  solution) reaches any output file.
* :mod:`book.browser`: Debian's Chromium through Playwright (tests and the PDF).
* :mod:`book.pdf`: the whole-book PDF, printed page by page by headless Chromium.
"""
