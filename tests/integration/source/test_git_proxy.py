"""GitRepository `spec.proxySecretRef` end to end: HTTPS Git traffic tunnelled through a real CONNECT
proxy with Basic proxy authentication; proxy credentials never surface in status or events; remotes
libgit2 cannot proxy (plain http://) fail closed instead of bypassing the proxy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pygit2
import pytest

from gotk.api import meta
from gotk.local import gitrepos
from gotk.runtime import conditions
from gotk.testing.httpproxy import HttpProxy

pytestmark = pytest.mark.cluster

PROXY_USER, PROXY_PASSWORD = "proxy-user", "pr0xy-pa55w0rd-7f3a"
GIT_USER, GIT_PASSWORD = "flux", "git-pa55w0rd-91c2"


@pytest.fixture
def proxy() -> Iterator[HttpProxy]:
    with HttpProxy(username=PROXY_USER, password=PROXY_PASSWORD) as p:
        yield p


async def test_https_through_an_authenticating_proxy(gitenv: Any, proxy: HttpProxy) -> None:
    server = gitenv.http_server(tls=True, username=GIT_USER, password=GIT_PASSWORD)
    repo = gitrepos.make_repo(server.root, "app.git", {"app.yaml": "v: 1\n"})
    head = gitrepos.commit(repo, {"app.yaml": "v: 2\n"}, "second")
    await gitenv.secret("git-auth", {"username": GIT_USER, "password": GIT_PASSWORD, "ca.crt": server.ca_pem})
    await gitenv.secret("proxy", {"address": proxy.url, "username": PROXY_USER, "password": PROXY_PASSWORD})
    await gitenv.gitrepository(
        "app", server.url_for("app.git"), secretRef={"name": "git-auth"}, proxySecretRef={"name": "proxy"}
    )

    obj = await gitenv.ready("app", f"main@sha1:{head}")
    assert (await gitenv.files(obj))["app.yaml"] == b"v: 2\n"
    tunnels = proxy.proxied(server.port)
    assert tunnels and all(r.method == "CONNECT" for r in tunnels), proxy.requests
    assert len(server.requests) > 0

    # a submodule on another server is fetched through the proxy as well
    other = gitenv.http_server("other", tls=True, username=GIT_USER, password=GIT_PASSWORD)
    lib = gitrepos.make_repo(other.root, "lib.git", {"lib.yaml": "lib\n"})
    modules = f'[submodule "lib"]\n\tpath = lib\n\turl = {other.url_for("lib.git")}\n'
    lib_head = str(pygit2.Repository(str(lib)).head.target)
    gitrepos.commit(repo, {".gitmodules": modules, "lib": gitrepos.Gitlink(lib_head)}, "add lib", branch="sub")
    both_cas = server.ca_pem + other.ca_pem
    await gitenv.secret("git-auth", {"username": GIT_USER, "password": GIT_PASSWORD, "ca.crt": both_cas})
    await gitenv.gitrepository(
        "sub",
        server.url_for("app.git"),
        ref={"branch": "sub"},
        recurseSubmodules=True,
        secretRef={"name": "git-auth"},
        proxySecretRef={"name": "proxy"},
    )
    assert (await gitenv.files(await gitenv.ready("sub")))["lib/lib.yaml"] == b"lib\n"
    assert proxy.proxied(other.port), "the submodule was cloned around the proxy"

    # a no-change reconcile lists refs through the proxy too
    before = len(proxy.proxied(server.port))
    token = await gitenv.request("app")
    await gitenv.ready("app", f"main@sha1:{head}", after=token)
    assert len(proxy.proxied(server.port)) > before

    # wrong proxy credentials: the fetch fails, and neither password shows up anywhere
    await gitenv.secret("proxy", {"address": proxy.url, "username": PROXY_USER, "password": "wrong-pr0xy-pw-55"})
    token = await gitenv.request("app")
    obj = await gitenv.failed("app", reason="GitOperationFailed", after=token)
    assert "proxy authentication required" in conditions.get_message(obj, meta.READY)
    assert any(r.status == 407 for r in proxy.requests)
    visible = str(obj) + str(await gitenv.events())
    for secret in (PROXY_PASSWORD, "wrong-pr0xy-pw-55", GIT_PASSWORD):
        assert secret not in visible
    assert obj["status"]["artifact"]["revision"] == f"main@sha1:{head}", "the last artifact is kept"


async def test_proxy_misconfigurations_fail_closed(gitenv: Any, proxy: HttpProxy) -> None:
    server = gitenv.http_server()
    gitrepos.make_repo(server.root, "app.git", {"app.yaml": "v: 1\n"})

    # libgit2 would send plain HTTP around the proxy: refuse instead of bypassing it
    await gitenv.secret("proxy", {"address": proxy.url, "username": PROXY_USER, "password": PROXY_PASSWORD})
    await gitenv.gitrepository("plain", server.url_for("app.git"), proxySecretRef={"name": "proxy"})
    obj = await gitenv.failed("plain", reason="GitOperationFailed")
    assert "plain http:// remotes cannot use a proxy" in conditions.get_message(obj, meta.READY)
    assert server.requests == [] and proxy.requests == []

    # Flux's proxy Secret validation: `address` is required and must be an http(s) or socks5 URL
    await gitenv.secret("no-address", {"username": PROXY_USER, "password": PROXY_PASSWORD})
    await gitenv.gitrepository("missing", server.url_for("app.git"), proxySecretRef={"name": "no-address"})
    obj = await gitenv.failed("missing", reason="AuthenticationFailed")
    assert conditions.get_message(obj, meta.READY) == (
        f"failed to configure proxy options: secret '{gitenv.namespace}/no-address': key 'address' not found"
    )
    await gitenv.secret("ftp", {"address": f"ftp://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:21"})
    await gitenv.gitrepository("scheme", server.url_for("app.git"), proxySecretRef={"name": "ftp"})
    obj = await gitenv.failed("scheme", reason="AuthenticationFailed")
    assert "supported schemes (http, https, socks5), got 'ftp'" in conditions.get_message(obj, meta.READY)
    assert PROXY_PASSWORD not in str(obj) + str(await gitenv.events())
