"""Real Git servers for tests and benchmarks, bound to 127.0.0.1 only: smart HTTP(S) via
`git http-backend` behind a threaded Python server (Basic or Bearer auth, optional TLS with
a generated CA), and a real `sshd` on a free port with its own host key.

Test repositories are built with `gotk.testing.gitrepos` (re-exported here).
"""

from __future__ import annotations

import getpass
import hmac
import io
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from gotk.testing.gitrepos import Gitlink, commit, make_repo, set_ref, tag
from gotk.testing.httpserving import (
    QuietHTTPServer,
    ThreadedServer,
    WorkerHandler,
    basic_auth_user,
)
from gotk.testing.processes import LOOPBACK, Process, free_ports, tail, tcp_open

__all__ = [
    "GitHttpServer",
    "Gitlink",
    "SshGitServer",
    "SshServerError",
    "commit",
    "generate_client_key",
    "make_repo",
    "set_ref",
    "tag",
]

GIT_HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"
SSHD = "/usr/sbin/sshd"
_CHUNK = 64 * 1024


class _Server(QuietHTTPServer):
    git: GitHttpServer


class _Handler(WorkerHandler):
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        git = self.server.git
        user = git.authenticate(self.headers.get("Authorization"))
        if user is None:
            self._read_body()  # drain it so the connection can be reused
            self.send_response(HTTPStatus.UNAUTHORIZED)
            self.send_header("WWW-Authenticate", git.challenge())
            self.send_header("Content-Length", "0")
            self.end_headers()
            git.record(self.command, self.path, 401)
            return
        self._run_backend(user, self._read_body())

    def _read_body(self) -> bytes:
        # Clients write the headers and the body separately: ACK at once so that Nagle's
        # algorithm on their side does not hold the body back for a delayed ACK (40 ms).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _run_backend(self, user: str, body: bytes) -> None:
        git = self.server.git
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(git.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(git.root),
        }
        config = {"uploadpack.allowReachableSHA1InWant": str(git.allow_sha_fetch).lower()}
        if user:
            env["REMOTE_USER"] = user  # http-backend enables receive-pack for authenticated users
        elif git.allow_anonymous_push:
            config["http.receivepack"] = "true"
        env["GIT_CONFIG_COUNT"] = str(len(config))
        for i, (key, value) in enumerate(config.items()):
            env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
        for header, var in (("Content-Encoding", "HTTP_CONTENT_ENCODING"), ("Git-Protocol", "GIT_PROTOCOL")):
            if header_value := self.headers.get(header):
                env[var] = header_value
        proc = subprocess.Popen(
            [GIT_HTTP_BACKEND], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )
        assert proc.stdin is not None and isinstance(proc.stdout, io.BufferedReader)
        writer = threading.Thread(target=_feed, args=(proc.stdin, body), daemon=True)
        writer.start()
        try:
            self._relay(proc.stdout)
        finally:
            writer.join()
            proc.stdout.close()
            proc.wait()

    def _relay(self, out: io.BufferedReader) -> int:
        """Turn the CGI response into an HTTP/1.1 one (chunked unless it has a length)."""
        status, headers = 200, []
        while (line := out.readline().rstrip(b"\r\n")) != b"":
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            else:
                headers.append((name, value.strip()))
        # recorded before the client can see the answer, so a test reading `requests` never races it
        self.server.git.record(self.command, self.path, status)
        self.send_response(status)
        chunked = not any(name.lower() == "content-length" for name, _ in headers)
        for name, value in headers:
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while data := out.read1(_CHUNK):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        return status


def _feed(pipe: IO[bytes], body: bytes) -> None:
    try:
        if body:
            pipe.write(body)
    except BrokenPipeError:
        pass
    finally:
        try:
            pipe.close()
        except BrokenPipeError:
            pass


class GitHttpServer(ThreadedServer):
    """Smart-HTTP Git server for the bare repositories under `root`.

    With `username`/`password` or `bearer_token` every request must authenticate (401 with a
    challenge otherwise); authenticated requests may push. `tls=True` serves HTTPS with a fresh
    CA whose PEM is `ca_pem`. `allow_sha_fetch` lets clients fetch a reachable commit by sha
    (as GitHub and GitLab do).
    """

    thread_name = "git-http"

    def __init__(
        self,
        root: Path,
        *,
        username: str | None = None,
        password: str | None = None,
        bearer_token: str | None = None,
        tls: bool = False,
        allow_anonymous_push: bool = False,
        allow_sha_fetch: bool = True,
    ) -> None:
        self.root = Path(root).resolve()
        self.username = username
        self.password = password
        self.bearer_token = bearer_token
        self.tls = tls
        self.allow_anonymous_push = allow_anonymous_push
        self.allow_sha_fetch = allow_sha_fetch
        self.ca_pem = b""
        self.requests: list[tuple[str, str, int]] = []

    def url_for(self, repo_name: str) -> str:
        return f"{self.scheme}://{LOOPBACK}:{self.port}/{repo_name}"

    def authenticate(self, header: str | None) -> str | None:
        """The user name for a valid Authorization header ('' when no auth is configured)."""
        if self.username is None and self.bearer_token is None:
            return ""
        scheme, _, value = (header or "").partition(" ")
        if scheme.lower() == "bearer" and self.bearer_token is not None:
            return "token" if hmac.compare_digest(value.strip(), self.bearer_token) else None
        if scheme.lower() == "basic" and self.username is not None:
            return basic_auth_user(value, self.username, self.password or "")
        return None

    def challenge(self) -> str:
        return 'Basic realm="gotk"' if self.username is not None else 'Bearer realm="gotk"'

    def record(self, method: str, path: str, status: int) -> None:
        self.requests.append((method, path, status))

    def _make_server(self) -> _Server:
        server = _Server((LOOPBACK, 0), _Handler)
        server.git = self
        return server


class SshServerError(RuntimeError):
    """sshd did not come up; the message carries the end of its log."""


def generate_client_key() -> tuple[bytes, str]:
    """A fresh ed25519 key pair: (OpenSSH-format private key PEM, `ssh-ed25519 AAAA...` line)."""
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public.decode()


class SshGitServer:
    """The real OpenSSH daemon on a free 127.0.0.1 port serving the repositories under `root`.

    Git runs through the login shell of the current user (root in tests); only public keys
    added with `authorize()` may log in.
    """

    def __init__(self, root: Path, *, workdir: Path | None = None) -> None:
        self.root = Path(root).resolve()
        self.user = getpass.getuser()
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="gotk-sshd-"))
        self.port = 0
        self.host_public = ""
        self._authorized = self.workdir / "authorized_keys"
        self._process: Process | None = None

    generate_client_key = staticmethod(generate_client_key)

    def authorize(self, public_openssh: str) -> None:
        """Allow logins with this `ssh-ed25519 AAAA...` public key (effective immediately)."""
        with self._authorized.open("a") as f:
            f.write(public_openssh.strip() + "\n")

    def known_hosts_line(self) -> str:
        return f"[{LOOPBACK}]:{self.port} {self.host_public}"

    def url_for(self, repo: str) -> str:
        return f"ssh://{self.user}@{LOOPBACK}:{self.port}{self.root / repo}"

    def start(self) -> Self:
        self.workdir.mkdir(parents=True, exist_ok=True)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
        host_key = ed25519.Ed25519PrivateKey.generate()
        key_path = self.workdir / "host_ed25519"
        key_path.write_bytes(
            host_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
            )
        )
        key_path.chmod(0o600)
        pub = host_key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        self.host_public = pub.decode()
        self._authorized.touch(mode=0o600)
        last_log = ""
        for _attempt in range(3):  # the free port can be taken between probing and binding
            self.port = free_ports(1)[0]
            config = self.workdir / "sshd_config"
            config.write_text(self._config(key_path))
            log = self.workdir / f"sshd-{self.port}.log"
            proc = Process("sshd", [SSHD, "-D", "-e", "-f", str(config)], log, port=self.port)
            proc.spawn()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and proc.alive() and not tcp_open(self.port):
                time.sleep(0.02)
            if proc.alive() and tcp_open(self.port):
                self._process = proc
                return self
            proc.stop(grace=2)
            last_log = tail(log, 20)
        raise SshServerError(f"sshd did not start on {LOOPBACK}:{self.port}:\n{last_log}")

    def _config(self, key_path: Path) -> str:
        options = {
            "ListenAddress": f"{LOOPBACK}:{self.port}",
            "HostKey": key_path,
            "PidFile": self.workdir / "sshd.pid",
            "AuthorizedKeysFile": self._authorized,
            "PermitRootLogin": "prohibit-password",
            "PubkeyAuthentication": "yes",
            "PasswordAuthentication": "no",
            "KbdInteractiveAuthentication": "no",
            "StrictModes": "no",
            "UsePAM": "no",
            "PrintMotd": "no",
            "PermitTTY": "no",
            "AllowTcpForwarding": "no",
            "X11Forwarding": "no",
            "MaxStartups": "200:30:400",
            "LogLevel": "INFO",
        }
        return "".join(f"{k} {v}\n" for k, v in options.items())

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop(grace=5)
            self._process = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
