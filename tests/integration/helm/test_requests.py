"""Requests a user makes of a HelmRelease, on the real control plane: `flux reconcile hr --force` (the
forceAt annotation: one upgrade with nothing changed, acknowledged in lastHandledForceAt), `--reset` (resetAt:
the failure counters cleared, acknowledged in lastHandledResetAt), and a new `releaseName` (the old release
uninstalled, the new one installed)."""

from __future__ import annotations

import json

import pytest

from gotk.api import meta
from gotk.kube.resources import CONFIGMAPS, HELMRELEASES
from gotk.testing import helm
from gotk.testing.helmreleases import Env, helmrelease, ready_at, wait_release
from gotk.testing.waiting import eventually

pytestmark = pytest.mark.cluster


def _request(token: str, *extra: str) -> dict[str, object]:
    annotations = {meta.RECONCILE_REQUEST_ANNOTATION: token, **{name: token for name in extra}}
    return {"metadata": {"annotations": annotations}}


async def test_force_and_reset_requests(env: Env) -> None:
    c, ns = env.client, env.namespace
    await c.create(HELMRELEASES, helmrelease("forced"), ns)
    await wait_release(env, "forced", ready_at(1), "installed")

    await c.patch(HELMRELEASES, "forced", _request("t1", meta.FORCE_REQUEST_ANNOTATION), ns)
    obj = await wait_release(env, "forced", ready_at(2), "a forced upgrade with nothing changed")
    assert obj["status"]["lastHandledForceAt"] == "t1"

    def handled(token: str) -> object:
        return lambda o: (o.get("status") or {}).get("lastHandledReconcileAt") == token

    await c.patch(HELMRELEASES, "forced", _request("t2"), ns)
    obj = await wait_release(env, "forced", handled("t2"), "a plain request handled")
    assert obj["status"]["history"][0]["version"] == 2, "a plain reconcile request forces nothing"

    # a failing upgrade counts failures; --reset clears them
    await c.patch(HELMRELEASES, "forced", {"spec": {"chart": {"spec": {"chart": "broken", "version": "1.0.0"}}}}, ns)
    await wait_release(env, "forced", lambda o: (o.get("status") or {}).get("failures"), "a failure counted")
    await c.patch(HELMRELEASES, "forced", {"spec": {"suspend": True}}, ns)
    await c.patch(
        HELMRELEASES, "forced", {"spec": {"suspend": False}, **_request("t3", meta.RESET_REQUEST_ANNOTATION)}, ns
    )
    obj = await wait_release(env, "forced", handled("t3"), "the reset request handled")
    assert obj["status"]["lastHandledResetAt"] == "t3"
    assert obj["status"].get("failures", 0) <= 1, "the counters restarted from zero"


async def test_a_new_release_name_uninstalls_the_old_release(env: Env) -> None:
    c, ns = env.client, env.namespace
    await c.create(HELMRELEASES, helmrelease("named"), ns)
    await wait_release(env, "named", ready_at(1), "installed as 'named'")
    assert await c.get_or_none(CONFIGMAPS, "named-podinfo", ns) is not None

    await c.patch(HELMRELEASES, "named", {"spec": {"releaseName": "renamed"}}, ns)

    def renamed(obj: dict[str, object]) -> bool:
        history = (obj.get("status") or {}).get("history") or []  # type: ignore[union-attr]
        return ready_at(1)(obj) and history[0]["name"] == "renamed"

    await wait_release(env, "named", renamed, "installed again as 'renamed'")

    async def moved() -> bool:
        return await c.get_or_none(CONFIGMAPS, "named-podinfo", ns) is None

    await eventually(moved, timeout=30, what="the old release's objects gone")
    assert await c.get_or_none(CONFIGMAPS, "renamed-podinfo", ns) is not None
    listed = json.loads(helm.run("list", "-n", ns, "--kubeconfig", str(env.kubeconfig), "-o", "json").stdout)
    assert [r["name"] for r in listed] == ["renamed"]
