"""valuesFrom on the real control plane: a targetPath entry is parsed by Helm's --set parser (numbers and
booleans typed, `{a,b}` lists, quoted strings kept as strings), `literal` keeps the value verbatim, and a Secret's
value reaches the release but never the HelmRelease's status, events or logs, even when it fails to parse; a
change to a ConfigMap labelled `reconcile.fluxcd.io/watch: Enabled` upgrades the release without waiting for the
interval."""

from __future__ import annotations

import base64
import json
import logging

import pytest

from gotk.api import meta
from gotk.kube.resources import CONFIGMAPS, EVENTS, HELMRELEASES, SECRETS
from gotk.runtime import conditions
from gotk.testing.helmreleases import Env, helmrelease, ready_at, wait_release

pytestmark = pytest.mark.cluster
SECRET = "s3cr3t,hidden"


async def test_target_paths_are_parsed_as_helm_set_does(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    c, ns = env.client, env.namespace
    data = {"count": "3", "enabled": "true", "list": "{a,b}", "quoted": '"007"', "raw": "x,y={z}"}
    await c.create(CONFIGMAPS, {"metadata": {"name": "settings"}, "data": data}, ns)
    encoded = base64.b64encode(SECRET.encode()).decode()
    await c.create(SECRETS, {"metadata": {"name": "creds"}, "data": {"password": encoded}}, ns)

    def ref(key: str, path: str, kind: str = "ConfigMap", **extra: object) -> dict[str, object]:
        name = "settings" if kind == "ConfigMap" else "creds"
        return {"kind": kind, "name": name, "valuesKey": key, "targetPath": path, **extra}

    values_from = [
        ref("count", "nested.count"),
        ref("enabled", "nested.enabled"),
        ref("list", "items"),
        ref("quoted", "code"),
        ref("raw", "raw", literal=True),
        ref("password", "password", kind="Secret", literal=True),
    ]
    await c.create(HELMRELEASES, helmrelease("typed", valuesFrom=values_from), ns)
    await wait_release(env, "typed", ready_at(1), "installed with the typed values")
    rendered = (await c.get(CONFIGMAPS, "typed-podinfo", ns))["data"]
    assert json.loads(rendered["nested"]) == {"count": 3, "enabled": True}
    assert json.loads(rendered["items"]) == ["a", "b"]
    assert rendered["code"] == "007" and rendered["raw"] == "x,y={z}"
    assert rendered["password"] == SECRET, "the Secret's value reaches the release"

    # the same Secret value through the --set parser fails to parse: the error names the entry, not the value
    broken = [{"kind": "Secret", "name": "creds", "valuesKey": "password", "targetPath": "password"}]
    await c.create(HELMRELEASES, helmrelease("leaky", valuesFrom=broken), ns)

    def failed(obj: dict[str, object]) -> bool:
        return (conditions.get(obj, meta.READY) or {}).get("reason") == "InitFailed"

    obj = await wait_release(env, "leaky", failed, "the unparsable Secret value reported")
    message = str((conditions.get(obj, meta.READY) or {})["message"])
    assert "Secret 'creds' key 'password'" in message and "not valid --set syntax" in message
    for name in ("typed", "leaky"):
        found = await c.get(HELMRELEASES, name, ns)
        events = await c.list(EVENTS, ns, field_selector=f"involvedObject.name={name}")
        text = json.dumps(found.get("status")) + json.dumps([e.get("message") for e in events["items"]])
        assert "s3cr3t" not in text and "hidden" not in text
    logged = "\n".join(r.getMessage() + json.dumps(r.__dict__, default=str) for r in caplog.records)
    assert "s3cr3t" not in logged and "hidden" not in logged, "the Secret's value is in no log record"


async def test_a_labelled_configmap_change_upgrades_the_release(env: Env) -> None:
    c, ns = env.client, env.namespace
    labels = {meta.WATCH_LABEL: meta.WATCH_LABEL_ENABLED}
    await c.create(CONFIGMAPS, {"metadata": {"name": "watched", "labels": labels}, "data": {"v": "one"}}, ns)
    await c.create(CONFIGMAPS, {"metadata": {"name": "plain"}, "data": {"v": "one"}}, ns)
    values_from = [
        {"kind": "ConfigMap", "name": "watched", "valuesKey": "v", "targetPath": "watched"},
        {"kind": "ConfigMap", "name": "plain", "valuesKey": "v", "targetPath": "plain"},
    ]
    await c.create(HELMRELEASES, helmrelease("watching", valuesFrom=values_from, interval="1h"), ns)
    await wait_release(env, "watching", ready_at(1), "installed")
    await c.patch(CONFIGMAPS, "plain", {"data": {"v": "two"}}, ns)
    await c.patch(CONFIGMAPS, "watched", {"data": {"v": "two"}}, ns)
    await wait_release(env, "watching", ready_at(2), "upgraded on the labelled ConfigMap's change", timeout=60)
    rendered = (await c.get(CONFIGMAPS, "watching-podinfo", ns))["data"]
    assert rendered["watched"] == "two" and rendered["plain"] == "two", "both values are read at the upgrade"
