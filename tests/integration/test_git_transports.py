"""gotk.runtime.git against real servers on 127.0.0.1: smart HTTP (anonymous, Basic, Bearer),
HTTPS with a Secret's CA, and OpenSSH with an identity and known_hosts. Covers ref resolution
(branch, tag, annotated tag, semver, commit, refs/pull/N/head), ls-remote without a clone,
shallow depth, sparse checkout, submodules, timeouts, error wording and pushing over HTTP.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pygit2
import pytest

from gotk.local import certs
from gotk.runtime.git import auth, fetcher, refs
from gotk.runtime.git.errors import GitError, RefNotFoundError
from gotk.testing.gitserver import (
    GitHttpServer,
    Gitlink,
    SshGitServer,
    commit,
    generate_client_key,
    make_repo,
    set_ref,
    tag,
)

USER, PASSWORD, TOKEN = "flux", "s3cr3t-passw0rd", "t0ken-abcdef-123456"


@dataclass
class Repo:
    root: Path
    path: Path
    first: str
    second: str
    tip: str
    dev: str
    pull: str


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    root = tmp_path_factory.mktemp("repos")
    path = make_repo(
        root,
        "app.git",
        {"README.md": "app\n", "deploy/app.yaml": "kind: ConfigMap\n", "docs/x.md": "x\n"},
        tags=["v1.0.0"],
        annotated_tags=["v1.1.0"],
    )
    first = str(pygit2.Repository(str(path)).head.target)
    second = commit(path, {"deploy/app.yaml": "kind: ConfigMap # 2\n"}, "second")
    tag(path, "v2.0.0-rc.1", second)
    tag(path, "not-a-version", second)
    tip = commit(path, {"deploy/app.yaml": "kind: ConfigMap # 3\n"}, "third\n\nbody")
    dev = commit(path, {"dev.txt": "dev\n"}, "dev work", branch="dev", parent=second)
    pull = commit(path, {"pr.txt": "pr\n"}, "pull request", ref="refs/pull/1/head", parent=tip)
    set_ref(path, "refs/pull/2/merge", pull)
    return Repo(root, path, first, second, tip, dev, pull)


@pytest.fixture(scope="module")
def http(repo: Repo) -> Iterator[GitHttpServer]:
    with GitHttpServer(repo.root) as server:
        yield server


@pytest.fixture(scope="module")
def basic(repo: Repo) -> Iterator[GitHttpServer]:
    with GitHttpServer(repo.root, username=USER, password=PASSWORD) as server:
        yield server


@pytest.fixture(scope="module")
def ssh(repo: Repo) -> Iterator[tuple[SshGitServer, bytes]]:
    private, public = generate_client_key()
    with SshGitServer(repo.root) as server:
        server.authorize(public)
        yield server, private


def _checkout(url: str, creds: auth.GitAuth, dest: Path, **ref: str) -> fetcher.CommitInfo:
    return fetcher.checkout(url, creds, refs.RefSpec(**ref), dest / "work")


def _commits(path: Path) -> int:
    repo = pygit2.Repository(str(path))
    return sum(1 for _ in repo.walk(repo.head.target))


# --- ls-remote ----------------------------------------------------------------------------


def test_ls_remote_lists_refs_without_fetching_objects(http: GitHttpServer, repo: Repo) -> None:
    url = http.url_for("app.git")
    creds = auth.from_secret(url, None)
    fetcher.ls_remote(url, creds)
    before = len(http.requests)
    start = time.perf_counter()
    heads = fetcher.ls_remote(url, creds)
    elapsed = time.perf_counter() - start
    assert heads["HEAD"] == heads["refs/heads/main"] == repo.tip
    assert heads["refs/tags/v1.1.0^{}"] == repo.first != heads["refs/tags/v1.1.0"]
    assert heads["refs/pull/1/head"] == repo.pull
    assert [(m, s) for m, _, s in http.requests[before:]] == [("GET", 200)]  # one advertisement, no upload-pack
    assert elapsed < 0.5, f"ls-remote took {elapsed:.3f}s"  # target 0.1 s; slack for loaded CI machines


def test_resolve_remote_gives_the_revision_of_a_branch(http: GitHttpServer, repo: Repo) -> None:
    url = http.url_for("app.git")
    resolution = fetcher.resolve_remote(url, auth.from_secret(url, None), refs.RefSpec(branch="main"))
    assert resolution.revision == f"main@sha1:{repo.tip}"


# --- refs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "expect"),
    [
        ({"branch": "main"}, "main@sha1:{tip}"),
        ({"branch": "dev"}, "dev@sha1:{dev}"),
        ({"tag": "v1.0.0"}, "v1.0.0@sha1:{first}"),
        ({"tag": "v1.1.0"}, "v1.1.0@sha1:{first}"),
        ({"semver": ">=1.0.0 <2.0.0"}, "v1.1.0@sha1:{first}"),
        ({"semver": ">=2.0.0-0"}, "v2.0.0-rc.1@sha1:{second}"),
        ({"semver": "1.x", "tag": "v1.0.0", "branch": "dev"}, "v1.1.0@sha1:{first}"),
        ({"name": "refs/pull/1/head"}, "refs/pull/1/head@sha1:{pull}"),
        ({"name": "refs/heads/dev"}, "refs/heads/dev@sha1:{dev}"),
        ({"name": "refs/tags/v1.1.0", "branch": "main"}, "refs/tags/v1.1.0@sha1:{first}"),
        ({"commit": "{second}"}, "sha1:{second}"),
        ({"commit": "{second}", "branch": "main", "tag": "v1.0.0"}, "main@sha1:{second}"),
    ],
)
def test_checkout_resolves_refs_like_flux(
    http: GitHttpServer, repo: Repo, tmp_path: Path, ref: dict[str, str], expect: str
) -> None:
    shas = {"tip": repo.tip, "dev": repo.dev, "first": repo.first, "second": repo.second, "pull": repo.pull}
    url = http.url_for("app.git")
    info = _checkout(url, auth.from_secret(url, None), tmp_path, **{k: v.format(**shas) for k, v in ref.items()})
    assert info.revision == expect.format(**shas)
    work = pygit2.Repository(str(tmp_path / "work"))
    assert str(work.head.target) == info.sha == expect.format(**shas).rpartition("sha1:")[2]
    assert not work.status(), "work tree must match the commit exactly"


def test_annotated_tag_reports_the_tag_object(http: GitHttpServer, repo: Repo, tmp_path: Path) -> None:
    url = http.url_for("app.git")
    info = _checkout(url, auth.from_secret(url, None), tmp_path, tag="v1.1.0")
    assert info.tag_sha == fetcher.ls_remote(url, auth.from_secret(url, None))["refs/tags/v1.1.0"]
    assert info.reference == "refs/tags/v1.1.0" and info.sha == repo.first


def test_default_ref_is_master(http: GitHttpServer, tmp_path: Path) -> None:
    url = http.url_for("app.git")
    with pytest.raises(RefNotFoundError, match="refs/heads/master") as err:
        _checkout(url, auth.from_secret(url, None), tmp_path)
    assert str(err.value) == (
        "failed to checkout and determine revision: unable to clone: "
        f"couldn't find remote ref \"refs/heads/master\": git repository: '{url}'"
    )


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ({"branch": "nope"}, 'couldn\'t find remote ref "refs/heads/nope"'),
        ({"tag": "v9.9.9"}, 'couldn\'t find remote ref "refs/tags/v9.9.9"'),
        ({"semver": ">=5.0.0"}, "no match found for semver: >=5.0.0"),
        ({"name": "refs/pull/9/head"}, "unable to resolve ref 'refs/pull/9/head' to a specific commit"),
        ({"commit": "0" * 40}, f"unable to resolve commit object for '{'0' * 40}': object not found"),
        ({"commit": "{dev}", "branch": "main"}, "unable to resolve commit object for '{dev}': object not found"),
    ],
)
def test_missing_refs_name_what_is_missing(
    http: GitHttpServer, repo: Repo, tmp_path: Path, ref: dict[str, str], message: str
) -> None:
    url = http.url_for("app.git")
    with pytest.raises(RefNotFoundError) as err:
        _checkout(url, auth.from_secret(url, None), tmp_path, **{k: v.format(dev=repo.dev) for k, v in ref.items()})
    assert message.format(dev=repo.dev) in str(err.value)
    assert str(err.value).startswith("failed to checkout and determine revision: ")


def test_commit_without_sha_fetch_support_falls_back_to_branches(repo: Repo, tmp_path: Path) -> None:
    with GitHttpServer(repo.root, allow_sha_fetch=False) as server:
        url = server.url_for("app.git")
        info = _checkout(url, auth.from_secret(url, None), tmp_path, commit=repo.dev)
    assert info.revision == f"sha1:{repo.dev}"


# --- depth, sparse checkout, submodules, timeout ---------------------------------------------


def test_shallow_clone_has_one_commit_and_full_clone_all(http: GitHttpServer, repo: Repo, tmp_path: Path) -> None:
    url = http.url_for("app.git")
    creds = auth.from_secret(url, None)
    shallow = fetcher.checkout(url, creds, refs.RefSpec(branch="main"), tmp_path / "shallow")
    full = fetcher.checkout(url, creds, refs.RefSpec(branch="main"), tmp_path / "full", depth=0)
    fetcher.checkout(url, creds, refs.RefSpec(branch="main"), tmp_path / "two", depth=2)
    assert shallow.shallow and _commits(tmp_path / "shallow") == 1
    assert not full.shallow and _commits(tmp_path / "full") == 3
    assert _commits(tmp_path / "two") == 2
    assert shallow.short_message == "third" and shallow.message.startswith("third\n\nbody")
    assert shallow.author.email == "test@gotk.invalid"


def test_sparse_checkout_limits_the_work_tree(http: GitHttpServer, tmp_path: Path) -> None:
    url = http.url_for("app.git")
    dest = tmp_path / "work"
    fetcher.checkout(url, auth.from_secret(url, None), refs.RefSpec(branch="main"), dest, sparse_checkout=["./deploy/"])
    assert sorted(p.name for p in dest.iterdir()) == [".git", "deploy"]


def test_submodules_are_checked_out_with_the_same_credentials(basic: GitHttpServer, tmp_path: Path) -> None:
    root = basic.root
    sub = make_repo(root, "lib.git", {"lib.txt": "library\n"})
    modules = f'[submodule "vendor/lib"]\n\tpath = vendor/lib\n\turl = {basic.url_for("lib.git")}\n'
    link = Gitlink(str(pygit2.Repository(str(sub)).head.target))
    make_repo(root, "super.git", {"a.txt": "a\n", ".gitmodules": modules, "vendor/lib": link})
    url = basic.url_for("super.git")
    creds = auth.from_secret(url, {"username": USER.encode(), "password": PASSWORD.encode()})
    fetcher.checkout(url, creds, refs.RefSpec(branch="main"), tmp_path / "with", recurse_submodules=True)
    fetcher.checkout(url, creds, refs.RefSpec(branch="main"), tmp_path / "without")
    assert (tmp_path / "with/vendor/lib/lib.txt").read_text() == "library\n"
    assert not any((tmp_path / "without/vendor/lib").iterdir())


def test_timeout_is_enforced(http: GitHttpServer, tmp_path: Path) -> None:
    url = http.url_for("app.git")
    with pytest.raises(GitError, match="context deadline exceeded") as err:
        fetcher.checkout(url, auth.from_secret(url, None), refs.RefSpec(branch="main"), tmp_path / "w", timeout=1e-6)
    assert err.value.timed_out and not err.value.auth_failed


def test_many_concurrent_clones(http: GitHttpServer, repo: Repo, tmp_path: Path) -> None:
    url = http.url_for("app.git")
    creds = auth.from_secret(url, None)
    results: list[str] = []

    def worker(n: int) -> None:
        for i in range(5):
            results.append(fetcher.checkout(url, creds, refs.RefSpec(branch="main"), tmp_path / f"{n}-{i}").sha)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [repo.tip] * 80


# --- HTTP authentication --------------------------------------------------------------------


def test_basic_auth(basic: GitHttpServer, repo: Repo, tmp_path: Path) -> None:
    url = basic.url_for("app.git")
    creds = auth.from_secret(url, {"username": USER.encode(), "password": PASSWORD.encode()})
    assert _checkout(url, creds, tmp_path, branch="main").sha == repo.tip


def test_basic_auth_from_url_userinfo_is_redacted_in_errors(basic: GitHttpServer, tmp_path: Path) -> None:
    url = basic.url_for("app.git").replace("://", f"://{USER}:{PASSWORD}@")
    assert _checkout(url, auth.from_secret(url, None), tmp_path / "ok", branch="main").revision.startswith("main@")
    with pytest.raises(GitError) as err:
        _checkout(url, auth.from_secret(url, None), tmp_path / "bad", branch="nope")
    assert PASSWORD not in str(err.value) and USER not in str(err.value)


@pytest.mark.parametrize("secret", [{"username": USER, "password": "wrong-password"}, {}, {"bearerToken": TOKEN}])
def test_rejected_or_missing_credentials_fail_as_auth(
    basic: GitHttpServer, tmp_path: Path, secret: dict[str, str]
) -> None:
    url = basic.url_for("app.git")
    creds = auth.from_secret(url, {k: v.encode() for k, v in secret.items()} or None)
    with pytest.raises(GitError) as err:
        _checkout(url, creds, tmp_path, branch="main")
    assert err.value.auth_failed
    assert str(err.value).startswith(f"failed to checkout and determine revision: unable to clone '{url}': ")
    assert "wrong-password" not in str(err.value) and TOKEN not in str(err.value)
    with pytest.raises(GitError) as ls_err:
        fetcher.ls_remote(url, creds)
    assert ls_err.value.auth_failed and str(ls_err.value).startswith(f"unable to list remote for '{url}': ")


def test_bearer_token(repo: Repo, tmp_path: Path) -> None:
    with GitHttpServer(repo.root, bearer_token=TOKEN) as server:
        url = server.url_for("app.git")
        good = auth.from_secret(url, {"bearerToken": TOKEN.encode()})
        assert _checkout(url, good, tmp_path / "ok", branch="main").sha == repo.tip
        bad = auth.from_secret(url, {"bearerToken": b"not-the-token"})
        with pytest.raises(GitError) as err:
            _checkout(url, bad, tmp_path / "bad", branch="main")
    assert err.value.auth_failed and "not-the-token" not in str(err.value)


def test_push_over_http_with_basic_auth(basic: GitHttpServer, tmp_path: Path) -> None:
    make_repo(basic.root, "push.git", {"a.txt": "a\n"})
    url = basic.url_for("push.git")
    creds = auth.from_secret(url, {"username": USER.encode(), "password": PASSWORD.encode()})
    fetcher.checkout(url, creds, refs.RefSpec(branch="main"), tmp_path / "w")
    work = pygit2.Repository(str(tmp_path / "w"))
    (tmp_path / "w" / "b.txt").write_text("pushed\n")
    work.index.add("b.txt")
    sig = pygit2.Signature("bot", "bot@example.com")
    new = work.create_commit(None, sig, sig, "update", work.index.write_tree(), [work.head.target])

    class Callbacks(pygit2.RemoteCallbacks):
        def credentials(self, url: str, username: str | None, allowed: object) -> pygit2.UserPass:
            return pygit2.UserPass(USER, PASSWORD)

    work.remotes.create_anonymous(url).push([f"{new}:refs/heads/main"], callbacks=Callbacks())
    assert fetcher.ls_remote(url, creds)["refs/heads/main"] == str(new)
    with pytest.raises(pygit2.GitError):
        work.remotes.create_anonymous(url).push([f"{new}:refs/heads/other"])


# --- HTTPS with a custom CA -----------------------------------------------------------------


def test_https_with_ca_from_secret(repo: Repo, tmp_path: Path) -> None:
    with GitHttpServer(repo.root, tls=True, username=USER, password=PASSWORD) as server:
        url = server.url_for("app.git")
        secret = {"username": USER.encode(), "password": PASSWORD.encode(), "ca.crt": server.ca_pem}
        assert _checkout(url, auth.from_secret(url, secret), tmp_path / "ip", branch="main").sha == repo.tip
        by_name = url.replace("127.0.0.1", "localhost")
        assert _checkout(by_name, auth.from_secret(by_name, secret), tmp_path / "dns", branch="main").sha == repo.tip
        with pytest.raises(GitError, match="x509: certificate signed by unknown authority") as no_ca:
            _checkout(url, auth.from_secret(url, {k: v for k, v in secret.items() if k != "ca.crt"}), tmp_path / "a")
        other_ca = certs.self_signed_server(["localhost"], ["127.0.0.1"])[0]
        with pytest.raises(GitError, match="x509: ") as wrong_ca:
            _checkout(url, auth.from_secret(url, {**secret, "ca.crt": other_ca}), tmp_path / "b", branch="main")
        with pytest.raises(pygit2.GitError):  # other pygit2 users keep pygit2's own (strict) behaviour
            pygit2.clone_repository(url, str(tmp_path / "plain"))
    assert not no_ca.value.auth_failed and not wrong_ca.value.auth_failed


# --- SSH ------------------------------------------------------------------------------------


def test_ssh_with_identity_and_known_hosts(ssh: tuple[SshGitServer, bytes], repo: Repo, tmp_path: Path) -> None:
    server, private = ssh
    url = server.url_for("app.git")
    creds = auth.from_secret(url, {"identity": private, "known_hosts": server.known_hosts_line().encode()})
    assert fetcher.ls_remote(url, creds)["refs/heads/main"] == repo.tip
    info = _checkout(url, creds, tmp_path, semver="~1.1")
    assert info.revision == f"v1.1.0@sha1:{repo.first}" and info.shallow


def test_ssh_encrypted_identity_with_password(ssh: tuple[SshGitServer, bytes], repo: Repo, tmp_path: Path) -> None:
    server, _ = ssh
    key = tmp_path / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "key-pass", "-f", str(key)], check=True)
    server.authorize(key.with_suffix(".pub").read_text())
    url = server.url_for("app.git")
    secret = {"identity": key.read_bytes(), "known_hosts": server.known_hosts_line().encode(), "password": b"key-pass"}
    assert fetcher.ls_remote(url, auth.from_secret(url, secret))["HEAD"] == repo.tip


@pytest.mark.parametrize("which", ["other-key", "other-port", "revoked"])
def test_ssh_rejects_an_unknown_host_key(ssh: tuple[SshGitServer, bytes], tmp_path: Path, which: str) -> None:
    server, private = ssh
    other_key = generate_client_key()[1]  # any ed25519 public key that is not the host's
    known_hosts = {
        "other-key": f"[127.0.0.1]:{server.port} {other_key}",
        "other-port": f"[127.0.0.1]:{server.port + 1} {server.host_public}",
        "revoked": f"{server.known_hosts_line()}\n@revoked * {server.host_public}",
    }[which]
    url = server.url_for("app.git")
    creds = auth.from_secret(url, {"identity": private, "known_hosts": known_hosts.encode()})
    with pytest.raises(GitError, match="knownhosts: key is unknown or mismatched") as err:
        _checkout(url, creds, tmp_path, branch="main")
    assert not err.value.auth_failed


def test_ssh_unauthorized_key_fails_as_auth(ssh: tuple[SshGitServer, bytes], tmp_path: Path) -> None:
    server, _ = ssh
    url = server.url_for("app.git")
    stranger = generate_client_key()[0]
    creds = auth.from_secret(url, {"identity": stranger, "known_hosts": server.known_hosts_line().encode()})
    with pytest.raises(GitError) as err:
        _checkout(url, creds, tmp_path, branch="main")
    assert err.value.auth_failed and "PRIVATE KEY" not in str(err.value)
