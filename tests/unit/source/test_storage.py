"""gotk.source.storage: path layout and URLs, deterministic atomic archives (entries, modes,
symlinks skipped, exclusions), copy/store, exists/verify, Flux's GC retention rules, removal, and
Hypothesis properties: random trees round-trip byte-identically through archive_dir ->
safe_extract, and the digest depends only on content.
"""

from __future__ import annotations

import os
import random
import tarfile
import tempfile
import threading
from pathlib import Path
from typing import Union

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gotk.runtime.artifacts import file_digest, safe_extract
from gotk.source.ignore import build_matcher
from gotk.source.storage import Storage, artifact_dir, artifact_path

NOW = 1_800_000_000.0


def make_storage(root: Path) -> Storage:
    return Storage(root / "data", adv_addr="source-controller.flux-system.svc.cluster.local.", wall_clock=lambda: NOW)


def write(root: Path, rel: str, data: bytes = b"x", mode: int = 0o644) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)


def test_layout_and_url(tmp_path: Path) -> None:
    s = make_storage(tmp_path)
    assert artifact_dir("GitRepository", "default", "podinfo") == "gitrepository/default/podinfo"
    assert artifact_path("HelmChart", "ns", "c", "c-1.0.0.tgz") == "helmchart/ns/c/c-1.0.0.tgz"
    assert s.url_for("gitrepository/default/podinfo/x.tar.gz") == (
        "http://source-controller.flux-system.svc.cluster.local./gitrepository/default/podinfo/x.tar.gz"
    )
    s.adv_addr = "https://example.com:8443/"
    assert s.url_for("/a/b") == "https://example.com:8443/a/b"
    for bad in (("..", "ns", "n", "f"), ("k", "a/b", "n", "f"), ("k", "ns", "", "f"), ("k", "ns", "n", "..")):
        with pytest.raises(ValueError):
            artifact_path(*bad)
    for bad_path in ("../etc/passwd", "a/../../b", "", "a\\b"):
        with pytest.raises(ValueError):
            s.local_path(bad_path)


def test_archive_dir_contents_and_artifact(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write(src, "deploy/app.yaml", b"kind: Deployment\n")
    write(src, "run.sh", b"#!/bin/sh\n", 0o755)
    write(src, "a.txt", b"a")
    write(src, ".git/config", b"[core]")
    write(src, "logo.png", b"\x89PNG")
    (src / "empty").mkdir()
    os.symlink("/etc/passwd", src / "passwd")
    os.symlink("deploy", src / "deploy-link")
    s = make_storage(tmp_path)

    art = s.archive_dir(src, "GitRepository", "default", "podinfo", "abc.tar.gz", exclude=build_matcher(src, None))

    assert art["path"] == "gitrepository/default/podinfo/abc.tar.gz"
    assert art["url"].endswith("/gitrepository/default/podinfo/abc.tar.gz")
    assert art["lastUpdateTime"] == "2027-01-15T08:00:00Z"
    assert "revision" not in art
    local = s.local_path(art["path"])
    assert art["size"] == local.stat().st_size
    assert art["digest"] == file_digest(local)
    with tarfile.open(local) as tar:
        members = tar.getmembers()
    assert [(m.name, m.type, m.mode) for m in members] == [
        ("a.txt", tarfile.REGTYPE, 0o600),
        ("deploy", tarfile.DIRTYPE, 0o750),
        ("deploy/app.yaml", tarfile.REGTYPE, 0o600),
        ("empty", tarfile.DIRTYPE, 0o750),
        ("run.sh", tarfile.REGTYPE, 0o700),
    ]
    assert all((m.mtime, m.uid, m.gid, m.uname, m.gname) == (0, 0, 0, "", "") for m in members)
    assert sorted(p.name for p in local.parent.iterdir()) == ["abc.tar.gz"]  # no temp file left
    assert s.exists(art) and s.verify(art)

    again = s.archive_dir(src, "GitRepository", "default", "podinfo", "abc.tar.gz", revision="main@sha1:abc")
    assert again["revision"] == "main@sha1:abc"


def test_archive_failure_leaves_previous_artifact(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write(src, "a.yaml", b"a")
    s = make_storage(tmp_path)
    good = s.archive_dir(src, "GitRepository", "ns", "n", "f.tar.gz")

    def explode(rel: str, is_dir: bool) -> bool:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        s.archive_dir(src, "GitRepository", "ns", "n", "f.tar.gz", exclude=explode)
    with pytest.raises(NotADirectoryError):
        s.archive_dir(src / "a.yaml", "GitRepository", "ns", "n", "f.tar.gz")
    assert s.verify(good)
    assert [p.name for p in s.local_path(good["path"]).parent.iterdir()] == ["f.tar.gz"]


def test_copy_store_exists_verify(tmp_path: Path) -> None:
    s = make_storage(tmp_path)
    chart = tmp_path / "podinfo-6.0.0.tgz"
    chart.write_bytes(os.urandom(100_000))
    art = s.copy_file(chart, "HelmChart", "ns", "podinfo", chart.name, revision="6.0.0")
    assert s.local_path(art["path"]).read_bytes() == chart.read_bytes()
    assert art["digest"] == file_digest(chart) and art["size"] == 100_000 and art["revision"] == "6.0.0"

    idx = s.store_bytes(b"apiVersion: v1\nentries: {}\n", "HelmRepository", "ns", "repo", "index-abc.yaml")
    assert s.verify(idx)
    s.local_path(idx["path"]).write_bytes(b"tampered")
    assert s.exists(idx) and not s.verify(idx)
    assert not s.verify({**idx, "digest": "md5:abc"})
    assert not s.exists({**idx, "path": "helmrepository/ns/repo/missing.yaml"})
    assert not s.exists({**idx, "path": "../../etc/passwd"})

    s384 = Storage(tmp_path / "d384", adv_addr="x", digest_algo="sha384")
    a384 = s384.store_bytes(b"x", "Bucket", "ns", "b", "f")
    assert a384["digest"].startswith("sha384:") and s384.verify(a384)


def touch(s: Storage, name: str, age: float, obj: tuple[str, str, str] = ("GitRepository", "ns", "n")) -> str:
    rel = artifact_path(*obj, name)
    path = s.local_path(rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(name.encode())
    os.utime(path, (NOW - age, NOW - age))
    return rel


@pytest.mark.parametrize(
    ("ages", "records", "ttl", "deleted"),
    [
        # Flux gc_test cases: oldest first, the last one is current
        ([50, 40, 30, 20, 10], 2, 120, ["a0", "a1", "a2"]),  # records cap
        ([5, 4, 3, 2, 1], 4, 3.5, ["a0", "a1"]),  # ttl
        ([6, 5, 4, 3, 2, 1], 4, 5.5, ["a0", "a1"]),  # ttl, then the cap
        ([5, 4, 3, 2, 1], 2, 0.5, ["a0", "a1", "a2", "a3"]),  # everything expired but the current
        ([30, 20], 2, 60, []),
    ],
)
def test_garbage_collect_retention(
    tmp_path: Path, ages: list[float], records: int, ttl: float, deleted: list[str]
) -> None:
    s = make_storage(tmp_path)
    paths = [touch(s, f"a{i}", age) for i, age in enumerate(ages)]
    touch(s, "a9.lock", 1000)
    removed = s.garbage_collect("GitRepository", "ns", "n", paths[-1], keep_records=records, ttl=ttl)
    assert sorted(removed) == [artifact_path("GitRepository", "ns", "n", d) for d in deleted]
    left = sorted(p.name for p in s.local_path(artifact_dir("GitRepository", "ns", "n")).iterdir())
    assert left == sorted({f"a{i}" for i in range(len(ages))} - set(deleted) | {"a9.lock"})


def test_garbage_collect_keeps_current_even_if_oldest_and_drops_stale_temps(tmp_path: Path) -> None:
    s = make_storage(tmp_path)  # defaults: 2 records, 60s
    current = touch(s, "old-current", 500)
    for i in range(4):
        touch(s, f"new{i}", 10 - i)
    touch(s, ".x.tar.gz.abc.tmp", 120)
    touch(s, ".y.tar.gz.def.tmp", 1)
    os.symlink("new0", s.local_path(artifact_dir("GitRepository", "ns", "n")) / "latest")
    removed = s.garbage_collect("GitRepository", "ns", "n", current)
    names = sorted(r.rsplit("/", 1)[1] for r in removed)
    assert names == [".x.tar.gz.abc.tmp", "new0", "new1", "new2"]
    assert s.garbage_collect("Bucket", "ns", "missing", None) == []


def test_remove_all(tmp_path: Path) -> None:
    s = make_storage(tmp_path)
    touch(s, "a", 1)
    touch(s, "b", 1, ("GitRepository", "ns", "other"))
    assert s.remove_all("GitRepository", "ns", "n") == "gitrepository/ns/n"
    assert s.remove_all("GitRepository", "ns", "n") is None
    assert s.local_path("gitrepository/ns/other/b").exists()


def test_concurrent_writers_and_gc_of_one_object(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write(src, "a.yaml", b"a" * 10_000)
    s = make_storage(tmp_path)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            art = s.archive_dir(src, "GitRepository", "ns", "n", f"{i % 3}.tar.gz")
            s.garbage_collect("GitRepository", "ns", "n", art["path"], keep_records=1, ttl=0)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert not [p for p in s.local_path("gitrepository/ns/n").iterdir() if p.name.endswith(".tmp")]


# --- Hypothesis: round trip and determinism ----------------------------------------------------

Tree = dict[str, Union[tuple[bytes, bool], "Tree"]]

_names = st.one_of(
    st.text(alphabet="abcxyz012._-", min_size=1, max_size=10),
    st.text(alphabet="aéü日-", min_size=1, max_size=6),
    st.text(alphabet="longname", min_size=101, max_size=120),
).filter(lambda n: n not in (".", ".."))
_files = st.tuples(st.binary(max_size=3000), st.booleans())
_trees: st.SearchStrategy[Tree] = st.recursive(
    st.dictionaries(_names, _files, max_size=4),
    lambda sub: st.dictionaries(_names, st.one_of(_files, sub), max_size=4),
    max_leaves=25,
)


def materialize(root: Path, tree: Tree, rng: random.Random) -> None:
    """Create `tree` under root in a random order with random mtimes and non-exec permission bits."""
    root.mkdir(parents=True, exist_ok=True)
    items = list(tree.items())
    rng.shuffle(items)
    for name, node in items:
        path = root / name
        if isinstance(node, dict):
            materialize(path, node, rng)
        else:
            data, executable = node
            path.write_bytes(data)
            path.chmod(rng.choice([0o755, 0o700, 0o750]) if executable else rng.choice([0o644, 0o600, 0o640]))
        os.utime(path, (rng.uniform(0, 2e9), rng.uniform(0, 2e9)))


def snapshot(root: Path) -> dict[str, tuple[str, bytes, bool]]:
    out: dict[str, tuple[str, bytes, bool]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = ("d", b"", False)
        for f in filenames:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, root)] = ("f", Path(p).read_bytes(), bool(os.stat(p).st_mode & 0o100))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=_trees, seed=st.integers(0, 2**32))
def test_archive_round_trips_byte_identical(tree: Tree, seed: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        materialize(base / "src", tree, random.Random(seed))
        s = Storage(base / "data", adv_addr="localhost")
        art = s.archive_dir(base / "src", "GitRepository", "ns", "n", "x.tar.gz")
        safe_extract(s.local_path(art["path"]), base / "out")
        assert snapshot(base / "out") == snapshot(base / "src")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=_trees, seed1=st.integers(0, 2**32), seed2=st.integers(0, 2**32))
def test_archive_digest_depends_only_on_content(tree: Tree, seed1: int, seed2: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        materialize(base / "one", tree, random.Random(seed1))
        materialize(base / "two", tree, random.Random(seed2))
        s = Storage(base / "data", adv_addr="localhost")
        a = s.archive_dir(base / "one", "GitRepository", "ns", "a", "1.tar.gz")
        b = s.archive_dir(base / "two", "OCIRepository", "other", "b", "2.tar.gz")
        assert a["digest"] == b["digest"]
        assert a["size"] == b["size"]
