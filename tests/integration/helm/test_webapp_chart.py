"""A chart with what real charts have (`gotk.testing.webapp_chart`: helpers, a test hook, `crds/`, a subchart, a
values schema) released on the real control plane: from the HTTP HelmRepository with `test.enable` and a
post-renderer patch visible in the applied Deployment; from an OCI registry (`type: oci` HelmRepository) with a
failing test that `ignoreFailures` lets pass and `filters` can leave out; a failing test counted as a failure
and remediated; values that break the schema refused by Helm's own validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gotk.api import helm_conditions as hc
from gotk.api import meta
from gotk.kube.resources import CONFIGMAPS, CRDS, DEPLOYMENTS, EVENTS, HELMRELEASES, HELMREPOSITORIES, SERVICES
from gotk.runtime import conditions
from gotk.testing import helm, webapp_chart
from gotk.testing.helmreleases import Env, helmrelease, ready_at, wait_release
from gotk.testing.registry import OciRegistry

pytestmark = pytest.mark.cluster
Obj = dict[str, Any]
PATCH = {
    "kustomize": {
        "patches": [
            {
                "target": {"kind": "Deployment"},
                "patch": '[{"op": "add", "path": "/metadata/annotations", "value": {"patched-by": "gotk"}}]',
            }
        ]
    }
}


def _condition(obj: Obj, kind: str) -> Obj:
    return conditions.get(obj, kind) or {}


def _tested(success: str) -> Any:
    def check(obj: Obj) -> bool:
        return ready_at(1)(obj) and _condition(obj, hc.TEST_SUCCESS).get("status") == success

    return check


async def test_webapp_from_http_with_tests_and_a_post_renderer(env: Env, tmp_path: Path) -> None:
    c, ns = env.client, env.namespace
    helm.package(webapp_chart.write(tmp_path / "src"), env.repo)
    helm.repo_index(env.repo)
    await c.patch(
        HELMREPOSITORIES, "charts", {"metadata": {"annotations": {meta.RECONCILE_REQUEST_ANNOTATION: "w"}}}, ns
    )
    spec = {"test": {"enable": True}, "postRenderers": [PATCH], "install": {"crds": "Create"}}
    await c.create(HELMRELEASES, helmrelease("web", chart="webapp", version="1.0.0", **spec), ns)
    obj = await wait_release(env, "web", _tested("True"), "installed and tested", timeout=120)
    assert _condition(obj, hc.TEST_SUCCESS)["reason"] == hc.TEST_SUCCEEDED
    hooks = obj["status"]["history"][0]["testHooks"]
    assert list(hooks) == ["web-webapp-test-connection"], "one test ran (the failing one is off)"

    deployment = await c.get(DEPLOYMENTS, "web-webapp", ns)
    assert deployment["metadata"]["annotations"]["patched-by"] == "gotk", "the post-renderer's patch is applied"
    assert deployment["metadata"]["labels"]["helm.sh/chart"] == "webapp-1.0.0", "the helpers rendered"
    assert await c.get_or_none(SERVICES, "web-webapp", ns) is not None
    assert (await c.get(CONFIGMAPS, "web-cache", ns))["data"]["size"] == "64Mi", "the subchart, its values from ours"
    assert await c.get_or_none(CRDS, webapp_chart.CRD_NAME) is not None, "the CRD of crds/"
    ids = {e["id"] for e in obj["status"]["inventory"]["entries"]}
    assert f"_{webapp_chart.CRD_NAME}_apiextensions.k8s.io_CustomResourceDefinition" in ids
    assert f"{ns}_web-webapp_apps_Deployment" in ids and f"{ns}_web-cache__ConfigMap" in ids

    # values that break values.schema.json: Helm's own validation refuses them, naming the field
    await c.create(HELMRELEASES, helmrelease("bad", chart="webapp", version="1.0.0", values={"replicaCount": "2"}), ns)

    def refused(o: Obj) -> bool:
        return "replicaCount" in str(_condition(o, hc.RELEASED).get("message") or "")

    bad = await wait_release(env, "bad", refused, "the schema violation reported")
    assert _condition(bad, meta.READY)["status"] == "False"


async def test_webapp_from_oci_with_failing_tests(env: Env, tmp_path: Path) -> None:
    c, ns = env.client, env.namespace
    tgz = helm.package(webapp_chart.write(tmp_path / "src"), tmp_path / "dist")
    with OciRegistry(tmp_path / "registry") as registry:
        helm.push(tgz, registry.url("charts"))
        repo = {
            "apiVersion": HELMREPOSITORIES.api_version,
            "kind": "HelmRepository",
            "metadata": {"name": "oci"},
            "spec": {"type": "oci", "url": registry.url("charts"), "insecure": True, "interval": "1h"},
        }
        await c.create(HELMREPOSITORIES, repo, ns)

        def release(name: str, **spec: Any) -> Obj:
            body = helmrelease(name, chart="webapp", version="1.0.0", values={"tests": {"failing": True}}, **spec)
            body["spec"]["chart"]["spec"]["sourceRef"]["name"] = "oci"
            return body

        # a failing test that ignoreFailures lets pass: Ready, TestSuccess False
        await c.create(HELMRELEASES, release("lenient", test={"enable": True, "ignoreFailures": True}), ns)
        obj = await wait_release(env, "lenient", _tested("False"), "tested, the failure ignored", timeout=120)
        assert _condition(obj, hc.TEST_SUCCESS)["reason"] == hc.TEST_FAILED
        assert _condition(obj, meta.READY)["status"] == "True"

        # filters leave the failing test out
        skip = [{"name": "filtered-webapp-test-failing", "exclude": True}]
        await c.create(HELMRELEASES, release("filtered", test={"enable": True, "filters": skip}), ns)
        obj = await wait_release(env, "filtered", _tested("True"), "tested without the failing test", timeout=120)
        assert list(obj["status"]["history"][0]["testHooks"]) == ["filtered-webapp-test-connection"]

        # a failing test is a failed install: counted, remediated (uninstalled), retried, failed again, then stalled
        # (install's remediateLastFailure defaults to false: the last release stays)
        remediation = {"remediation": {"retries": 1}}
        await c.create(HELMRELEASES, release("strict", test={"enable": True}, install=remediation), ns)

        def exhausted(o: Obj) -> bool:
            return _condition(o, meta.STALLED).get("reason") == hc.RETRIES_EXCEEDED

        obj = await wait_release(env, "strict", exhausted, "the failing test's retries exhausted", timeout=180)
        assert obj["status"]["installFailures"] == 2
        assert _condition(obj, hc.TEST_SUCCESS).get("status") == "False"
        assert _condition(obj, hc.REMEDIATED) == {}, "the retried install succeeded: Remediated goes, as in Flux"
        events = await c.list(EVENTS, ns, field_selector="involvedObject.name=strict")
        reasons = [e["reason"] for e in events["items"]]
        assert hc.TEST_FAILED in reasons and hc.REMEDIATION_SUCCEEDED in reasons, reasons
