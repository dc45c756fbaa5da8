"""Post-rendering of a HelmRelease on the real control plane: a kustomize patch and an image override from
spec.postRenderers are visible in the applied Deployment, spec.commonMetadata's labels and annotations and the
origin labels are on every object, the digests are recorded, and a change of the post-renderers alone upgrades
the release."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gotk.helm import postrender
from gotk.kube.resources import CONFIGMAPS, DEPLOYMENTS, HELMRELEASES, HELMREPOSITORIES
from gotk.testing import helm
from gotk.testing.helmreleases import Env, helmrelease, ready_at, wait_release

pytestmark = pytest.mark.cluster

TEMPLATES = {
    "deployment.yaml": helm.DEPLOYMENT_TEMPLATE,
    "configmap.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  greeting: hello
""",
}

PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: rendered
spec:
  replicas: 2
"""


async def test_post_renderers_and_common_metadata(env: Env, tmp_path: Path) -> None:
    c, ns = env.client, env.namespace
    chart = helm.write_chart(tmp_path, "rendered-app", "1.0.0", templates=TEMPLATES)
    helm.package(chart, env.repo)
    helm.repo_index(env.repo)
    token = {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "rendered"}}}
    await c.patch(HELMREPOSITORIES, "charts", token, ns)
    renderers: list[dict[str, Any]] = [
        {
            "kustomize": {
                "patches": [{"patch": PATCH, "target": {"kind": "Deployment"}}],
                "images": [{"name": "ghcr.io/stefanprodan/podinfo", "newTag": "6.1.0"}],
            }
        }
    ]
    common = {"labels": {"team": "blue", "helm.toolkit.fluxcd.io/name": "not-this"}, "annotations": {"owner": "ops"}}
    body = helmrelease("rendered", chart="rendered-app", version="1.x", postRenderers=renderers, commonMetadata=common)
    await c.create(HELMRELEASES, body, ns)
    obj = await wait_release(env, "rendered", ready_at(1), "installed with its post-renderers")

    deployment = await c.get(DEPLOYMENTS, "rendered", ns)
    assert deployment["spec"]["replicas"] == 2, "the kustomize patch is applied"
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/stefanprodan/podinfo:6.1.0"
    for found in (deployment, await c.get(CONFIGMAPS, "rendered-settings", ns)):
        labels, annotations = found["metadata"]["labels"], found["metadata"]["annotations"]
        assert labels["team"] == "blue" and annotations["owner"] == "ops"
        assert labels["helm.toolkit.fluxcd.io/name"] == "rendered", "origin labels win over commonMetadata"
        assert labels["helm.toolkit.fluxcd.io/namespace"] == ns
    status = obj["status"]
    assert status["observedPostRenderersDigest"] == postrender.renderers_digest(obj)
    assert status["observedCommonMetadataDigest"] == postrender.common_metadata_digest(obj)

    # a change of the post-renderers alone is a new release
    renderers[0]["kustomize"]["patches"][0]["patch"] = PATCH.replace("replicas: 2", "replicas: 3")
    await c.patch(HELMRELEASES, "rendered", {"spec": {"postRenderers": renderers}}, ns)
    obj = await wait_release(env, "rendered", ready_at(2), "upgraded for the new post-renderers")
    assert (await c.get(DEPLOYMENTS, "rendered", ns))["spec"]["replicas"] == 3
    assert obj["status"]["observedPostRenderersDigest"] == postrender.renderers_digest(obj)


HOOK = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-hook
  annotations:
    helm.sh/hook: pre-install
data:
  when: before
"""


async def test_post_render_strategy_sends_hooks_or_not(env: Env, tmp_path: Path) -> None:
    c, ns = env.client, env.namespace
    chart = helm.write_chart(tmp_path, "hooked", "1.0.0", templates={**TEMPLATES, "hook.yaml": HOOK})
    helm.package(chart, env.repo)
    helm.repo_index(env.repo)
    token = {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "hooked"}}}
    await c.patch(HELMREPOSITORIES, "charts", token, ns)
    patch = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: any\n  labels:\n    rendered: 'yes'\n"
    label = {"kustomize": {"patches": [{"patch": patch, "target": {"kind": "ConfigMap"}}]}}
    for name, strategy in (("combined", None), ("nohooks", "nohooks")):
        spec: dict[str, Any] = {"postRenderers": [label]}
        if strategy:
            spec["postRenderStrategy"] = strategy
        await c.create(HELMRELEASES, helmrelease(name, chart="hooked", version="1.0.0", **spec), ns)
        await wait_release(env, name, ready_at(1), f"installed with postRenderStrategy {strategy or 'unset'}")
        settings = await c.get(CONFIGMAPS, f"{name}-settings", ns)
        hook = await c.get(CONFIGMAPS, f"{name}-hook", ns)
        assert (settings["metadata"].get("labels") or {}).get("rendered") == "yes"
        hooked = (hook["metadata"].get("labels") or {}).get("rendered")
        assert hooked == ("yes" if strategy is None else None), f"{name}: the hook post-rendered: {hooked}"
