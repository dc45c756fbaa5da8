"""What goes into a GitRepository artifact, end to end: `include` (another GitRepository's artifact
copied into `toPath`, and re-included as soon as that artifact changes), `sparseCheckout` and
`recurseSubmodules`, with the matching observed* status fields.
"""

from __future__ import annotations

from typing import Any

import pygit2
import pytest

from gotk.api import meta
from gotk.local import gitrepos
from gotk.runtime import conditions

pytestmark = pytest.mark.cluster

SHARED = {
    "deploy/base/cm.yaml": "kind: ConfigMap\n",
    "deploy/base/kustomization.yaml": "resources: [cm.yaml]\n",
    "docs/readme.md": "shared\n",
}


async def test_include_follows_the_included_artifact(gitenv: Any) -> None:
    server = gitenv.http_server()
    shared = gitrepos.make_repo(server.root, "shared.git", SHARED)
    app = gitrepos.make_repo(server.root, "app.git", {"app.yaml": "kind: Namespace\n"})
    app_head = str(pygit2.Repository(str(app)).head.target)
    include = [{"repository": {"name": "shared"}, "fromPath": "deploy", "toPath": "vendor/shared"}]
    await gitenv.gitrepository("shared", server.url_for("shared.git"))
    await gitenv.gitrepository("app", server.url_for("app.git"), include=include)

    shared_obj = await gitenv.ready("shared")
    obj = await gitenv.ready("app", f"main@sha1:{app_head}")
    files = await gitenv.files(obj)
    assert set(files) == {"app.yaml", "vendor/shared/base/cm.yaml", "vendor/shared/base/kustomization.yaml"}
    assert obj["status"]["observedInclude"] == include
    included = obj["status"]["includedArtifacts"]
    assert [(a["revision"], a["digest"]) for a in included] == [
        (shared_obj["status"]["artifact"]["revision"], shared_obj["status"]["artifact"]["digest"])
    ]
    first_digest = obj["status"]["artifact"]["digest"]

    # a new commit in the included repository: only `shared` is asked to reconcile (both have a 1h
    # interval), yet `app` rebuilds its artifact for the same commit with the new included content
    new_shared = gitrepos.commit(shared, {"deploy/base/cm.yaml": "kind: ConfigMap # v2\n"}, "v2")
    await gitenv.request("shared")
    await gitenv.ready("shared", f"main@sha1:{new_shared}")
    obj = await gitenv.wait(
        "app",
        lambda o: (
            [a["revision"] for a in o["status"].get("includedArtifacts") or []] == [f"main@sha1:{new_shared}"]
            and conditions.is_ready(o)
        ),
        "app to re-include shared's new artifact",
    )
    assert obj["status"]["artifact"]["revision"] == f"main@sha1:{app_head}"
    assert obj["status"]["artifact"]["digest"] != first_digest
    assert (await gitenv.files(obj))["vendor/shared/base/cm.yaml"] == b"kind: ConfigMap # v2\n"

    # an include that does not exist yet waits (IncludeUnavailable) and resolves once it appears
    await gitenv.gitrepository("early", server.url_for("app.git"), include=[{"repository": {"name": "late"}}])
    obj = await gitenv.failed("early", reason="NotFound")
    assert conditions.is_true(obj, "IncludeUnavailable")
    assert conditions.get_message(obj, meta.READY) == (
        "could not get resource for include 'late': gitrepositories.source.toolkit.fluxcd.io \"late\" not found"
    )
    await gitenv.gitrepository("late", server.url_for("shared.git"))
    obj = await gitenv.ready("early", f"main@sha1:{app_head}")
    assert conditions.get(obj, "IncludeUnavailable") is None
    assert "late/deploy/base/cm.yaml" in await gitenv.files(obj), "toPath defaults to the repository name"


async def test_sparse_checkout_and_submodules(gitenv: Any) -> None:
    server = gitenv.http_server()
    lib = gitrepos.make_repo(server.root, "lib.git", {"lib.yaml": "kind: Secret\n", "nested/x.txt": "x\n"})
    lib_head = str(pygit2.Repository(str(lib)).head.target)
    modules = f'[submodule "vendor/lib"]\n\tpath = vendor/lib\n\turl = {server.url_for("lib.git")}\n'
    modules += '[submodule "rel"]\n\tpath = rel\n\turl = ../lib.git\n'  # relative to the repository's URL
    files: dict[str, gitrepos.FileContent] = {
        "apps/app.yaml": "kind: Deployment\n",
        "infra/infra.yaml": "kind: Namespace\n",
        "README.md": "top\n",
        ".gitmodules": modules,
        "vendor/lib": gitrepos.Gitlink(lib_head),
        "rel": gitrepos.Gitlink(lib_head),
    }
    main = gitrepos.make_repo(server.root, "main.git", files)
    head = str(pygit2.Repository(str(main)).head.target)

    # sparseCheckout: only the listed directories end up in the artifact
    await gitenv.gitrepository("sparse", server.url_for("main.git"), sparseCheckout=["./apps", "infra/"])
    obj = await gitenv.ready("sparse", f"main@sha1:{head}")
    assert set(await gitenv.files(obj)) == {"apps/app.yaml", "infra/infra.yaml"}
    assert obj["status"]["observedSparseCheckout"] == ["./apps", "infra/"]
    await gitenv.patch_spec("sparse", {"sparseCheckout": ["apps", "nope"]})
    obj = await gitenv.failed("sparse", reason="GitOperationFailed")
    assert "sparse checkout dir 'nope' does not exist in repository" in conditions.get_message(obj, meta.READY)

    # recurseSubmodules: the submodule's files are part of the artifact; without it they are not
    await gitenv.gitrepository("plain", server.url_for("main.git"))
    await gitenv.gitrepository("recursive", server.url_for("main.git"), recurseSubmodules=True)
    plain = await gitenv.files(await gitenv.ready("plain", f"main@sha1:{head}"))
    obj = await gitenv.ready("recursive", f"main@sha1:{head}")
    recursive = await gitenv.files(obj)
    assert "vendor/lib/lib.yaml" not in plain
    assert recursive["vendor/lib/lib.yaml"] == b"kind: Secret\n" and "vendor/lib/nested/x.txt" in recursive
    assert recursive["rel/lib.yaml"] == b"kind: Secret\n"
    assert obj["status"]["observedRecurseSubmodules"] is True

    # switching it on for an existing artifact rebuilds it for the same commit
    await gitenv.patch_spec("plain", {"recurseSubmodules": True})
    obj = await gitenv.wait(
        "plain",
        lambda o: o["status"].get("observedRecurseSubmodules") is True and conditions.is_ready(o),
        "plain to rebuild with submodules",
    )
    assert "vendor/lib/lib.yaml" in await gitenv.files(obj)
