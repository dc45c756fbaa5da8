"""Pure GitRepository rules: verification modes and when a no-change reconcile must re-verify
(gotk.source.git.verify), the verification Secret's key split, the proxy Secret (auth.proxy_from_secret)
and secret scrubbing with a proxy, included-artifact comparison and the include watch (gotk.source.git.include).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from gotk.runtime.git import auth
from gotk.source.git import include as gitinclude
from gotk.source.git import verify as gitverify

Obj = dict[str, Any]


@pytest.mark.parametrize(
    ("verify", "mode"),
    [
        (None, None),
        ({"mode": "", "secretRef": {"name": "k"}}, None),
        ({"mode": "head"}, "HEAD"),
        ({"mode": "HEAD"}, "HEAD"),
        ({"mode": "Tag"}, "Tag"),
        ({"mode": "TagAndHEAD"}, "TagAndHEAD"),
        ({"mode": "bogus"}, "HEAD"),
    ],
)
def test_mode_of(verify: Obj | None, mode: str | None) -> None:
    assert gitverify.mode_of({"verify": verify} if verify is not None else {}) == mode


@pytest.mark.parametrize(
    ("mode", "observed", "required"),
    [
        (None, "HEAD", False),
        ("HEAD", None, True),
        ("HEAD", "HEAD", False),
        ("HEAD", "TagAndHEAD", False),
        ("Tag", "HEAD", True),
        ("TagAndHEAD", "Tag", True),
        ("TagAndHEAD", "HEAD", True),
        ("Tag", "TagAndHEAD", False),
    ],
)
def test_requires_verification(mode: str | None, observed: str | None, required: bool) -> None:
    obj: Obj = {"spec": {"verify": {"mode": mode}} if mode else {}, "status": {}}
    if observed:
        obj["status"]["sourceVerificationMode"] = observed
    assert gitverify.requires_verification(obj) is required


def test_split_keys() -> None:
    data = {"b.asc": b"B", "a.sshpub": b"S", "legacy": b"L", "a.asc": b"A"}
    assert gitverify.split_keys(data) == (["A", "B", "L"], ["S"])


def test_proxy_from_secret() -> None:
    url = auth.proxy_from_secret("ns/p", {"address": b"http://proxy:3128", "username": b"u@x", "password": b"p:w"})
    assert url == "http://u%40x:p%3Aw@proxy:3128"
    assert auth.proxy_from_secret("ns/p", {"address": b"https://proxy", "username": b"u"}) == "https://u@proxy"
    assert auth.proxy_from_secret("ns/p", {"address": b"socks5://proxy:1080"}) == "socks5://proxy:1080"
    for data, message in (
        ({}, "secret 'ns/p': key 'address' not found"),
        ({"address": b" "}, "secret 'ns/p': proxy address is empty"),
        ({"address": b"ftp://x"}, "secret 'ns/p': proxy URL must use one of the supported schemes"),
        ({"address": b"http://x" + b"x" * 2048}, "exceeds maximum length of 2048 characters"),
    ):
        with pytest.raises(auth.ProxyConfigError, match=message.replace("(", r"\(")):
            auth.proxy_from_secret("ns/p", data)


def test_proxy_credentials_are_scrubbed() -> None:
    creds = dataclasses.replace(
        auth.from_secret("https://git.example.com/r.git", None), proxy="http://user:s3cret-proxy@proxy:3128"
    )
    assert "s3cret-proxy" not in repr(creds) and "proxy" in repr(creds)
    text = creds.scrub("failed via http://user:s3cret-proxy@proxy:3128: s3cret-proxy")
    assert text == "failed via http://proxy:3128: ***"


def test_includes_changed() -> None:
    a = {"revision": "main@sha1:1", "digest": "sha256:a", "url": "http://x"}
    assert not gitinclude.changed([], None)
    assert not gitinclude.changed([a], [{**a, "url": "http://elsewhere", "lastUpdateTime": "t"}])
    assert gitinclude.changed([a], None)
    assert gitinclude.changed([a], [{**a, "digest": "sha256:b"}])
    assert gitinclude.changed([a], [a, a])


def _repo(name: str, includes: tuple[str, ...] = (), artifact: str | None = None) -> Obj:
    obj: Obj = {
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"include": [{"repository": {"name": n}} for n in includes]},
        "status": {},
    }
    if artifact:
        obj["status"]["artifact"] = {"revision": artifact, "digest": f"sha256:{artifact}"}
    return obj


def test_include_watch_enqueues_includers_once_per_artifact_change() -> None:
    repos = [_repo("lib", artifact="1"), _repo("app", ("lib",)), _repo("other", ("x",)), _repo("app2", ("lib", "x"))]
    queued: list[tuple[str, str]] = []
    handler = gitinclude.watch(lambda ns: repos if ns == "ns" else [], queued.append)
    old, new = _repo("lib", artifact="1"), _repo("lib", artifact="2")
    handler(old, new)
    assert sorted(queued) == [("ns", "app"), ("ns", "app2")]
    queued.clear()
    handler(new, _repo("lib", artifact="2"))  # status churn without a new artifact
    handler(None, _repo("lib"))  # no artifact yet
    handler(new, None)  # deleted
    assert queued == []
    handler(None, new)  # a first artifact (or a relist) counts as a change
    assert sorted(queued) == [("ns", "app"), ("ns", "app2")]


def test_include_watch_leaves_cycles_to_the_interval() -> None:
    repos = [_repo("a", ("b",)), _repo("b", ("c",)), _repo("c", ("a",)), _repo("d", ("a",))]
    queued: list[tuple[str, str]] = []
    handler = gitinclude.watch(lambda ns: repos, queued.append)
    handler(_repo("a", ("b",), artifact="1"), _repo("a", ("b",), artifact="2"))
    assert queued == [("ns", "d")], "c includes a, but a includes c through b"
