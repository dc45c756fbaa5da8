"""postBuild variable substitution end to end.

Covers: inline `substitute` winning over `substituteFrom` (a ConfigMap and a Secret, plus an optional one
that does not exist); `${var:=default}`; the `$${x}` escape; `kustomize.toolkit.fluxcd.io/substitute:
disabled` on one object; strict mode failing on an unset variable with Ready=False BuildFailed naming it;
a change to a ConfigMap labelled `reconcile.fluxcd.io/watch: Enabled` reconciling a Kustomization with a
1h interval within seconds.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from gotk.api import meta
from gotk.kube.resources import CONFIGMAPS, SECRETS
from gotk.runtime import conditions

pytestmark = pytest.mark.cluster

APP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: app
data:
  greeting: "${greeting}"
  region: "${region}"
  password: "${password}"
  tier: "${tier:=standard}"
  literal: "$${greeting}"
"""
RAW = """apiVersion: v1
kind: ConfigMap
metadata:
  name: raw
  annotations:
    kustomize.toolkit.fluxcd.io/substitute: disabled
data:
  template: "${greeting} stays"
"""
STRICT = """apiVersion: v1
kind: ConfigMap
metadata:
  name: strict
data:
  value: "${undefined_var}"
"""
WATCH_LABEL = {"reconcile.fluxcd.io/watch": "Enabled"}


def configmap(name: str, data: dict[str, str], labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels or {}}, "data": data}


async def test_substitution_sources_escape_and_opt_out(harness: Any) -> None:
    revision = harness.repo({"app/app.yaml": APP, "app/raw.yaml": RAW, "strict/cm.yaml": STRICT})
    ns = harness.namespace
    client = harness.client
    await client.create(CONFIGMAPS, configmap("vars", {"region": "from-configmap", "greeting": "from-cm"}), ns)
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"}, "stringData": {"password": "pw1"}}
    await client.create(SECRETS, secret, ns)
    await harness.start()
    await harness.source()
    post_build = {
        "substitute": {"greeting": "hello"},
        "substituteFrom": [
            {"kind": "ConfigMap", "name": "vars"},
            {"kind": "Secret", "name": "creds"},
            {"kind": "ConfigMap", "name": "absent", "optional": True},
        ],
    }
    await harness.create_ks("app", "./app", postBuild=post_build)
    await harness.applied("app", revision)
    data = (await client.get(CONFIGMAPS, "app", ns))["data"]
    assert data == {
        "greeting": "hello",  # inline substitute wins over substituteFrom
        "region": "from-configmap",
        "password": "pw1",
        "tier": "standard",
        "literal": "${greeting}",
    }
    raw = (await client.get(CONFIGMAPS, "raw", ns))["data"]
    assert raw == {"template": "${greeting} stays"}

    # strict mode: an unset variable without a default fails the build and names the variable
    await harness.create_ks("strict", "./strict", postBuild={"substitute": {"greeting": "x"}})
    ks = await harness.not_ready("strict", meta.BUILD_FAILED, revision=revision)
    assert "undefined_var" in conditions.get_message(ks, meta.READY)
    assert await client.get_or_none(CONFIGMAPS, "strict", ns) is None

    # a non-optional missing source fails the build too
    missing = {"substituteFrom": [{"kind": "Secret", "name": "nope"}]}
    await harness.create_ks("missing", "./app", postBuild=missing)
    ks = await harness.not_ready("missing", meta.BUILD_FAILED, revision=revision)
    assert "nope" in conditions.get_message(ks, meta.READY)


async def test_watched_configmap_triggers_reconcile(harness: Any) -> None:
    revision = harness.repo({"app/app.yaml": APP})
    ns = harness.namespace
    client = harness.client
    await client.create(
        CONFIGMAPS, configmap("vars", {"region": "eu-1", "password": "p", "greeting": "hi"}, WATCH_LABEL), ns
    )
    await harness.start()
    await harness.source()
    post_build = {"substituteFrom": [{"kind": "ConfigMap", "name": "vars"}]}
    await harness.create_ks("app", "./app", interval="1h", postBuild=post_build)
    await harness.applied("app", revision)
    assert (await client.get(CONFIGMAPS, "app", ns))["data"]["region"] == "eu-1"

    started = time.monotonic()
    await client.patch(CONFIGMAPS, "vars", {"data": {"region": "us-2"}}, ns)

    async def updated() -> bool:
        return bool((await client.get(CONFIGMAPS, "app", ns))["data"]["region"] == "us-2")

    await harness.eventually(updated, 15, "the watched ConfigMap change applied")
    assert time.monotonic() - started < 15, "well before the 1h interval"

    # an unlabelled ConfigMap is not watched: its change waits for the interval
    await client.create(CONFIGMAPS, configmap("quiet", {"tier": "gold"}), ns)
    post_build = {"substituteFrom": [{"kind": "ConfigMap", "name": "vars"}, {"kind": "ConfigMap", "name": "quiet"}]}
    await harness.patch_ks("app", {"spec": {"postBuild": post_build}})

    async def gold() -> bool:
        return bool((await client.get(CONFIGMAPS, "app", ns))["data"]["tier"] == "gold")

    await harness.eventually(gold, 15, "the spec change applied")
    await client.patch(CONFIGMAPS, "quiet", {"data": {"tier": "silver"}}, ns)
    await client.patch(CONFIGMAPS, "vars", {"metadata": {"annotations": {"touched": "yes"}}}, ns)
    await asyncio.sleep(4)
    assert (await client.get(CONFIGMAPS, "app", ns))["data"]["tier"] == "gold", "no reconcile without a watch"
