"""gotk.runtime.artifacts: digest parsing; safe_extract on good archives (dot prefixes, in-tree
links) and hostile ones (Hypothesis-generated traversal names, absolute paths, escaping links,
devices, oversized entries; gzip and tar-header bombs; entry caps; corrupt input), always leaving
nothing behind; and fetch over real HTTP on 127.0.0.1 (storage server end to end, retries on 5xx
and refused connections, 404, digest mismatch, size cap, host override).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
import tarfile
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gotk.runtime.artifacts import (
    ArchiveError,
    ArtifactError,
    ArtifactFetchError,
    ArtifactNotFoundError,
    ArtifactTooLargeError,
    DigestMismatchError,
    InvalidDigestError,
    UnsafeArchiveError,
    fetch,
    parse_digest,
    safe_extract,
)
from gotk.source import server
from gotk.source.storage import Storage

SHA_EMPTY = hashlib.sha256(b"").hexdigest()


def test_parse_digest() -> None:
    assert parse_digest(f"sha256:{SHA_EMPTY}") == ("sha256", SHA_EMPTY)
    assert parse_digest(SHA_EMPTY.upper()) == ("sha256", SHA_EMPTY)  # bare hex means sha256, as in Flux
    h512 = hashlib.sha512(b"").hexdigest()
    assert parse_digest(f"SHA512:{h512}") == ("sha512", h512)
    for bad in ("", "sha256:", "sha256:xyz", f"md5:{SHA_EMPTY}", f"sha384:{SHA_EMPTY}", "sha256:" + "g" * 64):
        with pytest.raises(InvalidDigestError):
            parse_digest(bad)


# --- building archives by hand ------------------------------------------------------------------


def entry(
    name: str, data: bytes = b"", *, type: bytes = tarfile.REGTYPE, link: str = "", size: int | None = None
) -> bytes:
    """One raw tar entry; `size` may claim more than `data` holds."""
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = type, link, 0o644
    info.size = len(data) if size is None else size
    block = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    padding = b"\0" * (-len(data) % tarfile.BLOCKSIZE) if size is None else b""
    return block + data + padding


def tar_gz(*entries: bytes) -> bytes:
    return gzip.compress(b"".join(entries) + b"\0" * (2 * tarfile.BLOCKSIZE), mtime=0)


def listing(root: Path) -> set[str]:
    return {os.path.relpath(os.path.join(d, n), root) for d, ds, fs in os.walk(root) for n in ds + fs}


@pytest.fixture
def sandbox(tmp_path: Path) -> Callable[[bytes], tuple[Path, Path]]:
    def make(data: bytes) -> tuple[Path, Path]:
        archive = tmp_path / "artifact.tar.gz"
        archive.write_bytes(data)
        (tmp_path / "work").mkdir(exist_ok=True)
        return archive, tmp_path / "work" / "dest"

    return make


def test_extract_normal_archive(sandbox: Callable[[bytes], tuple[Path, Path]]) -> None:
    archive, dest = sandbox(
        tar_gz(
            entry("./", type=tarfile.DIRTYPE),
            entry("./deploy", type=tarfile.DIRTYPE),
            entry("./deploy/app.yaml", b"kind: Deployment\n"),
            entry("a//b/./c.txt", b"c"),
            entry("link-in-tree", type=tarfile.SYMTYPE, link="deploy/app.yaml"),
            entry("deploy/hard.yaml", type=tarfile.LNKTYPE, link="./deploy/app.yaml"),
        )
    )
    safe_extract(archive, dest)
    assert listing(dest) == {"deploy", "deploy/app.yaml", "deploy/hard.yaml", "a", "a/b", "a/b/c.txt"}
    assert (dest / "deploy/hard.yaml").read_bytes() == b"kind: Deployment\n"
    assert not (dest / "deploy/hard.yaml").samefile(dest / "deploy/app.yaml")
    assert listing(dest.parent) == {"dest"} | {f"dest/{p}" for p in listing(dest)}  # no temp dir left


def test_extract_into_empty_dir_but_not_nonempty(sandbox: Callable[[bytes], tuple[Path, Path]]) -> None:
    archive, dest = sandbox(tar_gz(entry("a", b"a")))
    dest.mkdir()
    safe_extract(archive, dest)
    assert (dest / "a").read_bytes() == b"a"
    with pytest.raises(FileExistsError):
        safe_extract(archive, dest)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"not gzip at all", ArchiveError),
        (gzip.compress(b"garbage" * 200), ArchiveError),
        (tar_gz(entry("a", b"abc"))[:-12], ArchiveError),  # truncated gzip stream
        (gzip.compress(entry("a", b"x" * 10, size=5000)), ArchiveError),  # truncated entry data
        (tar_gz(entry("a", b"1"), entry("a/b", b"2")), ArchiveError),  # file then dir of the same name
    ],
)
def test_corrupt_archives(sandbox: Callable[[bytes], tuple[Path, Path]], data: bytes, error: type[Exception]) -> None:
    archive, dest = sandbox(data)
    with pytest.raises(error):
        safe_extract(archive, dest)
    assert listing(dest.parent) == set()


def test_malformed_pax_sparse_map_is_an_archive_error(sandbox: Callable[[bytes], tuple[Path, Path]]) -> None:
    info = tarfile.TarInfo("s")
    info.pax_headers = {"GNU.sparse.map": "a,b", "GNU.sparse.size": "10"}
    archive, dest = sandbox(gzip.compress(info.tobuf(tarfile.PAX_FORMAT) + b"\0" * 1024))
    with pytest.raises(ArchiveError):
        safe_extract(archive, dest)
    assert listing(dest.parent) == set()


def test_gzip_bomb_is_stopped_by_streamed_size(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.tar.gz"
    info = tarfile.TarInfo("zeros")
    info.size = 64 << 20
    with (
        open("/dev/zero", "rb") as zeros,
        gzip.open(archive, "wb", compresslevel=1) as gz,
        tarfile.open(fileobj=gz, mode="w") as tar,
    ):
        tar.addfile(info, zeros)
    assert archive.stat().st_size < 1 << 20
    with pytest.raises(UnsafeArchiveError, match="zeros"):
        safe_extract(archive, tmp_path / "out", max_size=1 << 20)
    assert listing(tmp_path) == {"bomb.tar.gz"}


def test_tar_header_bomb_is_stopped(tmp_path: Path) -> None:
    # A 64 MiB pax header would be buffered whole by tarfile; the stream cap stops it first.
    archive = tmp_path / "hdr.tar.gz"
    header = entry("././@PaxHeader", type=tarfile.XHDTYPE, size=64 << 20)
    with gzip.open(archive, "wb", compresslevel=1) as gz:
        gz.write(header)
        for _ in range(64):
            gz.write(b"9" * (1 << 20))
    with pytest.raises(UnsafeArchiveError):
        safe_extract(archive, tmp_path / "out", max_size=1 << 20)
    assert listing(tmp_path) == {"hdr.tar.gz"}


def test_entry_count_cap(sandbox: Callable[[bytes], tuple[Path, Path]]) -> None:
    archive, dest = sandbox(tar_gz(*(entry(f"f{i}", b"") for i in range(20))))
    with pytest.raises(UnsafeArchiveError, match="more than 10 entries"):
        safe_extract(archive, dest, max_entries=10)
    safe_extract(archive, dest, max_entries=20)
    assert len(listing(dest)) == 20


# --- Hypothesis: hostile archives never escape and never leave anything -------------------------

MAX = 4096


def _hostile(outside: str) -> st.SearchStrategy[bytes]:
    suffix = st.text(alphabet="abc./", max_size=6)
    dotdot = st.one_of(
        st.tuples(st.sampled_from(["../", "a/../../", "./../", "a/b/../../../", "a/../"]), suffix).map("".join),
        st.sampled_from(["..", "a/..", "a/b/../..", "./.."]),
    ).map(lambda name: entry(name, b"evil"))
    absolute = st.sampled_from([outside, "/" + outside.lstrip("/"), "//" + outside.lstrip("/")]).map(
        lambda n: entry(n, b"evil")
    )
    backslash = st.sampled_from(["a\\..\\..\\x", "..\\x"]).map(lambda n: entry(n, b"evil"))
    sym_out = st.tuples(
        st.sampled_from(["l", "d/l", "d/e/l"]),
        st.sampled_from(["../../../x", "/etc/passwd", outside, "d/../../../../x", "../../..", "/", ""]),
    ).map(lambda t: entry(t[0], type=tarfile.SYMTYPE, link=t[1]))
    hard_out = st.sampled_from(["../x", "/etc/passwd", outside, "missing", "d"]).map(
        lambda t: entry("h", type=tarfile.LNKTYPE, link=t)
    )
    special = st.sampled_from([tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE, b"S", b"Z"]).map(
        lambda t: entry("dev", type=t)
    )
    huge = st.integers(MAX + 1, 1 << 40).map(lambda n: entry("big", b"y" * 600, size=n))
    return st.one_of(dotdot, absolute, backslash, sym_out, hard_out, special, huge)


_benign = st.lists(st.tuples(st.sampled_from(["", "d/", "d/e/"]), st.binary(max_size=300)), max_size=6).map(
    lambda fs: [entry(f"{p}b{i}.txt", data) for i, (p, data) in enumerate(fs)]
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), benign=_benign, gzipped=st.booleans())
def test_hostile_entries_are_rejected_without_side_effects(
    data: st.DataObject, benign: list[bytes], gzipped: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "outside").mkdir()
        (base / "a" / "b").mkdir(parents=True)
        dest = base / "a" / "b" / "dest"
        outside = str(base / "outside" / "pwned")
        evil = data.draw(_hostile(outside))
        position = data.draw(st.integers(0, len(benign)))
        raw = b"".join([*benign[:position], evil, *benign[position:]]) + b"\0" * (2 * tarfile.BLOCKSIZE)
        archive = base / "outside" / "artifact.tar"
        archive.write_bytes(gzip.compress(raw, mtime=0) if gzipped else raw)
        before = listing(base)

        with pytest.raises(UnsafeArchiveError) as caught:
            safe_extract(archive, dest, max_size=MAX, gzipped=gzipped)

        assert caught.value.entry
        assert listing(base) == before  # nothing escaped, no temp dir left, dest not created
        assert not dest.exists()


_SEED_ARCHIVE = b"".join(
    [
        entry("d", type=tarfile.DIRTYPE),
        entry("d/a.yaml", b"a: 1\n" * 40),
        entry("l", type=tarfile.SYMTYPE, link="d/a.yaml"),
        entry("h", type=tarfile.LNKTYPE, link="d/a.yaml"),
        entry("long/" + "n" * 120, b"pax path"),
    ]
) + b"\0" * (2 * tarfile.BLOCKSIZE)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(st.tuples(st.integers(0, len(_SEED_ARCHIVE) - 1), st.integers(0, 255)), min_size=1, max_size=8),
    cut=st.integers(0, len(_SEED_ARCHIVE)),
)
def test_fuzzed_archives_fail_cleanly(edits: list[tuple[int, int]], cut: int) -> None:
    raw = bytearray(_SEED_ARCHIVE)
    for offset, value in edits:
        raw[offset] = value
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        archive = base / "fuzz.tar"
        archive.write_bytes(bytes(raw[:cut] if cut else raw))
        (base / "w").mkdir()
        try:
            safe_extract(archive, base / "w" / "dest", max_size=MAX, gzipped=False)
        except ArtifactError:
            assert listing(base) == {"fuzz.tar", "w"}
        else:
            assert {p for p in listing(base) if not p.startswith("w/dest/")} == {"fuzz.tar", "w", "w/dest"}


# --- fetch over HTTP ----------------------------------------------------------------------------


Serve = Callable[[web.Application], Awaitable[str]]


@pytest.fixture
async def http() -> AsyncIterator[Serve]:
    runners: list[web.AppRunner] = []

    async def serve(app: web.Application) -> str:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        return f"http://127.0.0.1:{server.bound_port(runner)}"

    yield serve
    for runner in runners:
        await runner.cleanup()


async def fast_fetch(url: str, digest: str, dest: Path, **kwargs: Any) -> None:
    """`fetch` with millisecond backoff so retry tests run fast."""
    await fetch(url, digest, dest, retry_wait_min=0.01, retry_wait_max=0.02, timeout=5.0, **kwargs)


async def test_fetch_from_storage_server_end_to_end(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "deploy").mkdir(parents=True)
    (src / "deploy/app.yaml").write_text("kind: ConfigMap\n")
    runner = await server.start(tmp_path / "data", "127.0.0.1:0")
    try:
        port = server.bound_port(runner)
        storage = Storage(tmp_path / "data", adv_addr=f"127.0.0.1:{port}")
        art = storage.archive_dir(src, "GitRepository", "ns", "app", "rev.tar.gz")
        await fast_fetch(art["url"], art["digest"], tmp_path / "out")
        assert (tmp_path / "out/deploy/app.yaml").read_text() == "kind: ConfigMap\n"

        await fast_fetch(
            art["url"].replace(str(port), "1"), art["digest"], tmp_path / "out2", host_override=f"127.0.0.1:{port}"
        )
        assert (tmp_path / "out2/deploy/app.yaml").exists()
    finally:
        await runner.cleanup()


def payload() -> tuple[bytes, str]:
    body = tar_gz(entry("a.yaml", b"a: 1\n"))
    return body, "sha256:" + hashlib.sha256(body).hexdigest()


async def test_fetch_retries_5xx_then_succeeds(http: Serve, tmp_path: Path) -> None:
    body, digest = payload()
    calls: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        calls.append(1)
        if len(calls) < 3:
            return web.Response(status=503 if len(calls) == 1 else 500)
        return web.Response(body=body)

    app = web.Application()
    app.router.add_get("/art.tar.gz", handler)
    base = await http(app)
    await fast_fetch(f"{base}/art.tar.gz", digest, tmp_path / "out", retries=3)
    assert len(calls) == 3
    assert (tmp_path / "out/a.yaml").read_bytes() == b"a: 1\n"


async def test_fetch_gives_up_after_retries(http: Serve, tmp_path: Path) -> None:
    app = web.Application()
    calls: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        calls.append(1)
        return web.Response(status=502)

    app.router.add_get("/x", handler)
    base = await http(app)
    with pytest.raises(ArtifactFetchError, match="after 3 attempts: HTTP 502"):
        await fast_fetch(f"{base}/x", payload()[1], tmp_path / "out", retries=2)
    assert len(calls) == 3
    assert listing(tmp_path) == set()


async def test_fetch_connection_refused_is_retried_then_fails(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ArtifactFetchError, match="after 2 attempts"):
        await fast_fetch(f"http://127.0.0.1:{port}/x.tar.gz", payload()[1], tmp_path / "out", retries=1)


async def test_fetch_404_names_the_url(http: Serve, tmp_path: Path) -> None:
    base = await http(web.Application())
    with pytest.raises(ArtifactNotFoundError, match=f"{base}/gitrepository/ns/app/gone.tar.gz"):
        await fast_fetch(f"{base}/gitrepository/ns/app/gone.tar.gz", payload()[1], tmp_path / "out")
    assert listing(tmp_path) == set()


async def test_fetch_digest_mismatch_writes_nothing(http: Serve, tmp_path: Path) -> None:
    body, _ = payload()
    app = web.Application()
    app.router.add_get("/a", lambda r: _respond(body))
    base = await http(app)
    wrong = "sha256:" + hashlib.sha256(b"other").hexdigest()
    with pytest.raises(DigestMismatchError) as caught:
        await fast_fetch(f"{base}/a", wrong, tmp_path / "out")
    assert caught.value.expected == wrong
    assert listing(tmp_path) == set()
    with pytest.raises(InvalidDigestError):
        await fast_fetch(f"{base}/a", "sha256:nope", tmp_path / "out")


async def test_fetch_size_cap(http: Serve, tmp_path: Path) -> None:
    big = os.urandom(200_000)

    async def chunked(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()  # no Content-Length: the cap must hold while streaming
        await resp.prepare(request)
        for i in range(0, len(big), 10_000):
            await resp.write(big[i : i + 10_000])
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/sized", lambda r: _respond(big))
    app.router.add_get("/chunked", chunked)
    base = await http(app)
    digest = "sha256:" + hashlib.sha256(big).hexdigest()
    for path in ("/sized", "/chunked"):
        with pytest.raises(ArtifactTooLargeError):
            await fast_fetch(f"{base}{path}", digest, tmp_path / "out", max_size=100_000)
    assert listing(tmp_path) == set()


async def test_fetch_rejects_unsafe_archive_after_verifying(http: Serve, tmp_path: Path) -> None:
    body = tar_gz(entry("ok.yaml", b"x"), entry("../escape.yaml", b"x"))
    app = web.Application()
    app.router.add_get("/evil", lambda r: _respond(body))
    base = await http(app)
    with pytest.raises(UnsafeArchiveError, match=r"escape\.yaml"):
        await fast_fetch(f"{base}/evil", "sha256:" + hashlib.sha256(body).hexdigest(), tmp_path / "w" / "out")
    assert listing(tmp_path) == {"w"}


async def _respond(body: bytes) -> web.Response:
    return web.Response(body=body)
