"""Run each student's grading kernel in a sandbox.

A student's notebook runs in a Jupyter kernel, so student code can read whatever the
grader can read (hidden tests, the gradebook, other students' work), write grades, or
leave a process behind that edits them later. This module makes every grading kernel
start inside a sandbox instead:

* **bubblewrap** (``bwrap``, Debian package ``bubblewrap``) builds a private file system
  from an *allow-list*: the system directories read-only (``/usr``, ``/etc``, ``/lib``),
  the Python installation and ``course_utils`` read-only, a fresh writable scratch copy
  of the student's run folder (notebooks excluded: the notebook on disk carries the
  hidden tests) and the folder of the kernel's connection sockets. Nothing else exists
  inside: no course root, no gradebook, no ``source/``, no other submissions, no home
  directories, an empty ``/tmp``.
* New PID, network, IPC and UTS namespaces (``--unshare-pid --unshare-net ...``) and
  ``--die-with-parent``: every process the student starts dies with the kernel, so a
  detached process cannot edit anything later, and no network is reachable. The kernel
  talks to the grader over ZeroMQ **ipc** (Unix sockets in the bound connection folder)
  because a new network namespace has its own loopback, which would cut a TCP connection.
* When the grader runs as root, the kernel drops to an unprivileged uid (one per worker,
  default 61000 + worker index) with ``setpriv`` inside the sandbox, without capabilities
  and with ``no_new_privs``. Not as root, bubblewrap maps the uid through a user namespace
  instead: student code then runs with the instructor's uid but still sees only the
  allow-listed files.
* Resource limits (``setrlimit``, inherited by everything the kernel starts): memory
  (``RLIMIT_DATA``), processes (``RLIMIT_NPROC``), file size, open files, CPU seconds, no
  core dumps.

Without bubblewrap (or where it cannot create namespaces) the kernel still gets the
resource limits, and the grader prints a clear warning that student code can read and
write the course files.

This file is also the kernel launcher: a kernelspec whose ``argv`` is
``python sandbox.py kernel -f {connection_file}`` starts ``ipykernel`` through it. The
launcher reads its settings from the JSON file named by ``$DLCV_SANDBOX_CONFIG``. It uses
only the standard library, so it runs as a plain script.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

CONFIG_ENV = "DLCV_SANDBOX_CONFIG"
KERNEL_NAME = "dlcv-sandbox"
MODES = ("bwrap", "bwrap-userns", "none")

# Default limits per kernel. Memory: a chapter needs well under 2 GiB in quick mode;
# RLIMIT_DATA counts heap and private anonymous mappings (what a memory bomb allocates)
# but not the shared libraries torch maps, so it is a far better fit than RLIMIT_AS.
DEFAULT_MEMORY = 4 * 2**30
DEFAULT_NPROC = 256          # threads count too: torch, OpenMP and ZeroMQ need a few dozen
DEFAULT_FSIZE = 512 * 2**20  # largest file the kernel may write
DEFAULT_NOFILE = 1024
DEFAULT_CPU = 1800           # CPU seconds per kernel: a backstop behind the per-cell timeout
UID_BASE = 61000             # worker i runs student code as uid UID_BASE + i


@dataclass
class SandboxConfig:
    """Everything the kernel launcher needs; written as JSON, read by :func:`launch_kernel`."""
    mode: str
    python: str
    scratch: str                  # per-kernel scratch run folders are created in here
    runtime: str                  # folder of connection files and ipc sockets
    uid: int = UID_BASE
    gid: int = UID_BASE
    ro_paths: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    memory: int = DEFAULT_MEMORY
    nproc: int = DEFAULT_NPROC
    fsize: int = DEFAULT_FSIZE
    nofile: int = DEFAULT_NOFILE
    cpu: int = DEFAULT_CPU
    mpl_cache: str = ""           # a warmed matplotlib config dir, copied into each kernel's /tmp
    zygote: str = ""              # socket of a zygote that forks warm kernels (zygote.py); "" = cold kernels

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(asdict(self), indent=1))
        return path

    @classmethod
    def read(cls, path: str | Path) -> "SandboxConfig":
        return cls(**json.loads(Path(path).read_text()))


# ---------------------------------------------------------------- capabilities

def is_root() -> bool:
    return os.geteuid() == 0


def ensure_bwrap(log=print) -> str | None:
    """Path of ``bwrap``; install Debian's ``bubblewrap`` with apt-get when missing and root."""
    found = shutil.which("bwrap")
    if found or not is_root() or not shutil.which("apt-get"):
        return found
    import fcntl
    # Several graders or test workers may get here at once: one apt-get at a time.
    with open(os.path.join(tempfile.gettempdir(), "dlcv-apt.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if shutil.which("bwrap"):
            return shutil.which("bwrap")
        log("bubblewrap is missing: installing it with apt-get (Debian package `bubblewrap`)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        cmd = ["apt-get", "install", "-y", "-qq", "bubblewrap"]
        if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
            subprocess.run(cmd, env=env, capture_output=True)
    return shutil.which("bwrap")


def needed_ro_paths(python: str | None = None) -> list[str]:
    """Read-only paths a kernel needs besides the system folders: the Python
    installation, the virtual environment and the folders of editable installs."""
    python = python or sys.executable
    probe = ("import sys, json, site, importlib.util as u\n"
             "paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}\n"
             "for name in ('course_utils',):\n"
             "    spec = u.find_spec(name)\n"
             "    if spec and spec.submodule_search_locations:\n"
             "        paths.update(spec.submodule_search_locations)\n"
             "print(json.dumps(sorted(paths)))\n")
    out = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True).stdout
    paths = {os.path.realpath(p) for p in json.loads(out)} | set(json.loads(out))
    # The interpreter itself may be a symlink chain out of the venv (pyenv, /usr/bin).
    real = os.path.realpath(python)
    paths.add(os.path.dirname(real))
    system = ("/usr", "/etc", "/bin", "/lib", "/lib64", "/sbin")
    keep = sorted(p for p in paths if os.path.exists(p) and not any(p == s or p.startswith(s + "/") for s in system))
    # Drop paths inside other kept paths.
    return [p for p in keep if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in keep)]


def _system_args() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for d in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    return args


def _mkdirs(path: str, made: set[str]) -> list[str]:
    """bwrap arguments creating each missing ancestor of ``path`` as a 0755 directory
    (bwrap would otherwise copy the mode of the host's 0700 /root)."""
    args = []
    parts = Path(path).parts
    for i in range(2, len(parts)):
        anc = str(Path(*parts[:i]))
        if anc not in made and anc not in ("/usr", "/etc", "/tmp", "/proc", "/dev"):
            made.add(anc)
            args += ["--perms", "0755", "--dir", anc]
    return args


def bwrap_argv(cfg: SandboxConfig, run_dir: str, cwd: str, command: list[str],
               extra_binds: list[tuple[str, str]] = (), ro_binds: list[tuple[str, str]] = (),
               zygote: bool = False) -> list[str]:
    """The full ``bwrap ...`` command running ``command`` in the sandbox. With ``zygote``,
    ``command`` keeps root and every capability inside the sandbox, to build each kernel's
    own namespaces (zygote.py drops them in the kernel); otherwise it runs unprivileged."""
    args = ["bwrap", "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net",
            "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox",
            "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]
    if cfg.mode == "bwrap-userns":
        args += ["--unshare-user", "--uid", "65534", "--gid", "65534"]
    args += _system_args()
    made: set[str] = set()
    binds = [("--ro-bind", p, p) for p in cfg.ro_paths]
    binds += [("--bind", cfg.runtime, cfg.runtime), ("--bind", run_dir, cwd)]
    binds += [("--bind", src, dst) for src, dst in extra_binds]
    binds += [("--ro-bind", src, dst) for src, dst in ro_binds]
    # Parents before children, so a bind below another one is not hidden by it.
    for kind, src, dst in sorted(binds, key=lambda b: len(Path(b[2]).parts)):
        args += _mkdirs(dst, made) + [kind, src, dst]
        made.add(dst)
    args += ["--chdir", cwd, "--clearenv"]
    for k, v in cfg.env.items():
        args += ["--setenv", k, v]
    if zygote:
        args = args[:1] + ["--cap-add", "ALL"] + args[1:]
    elif cfg.mode == "bwrap":
        args += ["setpriv", f"--reuid={cfg.uid}", f"--regid={cfg.gid}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    return args + command


def kernel_env(cfg: SandboxConfig) -> dict[str, str]:
    env = {"PATH": f"{os.path.dirname(cfg.python)}:/usr/local/bin:/usr/bin:/bin",
           "HOME": "/tmp", "MPLCONFIGDIR": "/tmp/.matplotlib", "IPYTHONDIR": "/tmp/.ipython",
           "JUPYTER_CONFIG_DIR": "/tmp/.jupyter", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
    env.update(cfg.env)
    return env


def apply_limits(cfg: SandboxConfig) -> None:
    """Set the resource limits on this process (inherited through exec and fork)."""
    for name, value in (("RLIMIT_DATA", cfg.memory), ("RLIMIT_NPROC", cfg.nproc),
                        ("RLIMIT_FSIZE", cfg.fsize), ("RLIMIT_NOFILE", cfg.nofile),
                        ("RLIMIT_CPU", cfg.cpu), ("RLIMIT_CORE", 0)):
        if value is None:
            continue
        limit = getattr(resource, name)
        soft, hard = resource.getrlimit(limit)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            resource.setrlimit(limit, (value, hard))


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux only)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001  (best effort on non-Linux systems)
        pass


def _copy_run_folder(cwd: str, run_dir: str) -> None:
    """Copy the assignment's extra files into the scratch folder; never notebooks (the
    autograded notebook on disk already carries the hidden tests) and never symlinks."""
    for root, dirs, files in os.walk(cwd):
        rel = os.path.relpath(root, cwd)
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
        os.makedirs(os.path.join(run_dir, rel), exist_ok=True)
        for f in files:
            src = os.path.join(root, f)
            if f.endswith(".ipynb") or os.path.islink(src):
                continue
            shutil.copy2(src, os.path.join(run_dir, rel, f))


def _chown_tree(path: str, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, gid)


def _quiet(cfg: SandboxConfig) -> None:
    """Send the kernel's own stdout/stderr (not the notebook's outputs, which travel over
    ZeroMQ) to a log file beside the runtime folder instead of the grader's terminal."""
    log = os.open(os.path.join(os.path.dirname(cfg.runtime), "kernel.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)


def launch_kernel(argv: list[str]) -> None:
    """Entry point of the kernelspec: exec ipykernel inside the sandbox (never returns)."""
    cfg = SandboxConfig.read(os.environ[CONFIG_ENV])
    command = [cfg.python, "-m", "ipykernel_launcher", *argv]
    cwd = os.getcwd()
    die_with_parent()
    if cfg.mode == "none":
        _quiet(cfg)
        apply_limits(cfg)
        os.environ.clear()
        os.environ.update(kernel_env(cfg))
        os.execv(cfg.python, command)
    conn = argv[argv.index("-f") + 1] if "-f" in argv else ""
    if os.path.dirname(os.path.realpath(conn)) != os.path.realpath(cfg.runtime):
        sys.exit(f"sandbox: the connection file {conn!r} must live in {cfg.runtime} "
                 "(set KernelManager.connection_file there and KernelManager.transport='ipc')")
    os.makedirs(cfg.scratch, exist_ok=True)
    run_dir = tempfile.mkdtemp(prefix="run-", dir=cfg.scratch)
    _copy_run_folder(cwd, run_dir)
    if cfg.mode == "bwrap":
        # The unprivileged kernel must read its connection file and create its ipc
        # sockets: hand both (and the scratch folder) to the sandbox uid.
        _chown_tree(run_dir, cfg.uid, cfg.gid)
        os.chown(cfg.runtime, cfg.uid, cfg.gid)
        if os.path.exists(conn):
            os.chown(conn, cfg.uid, cfg.gid)
    env = dict(kernel_env(cfg))
    for key in ("NBGRADER_EXECUTION",):
        if key in os.environ:
            env[key] = os.environ[key]
    cfg.env = env
    _quiet(cfg)
    if cfg.zygote and cfg.mode == "bwrap":
        import zygote  # beside this file: the launcher runs as a script
        try:
            kernel_args = [a for i, a in enumerate(argv) if a != "-f" and (i == 0 or argv[i - 1] != "-f")]
            sys.exit(zygote.connect(cfg.zygote, os.path.realpath(conn), run_dir, env, kernel_args))
        except (OSError, ValueError) as err:  # no zygote (it died): start this kernel cold
            print(f"sandbox: no warm kernel ({err}); starting a cold one", file=sys.stderr)
    extra = []
    if cfg.mpl_cache and os.path.isdir(cfg.mpl_cache):
        # matplotlib rebuilds its font cache in an empty config dir (about a second per kernel).
        mpl_dir = tempfile.mkdtemp(prefix="mpl-", dir=cfg.scratch)
        shutil.copytree(cfg.mpl_cache, mpl_dir, dirs_exist_ok=True)
        extra.append((mpl_dir, "/tmp/.matplotlib"))
        if cfg.mode == "bwrap":
            _chown_tree(mpl_dir, cfg.uid, cfg.gid)
    full = bwrap_argv(cfg, run_dir, cwd, command, extra)
    apply_limits(cfg)
    os.execvp(full[0], full)


# ---------------------------------------------------------------- set-up used by the grader

def detect_mode(requested: str = "auto", log=print) -> str:
    """The strongest sandbox this machine supports (``bwrap`` > ``bwrap-userns`` > ``none``)."""
    if requested not in ("auto", *MODES):
        raise ValueError(f"sandbox mode must be one of auto, {', '.join(MODES)}; got {requested!r}")
    if requested == "none":
        return "none"
    bwrap = ensure_bwrap(log)
    candidates = [requested] if requested != "auto" else (["bwrap", "bwrap-userns"] if is_root() else ["bwrap-userns"])
    for mode in candidates:
        if bwrap and _probe(mode):
            return mode
    if requested != "auto":
        raise RuntimeError(f"sandbox mode {requested!r} does not work on this machine")
    return "none"


def _probe(mode: str) -> bool:
    """Can this machine start ``true`` in a sandbox of this mode?"""
    if mode == "bwrap" and (not is_root() or not shutil.which("setpriv")):
        return False
    with tempfile.TemporaryDirectory() as tmp:
        cfg = SandboxConfig(mode=mode, python=sys.executable, scratch=tmp, runtime=tmp)
        argv = bwrap_argv(cfg, tmp, tmp, ["true"])
        try:
            return subprocess.run(argv, capture_output=True, timeout=30).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False


def warning_for(mode: str) -> str | None:
    if mode == "bwrap":
        return None
    if mode == "bwrap-userns":
        return ("WARNING: not running as root, so student code cannot be moved to another user: it runs "
                "with your uid inside a bubblewrap sandbox that shows it only the Python installation "
                "(no course files, no gradebook, no home folder). Resource limits apply.")
    return ("WARNING: NO SANDBOX. bubblewrap (`bwrap`) is missing or cannot create namespaces here, so "
            "student code runs as you and CAN READ the hidden tests and the gradebook and write to them. "
            "Only resource limits apply. Install Debian's `bubblewrap` and grade as root for a sandbox.")


def write_kernelspec(kernels_dir: Path, python: str | None = None) -> Path:
    """Write the ``dlcv-sandbox`` kernelspec into ``kernels_dir/<name>/kernel.json``
    (put ``kernels_dir``'s parent on ``JUPYTER_PATH``)."""
    python = python or sys.executable
    spec_dir = kernels_dir / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [python, str(Path(__file__).resolve()), "kernel", "-f", "{connection_file}",
                 "--HistoryManager.hist_file=:memory:"],
        "display_name": "Python 3 (dlcv grading sandbox)",
        "language": "python",
        # The sandboxed kernel is in its own session and PID namespace: a SIGINT sent to
        # the launcher would not reach it, an interrupt *message* does.
        "interrupt_mode": "message",
        "metadata": {"debugger": False},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return spec_dir


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "kernel":
        launch_kernel(argv[1:])
        return 1  # not reached
    if argv and argv[0] == "check":
        mode = detect_mode()
        print(f"sandbox mode: {mode}")
        msg = warning_for(mode)
        if msg:
            print(msg)
        return 0
    print("usage: sandbox.py kernel -f CONNECTION_FILE | sandbox.py check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
