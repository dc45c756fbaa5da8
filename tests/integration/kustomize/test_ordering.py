"""Ordering: apply stages inside one Kustomization and dependsOn between Kustomizations.

Covers: a CRD and its custom resource in one Kustomization (stage 0 waits for Established); a dependsOn
chain of three (nothing applied until the head is Ready; a failing new revision of the head holds the
rest at the old revision, as they share its source); `readyExpr` (CEL over `dep` and `self`) replacing
the built-in check, false until the dependency matches, and an invalid one Stalled with
InvalidCELExpression; a dependency cycle A→B→A reporting DependencyNotReady on both without crashing.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gotk.api import meta
from gotk.kube.resources import CONFIGMAPS, KUSTOMIZATIONS, Resource
from gotk.runtime import conditions
from gotk.testing.waiting import eventually

pytestmark = pytest.mark.cluster

THINGS = Resource("order.gotk.io", "v1", "things", "Thing")
CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: things.order.gotk.io
spec:
  group: order.gotk.io
  names: {kind: Thing, plural: things, singular: thing}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""
THING = "apiVersion: order.gotk.io/v1\nkind: Thing\nmetadata:\n  name: t1\nspec:\n  size: 3\n"
BAD = "apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\nspec:\n  ports:\n  - port: 99999\n"


def cm(name: str, value: str = "1") -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  v: {value!r}\n"


async def value_of(harness: Any, name: str) -> str | None:
    obj = await harness.client.get_or_none(CONFIGMAPS, name, harness.namespace)
    return None if obj is None else str(obj["data"]["v"])


async def test_crd_and_custom_resource_in_one_kustomization(harness: Any) -> None:
    revision = harness.repo({"crd.yaml": CRD, "thing.yaml": THING})
    await harness.start()
    await harness.source()
    await harness.create_ks("platform")
    ks = await harness.applied("platform", revision)
    assert (await harness.client.get(THINGS, "t1", harness.namespace))["spec"]["size"] == 3
    ids = {e["id"] for e in ks["status"]["inventory"]["entries"]}
    assert {"_things.order.gotk.io_apiextensions.k8s.io_CustomResourceDefinition"} <= ids


async def test_dependency_chain(harness: Any) -> None:
    revision = harness.repo({"a/cm.yaml": cm("a"), "b/cm.yaml": cm("b"), "c/cm.yaml": cm("c")})
    await harness.start()
    await harness.source()
    await harness.create_ks("c", "./c", dependsOn=[{"name": "b"}])
    await harness.create_ks("b", "./b", dependsOn=[{"name": "a"}])
    ks = await harness.not_ready("c", meta.DEPENDENCY_NOT_READY)
    assert "dependency" in conditions.get_message(ks, meta.READY) and "b" in conditions.get_message(ks, meta.READY)
    ks = await harness.not_ready("b", meta.DEPENDENCY_NOT_READY)
    assert f"'{harness.namespace}/a' not found" in conditions.get_message(ks, meta.READY)
    assert await value_of(harness, "b") is None and await value_of(harness, "c") is None

    await harness.create_ks("a", "./a")
    for name in ("a", "b", "c"):
        await harness.applied(name, revision)

    # the head fails on the new revision: its dependents stay at the old one
    new = harness.commit({"a/bad.yaml": BAD, "b/cm.yaml": cm("b", "2"), "c/cm.yaml": cm("c", "2")})
    await harness.not_ready("a", meta.RECONCILIATION_FAILED, revision=new)
    ks = await harness.not_ready("b", meta.DEPENDENCY_NOT_READY, revision=new)
    await asyncio.sleep(2)
    assert await value_of(harness, "b") == "1" and await value_of(harness, "c") == "1"
    assert ks["status"]["lastAppliedRevision"] == revision

    fixed = harness.commit({"a/bad.yaml": None})
    for name in ("a", "b", "c"):
        await harness.applied(name, fixed)
    assert await value_of(harness, "c") == "2"


async def test_ready_expr_and_cycles(harness: Any) -> None:
    ns = harness.namespace
    revision = harness.repo(
        {f"{n}/cm.yaml": cm(n) for n in ("base", "app", "any", "x", "y", "z")} | {"bad/s.yaml": BAD}
    )
    await harness.start()
    await harness.source()
    await harness.create_ks("base", "./base")
    await harness.create_ks("broken", "./bad")
    await harness.applied("base", revision)

    # readyExpr: the dependency must carry the same app/version annotation
    same_version = "dep.metadata.annotations['app/version'] == self.metadata.annotations['app/version']"
    app = harness.kustomization("app", "./app", dependsOn=[{"name": "base", "readyExpr": same_version}])
    app["metadata"]["annotations"] = {"app/version": "v2"}
    await harness.client.patch(KUSTOMIZATIONS, "base", {"metadata": {"annotations": {"app/version": "v1"}}}, ns)
    await harness.client.create(KUSTOMIZATIONS, app, ns)
    ks = await harness.not_ready("app", meta.DEPENDENCY_NOT_READY)
    assert "not ready according to readyExpr" in conditions.get_message(ks, meta.READY)
    await harness.client.patch(KUSTOMIZATIONS, "base", {"metadata": {"annotations": {"app/version": "v2"}}}, ns)
    await harness.applied("app", revision)

    # readyExpr replaces the built-in check: a failing dependency passes when the expression says so
    await harness.not_ready("broken", meta.RECONCILIATION_FAILED)
    await harness.create_ks(
        "any", "./any", dependsOn=[{"name": "broken", "readyExpr": "dep.metadata.name == 'broken'"}]
    )
    await harness.applied("any", revision)

    # an expression that can never work is terminal
    await harness.create_ks("invalid", "./any", dependsOn=[{"name": "base", "readyExpr": "self.generation == deps.x"}])
    ks = await harness.not_ready("invalid", meta.INVALID_CEL_EXPRESSION)
    assert conditions.is_true(ks, meta.STALLED)
    assert "Reconciliation failed terminally" in conditions.get_message(ks, meta.READY)

    # a cycle never applies, keeps reporting, and does not disturb other Kustomizations
    await harness.create_ks("x", "./x", dependsOn=[{"name": "y"}])
    await harness.create_ks("y", "./y", dependsOn=[{"name": "x"}])
    for name in ("x", "y"):
        await harness.not_ready(name, meta.DEPENDENCY_NOT_READY)

        async def waits_on_the_other(name: str = name) -> bool:
            # x may first report y "not found" (it can be reconciled before y exists); then "is not ready"
            return "is not ready" in conditions.get_message(await harness.get_ks(name), meta.READY)

        await eventually(waits_on_the_other, 30, f"{name} waiting on its dependency")
    await harness.create_ks("z", "./z")
    await harness.applied("z", revision)
    await asyncio.sleep(2)
    for name in ("x", "y"):
        ks = await harness.get_ks(name)
        assert conditions.get_reason(ks, meta.READY) == meta.DEPENDENCY_NOT_READY
    assert await value_of(harness, "x") is None and await value_of(harness, "y") is None
