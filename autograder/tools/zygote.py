"""Warm sandboxed kernels for class grading: a *zygote* that has imported torch, the course
and the chapter's imports once, and forks every student's kernel into a sandbox of its own.

Starting a sandboxed kernel from scratch costs 3 to 5 s of CPU (Python, torch,
torchvision, matplotlib, the course) before the first line of a student's notebook runs;
on a busy grading machine that is a third of a chapter's grading time. Here each grading
worker starts one zygote, inside bubblewrap with the same file-system allow-list as a
kernel (read-only system and Python folders, the worker's connection folder and scratch
folder, no network). The zygote never runs student code. For every notebook it forks a
process that, before any student code runs:

* enters **new mount, PID, IPC, UTS and network namespaces** (``unshare``), so the
  student sees only its own processes (a fresh ``/proc``, its kernel as PID 2), and gets
  a **fresh, empty ``/tmp``** and ``/dev/shm`` (new tmpfs mounts), its own run folder
  bound over the scratch folder (other run folders are not reachable) and an empty folder
  over the zygote's socket (it cannot ask the zygote for anything);
* forks once more: an init process (PID 1 of the new namespace) that reaps orphans and
  dies with its parent, and the kernel itself, which drops every capability, moves to the
  worker's unprivileged uid, sets ``no_new_privs`` and the resource limits, clears its
  environment to the kernel environment, and starts ``ipykernel``.

So every student still gets a new process in a new sandbox; what it shares with the
previous student is only what both forked from: modules imported by the zygote and
never touched by student code. A student's changes to a module, a file in ``/tmp`` or an
environment variable die with its process and its mounts (``tests/test_autograde.py``
grades such a student before an honest one that checks all three).

The namespaces need root (``sandbox.py``'s ``bwrap`` mode): in a user namespace (the
``bwrap-userns`` mode) a nested ``/proc`` cannot be mounted, so there the grader keeps
starting every kernel cold (:func:`supported`).

The grader's side is the kernel launcher of ``sandbox.py``: with a zygote in its
configuration it prepares the run folder as for a cold kernel, then asks the zygote
(:func:`connect`) instead of executing bubblewrap; when the zygote is gone it starts the
kernel cold. Runs as a plain script inside the sandbox, next to ``sandbox.py`` and
``warmkernel.py`` (standard library only):

    python zygote.py serve SOCKET CONFIG_JSON [MODULE ...]
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
INSIDE = "/opt/dlcv-grader"  # where the three launcher files are bound, read-only, in the zygote's sandbox
FILES = ("zygote.py", "sandbox.py", "warmkernel.py")
# What every kernel imports while it starts, besides the chapter's own modules.
KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger", "debugpy",
                  "IPython.core.debugger", "pdb", "sqlite3", "pydoc", "jedi")
STAGE = "/opt/dlcv-stage"  # an empty mount point where each kernel's /tmp is built

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 4096, 8192, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4


def supported(mode: str) -> bool:
    """Whether kernels of this sandbox mode can come from a zygote (see the module docstring)."""
    return mode == "bwrap" and hasattr(os, "fork")


# ---------------------------------------------------------------- the grader's side

def start(cfg, sock_path: str, modules: list[str], log_path: str):
    """Start a zygote (a ``subprocess.Popen``); :func:`wait_ready` waits for it."""
    from autograder.tools import sandbox
    import shutil
    sock_dir = os.path.dirname(sock_path)
    stage = os.path.join(sock_dir, "stage")
    os.makedirs(stage, exist_ok=True)
    ro_binds = [(str(HERE / f), f"{INSIDE}/{f}") for f in FILES] + [(stage, STAGE)]
    binds = [(sock_dir, sock_dir)]
    if cfg.mpl_cache and os.path.isdir(cfg.mpl_cache):
        mpl = os.path.join(sock_dir, "matplotlib")  # the zygote reads its font list once, here
        shutil.copytree(cfg.mpl_cache, mpl, dirs_exist_ok=True)
        binds.append((mpl, "/tmp/.matplotlib"))
    z = sandbox.SandboxConfig(**{**cfg.__dict__, "env": sandbox.kernel_env(cfg)})
    argv = sandbox.bwrap_argv(z, cfg.scratch, cfg.scratch,
                              [cfg.python, f"{INSIDE}/zygote.py", "serve", sock_path, json.dumps(cfg.__dict__), *modules],
                              extra_binds=binds, ro_binds=ro_binds, zygote=True)
    log = open(log_path, "ab")
    try:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                preexec_fn=sandbox.die_with_parent)
    finally:
        log.close()


def wait_ready(proc, sock_path: str, timeout: float = 180) -> bool:
    """Wait until the zygote accepts connections; False when it died or did not start in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if os.path.exists(sock_path):
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(sock_path)
                return True
            except OSError:
                pass
            finally:
                probe.close()
        time.sleep(0.05)
    return False


def stop(proc) -> None:
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


def connect(sock_path: str, connection_file: str, run_dir: str, env: dict, extra: list[str] = ()) -> int:
    """The kernel launcher's side: ask the zygote for a kernel, wait for it, return its exit
    status. Raises ``OSError`` when no zygote answers (the launcher then starts a cold
    kernel). The launcher's stdin, stdout and stderr become the kernel's. A signal to the
    launcher, or its death, closes the connection, and the zygote then kills the kernel's
    whole namespace."""
    try:
        from warmkernel import _read_line  # the launcher runs as a script beside it
    except ImportError:
        from autograder.tools.warmkernel import _read_line
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(sock_path)
    request = json.dumps({"connection_file": connection_file, "cwd": run_dir, "env": env, "extra": list(extra)}).encode()
    ready_r, ready_w = os.pipe()  # the kernel writes one byte here once its sandbox is built
    socket.send_fds(conn, [struct.pack("!I", len(request)) + request], [0, 1, 2, ready_w])
    os.close(ready_w)
    if not _read_line(conn).strip():
        raise ConnectionError("the zygote did not start a kernel")
    # Every copy of the pipe's write end closed without a byte: building the sandbox failed
    # before any student code could run, and the launcher starts this kernel cold instead.
    if not os.read(ready_r, 1):
        raise ConnectionError("the zygote could not build the kernel's sandbox (see zygote.log)")
    os.close(ready_r)

    def leave(signum, frame):
        os._exit(128 + signum)  # the closed connection tells the zygote to kill the kernel

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, leave)
    status = _read_line(conn)
    return int(status) if status.strip().lstrip("-").isdigit() else 1


# ---------------------------------------------------------------- inside the sandbox

_libc = None


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = (lambda s: None if s is None else s.encode())
    _check(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def _prctl(option: int, arg: int, arg3: int = 0) -> int:
    return _libc.prctl(option, ctypes.c_ulong(arg), ctypes.c_ulong(arg3), ctypes.c_ulong(0), ctypes.c_ulong(0))


def _student_sandbox(cfg, sock_dir: str, request: dict, fds: list[int]) -> int:
    """Run in a process forked from the zygote: new namespaces and mounts, then the init
    process and the kernel. Returns the kernel's exit status."""
    import sandbox
    run_dir, conn = os.path.realpath(request["cwd"]), request["connection_file"]
    scratch = os.path.realpath(cfg.scratch)
    if os.path.dirname(run_dir) != scratch or os.path.dirname(os.path.realpath(conn)) != os.path.realpath(cfg.runtime):
        raise ValueError(f"zygote: a kernel must run in a folder of {scratch} with its connection file in {cfg.runtime}")
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    runtime = os.path.realpath(cfg.runtime)
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    # A new, empty /tmp, built aside (STAGE) and moved into place. The connection folder
    # and the student's own run folder (over the scratch folder: the other run folders
    # are hidden) are bound into it where they lie under /tmp; the zygote's socket folder
    # is not, so nothing leads back to the zygote.
    # The read-only paths the kernel needs (the Python installation, course_utils) are bound
    # in too where they lie under /tmp (a course checked out in /tmp), read-only again.
    _mount("tmpfs", STAGE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    binds = [(os.path.realpath(p), os.path.realpath(p), True) for p in cfg.ro_paths]
    binds += [(runtime, runtime, False), (run_dir, scratch, False)]
    for source, target, read_only in sorted(binds, key=lambda b: len(Path(b[1]).parts)):  # parents first
        if target.startswith("/tmp/"):
            inside = STAGE + target[len("/tmp"):]
            os.makedirs(inside, mode=0o755, exist_ok=True)
            _mount(source, inside, None, MS_BIND | MS_REC)
            if read_only:
                _mount(None, inside, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        elif source != target:
            _mount(source, target, None, MS_BIND | MS_REC)
    _mount(STAGE, "/tmp", None, MS_MOVE)
    if not sock_dir.startswith("/tmp/"):
        _mount("tmpfs", sock_dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755")
    env = {**cfg.env, **{k: v for k, v in request["env"].items() if k == "NBGRADER_EXECUTION"}}
    for key in ("HOME", "MPLCONFIGDIR", "IPYTHONDIR", "JUPYTER_CONFIG_DIR"):
        if env.get(key, "").startswith("/tmp/"):
            os.makedirs(env[key], exist_ok=True)
            os.chown(env[key], cfg.uid, cfg.gid)
    init = os.fork()
    if init:
        for fd in fds:
            os.close(fd)
        _, status = os.waitpid(init, 0)
        return os.waitstatus_to_exitcode(status)
    # PID 1 of the new namespace: dies with the process above (and takes the namespace with it).
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    code = 1
    try:
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        kernel = os.fork()
        if kernel == 0:
            os.setsid()
            _drop_privileges(cfg)
            sandbox.apply_limits(cfg)
            become = _warm().become_kernel
            for name in ("sandbox", "warmkernel"):  # the launcher's modules are not the student's
                sys.modules.pop(name, None)
            if len(fds) > 3:  # the sandbox is built: tell the launcher (zygote.connect)
                os.write(fds[3], b"1")
                os.close(fds[3])
            code = become({**request, "cwd": scratch}, fds[:3], env)
        else:
            for fd in fds:
                os.close(fd)
            while True:  # reap orphans until the kernel itself ends
                pid, status = os.wait()
                if pid == kernel:
                    code = os.waitstatus_to_exitcode(status)
                    break
    finally:
        os._exit(code if code >= 0 else 128 - code)


def _warm():
    import warmkernel
    return warmkernel


def _drop_privileges(cfg) -> None:
    """No capabilities, no way to get them back, the worker's unprivileged uid and gid."""
    for cap in range(64):
        _prctl(PR_CAPBSET_DROP, cap)
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    os.setgroups([])
    os.setresgid(cfg.gid, cfg.gid, cfg.gid)
    os.setresuid(cfg.uid, cfg.uid, cfg.uid)  # from root to another uid: the kernel clears every capability
    _check(_prctl(PR_SET_NO_NEW_PRIVS, 1), "no_new_privs")
    if os.getuid() == 0 or os.geteuid() == 0:
        raise RuntimeError("zygote: the kernel still runs as root")
    _prctl(PR_SET_DUMPABLE, 1)  # a uid change makes it undumpable: its own /proc/self would be root's


def serve(sock_path: str, cfg_json: str, modules: list[str]) -> None:
    global _libc
    _libc = ctypes.CDLL(None, use_errno=True)
    import sandbox
    cfg = sandbox.SandboxConfig(**json.loads(cfg_json))
    cfg.env = sandbox.kernel_env(cfg)
    _prctl(PR_SET_DUMPABLE, 0)  # nothing running as the kernels' uid may look into the zygote
    sock_dir = os.path.dirname(sock_path)
    _warm().serve(sock_path, modules, child=lambda request, fds: _student_sandbox(cfg, sock_dir, request, fds))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"] and len(argv) >= 3:
        serve(argv[1], argv[2], argv[3:])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
