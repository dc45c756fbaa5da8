"""Per-object apply policies, set by annotations in git or on the live object.

Covers: `kustomize.toolkit.fluxcd.io/ssa: IfNotPresent` (created once, a manual change is never reverted);
`ssa: Ignore` (never applied, never pruned, also when set on the live object); `ssa: Merge` (fields another
manager added are kept, while Override reverts them); `prune: Disabled` (kept after removal from git);
`reconcile: disabled` (in git or on the live object: neither applied nor pruned); `force: Enabled`
recreating a Job on a template change, and `spec.force: true` recreating an immutable ConfigMap; without
force the immutable change gives Ready=False and leaves the object as it was.
"""

from __future__ import annotations

from typing import Any

import pytest

from gotk.api import meta
from gotk.kube.resources import CONFIGMAPS, Resource
from gotk.runtime import conditions

pytestmark = pytest.mark.cluster

JOBS = Resource("batch", "v1", "jobs", "Job")


def cm(name: str, data: dict[str, str], annotations: dict[str, str] | None = None, extra: str = "") -> str:
    notes = "".join(f"    {k}: {v}\n" for k, v in (annotations or {}).items())
    body = "".join(f"  {k}: {v!r}\n" for k, v in data.items())
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"
        + (f"  annotations:\n{notes}" if notes else "")
        + extra
        + f"data:\n{body}"
    )


def job(image: str) -> str:
    return f"""apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    kustomize.toolkit.fluxcd.io/force: Enabled
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: {image}
"""


async def data_of(harness: Any, name: str) -> dict[str, str] | None:
    obj = await harness.client.get_or_none(CONFIGMAPS, name, harness.namespace)
    return None if obj is None else dict(obj.get("data") or {})


async def test_ssa_and_prune_policies(harness: Any) -> None:
    ns = harness.namespace
    client = harness.client
    files = {
        "once.yaml": cm("once", {"v": "1"}, {"kustomize.toolkit.fluxcd.io/ssa": "IfNotPresent"}),
        "never.yaml": cm("never", {"v": "1"}, {"kustomize.toolkit.fluxcd.io/ssa": "Ignore"}),
        "later.yaml": cm("later", {"v": "1"}),
        "merged.yaml": cm("merged", {"v": "1"}, {"kustomize.toolkit.fluxcd.io/ssa": "Merge"}),
        "owned.yaml": cm("owned", {"v": "1"}),
        "keep.yaml": cm("keep", {"v": "1"}, {"kustomize.toolkit.fluxcd.io/prune": "Disabled"}),
        "paused.yaml": cm("paused", {"v": "1"}),
        "hands-off.yaml": cm("hands-off", {"v": "1"}),
    }
    revision = harness.repo(files)
    await harness.start()
    await harness.source()
    await harness.create_ks("policies")
    ks = await harness.applied("policies", revision)
    assert await data_of(harness, "never") is None, "ssa: Ignore is never applied"
    for name in ("once", "later", "merged", "owned", "keep", "paused", "hands-off"):
        assert await data_of(harness, name) == {"v": "1"}, name

    # manual changes: a kubectl-style Update adds a key and changes v
    for name in ("once", "merged", "owned"):
        await client.patch(CONFIGMAPS, name, {"data": {"v": "manual", "extra": "x"}}, ns, field_manager="kubectl")
    # on the live object: reconcile: disabled, ssa: Ignore
    live_off = {"metadata": {"annotations": {"kustomize.toolkit.fluxcd.io/reconcile": "disabled"}}}
    await client.patch(CONFIGMAPS, "paused", live_off, ns)
    live_ignore = {"metadata": {"annotations": {"kustomize.toolkit.fluxcd.io/ssa": "Ignore"}}}
    await client.patch(CONFIGMAPS, "hands-off", live_ignore, ns)

    # git: change every object, mark `later` as Ignore
    files2 = {
        "once.yaml": cm("once", {"v": "2"}, {"kustomize.toolkit.fluxcd.io/ssa": "IfNotPresent"}),
        "later.yaml": cm("later", {"v": "2"}, {"kustomize.toolkit.fluxcd.io/ssa": "Ignore"}),
        "merged.yaml": cm("merged", {"v": "2"}, {"kustomize.toolkit.fluxcd.io/ssa": "Merge"}),
        "owned.yaml": cm("owned", {"v": "2"}),
        "paused.yaml": cm("paused", {"v": "2"}),
        "hands-off.yaml": cm("hands-off", {"v": "2"}),
    }
    revision = harness.commit(files2)
    ks = await harness.applied("policies", revision)
    assert await data_of(harness, "once") == {"v": "manual", "extra": "x"}, "IfNotPresent: never overwritten"
    assert await data_of(harness, "later") == {"v": "1"}, "Ignore: not applied"
    assert await data_of(harness, "merged") == {"v": "2", "extra": "x"}, "Merge keeps the other manager's field"
    assert await data_of(harness, "owned") == {"v": "2"}, "Override takes kubectl's fields over and drops them"
    assert await data_of(harness, "paused") == {"v": "1"}, "reconcile: disabled on the live object"
    assert await data_of(harness, "hands-off") == {"v": "1"}, "ssa: Ignore on the live object"
    ids = {e["id"] for e in ks["status"]["inventory"]["entries"]}
    assert f"{ns}_later__ConfigMap" in ids, "a skipped object stays in the inventory (Flux)"

    # git: remove everything but `owned`: only what carries no opt-out is pruned
    gone = dict.fromkeys(["once.yaml", "never.yaml", "later.yaml", "merged.yaml", "keep.yaml"])
    revision = harness.commit({**gone, "paused.yaml": None, "hands-off.yaml": None})
    ks = await harness.applied("policies", revision)
    assert await data_of(harness, "keep") == {"v": "1"}, "prune: Disabled"
    assert await data_of(harness, "paused") == {"v": "1"}, "reconcile: disabled is never pruned"
    assert await data_of(harness, "hands-off") == {"v": "1"}, "ssa: Ignore is never pruned"
    assert await data_of(harness, "once") is None
    assert await data_of(harness, "merged") is None
    assert await data_of(harness, "owned") == {"v": "2"}
    assert {e["id"] for e in ks["status"]["inventory"]["entries"]} == {f"{ns}_owned__ConfigMap"}


async def test_force_recreate_on_immutable_change(harness: Any) -> None:
    ns = harness.namespace
    client = harness.client
    frozen = "immutable: true\n"
    revision = harness.repo({"frozen.yaml": cm("frozen", {"v": "1"}, extra=frozen), "job.yaml": job("busybox:1.36")})
    await harness.start()
    await harness.source()
    await harness.create_ks("force")
    await harness.applied("force", revision)
    frozen_uid = (await client.get(CONFIGMAPS, "frozen", ns))["metadata"]["uid"]
    job_uid = (await client.get(JOBS, "migrate", ns))["metadata"]["uid"]

    # the Job's template changes (force: Enabled) and so does the immutable ConfigMap (no force): Ready=False
    revision = harness.commit({"frozen.yaml": cm("frozen", {"v": "2"}, extra=frozen), "job.yaml": job("busybox:1.37")})
    ks = await harness.not_ready("force", meta.RECONCILIATION_FAILED, revision=revision)
    message = conditions.get_message(ks, meta.READY)
    assert f"ConfigMap/{ns}/frozen" in message and "immutable" in message, message
    live = await client.get(CONFIGMAPS, "frozen", ns)
    assert live["metadata"]["uid"] == frozen_uid and live["data"] == {"v": "1"}, "left as it was"
    assert ks["status"]["lastAppliedRevision"] != revision

    # only the annotated Job may be recreated: fix the ConfigMap in git, the Job is recreated
    revision = harness.commit({"frozen.yaml": cm("frozen", {"v": "1"}, extra=frozen)})
    await harness.applied("force", revision)
    recreated = await client.get(JOBS, "migrate", ns)
    assert recreated["metadata"]["uid"] != job_uid
    assert recreated["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1.37"
    assert (await client.get(CONFIGMAPS, "frozen", ns))["metadata"]["uid"] == frozen_uid

    # spec.force: true recreates any object on an immutable change
    revision = harness.commit({"frozen.yaml": cm("frozen", {"v": "3"}, extra=frozen)})
    await harness.not_ready("force", meta.RECONCILIATION_FAILED, revision=revision)
    await harness.patch_ks("force", {"spec": {"force": True}})
    await harness.applied("force", revision)
    live = await client.get(CONFIGMAPS, "frozen", ns)
    assert live["metadata"]["uid"] != frozen_uid and live["data"] == {"v": "3"}
