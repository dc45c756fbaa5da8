"""The S3 fetcher of Bucket sources (providers `generic` and `aws`), built on the minio client.

`fetch_index` lists a bucket into an `index.Index` (one listing, plus the root `.sourceignore`);
`download` writes the indexed objects below a fresh directory. Both block: the reconciler runs
them through `asyncio.to_thread`. Errors become `BucketError`, whose message names the bucket and
the S3 error code but never a credential.
"""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Final

import urllib3
from minio import Minio
from minio.credentials.providers import IamAwsProvider
from minio.error import MinioException, S3Error

from gotk.source import ignore
from gotk.source.bucket import index as idx

__all__ = [
    "AUTH_ERROR_CODES",
    "BucketError",
    "S3Config",
    "check_endpoint",
    "download",
    "fetch_index",
    "tls_context",
]

AUTH_ERROR_CODES: Final = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"}
)
"""S3 error codes that mean the credentials (or their permissions) are wrong."""

MAX_CONCURRENT_FETCHES: Final = 16
_CHUNK: Final = 256 << 10
_OPEN_FLAGS: Final = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class BucketError(Exception):
    """A failed bucket operation; `auth_failed` when the credentials were refused."""

    def __init__(self, message: str, *, auth_failed: bool = False) -> None:
        super().__init__(message)
        self.auth_failed = auth_failed


@dataclass(frozen=True, repr=False)
class S3Config:
    """Where and how to reach one bucket. Its repr leaves the credentials and TLS material out.

    `iam` asks for AWS instance/web-identity credentials (provider `aws` without a Secret); with
    neither keys nor `iam` requests are anonymous. `timeout` (seconds) bounds each operation.
    """

    endpoint: str
    bucket: str
    region: str | None = None
    secure: bool = True
    access_key: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)
    iam: bool = False
    tls: ssl.SSLContext | None = None
    timeout: float = 60.0

    def __repr__(self) -> str:
        scheme = "https" if self.secure else "http"
        return f"S3Config({scheme}://{self.endpoint}/{self.bucket}, region={self.region!r})"


def check_endpoint(endpoint: str) -> None:
    """ValueError unless `endpoint` is a host with an optional port: no scheme, path or userinfo."""
    host, _, port = endpoint.rpartition(":") if endpoint.count(":") == 1 else (endpoint, "", "")
    if not host or any(c in endpoint for c in "/@?# ") or (port and not port.isdigit()):
        raise ValueError(f"invalid endpoint '{endpoint}': want a host with an optional port, e.g. 's3.amazonaws.com'")


def tls_context(data: Mapping[str, bytes]) -> ssl.SSLContext:
    """A client TLS context from a certSecretRef's `ca.crt` and/or `tls.crt` + `tls.key` (PEM).

    Raises ValueError (naming keys, never their contents) when the data is incomplete or invalid.
    """
    ca, cert, key = data.get("ca.crt"), data.get("tls.crt"), data.get("tls.key")
    if not (ca or cert or key):
        raise ValueError("certificate secret does not contain any TLS configuration")
    if bool(cert) != bool(key):
        raise ValueError("'tls.crt' and 'tls.key' must be given together")
    ctx = ssl.create_default_context()
    try:
        if ca:
            ctx.load_verify_locations(cadata=ca.decode("ascii", errors="replace"))
        if cert and key:
            _load_client_pair(ctx, cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise ValueError(f"invalid TLS data in certificate secret: {getattr(exc, 'reason', None) or exc}") from None
    return ctx


def _load_client_pair(ctx: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    # ssl only loads a key pair from files: keep them in a private directory just long enough.
    tmp = tempfile.mkdtemp(prefix="gotk-tls-")
    try:
        paths = []
        for name, pem in (("tls.crt", cert), ("tls.key", key)):
            path = os.path.join(tmp, name)
            fd = os.open(path, _OPEN_FLAGS, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
            paths.append(path)
        ctx.load_cert_chain(paths[0], paths[1])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _client(cfg: S3Config) -> Minio:
    http = urllib3.PoolManager(
        num_pools=2,
        maxsize=MAX_CONCURRENT_FETCHES,
        timeout=urllib3.Timeout(connect=cfg.timeout, read=cfg.timeout),
        retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
        ssl_context=cfg.tls or ssl.create_default_context(),
    )
    try:
        return Minio(
            cfg.endpoint,
            access_key=cfg.access_key or None,
            secret_key=cfg.secret_key or None,
            secure=cfg.secure,
            region=cfg.region or None,
            http_client=http,
            credentials=IamAwsProvider() if cfg.iam and not cfg.access_key else None,
        )
    except ValueError as exc:
        raise BucketError(f"invalid endpoint '{cfg.endpoint}': {exc}") from None


def _describe(exc: Exception) -> str:
    if isinstance(exc, S3Error):
        return f"{exc.code}: {exc.message}" if exc.message else str(exc.code)
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        return str(exc.reason)
    return str(exc) or type(exc).__name__


def _error(what: str, exc: Exception) -> BucketError:
    auth = isinstance(exc, S3Error) and exc.code in AUTH_ERROR_CODES
    return BucketError(f"{what}: {_describe(exc)}", auth_failed=auth)


_FAILURES: Final = (MinioException, urllib3.exceptions.HTTPError, OSError, ValueError)


class _Deadline:
    def __init__(self, seconds: float, bucket: str) -> None:
        self.at, self.seconds, self.bucket = time.monotonic() + seconds, seconds, bucket

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise BucketError(f"operation on bucket '{self.bucket}' timed out after {self.seconds:g}s")


def _read_ignore_file(client: Minio, cfg: S3Config) -> str | None:
    try:
        response = client.get_object(cfg.bucket, idx.IGNORE_KEY)
    except S3Error as exc:
        if exc.code == "NoSuchKey":
            return None
        raise
    try:
        data = response.read(ignore.MAX_IGNORE_FILE_SIZE + 1)
    finally:
        response.close()
        response.release_conn()
    if len(data) > ignore.MAX_IGNORE_FILE_SIZE:
        raise BucketError(
            f"'{idx.IGNORE_KEY}' in bucket '{cfg.bucket}' is larger than {ignore.MAX_IGNORE_FILE_SIZE} bytes"
        )
    return bytes(data).decode("utf-8", errors="surrogateescape")


def _listing(client: Minio, cfg: S3Config, prefix: str | None, deadline: _Deadline) -> Iterator[tuple[str, str]]:
    for obj in client.list_objects(cfg.bucket, prefix=prefix or None, recursive=True):
        deadline.check()
        yield str(obj.object_name), str(obj.etag or "")


def fetch_index(cfg: S3Config, *, prefix: str | None = None, spec_ignore: str | None = None) -> idx.Index:
    """List the bucket into an index of the keys that go into the artifact (blocking).

    Confirms the bucket exists, reads the root `.sourceignore`, lists the keys under `prefix`
    (a server-side filter) and applies the ignore rules. Raises BucketError; an unsafe key that
    is not ignored is one too.
    """
    client = _client(cfg)
    deadline = _Deadline(cfg.timeout, cfg.bucket)
    try:
        exists = client.bucket_exists(cfg.bucket)
    except _FAILURES as exc:
        raise _error(f"failed to confirm existence of '{cfg.bucket}' bucket", exc) from None
    if not exists:
        raise BucketError(f"bucket '{cfg.bucket}' not found")
    try:
        matcher = idx.make_matcher(_read_ignore_file(client, cfg), spec_ignore)
    except _FAILURES as exc:
        raise _error(f"failed to get '{idx.IGNORE_KEY}' object from '{cfg.bucket}' bucket", exc) from None
    try:
        return idx.build_index(_listing(client, cfg, prefix, deadline), matcher)
    except idx.UnsafeKeyError as exc:
        raise BucketError(f"bucket '{cfg.bucket}': {exc}; leave it out with spec.ignore or spec.prefix") from None
    except _FAILURES as exc:
        raise _error(f"indexation of objects from bucket '{cfg.bucket}' failed", exc) from None


def _target(dest: Path, key: str) -> Path:
    idx.check_key(key)
    target = dest.joinpath(*key.split("/"))
    if not os.path.realpath(target).startswith(os.path.realpath(dest) + os.sep):
        raise idx.UnsafeKeyError(f"object key {key!r} leaves the download directory")
    return target


def _fetch_one(client: Minio, cfg: S3Config, dest: Path, deadline: _Deadline, key: str) -> str | None:
    """Write one object below `dest`; its etag as served, or None when it vanished since the listing."""
    deadline.check()
    try:
        target = _target(dest, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        response = client.get_object(cfg.bucket, key)
    except S3Error as exc:
        if exc.code == "NoSuchKey":
            return None
        raise _error(f"failed to get '{key}' object", exc) from None
    except idx.UnsafeKeyError as exc:
        raise BucketError(f"bucket '{cfg.bucket}': {exc}") from None
    except _FAILURES as exc:
        raise _error(f"failed to get '{key}' object", exc) from None
    try:
        fd = os.open(target, _OPEN_FLAGS, 0o600)
        with os.fdopen(fd, "wb") as fh:
            for chunk in response.stream(_CHUNK):
                fh.write(chunk)
                deadline.check()
        return str(response.headers.get("ETag") or "").replace('"', "")
    except _FAILURES as exc:
        raise _error(f"failed to get '{key}' object", exc) from None
    finally:
        response.close()
        response.release_conn()


def download(cfg: S3Config, index: Mapping[str, str], dest: Path) -> idx.Index:
    """Download every indexed object to `dest/<key>` (blocking); returns the index as fetched.

    `dest` must be a fresh directory. An object that changed since the listing takes the etag it
    was served with; one that vanished leaves the index, as in Flux. Raises BucketError.
    """
    client = _client(cfg)
    deadline = _Deadline(cfg.timeout, cfg.bucket)
    keys = sorted(index)
    fetch = partial(_fetch_one, client, cfg, dest, deadline)
    pool = ThreadPoolExecutor(max_workers=max(1, min(MAX_CONCURRENT_FETCHES, len(keys))))
    try:
        etags = list(pool.map(fetch, keys))
    except BucketError as exc:
        raise BucketError(f"fetch from bucket '{cfg.bucket}' failed: {exc}", auth_failed=exc.auth_failed) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # after a failure, start no further downloads
    fetched: idx.Index = {}
    for key, etag in zip(keys, etags, strict=True):
        if etag is not None:
            fetched[key] = etag or index[key]
    return fetched
