"""The scanned tags of each ImageRepository, kept on disk under the storage path so that a restarted
controller still has them (and a policy still chooses while the registry is down).

The layout is Flux's `FluxStorage` one: `imagerepository/<namespace>/<name>/tags.txt`, one tag per line,
gzipped to `tags.txt.gz` from 64 KiB. Files are replaced atomically; reads are served from memory after the
first. The revision of a tag list is Flux's default (BadgerDB) checksum: Adler-32 of the JSON array.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tempfile
import threading
import zlib
from pathlib import Path
from typing import Final

__all__ = ["COMPRESSION_THRESHOLD", "TagStore", "revision"]

COMPRESSION_THRESHOLD: Final = 64 * 1024
_PLAIN: Final = "tags.txt"
_GZIP: Final = "tags.txt.gz"


def revision(tags: list[str]) -> str:
    """Flux's checksum of a tag list (as its BadgerDB store computes it): Adler-32 of the JSON array."""
    data = json.dumps(tags, separators=(",", ":"), ensure_ascii=False).encode()
    return str(zlib.adler32(data))


class TagStore:
    """Tags per ImageRepository (namespace, name), in files under `root` and in memory; thread-safe."""

    def __init__(self, root: str | Path, *, compression_threshold: int = COMPRESSION_THRESHOLD) -> None:
        self.root = Path(root) / "imagerepository"
        self.threshold = compression_threshold
        self._cache: dict[tuple[str, str], list[str]] = {}
        self._lock = threading.Lock()

    def _dir(self, namespace: str, name: str) -> Path:
        return self.root / namespace / name

    def tags(self, namespace: str, name: str) -> list[str]:
        """The stored tags (empty when none were stored or the files are gone)."""
        key = (namespace, name)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        directory = self._dir(namespace, name)
        try:
            if (directory / _GZIP).exists():
                text = gzip.decompress((directory / _GZIP).read_bytes()).decode()
            else:
                text = (directory / _PLAIN).read_text()
        except (OSError, EOFError, zlib.error, UnicodeDecodeError):
            return []
        tags = [line for line in text.split("\n") if line]
        with self._lock:
            self._cache[key] = tags
        return tags

    def set_tags(self, namespace: str, name: str, tags: list[str]) -> str:
        """Replace the stored tags; returns the list's revision."""
        directory = self._dir(namespace, name)
        directory.mkdir(parents=True, exist_ok=True)
        data = "".join(f"{t}\n" for t in tags).encode()
        compressed = len(data) >= self.threshold
        target, other = (_GZIP, _PLAIN) if compressed else (_PLAIN, _GZIP)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tags-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(gzip.compress(data, mtime=0) if compressed else data)
            os.replace(tmp, directory / target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        (directory / other).unlink(missing_ok=True)
        with self._lock:
            self._cache[(namespace, name)] = list(tags)
        return revision(tags)

    def delete(self, namespace: str, name: str) -> None:
        """Forget a repository's tags (it was deleted)."""
        with self._lock:
            self._cache.pop((namespace, name), None)
        shutil.rmtree(self._dir(namespace, name), ignore_errors=True)
