"""Extracted source artifacts shared by every Kustomization that uses them, keyed by digest.

Many Kustomizations usually point at one source: each revision is downloaded and untarred once.
"""

from __future__ import annotations

import asyncio
import shutil
from collections import OrderedDict
from pathlib import Path

from gotk.runtime import artifacts


class ArtifactCache:
    """`get(url, digest)` returns a read-only directory holding the artifact's files."""

    def __init__(self, root: Path, *, max_entries: int = 64, retries: int = 9, timeout: float = 30.0) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_entries = max_entries
        self.retries = retries
        self.timeout = timeout
        self._dirs: OrderedDict[str, Path] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self.downloads = 0

    @staticmethod
    def _name(digest: str) -> str:
        algo, hexdigest = artifacts.parse_digest(digest)
        return f"{algo}-{hexdigest}"

    async def get(self, url: str, digest: str) -> Path:
        name = self._name(digest)
        found = self._dirs.get(name)
        if found is not None:
            self._dirs.move_to_end(name)
            return found
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            found = self._dirs.get(name)
            if found is not None:
                return found
            target = self.root / name
            if target.exists():
                await asyncio.to_thread(shutil.rmtree, target, True)
            await artifacts.fetch(url, digest, target, retries=self.retries, timeout=self.timeout)
            self.downloads += 1
            self._dirs[name] = target
            await self._evict()
        self._locks.pop(name, None)
        return target

    async def _evict(self) -> None:
        while len(self._dirs) > self.max_entries:
            _, old = self._dirs.popitem(last=False)
            # a build in flight may still read it: builds work on hard-linked copies, so removal is safe
            await asyncio.to_thread(shutil.rmtree, old, True)
