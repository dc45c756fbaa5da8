"""The source-controller artifact store under `--storage-path`: files live at
`<kind-lowercase>/<namespace>/<name>/<file>`, are written atomically, carry a digest, are served
by `gotk.source.server`, and are garbage collected per object (Flux `pkg/artifact/storage`).

Every method that touches the filesystem blocks: reconcilers call them through
`asyncio.to_thread`. Mutating methods hold a per-object lock, so archiving, GC and removal of one
object never interleave, even across worker threads.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import stat
import tarfile
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Final, NotRequired, TypedDict

from gotk.runtime.artifacts import DIGEST_ALGORITHMS, InvalidDigestError, file_digest, new_hasher, parse_digest

__all__ = [
    "DIR_MODE",
    "EXEC_FILE_MODE",
    "FILE_MODE",
    "ArtifactDict",
    "Exclude",
    "Storage",
    "artifact_dir",
    "artifact_path",
]

FILE_MODE: Final = 0o600
"""Mode of regular files inside an archive (Flux's `DefaultFileMode`)."""
EXEC_FILE_MODE: Final = 0o700
"""Mode of files with any execute bit (Flux's `DefaultExeFileMode`)."""
DIR_MODE: Final = 0o750
"""Mode of directories inside an archive (Flux's `DefaultDirMode`)."""

_CHUNK: Final = 256 << 10
_TMP_SUFFIX: Final = ".tmp"

Exclude = Callable[[str, bool], bool]
"""`exclude(rel_path, is_dir) -> bool`; `gotk.source.ignore.Matcher` is one."""


class ArtifactDict(TypedDict):
    """`status.artifact` as Flux serializes it; the caller sets `revision` (and `metadata`)."""

    path: str
    url: str
    digest: str
    lastUpdateTime: str
    size: int
    revision: NotRequired[str]
    metadata: NotRequired[dict[str, str]]


def _component(value: str, what: str) -> str:
    if not value or value in (".", "..") or "/" in value or "\\" in value or "\x00" in value:
        raise ValueError(f"invalid artifact {what} {value!r}")
    return value


def artifact_dir(kind: str, namespace: str, name: str) -> str:
    """`<kind-lowercase>/<namespace>/<name>`, the directory holding one object's artifacts."""
    return "/".join((_component(kind.lower(), "kind"), _component(namespace, "namespace"), _component(name, "name")))


def artifact_path(kind: str, namespace: str, name: str, filename: str) -> str:
    """`<kind-lowercase>/<namespace>/<name>/<filename>`, relative to the storage root."""
    return f"{artifact_dir(kind, namespace, name)}/{_component(filename, 'filename')}"


class _HashingWriter:
    """File-like sink that writes through to `fh` while hashing and counting."""

    def __init__(self, fh: IO[bytes], algo: str) -> None:
        self._fh, self.hasher, self.size = fh, new_hasher(algo), 0

    def write(self, data: bytes) -> int:
        self.hasher.update(data)
        self.size += len(data)
        return self._fh.write(data)

    def flush(self) -> None:
        self._fh.flush()


def _entries(directory: Path, prefix: str) -> list[tuple[str, Path, os.stat_result]]:
    with os.scandir(directory) as it:
        entries = sorted(it, key=lambda e: os.fsencode(e.name))
    return [(f"{prefix}{e.name}", Path(e.path), e.stat(follow_symlinks=False)) for e in entries]


def _walk(root: Path, exclude: Exclude | None, *, prune: bool) -> Iterator[tuple[str, Path, os.stat_result]]:
    """Depth-first walk in name order (Go's `filepath.Walk`) of the dirs and regular files under root.

    Yields (rel_path, path, lstat). Symlinks and special files are skipped, never followed. An
    excluded directory is still descended unless `prune`, since a later `!pattern` may re-include
    its children.
    """
    stack = [iter(_entries(root, ""))]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        rel, path, st = item
        is_dir = stat.S_ISDIR(st.st_mode)
        if not is_dir and not stat.S_ISREG(st.st_mode):
            continue
        excluded = exclude is not None and exclude(rel, is_dir)
        if not excluded:
            yield rel, path, st
        if is_dir and not (excluded and prune):
            stack.append(iter(_entries(path, f"{rel}/")))


def _rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tar_dir(sink: _HashingWriter, src_dir: Path, exclude: Exclude | None) -> None:
    """Write the deterministic tar.gz of `src_dir` into `sink`."""
    prune = exclude is None or bool(getattr(exclude, "can_prune", False))
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=sink, mtime=0, compresslevel=6) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for rel, path, st in _walk(src_dir, exclude, prune=prune):
            info = tarfile.TarInfo(rel)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if stat.S_ISDIR(st.st_mode):
                info.type, info.mode = tarfile.DIRTYPE, DIR_MODE
                tar.addfile(info)
                continue
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
            with os.fdopen(fd, "rb") as fh:
                fst = os.fstat(fd)
                if not stat.S_ISREG(fst.st_mode):
                    continue
                info.type = tarfile.REGTYPE
                info.mode = EXEC_FILE_MODE if fst.st_mode & 0o111 else FILE_MODE
                info.size = fst.st_size
                tar.addfile(info, fh)


class Storage:
    """The artifact store rooted at `root`, advertised to consumers as `http://<adv_addr>/`.

    `retention_records` and `retention_ttl` (seconds) are `--artifact-retention-records` and
    `--artifact-retention-ttl`; `digest_algo` is `--artifact-digest-algo`. `wall_clock` returns
    epoch seconds and exists for tests.
    """

    def __init__(
        self,
        root: Path,
        *,
        adv_addr: str,
        retention_records: int = 2,
        retention_ttl: float = 60.0,
        digest_algo: str = "sha256",
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if digest_algo not in DIGEST_ALGORITHMS:
            raise ValueError(f"unsupported digest algorithm {digest_algo!r}")
        self.root = Path(os.path.abspath(root))
        self.root.mkdir(parents=True, exist_ok=True)
        self.adv_addr = adv_addr
        self.retention_records = retention_records
        self.retention_ttl = retention_ttl
        self.digest_algo = digest_algo
        self._wall = wall_clock
        self._locks: weakref.WeakValueDictionary[str, threading.Lock] = weakref.WeakValueDictionary()
        self._locks_guard = threading.Lock()

    def _lock(self, kind: str, namespace: str, name: str) -> threading.Lock:
        key = artifact_dir(kind, namespace, name)
        with self._locks_guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = threading.Lock()
                self._locks[key] = lock
            return lock

    def local_path(self, path: str) -> Path:
        """The file for a storage-relative artifact path; ValueError if it would leave the root."""
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if not parts or any(p == ".." or "\\" in p or "\x00" in p for p in parts):
            raise ValueError(f"invalid artifact path {path!r}")
        return self.root.joinpath(*parts)

    def url_for(self, path: str) -> str:
        """`http://<adv_addr>/<path>`; an `adv_addr` that already has a scheme is used as is."""
        base = self.adv_addr.rstrip("/")
        if not base.startswith(("http://", "https://")):
            base = f"http://{base}"
        return f"{base}/{path.lstrip('/')}"

    def _artifact(self, path: str, digest: str, size: int, revision: str | None) -> ArtifactDict:
        artifact: ArtifactDict = {
            "path": path,
            "url": self.url_for(path),
            "digest": digest,
            "lastUpdateTime": _rfc3339(self._wall()),
            "size": size,
        }
        if revision is not None:
            artifact["revision"] = revision
        return artifact

    def _write(
        self,
        kind: str,
        namespace: str,
        name: str,
        filename: str,
        revision: str | None,
        produce: Callable[[_HashingWriter], None],
    ) -> ArtifactDict:
        rel = artifact_path(kind, namespace, name, filename)
        target = self.local_path(rel)
        with self._lock(kind, namespace, name):
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
            fd, tmp = tempfile.mkstemp(prefix=f".{filename}.", suffix=_TMP_SUFFIX, dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    sink = _HashingWriter(fh, self.digest_algo)
                    produce(sink)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
        return self._artifact(rel, f"{self.digest_algo}:{sink.hasher.hexdigest()}", sink.size, revision)

    def archive_dir(
        self,
        src_dir: Path,
        kind: str,
        namespace: str,
        name: str,
        filename: str,
        *,
        exclude: Exclude | None = None,
        revision: str | None = None,
    ) -> ArtifactDict:
        """Archive `src_dir` as a deterministic tar.gz at `<kind>/<ns>/<name>/<filename>` (blocking).

        Entries are depth-first in name order with mtime 0, uid/gid 0, no owner names and modes
        0600/0700 (executable)/0750 (dirs); only directories and regular files are stored, symlinks
        are skipped like Flux does. `exclude(rel_path, is_dir)` drops paths. The file appears
        atomically (temp file + rename) and the returned artifact carries digest, size and time.
        """
        if not src_dir.is_dir():
            raise NotADirectoryError(f"invalid dir path: {src_dir}")
        return self._write(kind, namespace, name, filename, revision, lambda sink: _tar_dir(sink, src_dir, exclude))

    def copy_file(
        self, src: Path, kind: str, namespace: str, name: str, filename: str, *, revision: str | None = None
    ) -> ArtifactDict:
        """Store an already-packaged file (Helm chart, OCI layer) as an artifact (blocking)."""

        def produce(sink: _HashingWriter) -> None:
            with src.open("rb") as fh:
                shutil.copyfileobj(fh, sink, _CHUNK)

        return self._write(kind, namespace, name, filename, revision, produce)

    def store_bytes(
        self, data: bytes, kind: str, namespace: str, name: str, filename: str, *, revision: str | None = None
    ) -> ArtifactDict:
        """Store in-memory content (e.g. a Helm repository index) as an artifact (blocking)."""

        def produce(sink: _HashingWriter) -> None:
            sink.write(data)

        return self._write(kind, namespace, name, filename, revision, produce)

    def symlink(self, artifact: Mapping[str, object], link_name: str) -> str:
        """Point `<artifact dir>/<link_name>` at the artifact's file, atomically; return the link's URL (blocking).

        Flux's stable URLs (`latest.tar.gz`, a HelmRepository's `index.yaml`); garbage collection skips links."""
        rel = str(artifact["path"])
        target = self.local_path(rel)
        tmp = target.parent / f".{link_name}.{uuid.uuid4().hex}{_TMP_SUFFIX}"
        os.symlink(target.name, tmp)
        try:
            os.replace(tmp, target.parent / link_name)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise
        return self.url_for(f"{rel.rpartition('/')[0]}/{link_name}")

    def exists(self, artifact: Mapping[str, object]) -> bool:
        """Whether the artifact's file is present as a regular file (blocking)."""
        try:
            return stat.S_ISREG(os.lstat(self.local_path(str(artifact["path"]))).st_mode)
        except (KeyError, ValueError, OSError):
            return False

    def verify(self, artifact: Mapping[str, object]) -> bool:
        """Whether the artifact's file exists and hashes to its `digest` (blocking)."""
        try:
            algo, expected = parse_digest(str(artifact["digest"]))
            return file_digest(self.local_path(str(artifact["path"])), algo) == f"{algo}:{expected}"
        except (KeyError, ValueError, InvalidDigestError, OSError):
            return False

    def garbage_collect(
        self,
        kind: str,
        namespace: str,
        name: str,
        current_path: str | None,
        *,
        keep_records: int | None = None,
        ttl: float | None = None,
    ) -> list[str]:
        """Delete an object's old artifacts as Flux does; returns the removed storage paths (blocking).

        Never removes `current_path`. Removes every other file older than `ttl`, then the oldest
        remaining ones until at most `keep_records` files (the current one included) are left.
        Leftover temp files older than `ttl` go too; `*.lock` files and symlinks are ignored.
        """
        keep = self.retention_records if keep_records is None else keep_records
        max_age = self.retention_ttl if ttl is None else ttl
        rel_dir = artifact_dir(kind, namespace, name)
        current = self.local_path(current_path) if current_path else None
        with self._lock(kind, namespace, name):
            now = self._wall()
            try:
                with os.scandir(self.local_path(rel_dir)) as it:
                    entries = [(e.name, Path(e.path), e.stat(follow_symlinks=False)) for e in it]
            except FileNotFoundError:
                return []
            files: list[tuple[float, str, Path]] = []
            garbage: list[Path] = []
            for entry_name, path, st in entries:
                if not stat.S_ISREG(st.st_mode) or entry_name.endswith(".lock"):
                    continue
                expired = now - st.st_mtime > max_age
                if entry_name.startswith(".") and entry_name.endswith(_TMP_SUFFIX):
                    if expired:
                        garbage.append(path)
                    continue
                files.append((st.st_mtime, entry_name, path))
                if expired and path != current:
                    garbage.append(path)
            remaining = len(files) - sum(1 for _, _, p in files if p in garbage)
            for _, _, path in sorted(files):
                if remaining <= keep:
                    break
                if path != current and path not in garbage:
                    garbage.append(path)
                    remaining -= 1
            removed: list[str] = []
            for path in garbage:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed.append(f"{rel_dir}/{path.name}")
        return removed

    def remove_all(self, kind: str, namespace: str, name: str) -> str | None:
        """Delete every artifact of an object (on object deletion); returns the removed dir (blocking)."""
        rel_dir = artifact_dir(kind, namespace, name)
        with self._lock(kind, namespace, name):
            directory = self.local_path(rel_dir)
            if not directory.is_dir() or directory.is_symlink():
                return None
            shutil.rmtree(directory)
        return rel_dir
