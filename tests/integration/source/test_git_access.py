"""How a GitRepository reaches its remote, end to end against real servers: SSH with an identity and
known_hosts (and a mismatching host key), HTTPS trusted through the Secret's `ca.crt`, a bearer token,
and `flux reconcile source git` (the CLI as a subprocess) fetching a new commit at once.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import pytest

from gotk.api import meta
from gotk.local import gitrepos
from gotk.runtime import conditions
from gotk.testing.gitserver import generate_client_key

pytestmark = pytest.mark.cluster

TOKEN = "bearer-t0ken-5d1e9a7c"


async def test_ssh_identity_and_known_hosts(gitenv: Any) -> None:
    server = gitenv.ssh_server()
    repo = gitrepos.make_repo(server.root, "app.git", {"app.yaml": "v: 1\n"})
    head = gitrepos.commit(repo, {"app.yaml": "v: 2\n"}, "second")
    private, public = generate_client_key()
    server.authorize(public)
    await gitenv.secret("ssh", {"identity": private, "known_hosts": server.known_hosts_line()})
    await gitenv.gitrepository("app", server.url_for("app.git"), secretRef={"name": "ssh"})
    obj = await gitenv.ready("app", f"main@sha1:{head}")
    assert (await gitenv.files(obj))["app.yaml"] == b"v: 2\n"

    # the same server presenting a host key the Secret does not know is refused
    _, other_host_key = generate_client_key()
    known_hosts = f"[127.0.0.1]:{server.port} {other_host_key}\n"
    await gitenv.secret("ssh", {"identity": private, "known_hosts": known_hosts})
    token = await gitenv.request("app")
    obj = await gitenv.failed("app", reason="GitOperationFailed", after=token)
    assert "knownhosts: key is unknown or mismatched" in conditions.get_message(obj, meta.READY)
    assert obj["status"]["artifact"]["revision"] == f"main@sha1:{head}"
    key_body = private.decode().strip().splitlines()[1]
    assert key_body not in str(obj) + str(await gitenv.events())


async def test_https_with_ca_and_bearer_token(gitenv: Any) -> None:
    tls = gitenv.http_server("tls", tls=True)
    gitrepos.make_repo(tls.root, "app.git", {"app.yaml": "v: 1\n"})
    await gitenv.secret("ca-only", {"ca.crt": tls.ca_pem})
    await gitenv.gitrepository("untrusted", tls.url_for("app.git"))
    await gitenv.gitrepository("trusted", tls.url_for("app.git"), secretRef={"name": "ca-only"})
    await gitenv.ready("trusted")
    obj = await gitenv.failed("untrusted", reason="GitOperationFailed")
    assert "certificate signed by unknown authority" in conditions.get_message(obj, meta.READY)

    bearer = gitenv.http_server("bearer", bearer_token=TOKEN)
    repo = gitrepos.make_repo(bearer.root, "app.git", {"app.yaml": "v: 1\n"})
    head = gitrepos.commit(repo, {"app.yaml": "v: 2\n"}, "second")
    await gitenv.secret("token", {"bearerToken": TOKEN})
    await gitenv.secret("bad-token", {"bearerToken": "not-the-t0ken-123"})
    await gitenv.gitrepository("bearer", bearer.url_for("app.git"), secretRef={"name": "token"})
    await gitenv.gitrepository("refused", bearer.url_for("app.git"), secretRef={"name": "bad-token"})
    await gitenv.ready("bearer", f"main@sha1:{head}")
    obj = await gitenv.failed("refused", reason="GitOperationFailed")
    assert "auth" in conditions.get_message(obj, meta.READY).lower()
    visible = str(obj) + str(await gitenv.get("bearer")) + str(await gitenv.events())
    assert TOKEN not in visible and "not-the-t0ken-123" not in visible


async def test_flux_reconcile_fetches_a_new_commit_at_once(gitenv: Any, cluster: Any) -> None:
    server = gitenv.http_server()
    repo = gitrepos.make_repo(server.root, "app.git", {"app.yaml": "v: 1\n"})
    await gitenv.gitrepository("app", server.url_for("app.git"))  # interval 1h
    first = await gitenv.ready("app")
    head = gitrepos.commit(repo, {"app.yaml": "v: 2\n"}, "second")

    argv = [sys.executable, "-m", "gotk.cli.main", "--kubeconfig", str(cluster.kubeconfig)]
    argv += ["reconcile", "source", "git", "app", "-n", gitenv.namespace, "--timeout", "60s"]
    # the controller runs in this event loop: the CLI must not block it
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "TZ": "UTC"},
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode == 0, stderr.decode()
    assert stderr.decode().splitlines()[-1] == f"✔ fetched revision main@sha1:{head}"
    obj = await gitenv.get("app")
    assert obj["status"]["artifact"]["revision"] == f"main@sha1:{head}" != first["status"]["artifact"]["revision"]
    assert obj["status"]["lastHandledReconcileAt"] == obj["metadata"]["annotations"][meta.RECONCILE_REQUEST_ANNOTATION]
