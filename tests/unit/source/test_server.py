"""gotk.source.server over real HTTP on 127.0.0.1: GET/HEAD with Content-Length, 404 for missing
files, directories (no listings), hidden files and every path-traversal form (raw `..`, encoded
`%2e%2e`, symlinks out of the root), address parsing and port 0.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from gotk.source import server


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Path, int]]:
    root = tmp_path / "data"
    (root / "gitrepository/ns/app").mkdir(parents=True)
    (root / "gitrepository/ns/app/abc.tar.gz").write_bytes(b"\x1f\x8b" + b"z" * 300_000)
    (root / "gitrepository/ns/app/.abc.tar.gz.x.tmp").write_bytes(b"partial")
    (tmp_path / "secret.txt").write_text("outside the root")
    os.symlink(tmp_path / "secret.txt", root / "gitrepository/ns/app/escape.txt")
    os.symlink(root / "gitrepository/ns/app/abc.tar.gz", root / "gitrepository/ns/app/latest.tar.gz")
    os.symlink(tmp_path, root / "parentdir")
    runner = await server.start(root, "127.0.0.1:0")
    try:
        yield root, server.bound_port(runner)
    finally:
        await runner.cleanup()


async def raw_get(port: int, target: str) -> int:
    """Send a request line verbatim (no client-side normalisation) and return the status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return int(status_line.split()[1])


async def test_get_and_head(served: tuple[Path, int]) -> None:
    root, port = served
    body = (root / "gitrepository/ns/app/abc.tar.gz").read_bytes()
    url = f"http://127.0.0.1:{port}/gitrepository/ns/app/abc.tar.gz"
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        async with session.get(url) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Length"] == str(len(body))
            assert resp.headers["Content-Type"] == "application/gzip"
            assert "Content-Encoding" not in resp.headers
            assert await resp.read() == body
        async with session.head(url) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Length"] == str(len(body))
            assert await resp.read() == b""
        async with session.get(f"http://127.0.0.1:{port}/gitrepository/ns/app/latest.tar.gz") as resp:
            assert resp.status == 200  # a symlink that stays inside the root is fine
            assert await resp.read() == body
        async with session.post(url) as resp:
            assert resp.status == 405


@pytest.mark.parametrize(
    "path",
    [
        "/gitrepository/ns/app/missing.tar.gz",
        "/gitrepository/ns/app",
        "/gitrepository/ns/app/",
        "/",
        "/gitrepository/ns/app/.abc.tar.gz.x.tmp",
        "/gitrepository/ns/app/escape.txt",
        "/parentdir/secret.txt",
    ],
)
async def test_not_served(served: tuple[Path, int], path: str) -> None:
    _, port = served
    async with (
        aiohttp.ClientSession() as session,
        session.get(URL(f"http://127.0.0.1:{port}{path}", encoded=True)) as resp,
    ):
        assert resp.status == 404


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/gitrepository/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/gitrepository/%2E%2E/%2E%2E/secret.txt",
        "/gitrepository%2f..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/./gitrepository/ns/app/../../../../secret.txt",
    ],
)
async def test_traversal_refused(served: tuple[Path, int], target: str) -> None:
    _, port = served
    assert await raw_get(port, target) == 404


def test_parse_addr() -> None:
    assert server.parse_addr(":9090") == (None, 9090)
    assert server.parse_addr("0.0.0.0:80") == ("0.0.0.0", 80)
    assert server.parse_addr("[::1]:0") == ("::1", 0)
    for bad in ("9090", "host:", "host:http"):
        with pytest.raises(ValueError):
            server.parse_addr(bad)


async def test_raw_request_positive_control(served: tuple[Path, int]) -> None:
    _, port = served
    assert await raw_get(port, "/gitrepository/ns/app/abc.tar.gz") == 200
    assert await raw_get(port, "/gitrepository//ns/./app/abc.tar.gz") == 404  # "." is never resolved


@pytest.mark.parametrize(
    "path",
    ["/../secret.txt", "/gitrepository/../../secret.txt", "/a/..", "..", "/parentdir/secret.txt", "/x\\..\\y"],
)
def test_path_guard_without_http_normalisation(served: tuple[Path, int], path: str) -> None:
    # aiohttp already normalises most dot segments; the guard must hold on its own too.
    root, _ = served
    assert server._open_file(os.path.realpath(root), path) is None
