"""A class on a local JupyterHub with nbgrader's exchange, end to end (issue 21).

The test creates three local Unix accounts (an instructor and two students, removed
afterwards) and starts the course Hub (autograder/hub/jupyterhub_config.py: JupyterHub,
configurable-http-proxy from npm, one JupyterLab per user started as that user). Then:

* the instructor releases chapter 02 from the course's release to the exchange
  (``python -m autograder.tools.hub release``, nbgrader run as the instructor);
* each student, through the Hub's REST API and their own server (nbgrader's Assignments
  endpoints, the contents API), fetches it, fills it in (one correctly, one with a common
  mistake in one exercise) and submits it;
* the instructor collects, grades with the course's class-grading command (``make
  autograde``'s ``python -m autograder.tools.autograde``) and publishes the feedback;
* each student fetches their feedback page: it is the grading's page, shows their score
  and holds no hidden-test line.

The grades must be exactly the expected ones (full marks; full marks less the test cells
the mistake fails), and a student's server must not see the course repository's solutions.
Needs root (CI runs as root) and skips only without it; as root it installs what is
missing (bubblewrap, node and npm with apt-get; configurable-http-proxy by ``npm ci`` from
autograder/hub/package-lock.json into build/hub/proxy) and fails when it cannot.
"""
import contextlib
import csv
import io
import json
import os
import pwd
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from autograder.tools import autograde, build, demo, feedback, hub, validity

pytestmark = pytest.mark.slow

CHAPTER = "02_cnns"
COURSE = hub.COURSE_ID


def _one_mistake(builder) -> tuple[str, str, set[str]]:
    """(solution cell, its source with a common mistake, the test cells that lose their points):
    the first mutant that must fail every test of its exercise, of an exercise nothing builds
    on, so that every other test cell must keep full marks (what the validity tool checks)."""
    solution = build.load_solution(CHAPTER)
    owner = validity.exercise_of_tests(solution)
    decl, _ = validity.declarations(solution)
    built_on = {name for d in decl.values() for name in d.get("builds-on", [])}
    for path in sorted((validity.MUTANTS / CHAPTER).glob("*.py")):
        header, source = validity.variant_source(path, solution)
        cell, fails = header["cell"], set(header.get("fails", "").split())
        if (fails and fails == {t for t, e in owner.items() if e == cell} and cell not in built_on
                and not demo.is_skipping(path.stem)):
            return cell, source, fails
    pytest.fail(f"no mutant of {CHAPTER} fails exactly its exercise's tests (the test needs one)")


class Phases:
    """Wall and CPU seconds (this process and its finished children) of each step, printed at the end."""

    def __init__(self):
        self.times, self.last = {}, self._now()

    @staticmethod
    def _now() -> tuple[float, float]:
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.monotonic(), time.process_time() + kids.ru_utime + kids.ru_stime

    def __call__(self, name: str) -> None:
        now = self._now()
        self.times[name] = {"wall s": round(now[0] - self.last[0], 1), "cpu s": round(now[1] - self.last[1], 1)}
        self.last = now


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _pids_of(uid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
    return pids


@contextlib.contextmanager
def local_users(base: Path, names: list[str]):
    """Unix accounts with homes under ``base``; removed (with what they still run) afterwards."""
    made = []
    try:
        for name in names:
            proc = subprocess.run(["useradd", "-m", "-d", str(base / "home" / name), "-s", "/bin/bash", "-U", name],
                                  capture_output=True, text=True)
            assert proc.returncode == 0, proc.stderr
            made.append(name)
        yield {name: pwd.getpwnam(name) for name in names}
    finally:
        for name in made:
            uid = pwd.getpwnam(name).pw_uid
            for _ in range(3):
                for pid in _pids_of(uid):  # only processes of the accounts this test made
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.2)
            subprocess.run(["userdel", "-r", "-f", name], capture_output=True)


class Api:
    """Requests to the Hub (and through its proxy to users' servers) with one token."""

    def __init__(self, base: str, token: str, log: Path):
        import requests
        self.base, self.log = base, log
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {token}"

    def __call__(self, method: str, path: str, ok=(200, 201, 202, 204), **kw):
        r = self.session.request(method, self.base + path, timeout=120, **kw)
        assert r.status_code in ok, (f"{method} {path}: {r.status_code} {r.text[:1000]}\n"
                                     + self.log.read_text()[-4000:])
        return r


def _start_hub(base: Path, settings: hub.HubSettings, log: Path) -> subprocess.Popen:
    state = Path(settings.state)
    state.mkdir(parents=True)
    os.chmod(state, 0o700)
    cmd, env = hub.hub_command(settings.write(state / "settings.json"))
    env.pop("DB_URL", None)
    proc = subprocess.Popen(cmd, cwd=state, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    import requests
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the Hub stopped:\n" + log.read_text()[-4000:]
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"http://127.0.0.1:{settings.port}/hub/api/", timeout=5).status_code == 200:
                return proc
        time.sleep(0.5)
    pytest.fail("the Hub did not answer in 180 s:\n" + log.read_text()[-4000:])


def _stop_hub(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the Hub stops every user's server and the proxy
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _start_server(api: Api, user: str) -> None:
    api("POST", f"/hub/api/users/{user}/server")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if api("GET", f"/hub/api/users/{user}").json()["servers"].get("", {}).get("ready"):
            return
        time.sleep(0.5)
    pytest.fail(f"{user}'s server did not start:\n" + api.log.read_text()[-4000:])


def _as_student(admin: Api, user: str) -> Api:
    token = admin("POST", f"/hub/api/users/{user}/tokens", json={"note": "tests/test_hub.py", "expires_in": 3600})
    return Api(admin.base, token.json()["token"], admin.log)


def _fill(nb: dict, code: dict[str, str]) -> dict:
    """The fetched notebook with its solution cells replaced, as a student types them."""
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution") and gid in code:
            cell["source"] = code[gid]
    return nb


def _assignments(api: Api, user: str) -> dict[str, str]:
    listing = api("GET", f"/user/{user}/assignments", params={"course_id": COURSE}).json()
    assert listing["success"], listing
    return {a["assignment_id"]: a["status"] for a in listing["value"]}


def _action(api: Api, user: str, action: str) -> None:
    r = api("POST", f"/user/{user}/assignments/{action}", params={"course_id": COURSE, "assignment_id": CHAPTER})
    body = r.json()
    assert not (isinstance(body, dict) and body.get("success") is False), f"{action}: {body.get('value')}"


def test_class_on_a_hub():
    if os.geteuid() != 0:
        pytest.skip("the Hub starts servers as other users and the test creates accounts: run as root (CI does)")
    # As root everything else is installed or must be there: a missing piece fails the test.
    missing = [tool for tool in ("useradd", "userdel", "setpriv") if not shutil.which(tool)]
    assert not missing, f"{', '.join(missing)} missing (Debian: passwd, util-linux)"
    assert CHAPTER in build.chapter_names(), f"{CHAPTER} is not in the course"
    from autograder.tools.sandbox import ensure_bwrap
    assert ensure_bwrap() is not None, "bubblewrap is not installed and could not be installed with apt-get"
    try:
        proxy = hub.proxy_command(log=lambda *_: None)  # npm ci from autograder/hub/package-lock.json
    except RuntimeError as err:
        pytest.fail(str(err))

    phases = Phases()
    builder = demo.ClassBuilder(CHAPTER)
    mistake_cell, mistake, fails = _one_mistake(builder)
    points = {gid: float(c.metadata.nbgrader["points"]) for gid, c in validity.graded_cells(builder.release).items()}
    tag = secrets.token_hex(3)
    teacher, ada, bo = f"dlcv-teach-{tag}", f"dlcv-ada-{tag}", f"dlcv-bo-{tag}"
    answers = {ada: builder.correct(), bo: {**builder.correct(), mistake_cell: mistake}}
    expected = {ada: dict(points), bo: {gid: 0.0 if gid in fails else p for gid, p in points.items()}}

    base = Path(tempfile.mkdtemp(prefix="dlcvhub-"))
    os.chmod(base, 0o755)  # the accounts' homes live here
    proc = None
    try:
        with local_users(base, [teacher, ada, bo]) as accounts:
            try:
                port, hub_port, api_port = _free_ports(3)
                token = secrets.token_hex(32)
                settings = hub.HubSettings(instructors=[teacher], students=[ada, bo], ip="127.0.0.1", port=port,
                                           hub_port=hub_port, proxy_api_port=api_port, state=str(base / "state"),
                                           exchange=str(base / "exchange"), proxy=proxy, api_token=token)
                log = base / "hub.log"
                phases("set-up (accounts, mutant)")
                proc = _start_hub(base, settings, log)
                phases("Hub started")
                admin = Api(f"http://127.0.0.1:{port}", token, log)

                # The instructor releases chapter 02 from the course's release.
                course_dir = Path(accounts[teacher].pw_dir) / "dlcv-course"
                hub.release(CHAPTER, course_dir, teacher, settings.exchange)
                phases("release")

                # Each student fetches it, fills it in and submits it, through the Hub.
                for student in (ada, bo):
                    _start_server(admin, student)
                    me = _as_student(admin, student)
                    assert _assignments(me, student).get(CHAPTER) == "released"
                    _action(me, student, "fetch")
                    path = f"/user/{student}/api/contents/{CHAPTER}/{CHAPTER}.ipynb"
                    nb = me("GET", path).json()["content"]
                    me("PUT", path, json={"type": "notebook", "format": "json", "content": _fill(nb, answers[student])})
                    _action(me, student, "submit")
                    assert _assignments(me, student).get(CHAPTER) == "submitted"
                    # The student's server does not see the repository's solutions, only its environment.
                    pids = _pids_of(accounts[student].pw_uid)
                    assert pids, f"no process of {student}"
                    view = Path(f"/proc/{pids[0]}/root")
                    assert not (view / str(build.REPO / "solutions" / f"{CHAPTER}.py").lstrip("/")).exists()
                    assert (view / str(Path(sys.executable)).lstrip("/")).exists()

                phases("two students: server, fetch, fill, submit")

                # The instructor collects, grades with the class-grading command, publishes feedback.
                assert hub.collect(CHAPTER, course_dir, teacher) == sorted([ada, bo])
                phases("collect")
                grading = base / "grading"
                env = {k: v for k, v in os.environ.items() if k != "DB_URL"}
                graded = subprocess.run([sys.executable, "-m", "autograder.tools.autograde", CHAPTER,
                                         str(course_dir / "submitted"), "--out", str(grading), "--no-progress"],
                                        cwd=build.REPO, env=env, capture_output=True, text=True, timeout=1200)
                assert graded.returncode == 0, graded.stdout[-4000:] + graded.stderr[-4000:]
                phases("grade (autograde)")
                rows = {r["student"]: r for r in csv.DictReader(io.StringIO((grading / "grades.csv").read_text()))}
                for student, cells in expected.items():
                    got = {gid: float(rows[student][gid]) for gid in cells}
                    assert got == cells, f"{student}: {got} != {cells}\n{graded.stdout[-3000:]}"
                    assert rows[student]["status"] == "ok" and not rows[student]["flags"]
                assert hub.publish_feedback(CHAPTER, course_dir, grading, teacher) == sorted([ada, bo])
                phases("publish feedback")

                # Each student fetches their feedback: the grading's page, no hidden test in it.
                source = nbformat.read(grading / "course" / "source" / CHAPTER / f"{CHAPTER}.ipynb", as_version=4)
                hidden = feedback.hidden_lines(source, builder.release)
                assert hidden
                for student in (ada, bo):
                    me = _as_student(admin, student)
                    _action(me, student, "fetch_feedback")
                    folder = me("GET", f"/user/{student}/api/contents/{CHAPTER}/feedback").json()["content"]
                    assert len(folder) == 1, folder
                    page_path = f"/user/{student}/api/contents/{folder[0]['path']}/{CHAPTER}.html"
                    page = me("GET", page_path, params={"format": "text", "type": "file"}).json()["content"]
                    assert page == (grading / "feedback" / f"{student}.html").read_text()
                    total, top = sum(expected[student].values()), sum(points.values())
                    assert f"(Score: {total:.1f} / {top:.1f})" in page
                    assert not feedback.leaks(page, hidden)
                phases("fetch feedback")
            finally:
                if proc is not None:  # the Hub stops its users' servers before the accounts go
                    _stop_hub(proc)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    phases("stop Hub, remove accounts")
    print(json.dumps({**phases.times, "load": os.getloadavg()[0]}))
