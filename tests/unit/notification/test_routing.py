"""gotk.notification.routing and .providers, pure parts: which Alerts take an event (sources, `*` with
matchLabels, severity, inclusion/exclusion, suspend, cross-namespace), the metadata an Alert sends (group
prefix stripped, checksum/digest dropped, precedence), the duplicate key, and each provider type's request."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from gotk.notification import providers, routing

EVENT: dict[str, Any] = {
    "involvedObject": {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "name": "apps",
                       "namespace": "flux-system"},
    "severity": "info",
    "message": "Deployment/default/web configured",
    "reason": "ReconciliationSucceeded",
    "reportingController": "kustomize-controller",
    "metadata": {"kustomize.toolkit.fluxcd.io/revision": "main@sha1:abc", "kustomize.toolkit.fluxcd.io/checksum": "x",
                 "source.toolkit.fluxcd.io/digest": "y", "other": "z"},
}  # fmt: skip


def alert(**spec: Any) -> dict[str, Any]:
    base = {"providerRef": {"name": "p"}, "eventSources": [{"kind": "Kustomization", "name": "*"}]}
    return {"metadata": {"name": "a", "namespace": "flux-system"}, "spec": {**base, **spec}}


def matches(a: dict[str, Any], event: dict[str, Any] = EVENT, labels: dict[str, str] | None = None, **kw: Any) -> bool:
    return routing.alert_matches(a, event, lambda: labels or {}, **kw)


def test_sources() -> None:
    assert matches(alert())
    assert matches(alert(eventSources=[{"kind": "Kustomization", "name": "apps"}]))
    assert not matches(alert(eventSources=[{"kind": "Kustomization", "name": "infra"}]))
    assert not matches(alert(eventSources=[{"kind": "HelmRelease", "name": "*"}]))
    assert not matches(alert(eventSources=[{"kind": "Kustomization", "name": "*", "namespace": "other"}]))
    selected = alert(eventSources=[{"kind": "Kustomization", "name": "*", "matchLabels": {"team": "a"}}])
    assert matches(selected, labels={"team": "a", "x": "y"})
    assert not matches(selected, labels={"team": "b"})


def test_severity_lists_suspend_and_namespaces() -> None:
    error = {**EVENT, "severity": "error"}
    assert not matches(alert(eventSeverity="error"))
    assert matches(alert(eventSeverity="error"), error)
    assert matches(alert(eventSeverity="info"), error)
    assert not matches(alert(), {**EVENT, "severity": "trace"})
    assert matches(alert(inclusionList=["configured$"]))
    assert not matches(alert(inclusionList=["^nothing"]))
    assert not matches(alert(inclusionList=["configured"], exclusionList=["Deployment/"]))
    assert matches(alert(exclusionList=["[invalid"]))  # a bad pattern matches nothing
    assert not matches(alert(suspend=True))
    other_ns = alert(eventSources=[{"kind": "Kustomization", "name": "*", "namespace": "flux-system"}])
    other_ns["metadata"]["namespace"] = "team-a"
    assert matches(other_ns)
    assert not matches(other_ns, no_cross_namespace_refs=True)


def test_metadata_for_an_alert() -> None:
    annotations = {"event.toolkit.fluxcd.io/env": "prod", "event.toolkit.fluxcd.io/revision": "ignored", "x": "y"}
    out = routing.for_alert(EVENT, alert(eventMetadata={"cluster": "c1", "env": "staging"}, summary="s"), annotations)
    assert out["metadata"] == {"env": "staging", "revision": "main@sha1:abc", "cluster": "c1", "summary": "s"}
    assert EVENT["metadata"]["other"] == "z"  # the input is not changed


def test_parse_and_rate_limit_key() -> None:
    assert routing.parse_event(dict(EVENT)) is not None
    for bad in ([], {**EVENT, "severity": "loud"}, {**EVENT, "message": ""}, {**EVENT, "involvedObject": {}}):
        with pytest.raises(routing.EventError):
            routing.parse_event(bad)
    other = {**EVENT, "metadata": {"kustomize.toolkit.fluxcd.io/revision": "main@sha1:def"}}
    assert routing.rate_limit_key(EVENT) != routing.rate_limit_key(other)
    assert routing.rate_limit_key(EVENT) == routing.rate_limit_key(dict(EVENT))


def test_provider_requests() -> None:
    event = routing.for_alert(EVENT, alert(), {})
    generic = providers.target_from({"type": "generic", "address": "https://hooks.example/x"}, None, timeout=5)
    url, body, headers = providers.request_for(generic, event)
    assert url == "https://hooks.example/x" and json.loads(body)["metadata"] == {"revision": "main@sha1:abc"}
    assert headers["gotk-component"] == "kustomize-controller"

    secret = {"token": b"t0k", "headers": b"X-Team: platform\n", "address": b"https://override.example/hook"}
    signed = providers.target_from({"type": "generic-hmac", "address": "https://ignored"}, secret, timeout=5)
    url, body, headers = providers.request_for(signed, event)
    assert url == "https://override.example/hook" and headers["X-Team"] == "platform"
    assert headers["X-Signature"] == "sha256=" + hmac.new(b"t0k", body, hashlib.sha256).hexdigest()

    discord = providers.target_from({"type": "discord", "address": "https://discord.example/api/webhooks/1"}, None,
                                    timeout=5)  # fmt: skip
    url, body, _ = providers.request_for(discord, event)
    assert url.endswith("/api/webhooks/1/slack")
    assert json.loads(body)["attachments"][0]["author_name"] == "kustomization/apps.flux-system"

    bot = providers.target_from({"type": "slack", "channel": "ops"}, {"token": b"xoxb"}, timeout=5)
    url, body, headers = providers.request_for(bot, event)
    assert url == providers.SLACK_API and headers["Authorization"] == "Bearer xoxb"

    teams = providers.target_from({"type": "msteams", "address": "https://teams.example/w"}, None, timeout=5)
    card = json.loads(providers.request_for(teams, event)[1])["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard"

    am = providers.target_from({"type": "alertmanager", "address": "https://am.example/api/v2/alerts"}, None, timeout=5)
    alerts = json.loads(providers.request_for(am, event)[1])
    assert alerts[0]["labels"]["alertname"] == "FluxKustomizationReconciliationSucceeded"


@pytest.mark.parametrize(
    ("spec", "secret", "message"),
    [
        ({"type": "pagerduty", "address": "https://x"}, None, "not supported by gotk yet"),
        ({"type": "generic"}, None, "no address"),
        ({"type": "generic", "address": "ftp://x"}, None, "http or https"),
        ({"type": "generic-hmac", "address": "https://x"}, None, "needs the 'token'"),
        ({"type": "generic", "address": "https://x"}, {"headers": b"- a\n"}, "not a YAML map"),
    ],
)
def test_provider_errors(spec: dict[str, Any], secret: dict[str, bytes] | None, message: str) -> None:
    with pytest.raises(providers.NotifyError, match=message):
        providers.target_from(spec, secret, timeout=5)
