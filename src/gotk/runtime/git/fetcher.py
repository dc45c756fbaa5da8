"""Blocking Git network operations over pygit2 (callers run them in a thread): `ls_remote`
(one ref advertisement, no clone: the cheap no-change check), `resolve_remote` and `checkout`
(a shallow single-ref fetch where possible, then the exact commit in a work tree). The checked
out commit, and the tag it came through, carry their signatures for `gotk.runtime.git.signatures`.
HTTPS traffic goes through `GitAuth.proxy` when set.

Errors are `GitError`s in Flux's words, without credentials or URL userinfo.
"""

from __future__ import annotations

import atexit
import datetime
import os
import posixpath
import re
import shutil
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pygit2
import pygit2.callbacks
from pygit2.enums import CheckoutStrategy
from pygit2.ffi import C, ffi

from gotk.runtime.git import callbacks, refs, signatures
from gotk.runtime.git.auth import GitAuth, redact_url
from gotk.runtime.git.callbacks import OperationCallbacks
from gotk.runtime.git.errors import CHECKOUT_FAILED, GitError, RefNotFoundError

__all__ = ["CommitInfo", "Signature", "TagInfo", "checkout", "ls_remote", "resolve_remote"]

DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Signature:
    """A commit's author or committer: name, email and time."""

    name: str
    email: str
    time: datetime.datetime


@dataclass(frozen=True)
class TagInfo:
    """The tag a checkout came through: its name, and for an annotated tag the tag object's sha
    and its signature; `str()` is Flux's `<name>@<sha>` (just the name for a lightweight tag)."""

    name: str
    sha: str | None = None
    signed: signatures.SignedObject = field(default_factory=lambda: signatures.SignedObject("tag"))

    def __str__(self) -> str:
        return f"{self.name}@{self.sha}" if self.sha else self.name


@dataclass(frozen=True)
class CommitInfo:
    """The checked-out commit: sha, Flux revision, the ref it came through, metadata, its
    signature, and the tag it was reached through (for tag, semver and `refs/tags/` name refs)."""

    sha: str
    revision: str
    reference: str | None
    message: str
    author: Signature
    committer: Signature
    tag_sha: str | None = None
    shallow: bool = False
    signed: signatures.SignedObject = field(default_factory=lambda: signatures.SignedObject("commit"))
    tag: TagInfo | None = None

    @property
    def short_message(self) -> str:
        """The subject line, cut to 50 characters as Flux does for events."""
        subject = self.message.split("\n", 1)[0]
        return subject if len(subject) <= 50 else subject[:50] + "..."


def _signature(sig: pygit2.Signature) -> Signature:
    tz = datetime.timezone(datetime.timedelta(minutes=sig.offset))
    return Signature(sig.name, sig.email, datetime.datetime.fromtimestamp(sig.time, tz))


_HTTP_STATUS = re.compile(r"unexpected http status code: (\d{3})")


def _cause(exc: BaseException) -> tuple[str, bool, bool]:
    """(message, auth_failed, timed_out) for an exception out of pygit2 or our callbacks."""
    if isinstance(exc, callbacks.DeadlineExceeded):
        return str(exc), False, True
    if isinstance(exc, callbacks.AuthRejected | pygit2.AuthError):
        text = str(exc) if isinstance(exc, callbacks.AuthRejected) else "authentication required"
        if "proxy" in str(exc).lower():
            text = "proxy authentication required: check the username and password of the proxy secret"
        return text, True, False
    text = str(exc) or type(exc).__name__
    status = _HTTP_STATUS.search(text)
    if status and status[1] in ("401", "403"):
        return "authorization failed", True, False
    if status and status[1] == "404":
        return "repository not found", False, False
    lowered = text.lower()
    if "authenticat" in lowered or "permission denied" in lowered:
        return f"authentication failed: {text}", True, False
    return text, False, False


def error_for(prefix: str, exc: BaseException, auth: GitAuth, url: str) -> GitError:
    """A `GitError` for an exception out of pygit2 or the callbacks: URL redacted, secrets scrubbed."""
    message, auth_failed, timed_out = _cause(exc)
    message = auth.scrub(f"{prefix}: {message}".replace(url, redact_url(url)))
    return GitError(message, auth_failed=auth_failed, timed_out=timed_out)


@contextmanager
def connection(cb: OperationCallbacks) -> Iterator[None]:
    """Around each pygit2 call that opens a connection: fresh credential attempts, deadline,
    and for SSH the private known_hosts home."""
    cb.check_deadline()
    cb.attempts = 0
    if cb.auth.transport == "ssh":
        with callbacks.ssh_home(cb):
            yield
    else:
        yield


def _check_supported(auth: GitAuth) -> None:
    if auth.client_cert:
        raise GitError("TLS client certificates (tls.crt/tls.key) are not supported by the libgit2 transport")
    if not auth.proxy:
        return
    # libgit2 tunnels only HTTPS through a proxy: it would send plain HTTP and SSH around it
    unsupported = {
        "ssh": "SSH remotes cannot use a proxy with the libgit2 transport",
        "http": "plain http:// remotes cannot use a proxy with the libgit2 transport (it would bypass it); use https",
    }.get(auth.transport)
    if unsupported is None and auth.proxy.startswith("socks5:"):
        unsupported = "socks5 proxies are not supported by the libgit2 transport; use an http(s) proxy"
    if unsupported:
        raise GitError(f"failed to configure proxy options: {unsupported}")


_listing = threading.local()
_listing_dir: str | None = None
_listing_lock = threading.Lock()


def _listing_repo() -> pygit2.Repository:
    """A per-thread handle on one empty bare repository, to hang anonymous remotes on."""
    global _listing_dir
    repo: pygit2.Repository | None = getattr(_listing, "repo", None)
    if repo is None:
        with _listing_lock:
            if _listing_dir is None or not os.path.isdir(_listing_dir):
                _listing_dir = tempfile.mkdtemp(prefix="gotk-git-ls-")
                pygit2.init_repository(_listing_dir, bare=True)
                atexit.register(shutil.rmtree, _listing_dir, True)
        repo = pygit2.Repository(_listing_dir)
        _listing.repo = repo
    return repo


def _list(remote: pygit2.Remote, cb: OperationCallbacks) -> dict[str, str]:
    with connection(cb):
        heads = remote.list_heads(callbacks=cb, proxy=cb.auth.proxy or None)
    return {h.name: str(h.oid) for h in heads if h.name}


def ls_remote(url: str, auth: GitAuth, *, timeout: float = DEFAULT_TIMEOUT) -> dict[str, str]:
    """The refs the remote advertises (`HEAD`, `refs/heads/...`, `refs/tags/...` and peeled
    `refs/tags/...^{}`) -> sha, in one request and without fetching objects."""
    _check_supported(auth)
    callbacks.ensure_socket_timeouts(timeout)
    cb = OperationCallbacks(auth, time.monotonic() + timeout)
    try:
        return _list(_listing_repo().remotes.create_anonymous(url), cb)
    except (pygit2.GitError, callbacks.DeadlineExceeded, callbacks.AuthRejected, callbacks.TrustRejected) as exc:
        raise error_for(f"unable to list remote for '{redact_url(url)}'", exc, auth, url) from None


def resolve_remote(url: str, auth: GitAuth, ref: refs.RefSpec, *, timeout: float = DEFAULT_TIMEOUT) -> refs.Resolution:
    """Where `ref` points on the remote now, from one ls-remote (raises `RefNotFoundError`)."""
    return refs.resolve(ref, ls_remote(url, auth, timeout=timeout))


def _missing(refname: str, url: str) -> RefNotFoundError:
    """Flux's (go-git's) words for a branch or tag the remote does not have."""
    return RefNotFoundError(
        f"unable to clone: couldn't find remote ref \"{refname}\": git repository: '{redact_url(url)}'", ref=refname
    )


def _fetch(
    repo: pygit2.Repository, remote: pygit2.Remote, cb: OperationCallbacks, spec: refs.RefSpec, depth: int
) -> refs.Resolution:
    """Fetch what `spec` needs into `repo` and say which commit it resolved to."""
    kind = spec.kind
    if kind is refs.Kind.SEMVER:
        refname = refs.resolve(spec, _list(remote, cb)).refname
    elif kind is refs.Kind.COMMIT:
        return _fetch_commit(repo, remote, cb, spec, depth)
    elif kind is refs.Kind.NAME:
        refname = spec.name.removesuffix(refs.PEELED)
    elif kind is refs.Kind.TAG:
        refname = f"refs/tags/{spec.tag}"
    else:
        refname = f"refs/heads/{spec.effective_branch}"
    assert refname is not None
    local = refname.replace("refs/heads/", "refs/remotes/origin/", 1)
    with connection(cb):
        remote.fetch([f"+{refname}:{local}"], callbacks=cb, proxy=cb.auth.proxy or None, depth=depth)
    if local not in repo.references:
        if kind is refs.Kind.NAME:
            raise RefNotFoundError(f"unable to resolve ref '{spec.name}' to a specific commit", ref=spec.name)
        raise _missing(refname, remote.url or "")
    target = repo.references[local].target
    assert isinstance(target, pygit2.Oid)
    sha = str(repo.revparse_single(str(target)).peel(pygit2.Commit).id)
    tag_sha = str(target) if str(target) != sha else None
    label = spec.name if kind is refs.Kind.NAME else refname
    return refs.Resolution(kind, label, sha, refs.revision(kind, label, sha), tag_sha)


def _fetch_commit(
    repo: pygit2.Repository, remote: pygit2.Remote, cb: OperationCallbacks, spec: refs.RefSpec, depth: int
) -> refs.Resolution:
    """A pinned commit: with a branch, fetch that branch's history (the commit must be in it, as
    in Flux); without one, ask for the sha shallowly, falling back to every branch's history."""
    refname = f"refs/heads/{spec.branch}" if spec.branch else None
    if refname is not None:
        local = f"refs/remotes/origin/{spec.branch}"
        with connection(cb):
            remote.fetch([f"+{refname}:{local}"], callbacks=cb, proxy=cb.auth.proxy or None, depth=0)
        if local not in repo.references:
            raise _missing(refname, remote.url or "")
    else:
        try:
            with connection(cb):
                remote.fetch([spec.commit], callbacks=cb, proxy=cb.auth.proxy or None, depth=depth)
        except pygit2.GitError:
            with connection(cb):
                remote.fetch(
                    ["+refs/heads/*:refs/remotes/origin/*"], callbacks=cb, proxy=cb.auth.proxy or None, depth=0
                )
    return refs.Resolution(
        refs.Kind.COMMIT, refname, spec.commit, refs.revision(refs.Kind.COMMIT, refname, spec.commit)
    )


def checkout(
    url: str,
    auth: GitAuth,
    ref: refs.RefSpec,
    dest: Path,
    *,
    depth: int = 1,
    recurse_submodules: bool = False,
    sparse_checkout: list[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> CommitInfo:
    """Fetch `ref` from `url` into a new repository at `dest` (absent or empty) and check out
    its commit there (HEAD detached). `depth` 0 fetches full history; `sparse_checkout` limits
    the work tree to those directories. Raises `GitError` (`RefNotFoundError` for missing refs)."""
    safe = redact_url(url)
    _check_supported(auth)
    callbacks.ensure_socket_timeouts(timeout)
    cb = OperationCallbacks(auth, time.monotonic() + timeout)
    try:
        repo = pygit2.init_repository(str(dest), bare=False)
        resolution = _fetch(repo, repo.remotes.create_anonymous(url), cb, ref, depth)
        try:
            commit = repo.revparse_single(resolution.sha).peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError):
            raise RefNotFoundError(
                f"unable to resolve commit object for '{resolution.sha}': object not found", ref=resolution.sha
            ) from None
        cb.check_deadline()
        paths = [p.removeprefix("./").rstrip("/") for p in sparse_checkout] if sparse_checkout else None
        repo.checkout_tree(commit.tree, strategy=CheckoutStrategy.FORCE, paths=paths)  # type: ignore[no-untyped-call]
        repo.set_head(commit.id)
        if recurse_submodules:
            _update_submodules(repo, url, cb)
        tag = _tag_info(repo, resolution)
    except RefNotFoundError as exc:
        raise RefNotFoundError(f"{CHECKOUT_FAILED}: {exc.message}", ref=exc.ref) from None
    except GitError as exc:
        raise GitError(f"{CHECKOUT_FAILED}: {exc.message}", auth_failed=exc.auth_failed) from None
    except (pygit2.GitError, callbacks.DeadlineExceeded, callbacks.AuthRejected, callbacks.TrustRejected) as exc:
        raise error_for(f"{CHECKOUT_FAILED}: unable to clone '{safe}'", exc, auth, url) from None
    except OSError as exc:
        raise error_for(f"{CHECKOUT_FAILED}: unable to write the work tree", exc, auth, url) from None
    return CommitInfo(
        sha=str(commit.id),
        revision=resolution.revision,
        reference=resolution.refname,
        message=commit.message,
        author=_signature(commit.author),
        committer=_signature(commit.committer),
        tag_sha=resolution.tag_sha,
        shallow=repo.is_shallow,
        signed=_commit_signature(commit),
        tag=tag,
    )


def _commit_signature(commit: pygit2.Commit) -> signatures.SignedObject:
    signature, payload = commit.gpg_signature
    if signature is None:
        return signatures.SignedObject("commit", "", b"")
    return signatures.SignedObject("commit", signature.decode("utf-8", "replace"), payload or b"")


def _tag_info(repo: pygit2.Repository, resolution: refs.Resolution) -> TagInfo | None:
    """The tag a `refs/tags/...` checkout came through (None for branches, commits and other refs)."""
    refname = (resolution.refname or "").removesuffix(refs.PEELED)
    if not refname.startswith("refs/tags/"):
        return None
    name = refname.removeprefix("refs/tags/")
    if resolution.tag_sha is None:
        return TagInfo(name)
    try:
        _kind, raw = repo.odb.read(resolution.tag_sha)
        tag_name = repo[resolution.tag_sha].name
    except (KeyError, ValueError, pygit2.GitError):
        return TagInfo(name, resolution.tag_sha)
    payload, signature = signatures.split_signed_tag(raw)
    return TagInfo(str(tag_name or name), resolution.tag_sha, signatures.SignedObject("tag", signature, payload))


def _update_submodules(repo: pygit2.Repository, url: str, cb: OperationCallbacks) -> None:
    """Clone and check out the submodules (one level, as pygit2 does), through the proxy if any.
    Relative submodule URLs (`../lib.git`) resolve against the repository's URL, as git does."""
    urls: dict[str, str] = {}
    for submodule in repo.submodules:
        urls[submodule.name] = str(submodule.url or "")
        if urls[submodule.name].startswith(("./", "../")):
            parts = urllib.parse.urlsplit(redact_url(url))
            path = posixpath.normpath(posixpath.join(parts.path or "/", urls[submodule.name]))
            urls[submodule.name] = urllib.parse.urlunsplit(parts._replace(path=path))
            repo.config[f"submodule.{submodule.name}.url"] = urls[submodule.name]
    proxy = cb.auth.proxy
    if not proxy:
        with connection(cb):
            repo.submodules.update(init=True, callbacks=cb)
        return
    for submodule in repo.submodules:
        if not urls[submodule.name].startswith("https://"):
            raise GitError(
                f"failed to configure proxy options: submodule '{submodule.path}' is not an https:// remote, "
                "which libgit2 cannot reach through a proxy"
            )
        with connection(cb):
            _update_submodule_via_proxy(submodule, cb, proxy)


def _update_submodule_via_proxy(submodule: pygit2.Submodule, cb: OperationCallbacks, proxy: str) -> None:
    # pygit2's Submodule.update takes no proxy: the same call with the fetch options' proxy set
    opts = ffi.new("git_submodule_update_options *")
    C.git_submodule_update_options_init(opts, C.GIT_SUBMODULE_UPDATE_OPTIONS_VERSION)
    with (
        pygit2.callbacks.git_fetch_options(cb, opts=opts.fetch_opts) as payload,
        pygit2.callbacks.git_proxy_options(payload, opts.fetch_opts.proxy_opts, proxy),
    ):
        err = C.git_submodule_update(submodule._subm, 1, opts)
        payload.check_error(err)
