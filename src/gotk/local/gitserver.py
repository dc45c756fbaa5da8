"""A real smart-HTTP(S) Git server bound to 127.0.0.1: `git http-backend` behind a threaded Python server, with
Basic or Bearer auth and optional TLS with a generated CA. `flux local up --demo` serves its repository with it;
tests and benchmarks use it too (with `gotk.testing.gitserver`'s sshd beside it).
"""

from __future__ import annotations

import hmac
import io
import os
import socket
import subprocess
import threading
from http import HTTPStatus
from pathlib import Path
from typing import IO

from gotk.local.httpserving import (
    QuietHTTPServer,
    ThreadedServer,
    WorkerHandler,
    basic_auth_user,
)
from gotk.local.processes import LOOPBACK

__all__ = ["GitHttpServer"]

GIT_HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"
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
