"""Bring a class's submissions into an nbgrader course: from an LMS bulk download (zip)
or from a folder of ``<student>/<notebook>.ipynb``.

* **zip**: nbgrader's ``zip_collect`` extracts the archive and matches every file name
  against a regular expression with the named groups ``student_id``, ``file_id`` and
  (optionally) ``timestamp``; the default matches Blackboard-style names such as
  ``ps1_jdoe_attempt_2026-05-02-09-30-00_05_detection.ipynb``. nbgrader's own collector
  hands the timestamp to ``dateutil``, which reads ``2026-05-02-09-30-00`` as 09:00
  (the minutes and seconds are lost): :class:`FullTimestampCollector` rewrites such
  timestamps to ISO form first.
* **folder**: ``<folder>/<student>/<chapter>.ipynb`` (or the student's only notebook),
  with an optional ``timestamp.txt`` beside it.

Every submission is then *normalized* against the release before it reaches nbgrader
(:func:`normalize_submission`): test and read-only cells are replaced by the release's
(edited, emptied, re-pointed tests are undone), deleted ones are put back after their
predecessor, solution cells keep the student's code under the release's metadata, and
cells the student added keep running but lose any nbgrader metadata they claimed.
"""
from __future__ import annotations

import copy
import datetime as dt
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.plugins import FileNameCollectorPlugin

DEFAULT_REGEX = (r".*/(?:[^/]*?_)?(?P<student_id>[A-Za-z0-9.\-]+)_attempt_"
                 r"(?P<timestamp>\d{4}-\d{2}-\d{2}[-_ T]\d{2}[-:_]\d{2}(?:[-:_]\d{2})?)_(?P<file_id>[^/]+)$")
_TIMESTAMP = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})[-_ T](\d{2})[-:_.h](\d{2})(?:[-:_.m](\d{2})(\.\d+)?)?\s*(.*)$")


def normalize_timestamp(text: str | None) -> str | None:
    """``2026-05-02-09-30-00`` -> ``2026-05-02 09:30:00``; other forms pass through.

    Examples:
        >>> normalize_timestamp("2026-05-02-09-30-00")
        '2026-05-02 09:30:00'
        >>> normalize_timestamp("2026-05-02 09:30:05.25 UTC")
        '2026-05-02 09:30:05.25 UTC'
    """
    if text is None or not text.strip():
        return None
    m = _TIMESTAMP.match(text)
    if not m:
        return text.strip()
    y, mo, d, h, mi, s, frac, rest = m.groups()
    out = f"{y}-{mo}-{d} {h}:{mi}:{s or '00'}{frac or ''}"
    return f"{out} {rest.strip()}" if rest.strip() else out


def parse_timestamp(text: str | None) -> dt.datetime | None:
    """A timestamp as a naive UTC datetime (nbgrader's convention), or None."""
    from nbgrader.utils import parse_utc
    norm = normalize_timestamp(text)
    return parse_utc(norm) if norm else None


class FullTimestampCollector(FileNameCollectorPlugin):
    """nbgrader's file-name collector, keeping the minutes and seconds of timestamps."""

    def collect(self, submitted_file: str):
        info = super().collect(submitted_file)
        if info and info.get("timestamp"):
            info["timestamp"] = normalize_timestamp(info["timestamp"])
        return info


@dataclass
class RawSubmission:
    student: str
    notebook: Path | None      # None: the student folder holds no notebook
    timestamp: str | None      # normalized text, or None


def _pick_notebook(folder: Path, chapter: str) -> Path | None:
    exact = folder / f"{chapter}.ipynb"
    if exact.is_file():
        return exact
    found = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    return found[0] if len(found) == 1 else (max(found, key=lambda p: p.stat().st_size) if found else None)


def read_folder(folder: Path, chapter: str) -> list[RawSubmission]:
    """Submissions of ``<folder>/<student>/...``: one notebook and an optional timestamp.txt each."""
    subs = []
    for student_dir in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        ts_file = next(iter(sorted(student_dir.rglob("timestamp.txt"))), None)
        ts = normalize_timestamp(ts_file.read_text()) if ts_file else None
        subs.append(RawSubmission(student_dir.name, _pick_notebook(student_dir, chapter), ts))
    return subs


def collect_zip(archive: Path, chapter: str, staging: Path, regex: str = DEFAULT_REGEX) -> list[RawSubmission]:
    """Run ``nbgrader zip_collect`` with :class:`FullTimestampCollector` on an LMS download."""
    from autograder.tools.build import CONFIG, REPO, nbgrader

    if staging.exists():
        shutil.rmtree(staging)
    (staging / "downloaded" / chapter / "archive").mkdir(parents=True)
    shutil.copy(archive, staging / "downloaded" / chapter / "archive" / archive.name)
    (staging / "release" / chapter).mkdir(parents=True)
    config = CONFIG.read_text() + (
        "\n# zip_collect of an LMS download (written by autograder.tools.collect)\n"
        f"c.ZipCollectApp.collector_plugin = 'autograder.tools.collect.FullTimestampCollector'\n"
        f"c.FileNameCollectorPlugin.named_regexp = {regex!r}\n"
        "c.ZipCollectApp.strict = False\n")
    (staging / "nbgrader_config.py").write_text(config)
    env = {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    nbgrader(["zip_collect", chapter, "--force"], staging, env=env)
    return read_folder_nbgrader(staging / "submitted", chapter)


def read_folder_nbgrader(submitted: Path, chapter: str) -> list[RawSubmission]:
    """Submissions laid out the nbgrader way: ``<submitted>/<student>/<chapter>/...``."""
    subs = []
    if not submitted.is_dir():
        return subs
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()):
        folder = student_dir / chapter
        ts_file = folder / "timestamp.txt"
        ts = normalize_timestamp(ts_file.read_text()) if ts_file.exists() else None
        subs.append(RawSubmission(student_dir.name, _pick_notebook(folder, chapter) if folder.is_dir() else None, ts))
    return subs


def gather(source: Path, chapter: str, staging: Path, regex: str = DEFAULT_REGEX) -> list[RawSubmission]:
    """Submissions from a zip (LMS download) or a folder."""
    if source.is_file() and source.suffix in (".zip", ".gz", ".tgz"):
        return collect_zip(source, chapter, staging, regex)
    if source.is_dir():
        return read_folder(source, chapter)
    raise FileNotFoundError(f"submissions must be a .zip from the LMS or a folder of <student>/<notebook>.ipynb; got {source}")


# ---------------------------------------------------------------- normalization

def _nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def read_notebook(path: Path | None):
    """The notebook at ``path``, or None when it is missing or unreadable."""
    if path is None:
        return None
    try:
        nb = nbformat.read(path, as_version=4)
        if not isinstance(nb.get("cells"), list):
            return None
        return nb
    except Exception:  # noqa: BLE001  (corrupt upload)
        return None


def normalize_submission(submission, release):
    """The notebook nbgrader should grade: the student's code in the release's frame.

    * cells of the release that are locked (tests, read-only) come from the release;
    * solution cells keep the student's source, with the release's cell type and metadata;
    * cells the student added (or whose nbgrader metadata no longer names a release
      cell) are kept in place as plain cells;
    * release cells with nbgrader metadata that are missing are inserted after their
      predecessor, in release order.
    """
    release_cells = {(_nbgrader_meta(c).get("grade_id")): c for c in release.cells if _nbgrader_meta(c).get("grade_id")}
    out, seen = [], set()
    for i, cell in enumerate(submission.cells):
        gid = _nbgrader_meta(cell).get("grade_id")
        if gid in release_cells and gid not in seen:
            seen.add(gid)
            ref = release_cells[gid]
            new = copy.deepcopy(ref)
            if _nbgrader_meta(ref).get("solution") and not _nbgrader_meta(ref).get("locked"):
                new.source = cell.get("source", "")
            out.append(new)
        else:
            new = nbformat.from_dict(copy.deepcopy(dict(cell)))
            new.get("metadata", {}).pop("nbgrader", None)
            new["id"] = f"student-{i:03d}"
            if new.get("cell_type") == "code":
                new["outputs"], new["execution_count"] = [], None
            out.append(new)
    # Put back what was deleted: each missing cell goes after the previous release cell.
    position = {(_nbgrader_meta(c).get("grade_id")): k for k, c in enumerate(out) if _nbgrader_meta(c).get("grade_id")}
    last = -1
    for ref in release.cells:
        gid = _nbgrader_meta(ref).get("grade_id")
        if not gid:
            continue
        if gid in position and gid in seen:
            last = position[gid]
            continue
        out.insert(last + 1, copy.deepcopy(ref))
        last += 1
        position = {(_nbgrader_meta(c).get("grade_id")): k for k, c in enumerate(out) if _nbgrader_meta(c).get("grade_id")}
        seen.add(gid)
    nb = copy.deepcopy(release)
    nb.cells = out
    ids = set()
    for k, cell in enumerate(nb.cells):
        if cell.get("id") in ids or not cell.get("id"):
            cell["id"] = f"cell-{k:03d}-dup"
        ids.add(cell["id"])
    return nb


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a file so that a reader (or a crash) sees the old or the new content, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
