"""A small forward HTTP proxy for tests, bound to 127.0.0.1: `CONNECT` tunnels (HTTPS through
the proxy) and absolute-form requests (`GET http://host/path`, plain HTTP through the proxy),
with optional Basic proxy authentication (407 otherwise). Every request is recorded, so a test
can prove that traffic went through it. Only loopback targets are allowed.
"""

from __future__ import annotations

import select
import socket
import socketserver
import threading
import urllib.parse
from dataclasses import dataclass

from gotk.local.httpserving import ThreadedServer, basic_auth_user
from gotk.local.processes import LOOPBACK

__all__ = ["HttpProxy", "ProxyRequest"]

_CHUNK = 64 * 1024
_MAX_HEAD = 64 * 1024
_ALLOWED_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class ProxyRequest:
    """One request the proxy received: method, target (`host:port` or absolute URL), response status."""

    method: str
    target: str
    status: int


class _ProxyError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _read_head(sock: socket.socket, buffered: bytes) -> tuple[bytes, bytes]:
    """(head up to and including the blank line, bytes already read past it); b'' head on EOF."""
    data = buffered
    while b"\r\n\r\n" not in data:
        if len(data) > _MAX_HEAD:
            raise _ProxyError(431, "Request Header Fields Too Large")
        chunk = sock.recv(_CHUNK)
        if not chunk:
            return b"", b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", rest


def _headers(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    return lines[0], headers


def _header(headers: list[tuple[str, str]], name: str) -> str:
    return next((v for k, v in headers if k.lower() == name), "")


class _Handler(socketserver.BaseRequestHandler):
    server: _Server
    request: socket.socket

    def handle(self) -> None:
        proxy = self.server.proxy
        sock = self.request
        sock.settimeout(30)
        buffered = b""
        try:
            while True:
                head, buffered = _read_head(sock, buffered)
                if not head:
                    return
                request_line, headers = _headers(head)
                method, target, _version = [*request_line.split(" "), "", ""][:3]
                if not proxy.authorized(_header(headers, "proxy-authorization")):
                    proxy.record(method, target, 407)
                    buffered = self._skip_body(sock, headers, buffered)
                    sock.sendall(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                        b'Proxy-Authenticate: Basic realm="gotk-proxy"\r\nContent-Length: 0\r\n\r\n'
                    )
                    continue
                if method == "CONNECT":
                    self._tunnel(target, buffered)
                    return
                self._forward(method, target, headers, buffered)
                return
        except _ProxyError as exc:
            self._reply(exc.status, exc.reason)
        except OSError:
            pass

    def _reply(self, status: int, reason: str) -> None:
        try:
            self.request.sendall(
                f"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
            )
        except OSError:
            pass

    def _skip_body(self, sock: socket.socket, headers: list[tuple[str, str]], buffered: bytes) -> bytes:
        length = int(_header(headers, "content-length") or 0)
        while len(buffered) < length:
            chunk = sock.recv(_CHUNK)
            if not chunk:
                break
            buffered += chunk
        return buffered[length:]

    def _connect(self, host: str, port: int, method: str, target: str) -> socket.socket:
        proxy = self.server.proxy
        if host.strip("[]") not in _ALLOWED_HOSTS:
            proxy.record(method, target, 403)
            raise _ProxyError(403, "Forbidden")
        try:
            upstream = socket.create_connection((host.strip("[]"), port), timeout=30)
        except OSError:
            proxy.record(method, target, 502)
            raise _ProxyError(502, "Bad Gateway") from None
        proxy.record(method, target, 200)
        return upstream

    def _tunnel(self, target: str, buffered: bytes) -> None:
        host, _, port = target.rpartition(":")
        upstream = self._connect(host, int(port or 443), "CONNECT", target)
        with upstream:
            self.request.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            if buffered:
                upstream.sendall(buffered)
            _pipe(self.request, upstream, self.server.proxy.stopped)

    def _forward(self, method: str, target: str, headers: list[tuple[str, str]], buffered: bytes) -> None:
        """Send one absolute-form request upstream in origin form with `Connection: close` and relay
        everything both ways until either side closes (the client reconnects for its next request)."""
        url = urllib.parse.urlsplit(target)
        if url.scheme != "http" or not url.hostname:
            self.server.proxy.record(method, target, 400)
            raise _ProxyError(400, "Bad Request")
        upstream = self._connect(url.hostname, url.port or 80, method, target)
        path = urllib.parse.urlunsplit(("", "", url.path or "/", url.query, ""))
        skip = {"proxy-authorization", "proxy-connection", "connection", "keep-alive"}
        lines = [f"{method} {path} HTTP/1.1"]
        lines += [f"{k}: {v}" for k, v in headers if k.lower() not in skip]
        lines.append("Connection: close")
        with upstream:
            upstream.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + buffered)
            _pipe(self.request, upstream, self.server.proxy.stopped)


def _pipe(a: socket.socket, b: socket.socket, stopped: threading.Event) -> None:
    """Copy bytes both ways until one side closes or the proxy stops."""
    peers = {a: b, b: a}
    while not stopped.is_set():
        readable, _, _ = select.select(list(peers), [], [], 0.5)
        for sock in readable:
            try:
                data = sock.recv(_CHUNK)
            except OSError:
                return
            if not data:
                return
            try:
                peers[sock].sendall(data)
            except OSError:
                return


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: HttpProxy

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hang up mid-request all the time; the request log tells the story


class HttpProxy(ThreadedServer):
    """A forward proxy on a free 127.0.0.1 port; `url` is its address (without credentials).

    With `username`/`password` every request needs a matching `Proxy-Authorization: Basic`
    header. `requests` lists what was asked for; `tunnels_to(port)` counts CONNECTs to a port.
    """

    def __init__(self, *, username: str | None = None, password: str | None = None) -> None:
        self.username = username
        self.password = password
        self.requests: list[ProxyRequest] = []
        self.stopped = threading.Event()
        self._lock = threading.Lock()

    thread_name = "http-proxy"

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def authorized(self, header: str) -> bool:
        if self.username is None:
            return True
        scheme, _, value = header.partition(" ")
        return scheme.lower() == "basic" and basic_auth_user(value, self.username, self.password or "") is not None

    def record(self, method: str, target: str, status: int) -> None:
        with self._lock:
            self.requests.append(ProxyRequest(method, target, status))

    def proxied(self, port: int) -> list[ProxyRequest]:
        """Requests for the server on 127.0.0.1:`port` that the proxy let through."""
        marks = (f"{LOOPBACK}:{port}", f"localhost:{port}")
        with self._lock:
            return [r for r in self.requests if r.status == 200 and any(m in r.target for m in marks)]

    def _make_server(self) -> _Server:
        server = _Server((LOOPBACK, 0), _Handler)
        server.proxy = self
        return server

    def stop(self) -> None:
        self.stopped.set()  # ends the tunnels too
        super().stop()
