"""A JupyterHub for a workshop or a small class, with nbgrader's exchange.

    make hub HUB_ARGS="--instructor alice --students bob,carol"      # as root; http://<host>:8000
    python -m autograder.tools.hub release 02_cnns --course-dir /home/alice/dlcv-course --as alice
    python -m autograder.tools.hub collect 02_cnns --course-dir /home/alice/dlcv-course --as alice
    make autograde CHAPTER=02_cnns SUBMISSIONS=/home/alice/dlcv-course/submitted
    python -m autograder.tools.hub feedback 02_cnns --course-dir /home/alice/dlcv-course --as alice

People log in with their Unix accounts (PAM). Each gets a JupyterLab server running as
their own user, with the *Assignments* tab of nbgrader: students fetch a released chapter,
work in it and submit it there; the instructor releases, collects and publishes feedback
with the commands above (nbgrader's own ``release_assignment``, ``collect`` and
``release_feedback``, run as the instructor), and grades with the course's class-grading
command. Submissions go through nbgrader's exchange, a folder every account can write to
but not read (``/srv/nbgrader/exchange`` by default).

What a student's server sees (:class:`CourseSpawner`): it runs in a bubblewrap mount
namespace, as the student, in which the course repository is an empty folder except for
its Python environment and, in place of ``course_utils``, the student release's copy
(``build/student-release/course_utils``: the readable references of graded exercises are
withheld there, see ``make release``). Solutions, hidden tests, mutants and gradebooks are
not there to be read. A folder that the users cannot enter and that holds the Python
installation (pyenv under ``/root``) is replaced by an empty one with only that
installation in it. Every process of a server dies with it (its own PID namespace).

Pieces: ``autograder/hub/jupyterhub_config.py`` (the Hub; it reads the settings this
module writes), ``autograder/hub/student`` and ``autograder/hub/instructor`` (the
Jupyter and nbgrader configuration each kind of user gets through
``JUPYTER_CONFIG_PATH``), and ``autograder/hub/package.json`` with its lock file
(configurable-http-proxy from npm, installed by ``npm ci`` into ``build/hub/proxy``).
README "Students on a JupyterHub" says how the same pieces map onto Zero to JupyterHub.
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import grp
import json
import os
import pwd
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HUB = REPO / "autograder" / "hub"
CONFIG = HUB / "jupyterhub_config.py"
BUILD = REPO / "build" / "hub"
PROXY_DIR = BUILD / "proxy"
SETTINGS_ENV = "DLCV_HUB_SETTINGS"
COURSE_ID = "dlcv"
EXCHANGE = "/srv/nbgrader/exchange"
RELEASE = REPO / "build" / "student-release"
VENV_BIN = Path(sys.executable).parent


@dataclass
class HubSettings:
    """Everything ``autograder/hub/jupyterhub_config.py`` needs (written as JSON)."""
    instructors: list[str]
    students: list[str] = field(default_factory=list)   # Unix accounts allowed to log in as students
    student_group: str | None = None                    # ... or every member of this Unix group
    ip: str = ""                                        # "" = every interface
    port: int = 8000
    hub_port: int = 8081
    proxy_api_port: int = 8001
    state: str = str(BUILD / "state")                  # the Hub's database, cookie secret, logs
    exchange: str = EXCHANGE
    course_id: str = COURSE_ID
    proxy: str = str(PROXY_DIR / "node_modules" / ".bin" / "configurable-http-proxy")
    python: str = sys.executable
    repo: str = str(REPO)
    student_course_utils: str | None = None             # what students import as course_utils
    api_token: str | None = None                        # a service token with admin rights (tests, scripts)

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1))
        os.chmod(path, 0o600)   # it may hold the service token
        return path

    @classmethod
    def read(cls, path: str | Path) -> "HubSettings":
        return cls(**json.loads(Path(path).read_text()))


# ---------------------------------------------------------------- the proxy (npm)

def ensure_npm(log=print) -> str | None:
    """Path of ``npm``; install Debian's ``nodejs`` and ``npm`` with apt-get when missing
    and root (as the sandbox installs bubblewrap: one apt-get at a time)."""
    found = shutil.which("npm")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    import tempfile
    with open(os.path.join(tempfile.gettempdir(), "dlcv-apt.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if shutil.which("npm"):
            return shutil.which("npm")
        log("node and npm are missing: installing them with apt-get (Debian packages `nodejs`, `npm`)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nodejs", "npm"]
        if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
            subprocess.run(cmd, env=env, capture_output=True)
    return shutil.which("npm")


def proxy_command(log=print) -> str:
    """configurable-http-proxy, installed from ``autograder/hub/package-lock.json`` by
    ``npm ci`` into ``build/hub/proxy`` when missing or out of date."""
    exe = PROXY_DIR / "node_modules" / ".bin" / "configurable-http-proxy"
    lock = (HUB / "package-lock.json").read_text()
    stamp = PROXY_DIR / ".installed-lock"
    if exe.exists() and stamp.exists() and stamp.read_text() == lock:
        return str(exe)
    npm = ensure_npm(log)
    if npm is None:
        raise RuntimeError("configurable-http-proxy needs node and npm (Debian: apt-get install nodejs npm)")
    PROXY_DIR.mkdir(parents=True, exist_ok=True)
    with open(BUILD / ".proxy-install.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # two tests or hubs at once: one npm ci
        if not (exe.exists() and stamp.exists() and stamp.read_text() == lock):
            log("installing configurable-http-proxy (npm ci) into build/hub/proxy ...")
            for name in ("package.json", "package-lock.json"):
                shutil.copy(HUB / name, PROXY_DIR / name)
            proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PROXY_DIR,
                                  capture_output=True, text=True, timeout=600)
            if proc.returncode != 0 or not exe.exists():
                raise RuntimeError(f"npm ci failed in {PROXY_DIR}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
            stamp.write_text(lock)
    return str(exe)


# ---------------------------------------------------------------- running as a user

def _enterable_by(path: Path, pw) -> bool:
    """Can the account ``pw`` enter (search) the folder ``path``? (mode bits only)"""
    st = path.stat()
    if st.st_uid == pw.pw_uid:
        return bool(st.st_mode & 0o100)
    groups = set(os.getgrouplist(pw.pw_name, pw.pw_gid))
    if st.st_gid in groups:
        return bool(st.st_mode & 0o010)
    return bool(st.st_mode & 0o001)


def python_paths(python: str = sys.executable) -> list[str]:
    """The Python installation and the virtual environment (not course_utils)."""
    from autograder.tools.sandbox import needed_ro_paths
    repo = str(REPO)
    venv = str(Path(python).parent.parent)
    keep = [p for p in needed_ro_paths(python) if not (p == repo or p.startswith(repo + "/")) or
            p == venv or p.startswith(venv + "/")]
    return sorted(set(keep) | {venv})


def user_argv(user: str, command: list[str], *, student: bool, settings: HubSettings | None = None) -> list[str]:
    """``command`` run as ``user`` (the caller is root) in a bubblewrap mount namespace:
    the host's file system, where each folder the user cannot enter on the way to the
    Python installation (pyenv under ``/root``) is an empty tmpfs with only that
    installation in it; for a student, the course repository is an empty folder too,
    with only the virtual environment, the student configuration and the student
    release's ``course_utils`` in it. Then ``setpriv`` drops to the user."""
    from autograder.tools.sandbox import ensure_bwrap
    bwrap = ensure_bwrap(log=lambda *_: None)
    if bwrap is None:
        raise RuntimeError("bubblewrap is needed to start servers for other users (Debian: apt-get install bubblewrap)")
    s = settings or HubSettings(instructors=[])
    pw = pwd.getpwnam(user)
    repo = Path(s.repo)
    binds = python_paths(s.python)
    if not student:
        binds.append(str(repo / "course_utils"))
    args = [bwrap, "--dev-bind", "/", "/", "--unshare-pid", "--proc", "/proc", "--die-with-parent"]
    hidden = []
    for path in binds:
        for parent in reversed(Path(path).parents):
            if str(parent) != "/" and parent.is_dir() and not _enterable_by(parent, pw) and str(parent) not in hidden:
                hidden.append(str(parent))
    if student:
        hidden.append(str(repo))
    for folder in hidden:
        args += ["--perms", "0755", "--tmpfs", folder]
    made: set[str] = set()

    def bind(source: str, target: str) -> None:
        # bubblewrap would make the folders on the way private (0700): make them readable.
        for parent in reversed(Path(target).parents):
            if str(parent) not in made and any(str(parent).startswith(h.rstrip("/") + "/") for h in hidden):
                args.extend(["--perms", "0755", "--dir", str(parent)])
                made.add(str(parent))
        args.extend(["--ro-bind", source, target])

    for path in binds:
        if any(path == h or path.startswith(h.rstrip("/") + "/") for h in hidden):
            bind(path, path)
    conf = repo / "autograder" / "hub" / ("student" if student else "instructor")
    if any(str(conf).startswith(h.rstrip("/") + "/") for h in hidden):
        bind(str(conf), str(conf))
    if student and s.student_course_utils:
        bind(s.student_course_utils, str(repo / "course_utils"))
    return [*args, "--chdir", pw.pw_dir, "--", "setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
            "--init-groups", "--", *command]


def user_env(user: str, student: bool, settings: HubSettings | None = None) -> dict[str, str]:
    """The environment of a user's server and commands: PATH with the course's
    environment, the Jupyter/nbgrader configuration of their role, the exchange."""
    s = settings or HubSettings(instructors=[])
    pw = pwd.getpwnam(user)
    role = "student" if student else "instructor"
    return {"HOME": pw.pw_dir, "USER": user, "LOGNAME": user, "SHELL": pw.pw_shell or "/bin/bash",
            "PATH": f"{Path(s.python).parent}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
            "JUPYTER_CONFIG_PATH": str(Path(s.repo) / "autograder" / "hub" / role),
            "DLCV_EXCHANGE": s.exchange, "DLCV_COURSE_ID": s.course_id}


def run_as(user: str | None, command: list[str], cwd: Path, settings: HubSettings | None = None,
           check: bool = True) -> subprocess.CompletedProcess:
    """Run an instructor's command (nbgrader ...) as ``user`` when we are root, else as ourselves."""
    if user and os.geteuid() == 0 and user != pwd.getpwuid(0).pw_name:
        argv = user_argv(user, command, student=False, settings=settings)
        env = user_env(user, student=False, settings=settings)
        argv[argv.index("--chdir") + 1] = str(cwd)
    else:
        argv, env = command, dict(os.environ)
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed (as {user or 'me'}):\n"
                           f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return proc


# ---------------------------------------------------------------- the Hub's spawner

def _spawner_class():
    from jupyterhub.spawner import LocalProcessSpawner
    from traitlets import Unicode

    class CourseSpawner(LocalProcessSpawner):
        """LocalProcessSpawner whose servers start through :func:`user_argv` (as the user,
        in a mount namespace that shows students no solution) with :func:`user_env`."""

        settings_file = Unicode(config=True, help="the HubSettings JSON file")

        @property
        def course(self) -> HubSettings:
            return HubSettings.read(self.settings_file)

        def is_student(self) -> bool:
            return self.user.name not in self.course.instructors

        def make_preexec_fn(self, name):
            # Stay root until bubblewrap has built the namespace; setpriv drops to the user.
            return None

        def get_env(self):
            env = super().get_env()
            env.update(user_env(self.user.name, self.is_student(), self.course))
            return env

        async def start(self):
            saved = list(self.cmd)
            self.cmd = user_argv(self.user.name, saved, student=self.is_student(), settings=self.course)
            try:
                return await super().start()
            finally:
                self.cmd = saved

    return CourseSpawner


def __getattr__(name):  # CourseSpawner is built on first use: importing jupyterhub is slow
    if name == "CourseSpawner":
        return _spawner_class()
    raise AttributeError(name)


# ---------------------------------------------------------------- the instructor's course

def _owner_ids(user: str | None) -> tuple[int, int] | None:
    if not user or os.geteuid() != 0:
        return None
    pw = pwd.getpwnam(user)
    return pw.pw_uid, pw.pw_gid


def _chown_tree(path: Path, ids: tuple[int, int] | None) -> None:
    if ids is None:
        return
    for p in [path, *path.rglob("*")]:
        os.lchown(p, *ids)


def course_config(exchange: str, course_id: str = COURSE_ID) -> str:
    return ("# The course's nbgrader exchange (written by autograder.tools.hub)\n"
            "c = get_config()  # noqa: F821\n"
            f"c.CourseDirectory.course_id = {course_id!r}\n"
            f"c.Exchange.root = {exchange!r}\n")


def release_notebook(chapter: str, log=print) -> Path:
    """The student notebook of ``chapters/``: the one ``make autograde`` grades against
    (both come from ``solutions/``). The student release (``make release``) ships the same
    notebook; a copy there that differs is stale (built from an older commit), and is
    reported, never released: its test cells would not match the grading's."""
    path = REPO / "chapters" / f"{chapter}.ipynb"
    if not path.exists():
        raise FileNotFoundError(f"no student notebook for {chapter}: run `make student`")
    shipped = RELEASE / "chapters" / f"{chapter}.ipynb"
    if shipped.exists() and shipped.read_bytes() != path.read_bytes():
        log(f"warning: {shipped} differs from {path}: the student release is stale, run `make release` "
            "(students' course_utils comes from it)")
    return path


def prepare_course_dir(course_dir: Path, chapter: str, exchange: str, owner: str | None) -> Path:
    """The instructor's nbgrader course folder with ``release/<chapter>/<chapter>.ipynb``."""
    course_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(course_dir, 0o700)
    (course_dir / "nbgrader_config.py").write_text(course_config(exchange))
    target = course_dir / "release" / chapter / f"{chapter}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(release_notebook(chapter), target)
    _chown_tree(course_dir, _owner_ids(owner))
    return target


def ensure_exchange(exchange: str) -> Path:
    """The exchange root: every account may create files in it (nbgrader's own rule)."""
    root = Path(exchange)
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o1777)
    return root


def nbgrader_cmd(*args: str) -> list[str]:
    return [str(VENV_BIN / "nbgrader"), *args]


def release(chapter: str, course_dir: Path, owner: str | None, exchange: str = EXCHANGE) -> str:
    ensure_exchange(exchange)
    prepare_course_dir(course_dir, chapter, exchange, owner)
    return run_as(owner, nbgrader_cmd("release_assignment", chapter, "--force"), course_dir).stdout


def collect(chapter: str, course_dir: Path, owner: str | None) -> list[str]:
    """nbgrader collect; returns the students whose submission is in ``submitted/``."""
    run_as(owner, nbgrader_cmd("collect", chapter), course_dir)
    submitted = course_dir / "submitted"
    return sorted(p.name for p in submitted.iterdir() if (p / chapter).is_dir()) if submitted.is_dir() else []


def publish_feedback(chapter: str, course_dir: Path, grades: Path, owner: str | None) -> list[str]:
    """Put each student's feedback page (``<grades>/feedback/<student>.html``, written by
    ``make autograde``) where nbgrader's ``release_feedback`` finds it, with the
    submission's timestamp and secret (which name the page in the exchange), and release
    it. Returns the students whose feedback was released."""
    published = []
    for folder in sorted((course_dir / "submitted").glob(f"*/{chapter}")):
        student = folder.parent.name
        page = grades / "feedback" / f"{student}.html"
        if not page.exists():
            continue
        dest = course_dir / "feedback" / student / chapter
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(page, dest / f"{chapter}.html")
        for name in ("timestamp.txt", "submission_secret.txt"):
            if (folder / name).exists():
                shutil.copy(folder / name, dest / name)
        published.append(student)
    _chown_tree(course_dir / "feedback", _owner_ids(owner))
    if published:
        run_as(owner, nbgrader_cmd("release_feedback", chapter), course_dir)
    return published


# ---------------------------------------------------------------- the Hub

def hub_settings(args) -> HubSettings:
    students = [s for s in (args.students or "").split(",") if s]
    course_utils = args.course_utils or (str(RELEASE / "course_utils") if (RELEASE / "course_utils").is_dir() else None)
    return HubSettings(instructors=args.instructor or [], students=students, student_group=args.group, ip=args.ip,
                       port=args.port, hub_port=args.hub_port, proxy_api_port=args.proxy_api_port,
                       state=str(Path(args.state).resolve()), exchange=args.exchange, proxy=proxy_command(),
                       student_course_utils=course_utils)


def hub_command(settings_file: Path) -> tuple[list[str], dict[str, str]]:
    """The command that starts the Hub, and its environment."""
    env = dict(os.environ)
    env[SETTINGS_ENV] = str(settings_file)
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}"
    return [str(VENV_BIN / "jupyterhub"), "-f", str(CONFIG)], env


def serve(settings: HubSettings) -> int:
    if os.geteuid() != 0:
        print("make hub runs as root: the Hub starts each user's server as that user", file=sys.stderr)
        return 2
    if not settings.students and not settings.student_group:
        print("name the students: --students bob,carol or --group <unix group>", file=sys.stderr)
        return 2
    for name in [*settings.instructors, *settings.students]:
        try:
            pwd.getpwnam(name)
        except KeyError:
            print(f"{name} is not a Unix account on this machine (useradd -m {name}; passwd {name})", file=sys.stderr)
            return 2
    if settings.student_group:
        grp.getgrnam(settings.student_group)
    if not settings.student_course_utils:
        print("warning: no student release yet (make release): students' kernels cannot import course_utils",
              file=sys.stderr)
    ensure_exchange(settings.exchange)
    state = Path(settings.state)
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)
    settings_file = settings.write(state / "settings.json")
    cmd, env = hub_command(settings_file)
    print(f"JupyterHub on http://{settings.ip or '0.0.0.0'}:{settings.port}/ (instructors: "
          f"{', '.join(settings.instructors) or 'none'}; exchange {settings.exchange}); Ctrl-C stops it")
    os.chdir(state)
    os.execve(cmd[0], cmd, env)
    return 0  # not reached


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve", help="start the Hub (as root)")
    p.add_argument("--instructor", action="append", help="an instructor's Unix account (repeat for several)")
    p.add_argument("--students", help="students' Unix accounts, comma-separated")
    p.add_argument("--group", help="or: every member of this Unix group is a student")
    p.add_argument("--ip", default="")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--hub-port", type=int, default=8081)
    p.add_argument("--proxy-api-port", type=int, default=8001)
    p.add_argument("--state", default=str(BUILD / "state"))
    p.add_argument("--exchange", default=EXCHANGE)
    p.add_argument("--course-utils", help="the course_utils students import (default: build/student-release's)")
    for name, text in (("release", "release a chapter to the exchange"), ("collect", "collect the submissions"),
                       ("feedback", "publish the feedback pages of make autograde")):
        q = sub.add_parser(name, help=text)
        q.add_argument("chapter")
        q.add_argument("--course-dir", required=True, help="the instructor's nbgrader course folder")
        q.add_argument("--as", dest="owner", help="the instructor's account (when run as root)")
        if name == "release":
            q.add_argument("--exchange", default=EXCHANGE)
        if name == "feedback":
            q.add_argument("--grades", help="output of make autograde (default build/autograde/<chapter>)")
    args = parser.parse_args(argv)
    if args.cmd == "serve":
        return serve(hub_settings(args))
    course_dir = Path(args.course_dir).expanduser().resolve()
    if args.cmd == "release":
        print(release(args.chapter, course_dir, args.owner, args.exchange) or f"released {args.chapter}")
    elif args.cmd == "collect":
        got = collect(args.chapter, course_dir, args.owner)
        print(f"{len(got)} submissions in {course_dir / 'submitted'}: {', '.join(got)}")
        print(f"grade them: make autograde CHAPTER={args.chapter} SUBMISSIONS={course_dir / 'submitted'}")
    else:
        grades = Path(args.grades) if args.grades else REPO / "build" / "autograde" / args.chapter
        done = publish_feedback(args.chapter, course_dir, grades, args.owner)
        print(f"feedback released to {len(done)} students: {', '.join(done)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
