"""Plumbing shared by the threaded Python HTTP(S) test servers (`gitserver.GitHttpServer`,
`chartrepo.ChartRepoServer`): a quiet `ThreadingHTTPServer`, a handler base that does the TLS
handshake in its worker thread, HTTPS with a fresh CA, Basic-auth checking, and
`ThreadedServer`, the start/stop/context-manager base that serves from a daemon thread.
"""

from __future__ import annotations

import base64
import hmac
import socket
import socketserver
import ssl
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self

from gotk.local import certs
from gotk.local.processes import LOOPBACK

__all__ = ["QuietHTTPServer", "ThreadedServer", "WorkerHandler", "basic_auth_user", "enable_tls"]


class QuietHTTPServer(ThreadingHTTPServer):
    """Daemon worker threads, a deep accept queue, and no tracebacks for clients hanging up."""

    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True

    def handle_error(self, request: object, client_address: object) -> None:
        exc = sys.exc_info()[1]
        if not isinstance(exc, ConnectionError | TimeoutError | ssl.SSLError):  # clients hang up all the time
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class WorkerHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, no access log, TCP_NODELAY, and the TLS handshake in the worker thread."""

    protocol_version = "HTTP/1.1"
    timeout = 60

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()  # in this worker thread, not in the accept loop

    def log_message(self, format: str, *args: object) -> None:
        pass


def enable_tls(server: socketserver.TCPServer) -> bytes:
    """Serve HTTPS with a fresh CA and a certificate for localhost and 127.0.0.1; returns the CA PEM."""
    ca_pem, cert_pem, key_pem = certs.self_signed_server(["localhost"], [LOOPBACK])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "cert.pem").write_bytes(cert_pem)
        (Path(tmp) / "key.pem").write_bytes(key_pem)
        ctx.load_cert_chain(Path(tmp) / "cert.pem", Path(tmp) / "key.pem")
    server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    return ca_pem


def basic_auth_user(value: str, username: str, password: str) -> str | None:
    """The user of the credentials of a `Basic <value>` header when they match, else None."""
    try:
        user, _, pwd = base64.b64decode(value.strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    ok = hmac.compare_digest(user, username) & hmac.compare_digest(pwd, password)
    return user if ok else None


class ThreadedServer:
    """Base for a test server that runs a `QuietHTTPServer` (made by `_make_server`) in a daemon
    thread on 127.0.0.1, over HTTPS with a fresh CA (`ca_pem`) when `tls` is set."""

    thread_name = "http"
    poll_interval = 0.5  # how long stop() can wait for the serving loop to notice
    tls = False
    ca_pem = b""
    _server: socketserver.TCPServer | None = None
    _thread: threading.Thread | None = None

    def _make_server(self) -> socketserver.TCPServer:
        raise NotImplementedError

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} not started")
        return int(self._server.server_address[1])

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    def start(self) -> Self:
        server = self._make_server()
        if self.tls:
            self.ca_pem = enable_tls(server)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(self.poll_interval,), name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
