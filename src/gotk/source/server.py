"""HTTP file server for the artifact storage (`--storage-addr`), the counterpart of Flux's
`pkg/artifact/server`: GET and HEAD of regular files only, no directory listings, and nothing
outside the storage root — `..`, hidden names and symlinks resolving out of the root give 404.

Started by the source controller's manager with `start()`; file reads run in worker threads.
"""

from __future__ import annotations

import asyncio
import os
import stat
from email.utils import formatdate
from pathlib import Path
from typing import Final

from aiohttp import web

__all__ = ["bound_port", "make_app", "parse_addr", "start"]

_ROOT: Final = web.AppKey("storage_root", str)
_CHUNK: Final = 256 << 10


def parse_addr(addr: str) -> tuple[str | None, int]:
    """Split `host:port`, `:port` or `[v6]:port`; an empty host means every interface."""
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"invalid listen address {addr!r}, want [host]:port")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    return (host or None), int(port)


def _open_file(root: str, url_path: str) -> tuple[int, os.stat_result] | None:
    """Open the regular file `url_path` names inside `root`, or None when it must not be served."""
    parts = [p for p in url_path.split("/") if p]
    if not parts or any(p.startswith(".") or "\\" in p or "\x00" in p for p in parts):
        return None  # covers "." and "..", hidden temp files and lock files
    real = os.path.realpath(os.path.join(root, *parts))
    if not real.startswith(root + os.sep):
        return None  # a symlink led out of the storage root
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return None  # no directory listings
    return fd, st


def _content_type(name: str) -> str:
    if name.endswith((".gz", ".tgz")):
        return "application/gzip"
    if name.endswith((".yaml", ".yml")):
        return "application/yaml"
    return "application/octet-stream"


async def _serve(request: web.Request) -> web.StreamResponse:
    opened = await asyncio.to_thread(_open_file, request.app[_ROOT], request.path)
    if opened is None:
        raise web.HTTPNotFound()
    fd, st = opened
    with os.fdopen(fd, "rb") as fh:
        resp = web.StreamResponse(
            headers={
                "Content-Type": _content_type(request.path),
                "Last-Modified": formatdate(st.st_mtime, usegmt=True),
            }
        )
        resp.content_length = st.st_size
        await resp.prepare(request)
        if request.method != "HEAD":
            remaining = st.st_size
            while remaining > 0:
                chunk = await asyncio.to_thread(fh.read, min(_CHUNK, remaining))
                if not chunk:
                    break  # the file shrank underneath us; the client sees a short body
                remaining -= len(chunk)
                await resp.write(chunk)
        await resp.write_eof()
        return resp


def make_app(storage_dir: Path) -> web.Application:
    """The aiohttp application serving `storage_dir`."""
    app = web.Application()
    app[_ROOT] = os.path.realpath(storage_dir)
    app.router.add_get("/{path:.*}", _serve)  # also answers HEAD
    return app


async def start(storage_dir: Path, addr: str) -> web.AppRunner:
    """Serve `storage_dir` on `addr` (e.g. `:9090`, `127.0.0.1:0`); stop with `await runner.cleanup()`.

    With port 0 the OS picks a free port; read it back with `bound_port(runner)`.
    """
    host, port = parse_addr(addr)
    runner = web.AppRunner(make_app(storage_dir), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host=host, port=port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


def bound_port(runner: web.AppRunner) -> int:
    """The TCP port a started runner listens on."""
    addresses = runner.addresses
    if not addresses:
        raise RuntimeError("the artifact server is not listening")
    port = addresses[0][1]
    assert isinstance(port, int)
    return port
