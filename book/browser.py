"""Debian's Chromium, driven by Playwright (the browser tests and the book's PDF).

``playwright install`` downloads browsers and does not work on a closed network, so
Playwright drives the system's Chromium through ``executable_path``. :func:`chromium_path`
finds it (``DLCV_CHROMIUM`` names another binary), and installs Debian's ``chromium``
package with apt-get when it is missing and this runs as root (as ``make autograde`` does
for bubblewrap); otherwise it says exactly what to install.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# On a closed network Chromium's own background connections are refused, many at a time,
# and a shared profile would leak state between runs: switch them off, new empty profile.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]
INSTALL_HINT = ("Chromium is needed for the browser tests and the book's PDF. Install Debian's package: "
                "`sudo apt-get install chromium` (or set DLCV_CHROMIUM to a Chromium or Chrome binary). "
                "`playwright install` is not needed.")


class ChromiumMissing(RuntimeError):
    pass


def _find() -> str | None:
    named = os.environ.get("DLCV_CHROMIUM")
    if named:
        return named if os.path.exists(named) else shutil.which(named)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_path(install: bool = True, log=print) -> str:
    """Path of a Chromium binary; installs Debian's package when missing and root."""
    found = _find()
    if found:
        return found
    if install and os.geteuid() == 0 and shutil.which("apt-get") and not os.environ.get("DLCV_CHROMIUM"):
        import fcntl
        # Several test workers or builds may get here at once: one apt-get at a time.
        with open(os.path.join(tempfile.gettempdir(), "dlcv-apt.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not _find():
                log("chromium is missing: installing Debian's package `chromium` with apt-get")
                env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
                cmd = ["apt-get", "install", "-y", "-qq", "chromium"]
                if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
                    subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
                    subprocess.run(cmd, env=env, capture_output=True)
        found = _find()
        if found:
            return found
    raise ChromiumMissing(INSTALL_HINT)


@contextlib.contextmanager
def launched(playwright=None, **kwargs):
    """A headless Chromium (Playwright ``Browser``). Playwright's ``launch`` starts it on a new,
    empty profile of its own (a temporary ``--user-data-dir``), removed when it closes."""
    executable = chromium_path()
    own = playwright is None
    if own:
        from playwright.sync_api import sync_playwright
        playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=FLAGS, **kwargs)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        if own:
            playwright.stop()
