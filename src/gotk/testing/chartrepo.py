"""`ChartRepoServer`: a Helm HTTP(S) chart repository for tests on 127.0.0.1. A Helm repository is
static files (`index.yaml` and chart `.tgz`s, made with `gotk.testing.helm`), so this static file
server is the real thing: optional Basic auth, optional TLS with a generated CA, and a log of
every request for assertions.
"""

from __future__ import annotations

import mimetypes
import threading
import urllib.parse
from http import HTTPStatus
from pathlib import Path

from gotk.local.httpserving import (
    QuietHTTPServer,
    ThreadedServer,
    WorkerHandler,
    basic_auth_user,
)
from gotk.local.processes import LOOPBACK

__all__ = ["ChartRepoServer"]

_CONTENT_TYPES = {
    ".yaml": "application/x-yaml",
    ".yml": "application/x-yaml",
    ".tgz": "application/gzip",
    ".gz": "application/gzip",
    ".prov": "application/pgp-signature",
    ".json": "application/json",
}


class _Server(QuietHTTPServer):
    repo: ChartRepoServer


class _Handler(WorkerHandler):
    server: _Server

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _serve(self, *, body: bool) -> None:
        repo = self.server.repo
        if not repo.authorized(self.headers.get("Authorization")):
            self._answer(HTTPStatus.UNAUTHORIZED, b"unauthorized\n", "text/plain", body=body)
            return
        path = repo.resolve(self.path)
        if path is None:
            self._answer(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain", body=body)
            return
        content_type = _CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
        self._answer(HTTPStatus.OK, path.read_bytes(), content_type or "application/octet-stream", body=body)

    def _answer(self, status: HTTPStatus, data: bytes, content_type: str, *, body: bool) -> None:
        # recorded before the client can see the answer, so a test reading `requests` never races it
        self.server.repo.record(self.command, self.path, int(status))
        self.send_response(status)
        if status == HTTPStatus.UNAUTHORIZED:
            self.send_header("WWW-Authenticate", 'Basic realm="gotk"')
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)


class ChartRepoServer(ThreadedServer):
    """Static HTTP(S) server for the files under `root` on 127.0.0.1:<random port>.

    With `username` every request needs those Basic credentials (401 with
    `WWW-Authenticate: Basic realm="gotk"` otherwise). `tls=True` serves HTTPS with a fresh CA
    whose PEM is `ca_pem`. Paths outside `root` (or missing files) are 404. `requests` lists
    (method, path, status) of every answered request. Files are read per request, so charts and
    index.yaml can change while it runs.
    """

    thread_name = "chart-repo"
    poll_interval = 0.05

    def __init__(
        self, root: Path, *, username: str | None = None, password: str | None = None, tls: bool = False
    ) -> None:
        self.root = Path(root).resolve()
        self.username = username
        self.password = password
        self.tls = tls
        self.ca_pem = b""
        self.requests: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """`http(s)://127.0.0.1:PORT` (no trailing slash)."""
        return f"{self.scheme}://{LOOPBACK}:{self.port}"

    def authorized(self, header: str | None) -> bool:
        if self.username is None:
            return True
        scheme, _, value = (header or "").partition(" ")
        return scheme.lower() == "basic" and basic_auth_user(value, self.username, self.password or "") is not None

    def resolve(self, request_path: str) -> Path | None:
        """The file under `root` a request path names, or None (missing, a directory, or outside root)."""
        path = urllib.parse.unquote(request_path.partition("?")[0].partition("#")[0])
        candidate = (self.root / path.lstrip("/")).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate

    def record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append((method, path, status))

    def _make_server(self) -> _Server:
        server = _Server((LOOPBACK, 0), _Handler)
        server.repo = self
        return server
