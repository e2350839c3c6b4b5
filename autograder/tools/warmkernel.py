"""Warm kernels for the validity tool: fork ipykernels from a process that has already
imported torch and the chapters' libraries.

A kernel that starts from scratch spends 2 to 4 s of CPU importing torch, torchvision,
matplotlib and the course before the first line of a notebook runs; the validity tool
grades some fifteen notebooks per chapter, each in a fresh kernel. Here one *server* per
grading worker imports those modules once and forks a new kernel process for every
notebook. Each kernel is still a new process with its own memory, namespace, working
directory and environment (copied from the request); no state passes between notebooks,
only the already imported, unchanged modules. The global random generators of Python and
NumPy are reseeded from the OS in each kernel, as a fresh process would have them.

Grading uses it through a kernelspec (``kernelspec()``) whose command is a small *client*
(``python -S warmkernel.py connect SOCKET CONNECTION_FILE``): jupyter_client starts the
client as if it were the kernel; the client asks the server for a kernel, forwards
interrupts and termination signals to it, and exits with the kernel's exit status. When
the client is killed, the server kills the kernel.

The server needs the fork start method (Linux, macOS). It is meant for trusted code (the
course's own variants): class grading keeps fresh sandboxed kernels.

    python -m autograder.tools.warmkernel serve SOCKET [MODULE ...]
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import struct
import sys

KERNEL_NAME = "dlcv-warm"
# The packages whose modules a server imports when a chapter imports them.
WARM_PACKAGES = ("torch", "torchvision", "numpy", "scipy", "sklearn", "skimage", "matplotlib", "PIL")


def warm_modules(texts, packages=WARM_PACKAGES) -> list[str]:
    """The modules a warm-kernel server imports: the kernel's own, and the modules of
    ``packages`` that the chapter sources ``texts`` import on a line of their own."""
    import re
    names = {"ipykernel.kernelapp", "ipykernel.ipkernel", "IPython", "numpy", "matplotlib"}
    for text in texts:
        for m in re.finditer(r"^(?:import|from)\s+([\w.]+)", text, re.MULTILINE):
            if m.group(1).split(".")[0] in packages:
                names.add(m.group(1))
    return sorted(names)


# ---------------------------------------------------------------- client (the kernelspec command)

def connect(sock_path: str, connection_file: str) -> int:
    """Ask the server for a kernel; forward signals to it; return its exit status."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(sock_path)
        request = json.dumps({"connection_file": os.path.abspath(connection_file), "cwd": os.getcwd(),
                              "env": dict(os.environ)}).encode()
        socket.send_fds(conn, [struct.pack("!I", len(request)) + request], [0, 1, 2])
        pid = int(_read_line(conn))

        def forward(signum, frame):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(sig, forward)
        status = _read_line(conn)
    return int(status) if status.strip().lstrip("-").isdigit() else 1


def _read_line(conn) -> str:
    data = b""
    while not data.endswith(b"\n"):
        try:
            chunk = conn.recv(64)
        except InterruptedError:
            continue
        if not chunk:
            break
        data += chunk
    return data.decode()


# ---------------------------------------------------------------- server

_SERVER_PATH0 = None
_CPU_LOG = os.devnull


def cpu_log(sock_path: str) -> str:
    """The file where the server appends "pid cpu-seconds" for every kernel that ended."""
    return sock_path + ".cpu"


def import_all(modules: list[str]) -> None:
    """Import ``modules``; one that does not import is simply not preloaded."""
    import importlib
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001
            pass


def serve(sock_path: str, modules: list[str], child=None) -> None:
    """Import ``modules``, then fork a process for every client that connects; it runs
    ``child(request, fds)`` (default: :func:`become_kernel`) and exits with its result."""
    global _SERVER_PATH0, _CPU_LOG
    _SERVER_PATH0 = sys.path[0] if sys.path else None
    _CPU_LOG = cpu_log(sock_path)
    child = child or become_kernel
    import_all(modules)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(sock_path):
        os.unlink(sock_path)
    listener.bind(sock_path)
    listener.listen(16)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "accept")
    kernels: dict[int, socket.socket] = {}  # pid -> its client's connection
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *a: os.write(wake_w, b"x"))
    sel.register(wake_r, selectors.EVENT_READ, "child")
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    try:
        while True:
            for key, _ in sel.select(timeout=5):
                if key.data == "accept":
                    conn, _ = listener.accept()
                    pid = _start_kernel(conn, listener, sel, child)
                    if pid:
                        kernels[pid] = conn
                        sel.register(conn, selectors.EVENT_READ, pid)
                elif key.data == "child":
                    os.read(wake_r, 4096)
                else:  # a client closed its connection: its kernel must go too
                    pid = key.data
                    try:
                        gone = not key.fileobj.recv(16)
                    except OSError:
                        gone = True
                    if gone:
                        sel.unregister(key.fileobj)
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
            _reap(kernels, sel)
    finally:
        for pid in kernels:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        sel.close()
        listener.close()
        if os.path.exists(sock_path):
            os.unlink(sock_path)


def _reap(kernels: dict[int, socket.socket], sel) -> None:
    while kernels:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = kernels.pop(pid, None)
        if conn is None:
            continue
        code = os.waitstatus_to_exitcode(status)
        with open(_CPU_LOG, "a") as log:  # the CPU time of each kernel, for the graders' reports
            log.write(f"{pid} {usage.ru_utime + usage.ru_stime:.3f}\n")
        try:
            conn.sendall(f"{code if code >= 0 else 128 - code}\n".encode())
        except OSError:
            pass
        try:
            sel.unregister(conn)
        except (KeyError, ValueError):
            pass
        conn.close()


def _recv_request(conn) -> tuple[dict, list[int]]:
    msg, fds, _, _ = socket.recv_fds(conn, 4, 4)  # stdin, stdout, stderr (+ zygote.py's ready pipe)
    size = struct.unpack("!I", msg[:4])[0]
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return json.loads(data), list(fds)


def _start_kernel(conn, listener, sel, child) -> int | None:
    try:
        request, fds = _recv_request(conn)
    except (OSError, ValueError, ConnectionError, struct.error):
        conn.close()
        return None
    pid = os.fork()
    if pid:
        for fd in fds:
            os.close(fd)
        conn.sendall(f"{pid}\n".encode())
        return pid
    # The child: a new process that keeps the imported modules and nothing else of the server.
    code = 1
    try:
        sel.close()
        listener.close()
        conn.close()
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        code = child(request, fds)
    except SystemExit as err:
        code = err.code if isinstance(err.code, int) else 0
    except BaseException:  # noqa: BLE001
        import traceback
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def become_kernel(request: dict, fds: list[int], env: dict | None = None) -> int:
    """Turn this (freshly forked) process into an ipykernel for ``request``; returns its exit
    status. ``fds`` become its stdin, stdout and stderr; ``env`` (default: the request's)
    becomes its whole environment."""
    for target, fd in zip((0, 1, 2), fds):
        os.dup2(fd, target)
    # Nothing of the server's (its socket, other kernels' clients) stays open in the kernel.
    os.closerange(3, 65536)
    # As ipykernel_launcher does: the server's own folder is not on the kernel's path
    # (IPython puts the kernel's working directory there).
    if sys.path and sys.path[0] == _SERVER_PATH0:
        del sys.path[0]
    os.environ.clear()
    os.environ.update(request["env"] if env is None else env)
    os.chdir(request["cwd"])
    import random
    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    sys.argv = [sys.executable, "-m", "ipykernel_launcher", "-f", request["connection_file"]]
    from ipykernel.kernelapp import IPKernelApp
    app = IPKernelApp.instance()
    argv = ["-f", request["connection_file"], *request.get("extra", [])]
    if os.environ.get("JPY_PARENT_PID", "").isdigit():  # read at import time by ipykernel: pass it again
        argv.append(f"--IPKernelApp.parent_handle={os.environ['JPY_PARENT_PID']}")
    app.initialize(argv)
    app.start()
    return 0


# ---------------------------------------------------------------- set-up helpers for graders

def kernelspec(folder, sock_path: str) -> str:
    """Write a kernelspec for warm kernels under ``folder/kernels``; return its name.
    Put ``folder`` on JUPYTER_PATH and select the kernel by name."""
    from pathlib import Path
    spec = Path(folder) / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-S", str(Path(__file__).resolve()), "connect", sock_path, "{connection_file}"],
        "display_name": "Python 3 (warm, validity)", "language": "python", "interrupt_mode": "signal"}))
    return KERNEL_NAME


def start_server(sock_path: str, modules: list[str], env: dict):
    """Start a server process; return it once its socket accepts connections."""
    import subprocess
    import time
    proc = subprocess.Popen([sys.executable, "-m", "autograder.tools.warmkernel", "serve", sock_path, *modules],
                            env=env, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the warm-kernel server exited with {proc.returncode}")
        if os.path.exists(sock_path):
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(sock_path)
                probe.close()
                return proc
            except OSError:
                pass
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the warm-kernel server did not start within 120 s")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["connect"] and len(argv) == 3:
        return connect(argv[1], argv[2])
    if argv[:1] == ["serve"] and len(argv) >= 2:
        serve(argv[1], argv[2:])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
