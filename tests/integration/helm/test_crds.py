"""The CRD policies of a HelmRelease on the real control plane: a chart's `crds/` created on install (Create, the
install default), left alone on upgrade (Skip, the upgrade default), and updated with CreateReplace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gotk.kube.resources import CRDS, HELMRELEASES, HELMREPOSITORIES
from gotk.runtime import conditions
from gotk.testing import helm
from gotk.testing.helmreleases import Env, helmrelease, ready_at, wait_release

pytestmark = pytest.mark.cluster


def crd(group: str, note: str) -> str:
    return f"""apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.{group}
spec:
  group: {group}
  names: {{kind: Widget, plural: widgets, singular: widget}}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        description: {note}
        x-kubernetes-preserve-unknown-fields: true
"""


def publish(env: Env, src: Path, version: str, group: str, note: str) -> None:
    chart = helm.write_chart(src / version, "widgets", version, extra_files={"crds/widgets.yaml": crd(group, note)})
    helm.package(chart, env.repo)
    helm.repo_index(env.repo)


async def description(env: Env, group: str) -> str:
    found = await env.client.get(CRDS, f"widgets.{group}")
    return str(found["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["description"])


def observed(generation: int) -> Any:
    return lambda obj: (obj.get("status") or {}).get("observedGeneration") == generation and conditions.is_ready(obj)


def released(version: str) -> Any:
    def check(obj: dict[str, Any]) -> bool:
        history = (obj.get("status") or {}).get("history") or [{}]
        return conditions.is_ready(obj) and history[0].get("chartVersion") == version

    return check


async def refresh(env: Env, token: str) -> None:
    annotation = {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": token}}}
    await env.client.patch(HELMREPOSITORIES, "charts", annotation, env.namespace)


async def test_crd_policies(env: Env, tmp_path: Path) -> None:
    c, ns = env.client, env.namespace
    group = f"{ns}.gotk.io"
    publish(env, tmp_path, "1.0.0", group, "first")
    await c.create(HELMRELEASES, helmrelease("widgets", chart="widgets", version="1.x"), ns)
    obj = await wait_release(env, "widgets", ready_at(1), "installed with its CRD")
    assert await description(env, group) == "first"
    assert obj["status"]["inventory"]["entries"] == [
        {"id": f"{ns}_widgets-widgets__ConfigMap", "v": "v1"},
        {"id": f"_widgets.{group}_apiextensions.k8s.io_CustomResourceDefinition", "v": "v1"},
    ], "the release's objects, namespaced, then the chart's CRDs"

    publish(env, tmp_path, "1.1.0", group, "second")
    await refresh(env, "1.1.0")
    await wait_release(env, "widgets", ready_at(2), "upgraded, crds Skip by default")
    assert await description(env, group) == "first", "Skip leaves the CRD alone"

    await c.patch(HELMRELEASES, "widgets", {"spec": {"upgrade": {"crds": "CreateReplace"}}}, ns)
    await wait_release(env, "widgets", observed(2), "the new policy observed")
    publish(env, tmp_path, "1.2.0", group, "third")
    await refresh(env, "1.2.0")
    await wait_release(env, "widgets", released("1.2.0"), "upgraded with CreateReplace")
    assert await description(env, group) == "third", "CreateReplace updates the CRD"
    await c.delete(CRDS, f"widgets.{group}")
