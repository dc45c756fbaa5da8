"""The test forward proxy (gotk.testing.httpproxy) on its own: absolute-form forwarding of plain HTTP,
CONNECT tunnels, Basic proxy authentication (407) and the loopback-only rule (403).
"""

from __future__ import annotations

import base64
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from gotk.testing.gitserver import GitHttpServer, make_repo
from gotk.testing.httpproxy import HttpProxy


@pytest.fixture
def git(tmp_path: Path) -> Iterator[GitHttpServer]:
    make_repo(tmp_path, "app.git", {"a": "1"})
    with GitHttpServer(tmp_path) as server:
        yield server


def _opener(proxy_url: str) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy_url}))


def test_plain_http_is_forwarded_with_proxy_auth(git: GitHttpServer) -> None:
    refs = git.url_for("app.git") + "/info/refs?service=git-upload-pack"
    with HttpProxy(username="u", password="p-123") as proxy:
        with pytest.raises(urllib.error.HTTPError) as exc:
            _opener(proxy.url).open(refs, timeout=10)
        assert exc.value.code == 407
        authed = proxy.url.replace("http://", "http://u:p-123@")
        with _opener(authed).open(refs, timeout=10) as resp:
            assert resp.status == 200 and b"refs/heads/main" in resp.read()
        assert [(r.method, r.status) for r in proxy.requests] == [("GET", 407), ("GET", 200)]
        assert proxy.proxied(git.port) == proxy.requests[1:]
    assert git.requests and git.requests[-1][1] == "/app.git/info/refs?service=git-upload-pack"


def test_connect_tunnel_and_loopback_only(git: GitHttpServer) -> None:
    with HttpProxy(username="u", password="p-123") as proxy:
        credentials = base64.b64encode(b"u:p-123").decode()
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
            sock.sendall(
                f"CONNECT 127.0.0.1:{git.port} HTTP/1.1\r\nProxy-Authorization: Basic {credentials}\r\n\r\n".encode()
            )
            assert sock.recv(1024).startswith(b"HTTP/1.1 200")
            sock.sendall(b"GET /app.git/info/refs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
            assert data.startswith(b"HTTP/1.1 200") and b"refs/heads/main" in data
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
            sock.sendall(
                f"CONNECT example.com:443 HTTP/1.1\r\nProxy-Authorization: Basic {credentials}\r\n\r\n".encode()
            )
            assert sock.recv(1024).startswith(b"HTTP/1.1 403")
        assert [(r.method, r.status) for r in proxy.requests] == [("CONNECT", 200), ("CONNECT", 403)]
