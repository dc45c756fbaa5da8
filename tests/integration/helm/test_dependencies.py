"""dependsOn and access settings of HelmReleases on the real control plane: a release waits for its
dependencies (DependencyNotReady) until they are Ready, or until their `readyExpr` holds; a readyExpr that
cannot compile stalls; with --no-cross-namespace-refs a source in another namespace is refused (AccessDenied);
with --default-service-account a release without serviceAccountName acts as that account."""

from __future__ import annotations

from typing import Any

import pytest

from gotk.api import meta
from gotk.kube.resources import HELMRELEASES
from gotk.runtime import conditions
from gotk.testing.helmreleases import Env, helmrelease, ready_at, wait_release

pytestmark = pytest.mark.cluster
Obj = dict[str, Any]


def ready_reason(reason: str) -> Any:
    return lambda obj: (conditions.get(obj, meta.READY) or {}).get("reason") == reason


def stalled(reason: str) -> Any:
    return lambda obj: (conditions.get(obj, meta.STALLED) or {}).get("reason") == reason


async def test_depends_on_and_ready_expr(env: Env) -> None:
    c, ns = env.client, env.namespace
    await c.create(HELMRELEASES, helmrelease("app", dependsOn=[{"name": "base"}]), ns)
    obj = await wait_release(env, "app", ready_reason("DependencyNotReady"), "app waits for base")
    assert (conditions.get(obj, meta.READY) or {})["message"] == f"dependency '{ns}/base' not found"

    await c.create(HELMRELEASES, helmrelease("base"), ns)
    await wait_release(env, "base", ready_at(1), "base installed")
    await wait_release(env, "app", ready_at(1), "app installed once base is ready")

    expr = "has(dep.metadata.labels) && dep.metadata.labels['tier'] == 'ready'"
    await c.create(HELMRELEASES, helmrelease("gated", dependsOn=[{"name": "base", "readyExpr": expr}]), ns)
    obj = await wait_release(env, "gated", ready_reason("DependencyNotReady"), "gated waits for the label")
    assert "is not ready according to readyExpr eval" in (conditions.get(obj, meta.READY) or {})["message"]
    await c.patch(HELMRELEASES, "base", {"metadata": {"labels": {"tier": "ready"}}}, ns)
    await wait_release(env, "gated", ready_at(1), "gated installed once its readyExpr holds")

    broken = [{"name": "base", "readyExpr": "dep.status.(("}]
    await c.create(HELMRELEASES, helmrelease("broken-expr", dependsOn=broken), ns)
    obj = await wait_release(env, "broken-expr", stalled("InvalidCELExpression"), "an invalid readyExpr stalls")
    assert (conditions.get(obj, meta.STALLED) or {})["message"].startswith(meta.TERMINAL_ERROR)


@pytest.mark.settings(no_cross_namespace_refs=True, default_service_account="helm-deployer")
async def test_cross_namespace_refs_and_the_default_service_account(env: Env) -> None:
    c, ns = env.client, env.namespace
    body = helmrelease("elsewhere")
    body["spec"]["chart"]["spec"]["sourceRef"]["namespace"] = "other"
    await c.create(HELMRELEASES, body, ns)
    obj = await wait_release(env, "elsewhere", stalled("AccessDenied"), "a source in another namespace refused")
    message = (conditions.get(obj, meta.STALLED) or {})["message"]
    assert message == f"cross-namespace references are not allowed: cannot access HelmChart other/{ns}-elsewhere"

    await c.create(HELMRELEASES, helmrelease("impersonated"), ns)
    user = f"system:serviceaccount:{ns}:helm-deployer"
    obj = await wait_release(
        env,
        "impersonated",
        lambda o: user in (conditions.get(o, meta.READY) or {}).get("message", ""),
        "the release is read and installed as helm-deployer, which may do nothing",
    )
    assert (conditions.get(obj, meta.READY) or {})["status"] == "False"
