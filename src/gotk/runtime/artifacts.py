"""Artifact consumer shared by the kustomize and helm controllers: download a source artifact
over HTTP with retries, verify its digest, and untar it safely (Flux's `http/fetch` + `tar.Untar`).

`fetch` is async and keeps file I/O off the event loop. `safe_extract` and `file_digest` block;
call them from async code through `asyncio.to_thread`. The digest helpers are also used by
`gotk.source.storage` to produce the digests this module verifies.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import os
import shutil
import stat
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import IO, Final, Protocol
from urllib.parse import urlsplit, urlunsplit

import aiohttp

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_MAX_SIZE",
    "DIGEST_ALGORITHMS",
    "ArchiveError",
    "ArtifactError",
    "ArtifactFetchError",
    "ArtifactNotFoundError",
    "ArtifactTooLargeError",
    "DigestMismatchError",
    "InvalidDigestError",
    "UnsafeArchiveError",
    "fetch",
    "file_digest",
    "new_hasher",
    "parse_digest",
    "safe_extract",
]

DEFAULT_MAX_SIZE: Final = 100 << 20
"""Default cap on downloaded and on extracted bytes (Flux's `DefaultMaxUntarSize`)."""
DEFAULT_MAX_ENTRIES: Final = 100_000
"""Default cap on the number of entries in an archive."""
DIGEST_ALGORITHMS: Final = frozenset({"sha256", "sha384", "sha512"})

_CHUNK: Final = 256 << 10
_ENTRY_OVERHEAD: Final = 8 << 10  # tar metadata bytes allowed per entry (headers, long names)
_STREAM_SLACK: Final = 1 << 20


class ArtifactError(Exception):
    """Base class of every artifact fetch or extraction failure."""


class InvalidDigestError(ArtifactError):
    """The digest string is empty, malformed or uses an unsupported algorithm."""


class ArtifactNotFoundError(ArtifactError):
    """The artifact server answered 404: the source has no such artifact (yet)."""


class ArtifactFetchError(ArtifactError):
    """The download failed: retries exhausted, or a non-retryable HTTP status."""


class ArtifactTooLargeError(ArtifactError):
    """The download is larger than the allowed maximum."""


class DigestMismatchError(ArtifactError):
    """The downloaded bytes do not hash to the expected digest; nothing was extracted."""

    def __init__(self, url: str, expected: str, actual: str) -> None:
        super().__init__(f"artifact {url}: computed digest {actual} does not match expected {expected}")
        self.url, self.expected, self.actual = url, expected, actual


class ArchiveError(ArtifactError):
    """The archive is corrupt or not a (gzipped) tarball."""


class UnsafeArchiveError(ArchiveError):
    """The archive holds an entry that may not be extracted; `entry` names it."""

    def __init__(self, entry: str, reason: str) -> None:
        super().__init__(f"refusing archive entry {entry!r}: {reason}")
        self.entry, self.reason = entry, reason


class _Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


class _Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def hexdigest(self) -> str: ...


def parse_digest(digest: str) -> tuple[str, str]:
    """Split `<algo>:<hex>` into (algo, lowercase hex); a bare hex string means sha256, as in Flux."""
    algo, sep, hexpart = digest.strip().partition(":")
    if not sep:
        algo, hexpart = "sha256", algo
    algo = algo.lower()
    if algo not in DIGEST_ALGORITHMS:
        raise InvalidDigestError(f"unsupported digest algorithm in {digest!r}")
    size = hashlib.new(algo).digest_size * 2
    hexpart = hexpart.lower()
    if len(hexpart) != size or any(c not in "0123456789abcdef" for c in hexpart):
        raise InvalidDigestError(f"malformed {algo} digest {digest!r}")
    return algo, hexpart


def new_hasher(algo: str) -> _Hasher:
    """A fresh hash object for one of `DIGEST_ALGORITHMS`."""
    if algo not in DIGEST_ALGORITHMS:
        raise InvalidDigestError(f"unsupported digest algorithm {algo!r}")
    return hashlib.new(algo)


def file_digest(path: Path, algo: str = "sha256") -> str:
    """`<algo>:<hex>` of a file's bytes (blocking)."""
    h = new_hasher(algo)
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return f"{algo}:{h.hexdigest()}"


# --- extraction ---------------------------------------------------------------------------------


class _CappedReader:
    """Read-only stream that fails once more than `limit` bytes have been pulled through it.

    It sits under `tarfile`, so the decompressed stream is counted as it is produced (the gzip
    header's size field is never consulted) and a tar metadata bomb cannot make `tarfile` buffer
    more than the limit.
    """

    def __init__(self, raw: _Readable, limit: int | None) -> None:
        self._raw, self.limit, self.consumed = raw, limit, 0

    def read(self, n: int = -1) -> bytes:
        if self.limit is not None:
            room = self.limit - self.consumed
            n = room + 1 if n < 0 or n > room else n
        data = self._raw.read(n)
        self.consumed += len(data)
        if self.limit is not None and self.consumed > self.limit:
            raise UnsafeArchiveError("<stream>", f"archive expands beyond {self.limit} bytes")
        return data


def _entry_parts(name: str) -> tuple[str, ...]:
    """The path elements of an archive member name, or UnsafeArchiveError for escaping names."""
    if not name or "\x00" in name or "\\" in name:
        raise UnsafeArchiveError(name, "invalid name")
    if name.startswith("/"):
        raise UnsafeArchiveError(name, "absolute path")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise UnsafeArchiveError(name, "path contains '..'")
    return parts


def _link_escapes(parts: tuple[str, ...], target: str) -> bool:
    """Whether a symlink at `parts` pointing to `target` resolves outside the extraction root."""
    if not target or target.startswith("/") or "\x00" in target or "\\" in target:
        return True
    stack = list(parts[:-1])
    for element in target.split("/"):
        if element in ("", "."):
            continue
        if element == "..":
            if not stack:
                return True
            stack.pop()
        else:
            stack.append(element)
    return False


def _ensure_dirs(root: Path, parts: tuple[str, ...], entry: str) -> Path:
    """Create `root/parts...` as real directories (never through a link) and return it."""
    current = root
    for element in parts:
        current = current / element
        try:
            os.mkdir(current, 0o755)
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(current).st_mode):
                raise ArchiveError(f"archive entry {entry!r} conflicts with a file at {element!r}") from None
    return current


def _write_member(src: _Readable, target: Path, mode: int, size: int, entry: str) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(target, flags, mode)
    except IsADirectoryError:
        raise ArchiveError(f"archive entry {entry!r} conflicts with a directory") from None
    written = 0
    with os.fdopen(fd, "wb") as out:
        while chunk := src.read(min(_CHUNK, size - written) or 1):
            written += len(chunk)
            if written > size:
                raise UnsafeArchiveError(entry, "entry data longer than its header says")
            out.write(chunk)
    os.chmod(target, mode)
    if written != size:
        raise ArchiveError(f"archive entry {entry!r} is truncated")


def _hardlink_source(root: Path, member: tarfile.TarInfo) -> Path:
    """The already-extracted regular file a hardlink entry names (it is copied, never linked)."""
    target = _entry_parts(member.linkname) if member.linkname else ()
    source = root.joinpath(*target)
    if not target or source.is_symlink() or not source.is_file():
        raise UnsafeArchiveError(member.name, f"hardlink to {member.linkname!r} is not an extracted file")
    return source


def _extract_member(tar: tarfile.TarFile, member: tarfile.TarInfo, root: Path, budget: int | None) -> int | None:
    """Write one member under `root`; returns the extracted-bytes budget left (None: unlimited)."""
    name = member.name
    parts = _entry_parts(name)
    if member.isdir():
        _ensure_dirs(root, parts, name)
        return budget
    if member.issym():
        if _link_escapes(parts, member.linkname):
            raise UnsafeArchiveError(name, f"symlink to {member.linkname!r} leaves the archive")
        return budget  # in-tree symlinks are dropped, as Flux's fetcher does (tar.WithSkipSymlinks)
    source: Path | None = None
    if member.islnk():
        source = _hardlink_source(root, member)
        size, mode = source.stat().st_size, stat.S_IMODE(source.stat().st_mode)
    elif member.isreg() and not member.issparse():
        size, mode = member.size, (member.mode & 0o755) | 0o600  # owner reads; nobody else writes
    else:
        raise UnsafeArchiveError(name, "unsupported entry type (device, fifo or sparse file)")
    if not parts:
        raise UnsafeArchiveError(name, "a file cannot be the archive root")
    if budget is not None:
        if size > budget:
            raise UnsafeArchiveError(name, "archive expands beyond the size limit")
        budget -= size
    parent = _ensure_dirs(root, parts[:-1], name)
    stream = source.open("rb") if source is not None else tar.extractfile(member)
    assert stream is not None  # regular members always have a data stream
    with stream:
        _write_member(stream, parent / parts[-1], mode, size, name)
    return budget


def _extract_into(archive: Path, root: Path, *, max_size: int | None, max_entries: int | None, gzipped: bool) -> None:
    budget = max_size
    with archive.open("rb") as raw:
        stream: _Readable = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
        capped = _CappedReader(stream, None if max_size is None else max_size + _STREAM_SLACK + _ENTRY_OVERHEAD)
        # "r|" only ever calls read(); typeshed's _Fileobj asks for more than that.
        with tarfile.open(fileobj=capped, mode="r|") as tar:  # type: ignore[call-overload]
            for count, member in enumerate(tar, start=1):
                if max_entries is not None and count > max_entries:
                    raise UnsafeArchiveError(member.name, f"archive has more than {max_entries} entries")
                if max_size is not None:  # tar metadata may grow with the entry count, data may not
                    capped.limit = max_size + _STREAM_SLACK + (count + 1) * _ENTRY_OVERHEAD
                budget = _extract_member(tar, member, root, budget)


def _prepare_dest(dest: Path) -> None:
    """`dest` must be absent or an empty directory; its parent is created."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_symlink() or (dest.exists() and (not dest.is_dir() or any(dest.iterdir()))):
        raise FileExistsError(f"extraction target {dest} exists and is not an empty directory")


def safe_extract(
    archive_path: Path,
    dest: Path,
    *,
    max_size: int | None = DEFAULT_MAX_SIZE,
    max_entries: int | None = DEFAULT_MAX_ENTRIES,
    gzipped: bool = True,
) -> None:
    """Extract a (gzipped) tarball into `dest`, which must be absent or empty (blocking).

    Entries are written into a fresh temporary directory next to `dest`, which is renamed onto
    `dest` only when every entry passed; on any failure the temporary directory is removed and
    `dest` is left as it was. Refused with `UnsafeArchiveError`: names that are absolute or contain
    `..`, `\\` or NUL; symlinks or hardlinks leading out of the tree; devices, fifos and sparse
    files; more than `max_entries` entries; more than `max_size` extracted bytes (counted while
    streaming). In-tree symlinks are skipped. `None` disables a limit.
    """
    dest = Path(os.path.abspath(dest))
    _prepare_dest(dest)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.extract-", dir=dest.parent))
    try:
        try:
            _extract_into(archive_path, work, max_size=max_size, max_entries=max_entries, gzipped=gzipped)
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, ValueError) as exc:
            # tarfile raises a bare ValueError for some malformed pax fields (e.g. GNU.sparse.map)
            raise ArchiveError(f"invalid archive {archive_path.name}: {exc}") from exc
        work.chmod(0o755)
        if dest.is_dir():
            dest.rmdir()  # empty, checked above
        os.rename(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


# --- download -----------------------------------------------------------------------------------


class _Retry(Exception):
    def __init__(self, message: str, *, after: str | None = None) -> None:
        super().__init__(message)
        self.after = float(after) if after and after.isdigit() else None  # Retry-After in seconds


async def _download_once(
    session: aiohttp.ClientSession, url: str, fh: IO[bytes], algo: str, limit: int | None, timeout: float
) -> str:
    """One GET into `fh` (rewound first); returns the hex digest of what was written."""
    await asyncio.to_thread(fh.seek, 0)
    await asyncio.to_thread(fh.truncate)
    hasher = new_hasher(algo)
    size = 0
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with session.get(url, timeout=client_timeout, headers={"Accept-Encoding": "identity"}) as resp:
        if resp.status == 404:
            raise ArtifactNotFoundError(f"artifact not found: {url} (HTTP 404)")
        if resp.status == 429 or resp.status >= 500:
            raise _Retry(f"HTTP {resp.status}", after=resp.headers.get("Retry-After"))
        if resp.status != 200:
            raise ArtifactFetchError(f"failed to download artifact from {url}: HTTP {resp.status}")
        if limit is not None and (resp.content_length or 0) > limit:
            raise ArtifactTooLargeError(f"artifact {url} is {resp.content_length} bytes, over the {limit} limit")
        buf = bytearray()
        async for chunk in resp.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if limit is not None and size > limit:
                raise ArtifactTooLargeError(f"artifact {url} is larger than the {limit} bytes limit")
            hasher.update(chunk)
            buf += chunk
            if len(buf) >= 4 * _CHUNK:
                await asyncio.to_thread(fh.write, bytes(buf))
                buf.clear()
        if buf:
            await asyncio.to_thread(fh.write, bytes(buf))
        await asyncio.to_thread(fh.flush)
    return hasher.hexdigest()


def _override_host(url: str, host: str | None) -> str:
    if not host:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=host))


async def download(
    url: str,
    digest: str,
    dest: Path,
    *,
    max_size: int | None = DEFAULT_MAX_SIZE,
    retries: int = 9,
    timeout: float = 30.0,
    retry_wait_min: float = 5.0,
    retry_wait_max: float = 30.0,
    host_override: str | None = None,
    session: aiohttp.ClientSession | None = None,
) -> None:
    """Download the file at `url` to `dest` and verify `digest`; `dest` appears only when it matches.

    Connection errors, timeouts, 429 and 5xx are retried up to `retries` times with exponential backoff
    between `retry_wait_min` and `retry_wait_max` seconds (`--http-retry`); `timeout` bounds each attempt
    (`--http-timeout`). 404 raises `ArtifactNotFoundError`, a mismatch `DigestMismatchError`, more than
    `max_size` bytes `ArtifactTooLargeError`. `host_override` replaces the URL's host:port (Flux's
    `SOURCE_CONTROLLER_LOCALHOST`). A shared `session` must be created with `auto_decompress=False`.
    """
    algo, expected = parse_digest(digest)
    url = _override_host(url, host_override)
    dest = Path(os.path.abspath(dest))
    fd, tmp_name = await asyncio.to_thread(tempfile.mkstemp, prefix=f".{dest.name}.download-", dir=dest.parent)
    tmp = Path(tmp_name)
    own_session = session is None
    client = session or aiohttp.ClientSession(auto_decompress=False)
    try:
        with os.fdopen(fd, "w+b") as fh:
            attempt = 0
            while True:
                try:
                    actual = await _download_once(client, url, fh, algo, max_size, timeout)
                    break
                except (aiohttp.ClientError, TimeoutError, _Retry) as exc:
                    if attempt >= retries:
                        reason = str(exc) or type(exc).__name__
                        raise ArtifactFetchError(
                            f"failed to download artifact from {url} after {attempt + 1} attempts: {reason}"
                        ) from exc
                    wait = min(retry_wait_max, retry_wait_min * 2**attempt)
                    if isinstance(exc, _Retry) and exc.after is not None:
                        wait = min(retry_wait_max, max(wait, exc.after))
                    attempt += 1
                    await asyncio.sleep(wait)
        if actual != expected:
            raise DigestMismatchError(url, f"{algo}:{expected}", f"{algo}:{actual}")
        await asyncio.to_thread(os.replace, tmp, dest)
    finally:
        if own_session:
            await client.close()
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(tmp.unlink)


async def fetch(
    url: str,
    digest: str,
    dest: Path,
    *,
    max_size: int | None = DEFAULT_MAX_SIZE,
    max_download_size: int | None = None,
    max_entries: int | None = DEFAULT_MAX_ENTRIES,
    retries: int = 9,
    timeout: float = 30.0,
    retry_wait_min: float = 5.0,
    retry_wait_max: float = 30.0,
    host_override: str | None = None,
    session: aiohttp.ClientSession | None = None,
) -> None:
    """Download the artifact at `url` (as `download`), verify `digest`, and extract it into `dest` (absent or
    empty). The digest is checked before anything is extracted: a mismatch leaves `dest` untouched.
    `max_download_size` defaults to `max_size`.
    """
    dest = Path(os.path.abspath(dest))
    await asyncio.to_thread(_prepare_dest, dest)
    archive = dest.parent / f".{dest.name}.tar.gz"
    try:
        await download(
            url,
            digest,
            archive,
            max_size=max_size if max_download_size is None else max_download_size,
            retries=retries,
            timeout=timeout,
            retry_wait_min=retry_wait_min,
            retry_wait_max=retry_wait_max,
            host_override=host_override,
            session=session,
        )
        await asyncio.to_thread(safe_extract, archive, dest, max_size=max_size, max_entries=max_entries)
    finally:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(archive.unlink)
