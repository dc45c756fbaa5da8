"""Child-process plumbing for the local control plane: free loopback ports, spawning a
component in its own session with its output in a log file, liveness checks that survive
pid reuse, ordered SIGTERM-then-SIGKILL shutdown, and HTTP readiness polling.

Used by `gotk.local.controlplane`; knows nothing about Kubernetes.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
POLL_INTERVAL = 0.25
STOP_GRACE = 15.0


def free_ports(count: int) -> list[int]:
    """Return `count` distinct ports that were free on 127.0.0.1 a moment ago."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((LOOPBACK, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def port_in_use(port: int) -> bool:
    """True when something already listens on (or holds) 127.0.0.1:`port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((LOOPBACK, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def tcp_open(port: int) -> bool:
    """True when a TCP connect to 127.0.0.1:`port` succeeds."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1):
            return True
    except OSError:
        return False


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time in clock ticks) from /proc, or None when unavailable."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return fields[0], int(fields[19])


def start_ticks(pid: int) -> int | None:
    """The kernel's start time of `pid` (used to tell a live pid from a reused one)."""
    stat = _proc_stat(pid)
    return stat[1] if stat else None


def pid_alive(pid: int, started: int | None = None) -> bool:
    """True when `pid` runs, is no zombie and (if given) has the recorded start time."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = _proc_stat(pid)
    if stat is None:  # no /proc (not Linux): trust kill(0); with /proc it has just exited
        return not Path("/proc").is_dir()
    state, ticks = stat
    if state in ("Z", "X"):
        return False
    return started is None or ticks == started


def tail(path: Path, lines: int = 15) -> str:
    """The last `lines` lines of a log file ('' when it does not exist)."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 16384))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class Process:
    """One supervised component: its command line, log file and (once spawned) pid."""

    name: str
    argv: list[str]
    log: Path
    env: dict[str, str] | None = None
    port: int | None = None
    pid: int = 0
    started: int | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    def spawn(self) -> None:
        """Start the process in its own session (Ctrl-C in a terminal does not reach it)."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env} if self.env is not None else None
        with self.log.open("ab") as out:
            out.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(self.argv)}\n".encode())
            out.flush()
            self.popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        self.pid = self.popen.pid
        self.started = start_ticks(self.pid)

    def alive(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        return pid_alive(self.pid, self.started)

    def stop(self, grace: float = STOP_GRACE) -> None:
        """SIGTERM the process group, wait up to `grace` seconds, then SIGKILL it."""
        if not self.pid or not self.alive():
            self._reap()
            return
        self._signal(signal.SIGTERM)
        if not self._wait(grace):
            self._signal(signal.SIGKILL)
            self._wait(5.0)
        self._reap()

    def _signal(self, sig: signal.Signals) -> None:
        # The process leads its own session, so its pgid is its pid; signal helpers it forked too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.pid, sig)

    def _wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return True
            time.sleep(0.05)
        return not self.alive()

    def _reap(self) -> None:
        if self.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=1)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pid": self.pid,
            "started": self.started,
            "port": self.port,
            "log": str(self.log),
            "argv": self.argv,
            "env": self.env,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Process:
        return cls(
            name=str(data["name"]),
            argv=[str(a) for a in data["argv"]],
            log=Path(data["log"]),
            env=data.get("env"),
            port=data.get("port"),
            pid=int(data.get("pid") or 0),
            started=data.get("started"),
        )


def ssl_context(cafile: Path | None) -> ssl.SSLContext:
    """A context that trusts `cafile` (kube-apiserver's self-signed cert), or nothing-verified if None."""
    if cafile is None:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    ctx = ssl.create_default_context(cafile=str(cafile))
    ctx.verify_flags &= ~getattr(ssl, "VERIFY_X509_STRICT", 0)
    return ctx


def http_get(url: str, *, headers: Mapping[str, str] | None = None, ctx: ssl.SSLContext | None = None) -> str:
    """GET `url` and return the body; raise OSError (incl. HTTPError) on any failure."""
    req = urllib.request.Request(url, headers=dict(headers or {}))
    with urllib.request.urlopen(req, timeout=5, context=ctx) as resp:
        body: bytes = resp.read()
    return body.decode("utf-8", "replace")


def wait_until(
    component: str,
    what: str,
    check: Callable[[], bool],
    *,
    timeout: float,
    watch: Sequence[Process],
    error: Callable[[str], Exception],
    log: Path,
) -> None:
    """Poll `check` every 250 ms until it is true.

    Raise error(message) naming the process and its log (with its last lines) when a watched
    process exits, or naming `component` and `log` after `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        for proc in watch:
            if not proc.alive():
                code = proc.popen.returncode if proc.popen is not None else None
                raise error(
                    f"{proc.name} exited during start (exit code {code}); log: {proc.log}\n"
                    f"--- last lines of {proc.log}:\n{tail(proc.log)}"
                )
        try:
            if check():
                return
        except (OSError, ValueError, http.client.HTTPException):
            pass
        if time.monotonic() >= deadline:
            raise error(
                f"{component}: {what} not ready after {timeout:.0f}s; log: {log}\n--- last lines of {log}:\n{tail(log)}"
            )
        time.sleep(POLL_INTERVAL)
