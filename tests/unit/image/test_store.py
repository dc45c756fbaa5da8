"""The tag store (gotk.image.store): survives a new instance (a restart), compresses large lists, and
computes Flux's BadgerDB checksum."""

from __future__ import annotations

import zlib
from pathlib import Path

from gotk.image.store import TagStore, revision


def test_tags_survive_a_new_store(tmp_path: Path) -> None:
    store = TagStore(tmp_path)
    rev = store.set_tags("ns", "app", ["1.0.1", "1.0.0"])
    assert (tmp_path / "imagerepository" / "ns" / "app" / "tags.txt").read_text() == "1.0.1\n1.0.0\n"
    assert TagStore(tmp_path).tags("ns", "app") == ["1.0.1", "1.0.0"]
    assert rev == str(zlib.adler32(b'["1.0.1","1.0.0"]'))


def test_large_lists_are_gzipped(tmp_path: Path) -> None:
    store = TagStore(tmp_path)
    tags = [f"1.0.{i}" for i in range(20000)]
    store.set_tags("ns", "big", tags)
    directory = tmp_path / "imagerepository" / "ns" / "big"
    assert (directory / "tags.txt.gz").exists() and not (directory / "tags.txt").exists()
    assert TagStore(tmp_path).tags("ns", "big") == tags
    store.set_tags("ns", "big", ["1"])
    assert (directory / "tags.txt").exists() and not (directory / "tags.txt.gz").exists()


def test_missing_and_deleted(tmp_path: Path) -> None:
    store = TagStore(tmp_path)
    assert store.tags("ns", "none") == []
    store.set_tags("ns", "gone", ["a"])
    store.delete("ns", "gone")
    assert store.tags("ns", "gone") == [] and TagStore(tmp_path).tags("ns", "gone") == []


def test_revision_of_empty_list() -> None:
    assert revision([]) == str(zlib.adler32(b"[]"))
