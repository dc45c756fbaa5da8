"""Kustomization end to end on the real local control plane with kwok nodes, from a real git server.

The source and kustomize controllers run in-process in one Manager; the test acts through the API server
and the git server only: commits, `kubectl`-style changes, and reading status.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gotk.api import meta
from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.resources import DEPLOYMENTS, GITREPOSITORIES, KUSTOMIZATIONS, Resource
from gotk.kustomize import controller as kustomize_controller
from gotk.local import gitrepos
from gotk.runtime import conditions
from gotk.runtime.manager import Manager, ManagerOptions
from gotk.runtime.settings import Settings
from gotk.source import controller as source_controller
from gotk.testing.gitserver import GitHttpServer
from gotk.testing.waiting import eventually

pytestmark = pytest.mark.cluster

HPAS = Resource("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler")
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")
SERVICES = Resource("", "v1", "services", "Service")

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
spec:
  replicas: 1
  selector:
    matchLabels:
      app: podinfo
  template:
    metadata:
      labels:
        app: podinfo
    spec:
      containers:
      - name: podinfo
        image: ghcr.io/stefanprodan/podinfo:6.7.0
        envFrom:
        - configMapRef:
            name: podinfo-config
"""
SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: podinfo
spec:
  selector:
    app: podinfo
  ports:
  - port: 9898
"""
HPA = """apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: podinfo
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  minReplicas: 2
  maxReplicas: 4
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 99
"""
BASE_KUSTOMIZATION = """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- deployment.yaml
- service.yaml
- hpa.yaml
configMapGenerator:
- name: podinfo-config
  literals:
  - PODINFO_UI_MESSAGE=hello
"""
OVERLAY = """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../base
patches:
- patch: |
    - op: replace
      path: /spec/replicas
      value: 2
  target:
    kind: Deployment
    name: podinfo
"""
APP_FILES = {
    "base/deployment.yaml": DEPLOYMENT,
    "base/service.yaml": SERVICE,
    "base/hpa.yaml": HPA,
    "base/kustomization.yaml": BASE_KUSTOMIZATION,
    "overlays/prod/kustomization.yaml": OVERLAY,
}


@pytest.fixture
async def client(cluster: Any) -> AsyncIterator[Client]:
    async with Client(config.load(cluster.kubeconfig)) as c:
        yield c


@pytest.fixture
def git_server(tmp_path: Path) -> Any:
    (tmp_path / "git").mkdir()
    with GitHttpServer(tmp_path / "git") as server:
        yield server


@pytest.fixture
async def controllers(client: Client, namespace: str, tmp_path: Path) -> AsyncIterator[Manager]:
    manager = Manager(client, ManagerOptions(watch_namespace=namespace, concurrent=4))
    settings = Settings(storage_path=str(tmp_path / "storage"), storage_addr="127.0.0.1:0", requeue_dependency=1.0)
    await source_controller.register(manager, settings)
    await kustomize_controller.register(manager, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(manager.run(stop))
    yield manager
    stop.set()
    await asyncio.wait_for(task, 60)


def gitrepository(name: str, namespace: str, url: str) -> dict[str, Any]:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"url": url, "interval": "2s", "ref": {"branch": "main"}},
    }


def kustomization(name: str, namespace: str, path: str, **spec: Any) -> dict[str, Any]:
    body = {
        "interval": "3s",
        "path": path,
        "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": "repo"},
        "targetNamespace": namespace,
        "timeout": "60s",
    }
    body.update(spec)
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": namespace},
        "spec": body,
    }


async def applied(client: Client, name: str, namespace: str, revision: str, timeout: float = 60) -> dict[str, Any]:
    out: dict[str, Any] = {}

    async def check() -> bool:
        obj = await client.get(KUSTOMIZATIONS, name, namespace)
        if obj.get("status", {}).get("lastAppliedRevision") == revision and conditions.is_ready(obj):
            out.update(obj)
            return True
        return False

    await eventually(check, timeout, f"Kustomization {name} at {revision}")
    return out


async def test_podinfo_prune_drift_and_failure(
    client: Client, namespace: str, controllers: Manager, git_server: Any
) -> None:
    repo = gitrepos.make_repo(git_server.root, "app.git", APP_FILES)
    head = gitrepos.commit(repo, {"README.md": "podinfo\n"}, "readme")
    await client.create(GITREPOSITORIES, gitrepository("repo", namespace, git_server.url_for("app.git")), namespace)
    await client.create(KUSTOMIZATIONS, kustomization("podinfo", namespace, "./overlays/prod", wait=True), namespace)

    ks = await applied(client, "podinfo", namespace, f"main@sha1:{head}")
    ready = conditions.get(ks, meta.READY)
    assert ready is not None and ready["reason"] == "ReconciliationSucceeded"
    assert ready["message"] == f"Applied revision: main@sha1:{head}"
    ids = {e["id"] for e in ks["status"]["inventory"]["entries"]}
    assert f"{namespace}_podinfo_apps_Deployment" in ids
    assert f"{namespace}_podinfo_autoscaling_HorizontalPodAutoscaler" in ids
    assert any(i.startswith(f"{namespace}_podinfo-config-") for i in ids)
    deploy = await client.get(DEPLOYMENTS, "podinfo", namespace)
    assert deploy["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"] == "podinfo"
    available = [c for c in deploy["status"].get("conditions", []) if c["type"] == "Available"]
    assert available and available[0]["status"] == "True", "wait: true means the Deployment is Available"

    # prune: removing the HPA from the base prunes it
    base = APP_FILES["base/kustomization.yaml"].replace("- hpa.yaml\n", "")
    head2 = gitrepos.commit(repo, {"base/kustomization.yaml": base, "base/hpa.yaml": None}, "drop hpa")
    ks = await applied(client, "podinfo", namespace, f"main@sha1:{head2}")
    assert await client.get_or_none(HPAS, "podinfo", namespace) is None
    assert f"{namespace}_podinfo_autoscaling_HorizontalPodAutoscaler" not in {
        e["id"] for e in ks["status"]["inventory"]["entries"]
    }

    # drift: a manual scale is reverted at the next interval; unchanged objects are not written
    svc_rv = (await client.get(SERVICES, "podinfo", namespace))["metadata"]["resourceVersion"]
    await client.patch(DEPLOYMENTS, "podinfo", {"spec": {"replicas": 5}}, namespace, field_manager="kubectl")

    async def reverted() -> bool:
        d = await client.get(DEPLOYMENTS, "podinfo", namespace)
        return bool(d["spec"]["replicas"] == 2)

    await eventually(reverted, 30, "drift reverted")
    assert (await client.get(SERVICES, "podinfo", namespace))["metadata"]["resourceVersion"] == svc_rv

    # failure: one invalid object fails the stage: nothing written there, nothing pruned, old inventory kept
    before = await client.get(KUSTOMIZATIONS, "podinfo", namespace)
    inventory_before = before["status"]["inventory"]
    bad_service = SERVICE.replace("port: 9898", "port: 99999")
    new_cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  a: b\n"
    base3 = base.replace("- service.yaml\n", "- service.yaml\n- extra.yaml\n")
    head3 = gitrepos.commit(
        repo, {"base/service.yaml": bad_service, "base/extra.yaml": new_cm, "base/kustomization.yaml": base3}, "bad"
    )

    async def failed() -> bool:
        o = await client.get(KUSTOMIZATIONS, "podinfo", namespace)
        return o["status"].get("lastAttemptedRevision") == f"main@sha1:{head3}" and conditions.is_false(o, meta.READY)

    await eventually(failed, 60, "Ready=False for the invalid commit")
    ks = await client.get(KUSTOMIZATIONS, "podinfo", namespace)
    assert conditions.get_reason(ks, meta.READY) == "ReconciliationFailed"
    assert "Service" in conditions.get_message(ks, meta.READY) and "99999" in conditions.get_message(ks, meta.READY)
    assert ks["status"]["inventory"] == inventory_before
    assert ks["status"]["lastAppliedRevision"] == f"main@sha1:{head2}"
    assert await client.get_or_none(CONFIGMAPS, "extra", namespace) is None, "nothing written in the failed stage"
    assert await client.get_or_none(DEPLOYMENTS, "podinfo", namespace) is not None, "nothing pruned"

    # fixing the commit recovers
    head4 = gitrepos.commit(repo, {"base/service.yaml": SERVICE}, "fix")
    await applied(client, "podinfo", namespace, f"main@sha1:{head4}")
    assert await client.get_or_none(CONFIGMAPS, "extra", namespace) is not None


CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.gotk.io
spec:
  group: example.gotk.io
  names:
    kind: Widget
    plural: widgets
    singular: widget
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-preserve-unknown-fields: true
"""
WIDGET = "apiVersion: example.gotk.io/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 3\n"
APP_CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  k: v\n"


async def test_dependson_with_crd_and_custom_resource(
    client: Client, namespace: str, controllers: Manager, git_server: Any
) -> None:
    repo = gitrepos.make_repo(
        git_server.root, "platform.git", {"infra/crd.yaml": CRD, "infra/widget.yaml": WIDGET, "apps/app.yaml": APP_CM}
    )
    head = gitrepos.commit(repo, {"README.md": "x\n"}, "x")
    await client.create(
        GITREPOSITORIES, gitrepository("repo", namespace, git_server.url_for("platform.git")), namespace
    )
    apps = kustomization("apps", namespace, "./apps", dependsOn=[{"name": "infra"}])
    await client.create(KUSTOMIZATIONS, apps, namespace)
    await asyncio.sleep(2)
    obj = await client.get(KUSTOMIZATIONS, "apps", namespace)
    assert conditions.get_reason(obj, meta.READY) == "DependencyNotReady"
    assert await client.get_or_none(CONFIGMAPS, "app", namespace) is None

    await client.create(KUSTOMIZATIONS, kustomization("infra", namespace, "./infra"), namespace)
    await applied(client, "infra", namespace, f"main@sha1:{head}")
    await applied(client, "apps", namespace, f"main@sha1:{head}")
    widgets = Resource("example.gotk.io", "v1", "widgets", "Widget")
    assert (await client.get(widgets, "w1", namespace))["spec"]["size"] == 3
    assert await client.get_or_none(CONFIGMAPS, "app", namespace) is not None
