"""gotk.source.bucket.index: Flux's index serialization and revision (sorted `<key> <etag>`
lines, the digest algorithm named by the stored revision), and how a listing becomes an index
(directory markers, the root `.sourceignore`, `.sourceignore` then `spec.ignore` priority, no defaults).
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gotk.source.bucket import index as idx

EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_index_text_is_sorted_key_space_etag_lines() -> None:
    assert idx.index_text({"foo": "bar", "bar": "baz"}) == "bar baz\nfoo bar\n"
    assert idx.index_text({}) == ""
    # byte order, as Go's sort.Strings: upper case before lower case, "a/b" before "a0"
    assert idx.index_text({"b": "1", "B": "2", "a0": "3", "a/b": "4"}) == "B 2\na/b 4\na0 3\nb 1\n"


def test_revision_is_the_digest_of_the_index_text() -> None:
    index = {"deploy/app.yaml": "9f86d081884c7d659a2feaa0c55ad015", "README.md": "d41d8cd98f00b204e9800998ecf8427e"}
    text = "README.md d41d8cd98f00b204e9800998ecf8427e\ndeploy/app.yaml 9f86d081884c7d659a2feaa0c55ad015\n"
    assert idx.revision(index) == "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    assert idx.revision(index, "sha512") == "sha512:" + hashlib.sha512(text.encode()).hexdigest()
    assert idx.revision({}) == EMPTY_SHA256  # an empty bucket, as in Flux's documentation


def test_revision_matches_uses_the_algorithm_of_the_stored_revision() -> None:
    index = {"a.yaml": "etag1"}
    assert idx.revision_matches(index, idx.revision(index))
    assert idx.revision_matches(index, idx.revision(index, "sha384"))
    assert idx.revision_matches(index, idx.revision(index).upper().replace("SHA256", "sha256"))
    assert not idx.revision_matches({"a.yaml": "etag2"}, idx.revision(index))
    assert not idx.revision_matches(index, None)
    assert not idx.revision_matches(index, "")
    assert not idx.revision_matches(index, idx.revision(index).partition(":")[2])  # no algorithm
    assert not idx.revision_matches(index, "md5:0123")
    assert not idx.revision_matches(index, "main@sha1:363a6a8fe6a7f13e05d34c163b0ef02a777da20a")


@given(st.dictionaries(st.text(min_size=1), st.text(alphabet="0123456789abcdef-", max_size=40)))
def test_revision_ignores_insertion_order(index: dict[str, str]) -> None:
    reordered = dict(reversed(list(index.items())))
    assert idx.revision(index) == idx.revision(reordered)
    assert idx.revision_matches(reordered, idx.revision(index))


LISTING = [
    ("deploy/", ""),
    ("deploy/app.yaml", "e1"),
    ("deploy/notes.txt", "e2"),
    (".sourceignore", "e3"),
    ("sub/.sourceignore", "e4"),
    ("logo.png", "e5"),
    ("keep.txt", "e6"),
]


def test_build_index_skips_directory_markers_and_the_root_sourceignore() -> None:
    index = idx.build_index(LISTING)
    assert index == {
        "deploy/app.yaml": "e1",
        "deploy/notes.txt": "e2",
        "sub/.sourceignore": "e4",
        "logo.png": "e5",
        "keep.txt": "e6",
    }, "no default exclusions for buckets: logo.png stays"


def test_build_index_applies_sourceignore_then_spec_ignore() -> None:
    matcher = idx.make_matcher("*.txt\n", None)
    assert set(idx.build_index(LISTING, matcher)) == {"deploy/app.yaml", "sub/.sourceignore", "logo.png"}
    # spec.ignore comes last, so it can re-include what .sourceignore excluded
    matcher = idx.make_matcher("*.txt\n", "!keep.txt\n/logo.png\n")
    assert set(idx.build_index(LISTING, matcher)) == {"deploy/app.yaml", "sub/.sourceignore", "keep.txt"}
    # an empty spec.ignore is still "set": only .sourceignore patterns apply
    assert idx.make_matcher(None, "").patterns == ()


def test_build_index_refuses_unsafe_keys_unless_ignored() -> None:
    with pytest.raises(idx.UnsafeKeyError, match=r"\.\./escape\.yaml"):
        idx.build_index([("ok.yaml", "1"), ("../escape.yaml", "2")])
    assert idx.build_index([("ok.yaml", "1"), ("../escape.yaml", "2")], idx.make_matcher(None, "escape.yaml")) == {
        "ok.yaml": "1"
    }
    with pytest.raises(idx.UnsafeKeyError, match="needs a directory"):
        idx.build_index([("a", "1"), ("a/b", "2")])
