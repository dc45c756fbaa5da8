"""Build bare Git repositories for tests and benchmarks with pygit2, without a work tree:
`make_repo` (first commit, branch, tags), `commit` (add/replace/delete files on a branch or
any ref), `tag` (lightweight or annotated) and `set_ref`. Commits and annotated tags can be
signed by a `Signer` (tests: `gotk.testing.gitsign`). Served by `gotk.local.gitserver`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pygit2
from pygit2.enums import FileMode, ObjectType


@dataclass(frozen=True)
class Gitlink:
    """A submodule entry pinned at `sha` (describe it in a `.gitmodules` file next to it)."""

    sha: str


FileContent = str | bytes | Gitlink | None  # None deletes the path in `commit`
Signer = Callable[[bytes], str]  # payload -> armored detached signature (PGP or SSH)

AUTHOR_NAME = "gotk test"
AUTHOR_EMAIL = "test@gotk.invalid"


def _signature() -> pygit2.Signature:
    return pygit2.Signature(AUTHOR_NAME, AUTHOR_EMAIL, int(time.time()), 0)


def _flatten(repo: pygit2.Repository, tree: pygit2.Tree, prefix: str = "") -> dict[str, tuple[pygit2.Oid, int]]:
    out: dict[str, tuple[pygit2.Oid, int]] = {}
    for entry in tree:
        path = f"{prefix}{entry.name}"
        if entry.filemode == FileMode.TREE:
            sub = repo[entry.id]
            assert isinstance(sub, pygit2.Tree)
            out.update(_flatten(repo, sub, path + "/"))
        else:
            out[path] = (entry.id, entry.filemode)
    return out


def _write_tree(repo: pygit2.Repository, entries: Mapping[str, tuple[pygit2.Oid, int]]) -> pygit2.Oid:
    builder = repo.TreeBuilder()
    subdirs: dict[str, dict[str, tuple[pygit2.Oid, int]]] = {}
    for path, (oid, mode) in entries.items():
        head, sep, rest = path.partition("/")
        if sep:
            subdirs.setdefault(head, {})[rest] = (oid, mode)
        else:
            builder.insert(head, oid, mode)
    for name, sub in subdirs.items():
        builder.insert(name, _write_tree(repo, sub), FileMode.TREE)
    return builder.write()


def commit(
    repo_path: Path,
    files: Mapping[str, FileContent],
    message: str,
    *,
    branch: str = "main",
    ref: str | None = None,
    parent: str | None = None,
    signer: Signer | None = None,
) -> str:
    """Commit `files` on top of `ref` (default `refs/heads/<branch>`) and move it; return the sha.

    Paths use `/`; a None value deletes the path, a `Gitlink` adds a submodule entry. `parent`
    (a sha) starts from that commit instead of the ref's tip (e.g. for `refs/pull/1/head`).
    With `signer` the commit carries its signature in the `gpgsig` header, as `git commit -S`.
    """
    repo = pygit2.Repository(str(repo_path))
    refname = ref or f"refs/heads/{branch}"
    parents: list[pygit2.Oid] = []
    if parent is not None:
        parents = [pygit2.Oid(hex=parent)]
    elif refname in repo.references:
        parents = [repo.references[refname].peel(pygit2.Commit).id]
    entries: dict[str, tuple[pygit2.Oid, int]] = {}
    if parents:
        base = repo[parents[0]]
        assert isinstance(base, pygit2.Commit)
        entries = _flatten(repo, base.tree)
    for path, content in files.items():
        if content is None:
            entries.pop(path, None)
        elif isinstance(content, Gitlink):
            entries[path] = (pygit2.Oid(hex=content.sha), FileMode.COMMIT)
        else:
            entries[path] = (repo.create_blob(content), FileMode.BLOB)
    sig = _signature()
    tree = _write_tree(repo, entries)
    if signer is None:
        oid = repo.create_commit(None, sig, sig, message, tree, parents)
    else:
        # pygit2 returns the commit text (its stubs say Oid)
        payload = str(repo.create_commit_string(sig, sig, message, tree, list[str | pygit2.Oid](parents)))
        oid = repo.create_commit_with_signature(payload, signer(payload.encode()))
    repo.references.create(refname, oid, force=True)
    return str(oid)


def tag(
    repo_path: Path, name: str, target: str = "main", *, message: str | None = None, signer: Signer | None = None
) -> str:
    """Tag `target` (a branch name or a sha): annotated when `message` is given. Return the tag's sha
    (the tag object for annotated tags, the commit for lightweight ones). With `signer` the
    annotated tag's signature follows its message, as `git tag -s`."""
    repo = pygit2.Repository(str(repo_path))
    commit_id = repo.revparse_single(target).peel(pygit2.Commit).id
    if message is None:
        repo.references.create(f"refs/tags/{name}", commit_id, force=True)
        return str(commit_id)
    if signer is None:
        return str(repo.create_tag(name, commit_id, ObjectType.COMMIT, _signature(), message))
    sig = _signature()
    body = message if message.endswith("\n") else message + "\n"
    payload = f"object {commit_id}\ntype commit\ntag {name}\ntagger {sig.name} <{sig.email}> {sig.time} +0000\n\n{body}"
    oid = repo.odb.write(ObjectType.TAG, payload.encode() + signer(payload.encode()).encode())
    repo.references.create(f"refs/tags/{name}", oid, force=True)
    return str(oid)


def set_ref(repo_path: Path, name: str, sha: str) -> None:
    """Point the full ref `name` (e.g. `refs/pull/1/head`) at `sha`."""
    pygit2.Repository(str(repo_path)).references.create(name, pygit2.Oid(hex=sha), force=True)


def make_repo(
    root: Path,
    name: str,
    files: Mapping[str, FileContent],
    *,
    branch: str = "main",
    message: str = "initial commit",
    tags: Iterable[str] = (),
    annotated_tags: Iterable[str] = (),
) -> Path:
    """Create the bare repository `root/name` whose HEAD is `branch`, holding one commit with
    `files`, tagged with each of `tags` (lightweight) and `annotated_tags`."""
    path = Path(root) / name
    pygit2.init_repository(str(path), bare=True, initial_head=branch)
    sha = commit(path, files, message, branch=branch)
    for t in tags:
        tag(path, t, sha)
    for t in annotated_tags:
        tag(path, t, sha, message=f"release {t}")
    return path
