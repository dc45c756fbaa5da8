"""Drift correction and its opt-outs.

Covers: adopting an object created by `kubectl apply` (client-side): the last-applied annotation is stripped,
kubectl's managed fields are taken over so our manager owns them, and a field only kubectl set is removed;
a later `kubectl edit`-style change is reverted; `spec.ignore` with a JSON pointer (`/spec/replicas` of
Deployments) keeps a manual scale while other drift on the same object is still corrected.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gotk.kube.resources import CONFIGMAPS, DEPLOYMENTS

pytestmark = pytest.mark.cluster

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
SETTINGS = """apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: gitops
"""
KUBECTL_SETTINGS = """apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: {ns}
data:
  mode: manual
  legacy: "true"
"""
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
"""


def managers(obj: dict[str, Any]) -> dict[str, str]:
    return {e["manager"]: e["operation"] for e in obj["metadata"].get("managedFields") or []}


def owned_by(obj: dict[str, Any], manager: str) -> str:
    entries = [e for e in obj["metadata"].get("managedFields") or [] if e["manager"] == manager]
    return json.dumps([e.get("fieldsV1") for e in entries])


async def test_takeover_of_kubectl_managed_fields(harness: Any, kubectl: Any) -> None:
    ns = harness.namespace
    client = harness.client
    kubectl("apply", "-f", "-", input=KUBECTL_SETTINGS.format(ns=ns))
    before = await client.get(CONFIGMAPS, "settings", ns)
    assert LAST_APPLIED in before["metadata"]["annotations"]
    assert managers(before) == {"kubectl-client-side-apply": "Update"}

    revision = harness.repo({"settings.yaml": SETTINGS})
    await harness.start()
    await harness.source()
    await harness.create_ks("adopt")
    await harness.applied("adopt", revision)
    live = await client.get(CONFIGMAPS, "settings", ns)
    assert live["metadata"]["uid"] == before["metadata"]["uid"], "adopted, not recreated"
    assert LAST_APPLIED not in (live["metadata"].get("annotations") or {})
    assert live["data"] == {"mode": "gitops"}, "the field only kubectl set is gone"
    assert "kubectl-client-side-apply" not in managers(live)
    assert managers(live).get("kustomize-controller") == "Apply"
    assert "f:mode" in owned_by(live, "kustomize-controller")

    # a later kubectl edit is reverted at the next interval
    await client.patch(CONFIGMAPS, "settings", {"data": {"mode": "edited"}}, ns, field_manager="kubectl-edit")

    async def reverted() -> bool:
        return bool((await client.get(CONFIGMAPS, "settings", ns))["data"] == {"mode": "gitops"})

    await harness.eventually(reverted, 20, "kubectl edit reverted")
    assert "kubectl-edit" not in managers(await client.get(CONFIGMAPS, "settings", ns))


async def test_ignore_rules_keep_manual_scale(harness: Any) -> None:
    ns = harness.namespace
    client = harness.client
    revision = harness.repo({"web.yaml": DEPLOYMENT})
    await harness.start()
    await harness.source()
    ignore = [{"paths": ["/spec/replicas"], "target": {"kind": "Deployment"}}]
    await harness.create_ks("web", ignore=ignore)
    await harness.applied("web", revision)
    assert (await client.get(DEPLOYMENTS, "web", ns))["spec"]["replicas"] == 2

    # a manual scale plus an unrelated manual change: only the ignored path survives
    patch = {"spec": {"replicas": 5, "template": {"spec": {"containers": [{"name": "web", "image": "nginx:9"}]}}}}
    await client.patch(DEPLOYMENTS, "web", patch, ns, field_manager="kubectl")

    async def image_reverted() -> bool:
        live = await client.get(DEPLOYMENTS, "web", ns)
        return bool(live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27")

    await harness.eventually(image_reverted, 20, "the image change reverted")
    live = await client.get(DEPLOYMENTS, "web", ns)
    assert live["spec"]["replicas"] == 5, "the ignored path keeps its manual value"

    # a new revision that changes something else still keeps the manual scale
    revision = harness.commit({"web.yaml": DEPLOYMENT.replace("nginx:1.27", "nginx:1.28")})
    await harness.applied("web", revision)
    live = await client.get(DEPLOYMENTS, "web", ns)
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    assert live["spec"]["replicas"] == 5

    # without the ignore rule, the scale is reverted
    await harness.patch_ks("web", {"spec": {"ignore": None}})

    async def replicas_reverted() -> bool:
        return bool((await client.get(DEPLOYMENTS, "web", ns))["spec"]["replicas"] == 2)

    await harness.eventually(replicas_reverted, 20, "replicas reverted without the ignore rule")
