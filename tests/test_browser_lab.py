"""JupyterLab in a real browser, started through `make lab` as a student and an instructor would.

Part of `make test-browser`. Each server is `make lab` (or `make lab ROOT=.`) on a free
local port with a token; as root it must add --allow-root by itself. The user settings live
in a temporary folder with autosave off, so the test never writes into the repository. The
course's own settings override (no "Jupyter news?" pop-up) is the one `make lab` installs.

* student (`make lab`, chapters/): open 02_cnns.ipynb, run the first code cells, move the
  convolution explorer's slider and see the figure change; the self-check (`make check NB=...`),
  typed in a JupyterLab terminal on a filled-in notebook, passes every test.
* instructor (`make lab ROOT=.`): solutions/02_cnns.py opens as a notebook through jupytext
  (right-click, Open With, Jupytext Notebook) and runs.
Screenshots: build/screenshots/lab_*.png.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import expect

from book import testing

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[1]
CHAPTER = "02_cnns"
SHOTS = testing.SCREENSHOTS
STARTUP_SECONDS = 240
RUN_SECONDS = 240


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """`make lab [ROOT=...]` on a free port with a token; stopped through its API, then its group."""

    def __init__(self, tmp: Path, root: str | None = None):
        self.port, self.token = _free_port(), secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        settings = tmp / "user-settings"
        # Test-only user settings: never save, read the terminal's text, and render every cell
        # (JupyterLab otherwise renders only the cells near the viewport).
        for plugin, values in {"@jupyterlab/docmanager-extension/plugin": {"autosave": False},
                               "@jupyterlab/terminal-extension/plugin": {"screenReaderMode": True},
                               "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"}}.items():
            path = settings / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings),
                   JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"), JUPYTER_CONFIG_DIR=str(tmp / "config"),
                   DLCV_QUICK="1")
        env.pop("MPLBACKEND", None)  # the kernel draws inline, as for a student
        args = [f"LAB_ARGS=--no-browser --port={self.port} --ServerApp.ip=127.0.0.1 "
                f"--IdentityProvider.token={self.token}"]
        if root is not None:
            args.append(f"ROOT={root}")
        self.log_path = tmp / "lab.log"
        self.proc = subprocess.Popen(["make", "--no-print-directory", "lab", *args], cwd=REPO, env=env,
                                     stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                self.api("api/status")
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    log = self.log_path.read_text()[-3000:]
                    self.stop()
                    pytest.fail(f"`make lab` did not serve on port {self.port}:\n{log}")
                time.sleep(0.5)

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(f"{self.base}/{path}?token={self.token}", method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def url(self, path: str = "") -> str:
        return f"{self.base}/lab{'/tree/' + path if path else ''}?token={self.token}"

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.api("api/shutdown", method="POST")   # shuts its kernels and terminals down too
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def browser():
    from book.browser import ChromiumMissing, launched
    try:
        with launched() as b:
            yield b
    except ChromiumMissing as err:
        pytest.fail(str(err))


@pytest.fixture(scope="module")
def student_lab(tmp_path_factory):
    lab = Lab(tmp_path_factory.mktemp("student-lab"))
    yield lab
    lab.stop()


@pytest.fixture(scope="module")
def instructor_lab(tmp_path_factory):
    lab = Lab(tmp_path_factory.mktemp("instructor-lab"), root=".")
    yield lab
    lab.stop()


def _wait_idle(page):
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status='idle']").first \
        .wait_for(timeout=STARTUP_SECONDS * 1000)


def _run_cell(page, cell):
    """Click into a code cell and run it with Shift+Enter, as a user would; wait until it ran."""
    cell.scroll_into_view_if_needed()
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    prompt = cell.locator(".jp-InputArea-prompt")
    deadline = time.monotonic() + RUN_SECONDS
    while not any(ch.isdigit() for ch in prompt.inner_text()):   # "[ ]:" -> "[*]:" -> "[1]:"
        assert time.monotonic() < deadline, f"cell did not run: {cell.inner_text()[:200]}"
        time.sleep(0.3)


def _code_index(notebook_path: Path, needle: str) -> int:
    nb = nbformat.read(notebook_path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    return next(i for i, c in enumerate(code) if needle in c.source)


def _tab(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return context, page


def test_make_lab_serves_the_chapters_with_the_course_settings(student_lab):
    contents = student_lab.api("api/contents")
    names = {item["name"] for item in contents["content"]}
    assert f"{CHAPTER}.ipynb" in names and "solutions" not in names      # the root is chapters/
    notification = student_lab.api("lab/api/settings/@jupyterlab/apputils-extension:notification")
    schema_default = notification["schema"]["properties"]["fetchNews"]["default"]
    assert schema_default == "false", "the course's override must switch the news question off"


def test_student_runs_the_chapter_and_moves_the_explorer(student_lab, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = _tab(browser)
    try:
        page.goto(student_lab.url(f"{CHAPTER}.ipynb"))
        _wait_idle(page)
        cells = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell")
        # the first code cells run and show their output
        for i in range(3):
            _run_cell(page, cells.nth(i))
        first = cells.nth(0).locator(".jp-OutputArea-output")
        first.first.wait_for(timeout=RUN_SECONDS * 1000)
        assert "device" in first.first.inner_text()
        assert cells.nth(1).locator(".jp-OutputArea-output").count() >= 1
        # no "get notified about official Jupyter news?" question on the first screen
        assert page.get_by_text("official Jupyter news").count() == 0
        page.screenshot(path=str(SHOTS / "lab_student_chapter.png"))

        # the convolution explorer: define its drawing helper, show it, move a slider
        released = REPO / "chapters" / f"{CHAPTER}.ipynb"
        _run_cell(page, cells.nth(_code_index(released, "def draw_conv_windows")))
        explorer_cell = cells.nth(_code_index(released, "widgets.interactive("))
        _run_cell(page, explorer_cell)
        figure = explorer_cell.locator(".widget-interact img, .jp-OutputArea-output img").first
        figure.wait_for(timeout=RUN_SECONDS * 1000)
        before = figure.get_attribute("src")
        slider = explorer_cell.locator(".widget-slider").nth(2)               # stride S
        readout = slider.locator(".widget-readout")
        value = readout.inner_text()
        slider.locator(".noUi-handle, .slider-handle, [role='slider']").first.focus()
        page.keyboard.press("ArrowLeft")
        deadline = time.monotonic() + RUN_SECONDS
        while figure.get_attribute("src") == before:
            assert time.monotonic() < deadline, "the figure did not change after the slider moved"
            time.sleep(0.3)
        assert readout.inner_text() != value
        explorer_cell.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "lab_student_explorer.png"))
        assert page.errors == []
    finally:
        context.close()


def _filled_notebook(folder: Path) -> Path:
    """The student notebook with every exercise answered by the reference solution."""
    from autograder.tools.build import load_solution
    solution = {c.metadata["nbgrader"]["grade_id"]: c.source for c in load_solution(CHAPTER).cells
                if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.read(REPO / "chapters" / f"{CHAPTER}.ipynb", as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in solution:
            cell.source = solution[grade_id]
    path = folder / f"{CHAPTER}_filled.ipynb"
    nbformat.write(nb, path)
    return path


def test_student_self_check_in_a_terminal(student_lab, browser, tmp_path):
    filled = _filled_notebook(tmp_path)
    context, page = _tab(browser)
    try:
        page.goto(student_lab.url())
        page.locator(".lm-MenuBar-itemLabel", has_text="File").click()
        page.locator(".lm-Menu-itemLabel", has_text="New").first.hover()
        page.locator(".lm-Menu-itemLabel", has_text="Terminal").first.click()
        terminal = page.locator(".jp-Terminal:not(.lm-mod-hidden) .xterm")
        terminal.wait_for(timeout=60_000)
        time.sleep(1)   # let the shell print its prompt
        terminal.click()
        # The README's command. (A JupyterLab terminal is a login shell: its `python` is the
        # system's, not the venv's, so `python -m course_utils.selfcheck` needs the venv activated.)
        page.keyboard.type(f"make check NB={filled}; echo EXIT=$?\n")
        text = page.locator(".jp-Terminal:not(.lm-mod-hidden) .xterm-accessibility-tree, "
                            ".jp-Terminal:not(.lm-mod-hidden) .xterm-rows").first
        deadline = time.monotonic() + RUN_SECONDS * 2
        while not re.search(r"EXIT=\d", text.inner_text()):       # the typed line says EXIT=$?
            assert time.monotonic() < deadline, f"the self-check did not finish:\n{text.inner_text()[-2000:]}"
            time.sleep(1)
        output = text.inner_text()
        page.screenshot(path=str(SHOTS / "lab_student_selfcheck.png"))
        assert "EXIT=0" in output, output[-3000:]
        assert "0 failed, 0 not attempted" in output, output[-3000:]
    finally:
        context.close()


def test_instructor_opens_a_solution_source_as_a_notebook(instructor_lab, browser):
    source = REPO / "solutions" / f"{CHAPTER}.py"
    before = source.stat().st_mtime, source.read_bytes()
    context, page = _tab(browser)
    try:
        page.goto(instructor_lab.url("solutions"))
        item = page.locator(".jp-DirListing-item", has_text=f"{CHAPTER}.py").first
        item.wait_for(timeout=60_000)
        item.click(button="right")
        page.locator(".lm-Menu-itemLabel", has_text="Open With").first.hover()
        page.locator(".lm-Menu-itemLabel", has_text="Jupytext Notebook").first.click()
        _wait_idle(page)
        panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        expect(panel.locator(".jp-MarkdownCell").first).to_contain_text("Chapter 2", timeout=60_000)
        cells = panel.locator(".jp-CodeCell")
        assert cells.count() > 20
        # the instructor sees the solutions and the hidden tests
        expect(cells.filter(has_text="### BEGIN SOLUTION").first).to_be_attached(timeout=60_000)
        expect(cells.filter(has_text="### BEGIN HIDDEN TESTS").first).to_be_attached(timeout=60_000)
        _run_cell(page, cells.nth(0))
        cells.nth(0).locator(".jp-OutputArea-output").first.wait_for(timeout=RUN_SECONDS * 1000)
        page.screenshot(path=str(SHOTS / "lab_instructor_solution.png"))
        assert page.errors == []
    finally:
        context.close()
    assert (source.stat().st_mtime, source.read_bytes()) == before, "the solution source must not be rewritten"
