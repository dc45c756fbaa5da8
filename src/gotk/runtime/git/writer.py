"""Writing to a Git repository: a shallow work tree at a ref, on the branch to push (created from the checkout,
or the remote's push branch when it is kept), one commit of every change in the work tree (optionally
OpenPGP-signed), and a push of that branch and any extra refspecs with push options.

Blocking (pygit2 and gpg); async callers use `asyncio.to_thread`. Errors are `GitError` with messages safe
for conditions; a push that does not land raises `PushFailedError`, whose `remote_head` says where the
remote branch is now, so the caller can tell a moved branch (retry on the new head) from any other failure.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pygit2
from pygit2.enums import CheckoutStrategy

from gotk.runtime.git import callbacks, fetcher, refs, signatures
from gotk.runtime.git.auth import GitAuth, redact_url
from gotk.runtime.git.callbacks import OperationCallbacks
from gotk.runtime.git.errors import GitError, RefNotFoundError

__all__ = [
    "Author",
    "PushFailedError",
    "SigningKey",
    "Workspace",
    "commit_all",
    "open_or_init",
    "open_workspace",
    "push",
]


class PushFailedError(GitError):
    """The remote did not take the push; `remote_head` is its branch's commit now ('' when absent or unknown)."""

    def __init__(self, message: str, *, remote_head: str, base: str, auth_failed: bool = False) -> None:
        super().__init__(message, auth_failed=auth_failed)
        self.remote_head = remote_head
        self.base = base

    @property
    def moved(self) -> bool:
        """Whether the remote branch is now at a commit other than the one the pushed work started from."""
        return bool(self.remote_head) and self.remote_head != self.base


@dataclass(frozen=True)
class Author:
    """Who the commit is by (author and committer alike, as Flux's automation writes them)."""

    name: str
    email: str


@dataclass
class Workspace:
    """A work tree checked out for an update: `checkout` is the cloned commit, `branch` the local branch commits
    go to (the push branch), `base` the commit that branch started from."""

    path: Path
    url: str
    auth: GitAuth
    checkout: fetcher.CommitInfo | None  # None: a repository that had no commit yet
    branch: str
    base: str
    timeout: float


class _PushCallbacks(OperationCallbacks):
    """Records the remote's per-reference verdicts (a rejected update does not raise in libgit2)."""

    def __init__(self, auth: GitAuth, deadline: float) -> None:
        super().__init__(auth, deadline)
        self.rejected: list[str] = []

    def push_update_reference(self, refname: str, message: str | None) -> None:
        if message:
            self.rejected.append(f"{refname}: {message}")


def _callbacks(auth: GitAuth, timeout: float) -> OperationCallbacks:
    callbacks.ensure_socket_timeouts(timeout)
    return OperationCallbacks(auth, time.monotonic() + timeout)


def remote_head(url: str, auth: GitAuth, branch: str, *, timeout: float) -> str:
    """The commit `branch` points to on the remote ('' when it has no such branch)."""
    return fetcher.ls_remote(url, auth, timeout=timeout).get(f"refs/heads/{branch}", "")


HISTORY_DEPTH = 200  # how far back a push branch is looked for in the checkout branch's history


def open_workspace(
    url: str,
    auth: GitAuth,
    ref: refs.RefSpec,
    dest: Path,
    *,
    push_branch: str,
    keep_push_branch: bool,
    timeout: float,
) -> Workspace:
    """Clone `ref` shallowly into `dest` and put HEAD on `push_branch`, so that the push is a fast-forward:

    - the push branch is the checkout branch, or does not exist on the remote: the cloned commit;
    - it exists and is merged into the checkout (its head is in the checkout's history): the cloned commit, which
      is what Flux's default makes of the push branch (the checkout plus the update), without a forced push;
    - it exists with commits of its own (or `keep_push_branch`): the push branch's head, so nothing on it is lost.
    """
    info = fetcher.checkout(url, auth, ref, dest, depth=1, timeout=timeout)
    repo = pygit2.Repository(str(dest))
    start = info.sha
    switching = info.reference != f"refs/heads/{push_branch}"
    if switching:
        cb = _callbacks(auth, timeout)
        remote = repo.remotes.create_anonymous(url)
        local = f"refs/remotes/origin/{push_branch}"
        try:
            with fetcher.connection(cb):
                heads = {h.name for h in remote.list_heads(callbacks=cb, proxy=auth.proxy or None)}
                if f"refs/heads/{push_branch}" in heads:
                    specs = [f"+refs/heads/{push_branch}:{local}"]
                    if info.reference and info.reference.startswith("refs/heads/"):
                        specs.append(
                            f"+{info.reference}:refs/remotes/origin/{info.reference.removeprefix('refs/heads/')}"
                        )
                    remote.fetch(specs, callbacks=cb, proxy=auth.proxy or None, depth=HISTORY_DEPTH)
        except (pygit2.GitError, callbacks.DeadlineExceeded, callbacks.AuthRejected, callbacks.TrustRejected) as exc:
            raise fetcher.error_for(f"unable to fetch branch '{push_branch}'", exc, auth, url) from None
        if local in repo.references:
            target = repo.references[local].target
            assert isinstance(target, pygit2.Oid)
            merged = str(target) == info.sha or _contains(repo, info.sha, target)
            if keep_push_branch or not merged:
                commit = repo.get(target)
                assert isinstance(commit, pygit2.Commit)
                repo.checkout_tree(commit.tree, strategy=CheckoutStrategy.FORCE)
                start = str(commit.id)
    head = repo.get(start)
    assert isinstance(head, pygit2.Commit)
    repo.branches.local.create(push_branch, head, force=True)
    repo.set_head(f"refs/heads/{push_branch}")
    return Workspace(dest, url, auth, info, push_branch, start, timeout)


def _contains(repo: pygit2.Repository, head: str, target: pygit2.Oid) -> bool:
    """Whether `target` is in the (fetched) history of `head`; False when the history does not reach it."""
    try:
        return bool(repo.descendant_of(head, target))
    except (pygit2.GitError, KeyError, ValueError):
        return False


def open_or_init(url: str, auth: GitAuth, branch: str, dest: Path, *, timeout: float) -> Workspace:
    """`branch` of `url` checked out shallowly into `dest`; when the remote has no branch at all (a new, empty
    repository) a fresh repository whose first commit will create `branch`. Raises `GitError` (RefNotFoundError
    when the remote has branches but not this one)."""
    try:
        return open_workspace(
            url, auth, refs.RefSpec(branch=branch), dest, push_branch=branch, keep_push_branch=False, timeout=timeout
        )
    except RefNotFoundError:
        heads = [r for r in fetcher.ls_remote(url, auth, timeout=timeout) if r.startswith("refs/heads/")]
        if heads:
            raise
    shutil.rmtree(dest, ignore_errors=True)
    repo = pygit2.init_repository(str(dest), bare=False, initial_head=branch)
    del repo
    return Workspace(dest, url, auth, None, branch, "", timeout)


@dataclass(frozen=True)
class SigningKey:
    """A commit signing key: `kind` gpg (an armored key ring and its passphrase) or ssh (a private key and its
    password)."""

    kind: str
    key: bytes
    passphrase: str = ""

    def sign(self, payload: bytes) -> str:
        if self.kind == "ssh":
            return signatures.sign_ssh(self.key, self.passphrase, payload)
        return signatures.sign_pgp(self.key.decode("utf-8", "replace"), self.passphrase, payload)


def commit_all(ws: Workspace, author: Author, message: str, *, signing_key: SigningKey | None = None) -> str:
    """Commit every change of the work tree on the workspace's branch; '' when nothing changed."""
    repo = pygit2.Repository(str(ws.path))
    index = repo.index
    index.add_all()
    index.write()
    tree = index.write_tree()
    parents: list[str | pygit2.Oid] = []
    if not repo.head_is_unborn:
        parent = repo.head.peel(pygit2.Commit)
        if tree == parent.tree_id:
            return ""
        parents = [parent.id]
    elif not len(index):
        return ""
    email = author.email or "flux@localhost"  # libgit2 refuses the empty email go-git writes
    who = pygit2.Signature(author.name or email, email, int(time.time()), 0)
    if signing_key is None:
        oid = repo.create_commit(f"refs/heads/{ws.branch}", who, who, message, tree, parents)
        return str(oid)
    content = str(repo.create_commit_string(who, who, message, tree, parents))  # a str, whatever the stubs say
    signature = signing_key.sign(content.encode())
    oid = repo.create_commit_with_signature(content, signature)
    repo.references.create(f"refs/heads/{ws.branch}", oid, force=True)
    return str(oid)


def push(ws: Workspace, refspecs: list[str], *, options: dict[str, str] | None = None) -> None:
    """Push `refspecs` (`+src:dst` forces); raises `PushFailedError` when the remote refuses any of them."""
    repo = pygit2.Repository(str(ws.path))
    cb = _PushCallbacks(ws.auth, time.monotonic() + ws.timeout)
    callbacks.ensure_socket_timeouts(ws.timeout)
    push_options = [f"{k}={v}" for k, v in sorted((options or {}).items())] or None
    failure: GitError | None = None
    try:
        with fetcher.connection(cb):
            repo.remotes.create_anonymous(ws.url).push(
                refspecs, callbacks=cb, proxy=ws.auth.proxy or None, push_options=push_options
            )
    except (pygit2.GitError, callbacks.DeadlineExceeded, callbacks.AuthRejected, callbacks.TrustRejected) as exc:
        failure = fetcher.error_for(f"failed to push to '{redact_url(ws.url)}'", exc, ws.auth, ws.url)
    if failure is None and not cb.rejected:
        return
    message = failure.message if failure else ws.auth.scrub(f"push rejected: {'; '.join(cb.rejected)}")
    try:
        now = remote_head(ws.url, ws.auth, ws.branch, timeout=ws.timeout)
    except GitError:
        now = ""
    raise PushFailedError(message, remote_head=now, base=ws.base, auth_failed=bool(failure and failure.auth_failed))
