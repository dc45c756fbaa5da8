"""The notification controller on the real local control plane, with real HTTP endpoints on 127.0.0.1.

Events: the source controller, told `--events-addr`, sends a GitRepository's NewArtifact event to the event
server, and the Alerts that select it deliver it to their Providers (a generic webhook with the cleaned
metadata and `gotk-component`, generic-hmac with a verifiable `X-Signature`, Slack's payload); an error-only
Alert and an Alert whose exclusion list matches stay silent; a duplicate gets 429 and bad JSON 400.
Receivers: the webhook path is published; generic-hmac and github requests with a valid signature set
`reconcile.fluxcd.io/requestedAt` on the listed objects (by name and by `*` + matchLabels); a bad signature
(401) or an event not in `spec.events` (400) annotate nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gotk.api import meta
from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.resources import GITREPOSITORIES, SECRETS, Resource
from gotk.local import gitrepos
from gotk.local.processes import free_ports
from gotk.notification import controller as notification_controller
from gotk.notification.events import Dispatcher
from gotk.notification.receivers import RECEIVERS
from gotk.runtime import conditions
from gotk.runtime.manager import Manager, ManagerOptions
from gotk.runtime.settings import Settings
from gotk.source import controller as source_controller
from gotk.testing.gitserver import GitHttpServer
from gotk.testing.waiting import eventually

pytestmark = pytest.mark.cluster

ALERTS = Resource("notification.toolkit.fluxcd.io", "v1beta3", "alerts", "Alert")
PROVIDERS = Resource("notification.toolkit.fluxcd.io", "v1beta3", "providers", "Provider")
HMAC_TOKEN = "hmac-provider-token"
Obj = dict[str, Any]


@dataclass
class Sink:
    """A real HTTP endpoint recording what it receives, per path."""

    url: str = ""
    got: dict[str, list[tuple[dict[str, str], bytes]]] = field(default_factory=dict)

    async def handle(self, request: web.Request) -> web.Response:
        self.got.setdefault(request.path, []).append((dict(request.headers), await request.read()))
        return web.Response(status=200)


@dataclass
class Env:
    client: Client
    namespace: str
    sink: Sink
    events_url: str
    hooks_url: str
    dispatcher: Dispatcher


@pytest.fixture
async def env(cluster: Any, namespace: str) -> AsyncIterator[Env]:
    sink = Sink()
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", sink.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sink_port, events_port, hooks_port = free_ports(3)
    await web.TCPSite(runner, "127.0.0.1", sink_port).start()
    sink.url = f"http://127.0.0.1:{sink_port}"
    events_url = f"http://127.0.0.1:{events_port}/"
    async with Client(config.load(cluster.kubeconfig)) as client:
        options = ManagerOptions(watch_namespace=namespace, concurrent=2, events_addr=events_url)
        manager = Manager(client, options)
        settings = Settings(
            storage_path=str(Path(cluster.state_dir) / f"storage-{namespace}"),
            storage_addr="127.0.0.1:0",
            notification_events_addr=f"127.0.0.1:{events_port}",
            receiver_addr=f"127.0.0.1:{hooks_port}",
        )
        await source_controller.register(manager, settings)
        dispatcher, _ = await notification_controller.register(manager, settings)
        stop = asyncio.Event()
        task = asyncio.create_task(manager.run(stop))
        try:
            yield Env(client, namespace, sink, events_url, f"http://127.0.0.1:{hooks_port}", dispatcher)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
            await runner.cleanup()


async def secret(client: Client, namespace: str, name: str, data: dict[str, str]) -> None:
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": data}
    await client.create(SECRETS, body, namespace)


def notification(kind: str, name: str, spec: Obj) -> Obj:
    return {
        "apiVersion": "notification.toolkit.fluxcd.io/v1beta3",
        "kind": kind,
        "metadata": {"name": name},
        "spec": spec,
    }


async def test_events_reach_the_providers_of_matching_alerts(env: Env, tmp_path: Path) -> None:
    c, ns, sink = env.client, env.namespace, env.sink
    await secret(c, ns, "hmac", {"token": HMAC_TOKEN})
    for name, spec in {
        "generic": {"type": "generic", "address": f"{sink.url}/generic"},
        "hmac": {"type": "generic-hmac", "address": f"{sink.url}/hmac", "secretRef": {"name": "hmac"}},
        "slack": {"type": "slack", "address": f"{sink.url}/slack", "channel": "flux", "username": "gotk"},
        "errors": {"type": "generic", "address": f"{sink.url}/errors"},
        "excluded": {"type": "generic", "address": f"{sink.url}/excluded"},
    }.items():
        await c.create(PROVIDERS, notification("Provider", name, spec), ns)
    sources = [{"kind": "GitRepository", "name": "*"}]
    for name, extra in {
        "generic": {"eventMetadata": {"env": "test"}},
        "hmac": {},
        "slack": {"summary": "a summary"},
        "errors": {"eventSeverity": "error"},
        "excluded": {"exclusionList": ["stored artifact"]},
    }.items():
        spec = {"providerRef": {"name": name}, "eventSources": sources, **extra}
        await c.create(ALERTS, notification("Alert", name, spec), ns)
    await asyncio.sleep(1)  # the watch caches see the Alerts and Providers

    root = tmp_path / "git"
    root.mkdir()
    gitrepos.make_repo(root, "app.git", {"app.yaml": "kind: ConfigMap\n"})
    with GitHttpServer(root) as git:
        body = {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "app"},
            "spec": {"url": git.url_for("app.git"), "interval": "1h", "ref": {"branch": "main"}},
        }
        await c.create(GITREPOSITORIES, body, ns)

        async def delivered() -> bool:
            return all(sink.got.get(f"/{p}") for p in ("generic", "hmac", "slack"))

        await eventually(delivered, timeout=45, what="the NewArtifact event at three providers")
    headers, raw = sink.got["/generic"][0]
    event = json.loads(raw)
    assert event["involvedObject"]["name"] == "app" and event["reason"] == "NewArtifact"
    assert event["metadata"]["revision"].startswith("main@sha1:") and event["metadata"]["env"] == "test"
    assert "digest" not in event["metadata"]
    assert headers["gotk-component"] == "source-controller"
    headers, raw = sink.got["/hmac"][0]
    expected = hmac.new(HMAC_TOKEN.encode(), raw, hashlib.sha256).hexdigest()
    assert headers["X-Signature"] == f"sha256={expected}"
    slack = json.loads(sink.got["/slack"][0][1])
    assert slack["channel"] == "flux" and slack["username"] == "gotk"
    attachment = slack["attachments"][0]
    assert attachment["author_name"] == f"gitrepository/app.{ns}" and attachment["color"] == "good"
    assert {"title": "summary", "value": "a summary", "short": False} in attachment["fields"]
    await env.dispatcher.drain()
    assert "/errors" not in sink.got and "/excluded" not in sink.got

    again = {
        "involvedObject": {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "name": "app",
            "namespace": ns,
        },
        "severity": "info",
        "reason": "Progressing",
        "message": "once only",
        "reportingController": "test",
    }
    async with aiohttp.ClientSession() as session:
        async with session.post(env.events_url, json=again) as resp:
            assert resp.status == 202
        async with session.post(env.events_url, json=again) as resp:
            assert resp.status == 429  # the same event again, within the rate limit interval
        async with session.post(env.events_url, data=b"{not json") as resp:
            assert resp.status == 400
        async with session.post(env.events_url, json={"involvedObject": {"kind": "X"}}) as resp:
            assert resp.status == 400


async def test_receivers_request_reconciliation(env: Env) -> None:
    c, ns = env.client, env.namespace
    token = "receiver-token-123"
    await secret(c, ns, "hook-token", {"token": token})
    for name, labels in (("one", {"team": "a"}), ("two", {"team": "a"}), ("three", {"team": "b"})):
        body = {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": name, "labels": labels},
            "spec": {"url": "https://127.0.0.1:1/none.git", "interval": "1h", "suspend": True},
        }
        await c.create(GITREPOSITORIES, body, ns)
    resources = [
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "name": "*",
            "matchLabels": {"team": "a"},
        }
    ]
    for name, kind, events in (("hmac", "generic-hmac", None), ("gh", "github", ["push"])):
        spec: Obj = {"type": kind, "secretRef": {"name": "hook-token"}, "resources": resources}
        if events:
            spec["events"] = events
        body = {
            "apiVersion": "notification.toolkit.fluxcd.io/v1",
            "kind": "Receiver",
            "metadata": {"name": name},
            "spec": spec,
        }
        await c.create(RECEIVERS, body, ns)
    paths: dict[str, str] = {}

    async def published() -> bool:
        for name in ("hmac", "gh"):
            obj = await c.get(RECEIVERS, name, ns)
            path = (obj.get("status") or {}).get("webhookPath")
            if not path or not conditions.is_ready(obj):
                return False
            paths[name] = path
        return True

    await eventually(published, what="receivers publish their webhook paths")
    expected = "/hook/" + hashlib.sha256(f"{token}hmac{ns}".encode()).hexdigest()
    assert paths["hmac"] == expected
    ready = conditions.get(await c.get(RECEIVERS, "hmac", ns), meta.READY) or {}
    assert ready["message"] == f"Receiver initialised for path: {expected}"

    async def requested(name: str) -> str | None:
        obj = await c.get(GITREPOSITORIES, name, ns)
        return (obj["metadata"].get("annotations") or {}).get(meta.RECONCILE_REQUEST_ANNOTATION)

    body = b'{"ref": "refs/heads/main"}'
    good = hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
    async with aiohttp.ClientSession() as session:
        url = env.hooks_url + paths["hmac"]
        async with session.post(url, data=body, headers={"X-Signature": "sha256=deadbeef"}) as resp:
            assert resp.status == 401
        assert await requested("one") is None
        async with session.post(url, data=body, headers={"X-Signature": f"sha256={good}"}) as resp:
            assert resp.status == 200, await resp.text()
        first = await requested("one")
        assert first and await requested("two") and await requested("three") is None

        url = env.hooks_url + paths["gh"]
        ping = {"X-GitHub-Event": "ping", "X-Hub-Signature-256": f"sha256={good}"}
        async with session.post(url, data=body, headers=ping) as resp:
            assert resp.status == 400 and "not authorised" in await resp.text()
        push = {"X-GitHub-Event": "push", "X-Hub-Signature-256": f"sha256={good}"}
        async with session.post(url, data=body, headers=push) as resp:
            assert resp.status == 200
        assert await requested("one") != first
        async with session.post(env.hooks_url + "/hook/unknown", data=body) as resp:
            assert resp.status == 404
