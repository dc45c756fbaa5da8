"""Sending an event to a Provider: the payload each `spec.type` expects and the HTTP POST that delivers it.

Types: `generic` (the event JSON, `gotk-component` header), `generic-hmac` (plus `X-Signature: sha256=<hmac>`
keyed by the Secret's `token`), `slack` (incoming webhook, or chat.postMessage with a bot `token`), `discord`
and `rocket` (Slack-compatible payloads), `msteams` (an Adaptive Card) and `alertmanager` (one alert). Other
Flux types are refused with a clear error, never dropped silently. The Secret's `address`, `token`,
`username`, `password`, `headers` (YAML map) and `proxy` override the spec; none of them reaches a log line.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import yaml

Obj = dict[str, Any]
SUPPORTED = ("generic", "generic-hmac", "slack", "discord", "rocket", "msteams", "alertmanager")
FLUX_ICON = "https://avatars3.githubusercontent.com/u/52158677?s=200&v=4"
SLACK_API = "https://slack.com/api/chat.postMessage"


class NotifyError(Exception):
    """The provider is misconfigured or refused the event (no secret values in the message)."""


@dataclass(frozen=True)
class Target:
    """Where and how to deliver, from a Provider spec and its Secrets."""

    type: str
    address: str
    channel: str = ""
    username: str = ""
    token: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    proxy: str = field(default="", repr=False)
    timeout: float = 15.0
    ssl: ssl.SSLContext | None = None


def target_from(
    spec: Mapping[str, Any], secret: Mapping[str, bytes] | None, *, timeout: float, tls: ssl.SSLContext | None = None
) -> Target:
    kind = str(spec.get("type") or "")
    if kind not in SUPPORTED:
        raise NotifyError(f"provider type '{kind}' is not supported by gotk yet (supported: {', '.join(SUPPORTED)})")
    data = {k: v.decode(errors="replace") for k, v in (secret or {}).items()}
    address = data.get("address", "").strip() or str(spec.get("address") or "")
    if kind == "slack" and not address and data.get("token"):
        address = SLACK_API
    if not address:
        raise NotifyError("no address: set spec.address or the 'address' key of the secret")
    if urlsplit(address).scheme not in ("http", "https"):
        raise NotifyError("the provider address must be an http or https URL")
    headers: dict[str, str] = {}
    if data.get("headers"):
        try:
            parsed = yaml.safe_load(data["headers"]) or {}
        except yaml.YAMLError:
            raise NotifyError("the secret's 'headers' key is not a YAML map") from None
        if not isinstance(parsed, dict):
            raise NotifyError("the secret's 'headers' key is not a YAML map")
        headers = {str(k): str(v) for k, v in parsed.items()}
    if kind == "generic-hmac" and not data.get("token"):
        raise NotifyError("generic-hmac needs the 'token' key in the secret")
    return Target(
        type=kind,
        address=address,
        channel=str(spec.get("channel") or ""),
        username=data.get("username") or str(spec.get("username") or ""),
        token=data.get("token", ""),
        password=data.get("password", ""),
        headers=headers,
        proxy=data.get("proxy", "") or str(spec.get("proxy") or ""),
        timeout=timeout,
        ssl=tls,
    )


def _title(event: Mapping[str, Any]) -> str:
    involved = event.get("involvedObject") or {}
    return f"{str(involved.get('kind', '')).lower()}/{involved.get('name')}.{involved.get('namespace')}"


def _fields(event: Mapping[str, Any]) -> list[Obj]:
    return [{"title": k, "value": v, "short": False} for k, v in sorted((event.get("metadata") or {}).items())]


def slack_payload(target: Target, event: Mapping[str, Any]) -> Obj:
    payload: Obj = {"username": target.username or None, "icon_url": FLUX_ICON}
    if target.channel:
        payload["channel"] = target.channel
    payload["attachments"] = [
        {
            "color": "danger" if event.get("severity") == "error" else "good",
            "author_name": _title(event),
            "text": event.get("message"),
            "mrkdwn_in": ["text"],
            "fields": _fields(event),
        }
    ]
    return {k: v for k, v in payload.items() if v is not None}


def msteams_payload(event: Mapping[str, Any]) -> Obj:
    facts = [{"title": k, "value": v} for k, v in sorted((event.get("metadata") or {}).items())]
    body: list[Obj] = [
        {"type": "TextBlock", "text": _title(event), "weight": "bolder", "size": "medium", "wrap": True},
        {"type": "TextBlock", "text": event.get("message"), "wrap": True},
    ]
    if facts:
        body.append({"type": "FactSet", "facts": facts})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    return {
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
    }


def alertmanager_payload(event: Mapping[str, Any]) -> list[Obj]:
    involved = event.get("involvedObject") or {}
    labels = {k: v for k, v in (event.get("metadata") or {}).items() if k != "summary"}
    labels.update(
        alertname=f"Flux{involved.get('kind')}{str(event.get('reason') or '').replace(' ', '')}",
        severity=str(event.get("severity")),
        reason=str(event.get("reason") or ""),
        timestamp=str(event.get("timestamp") or ""),
        kind=str(involved.get("kind")),
        name=str(involved.get("name")),
        namespace=str(involved.get("namespace")),
    )
    now = datetime.now(UTC)
    annotations = {"message": str(event.get("message"))}
    if (event.get("metadata") or {}).get("summary"):
        annotations["summary"] = event["metadata"]["summary"]
    ends = now + timedelta(minutes=1) if event.get("severity") == "info" else now
    return [{"labels": labels, "annotations": annotations, "startsAt": now.isoformat(), "endsAt": ends.isoformat()}]


def request_for(target: Target, event: Mapping[str, Any]) -> tuple[str, bytes, dict[str, str]]:
    """(url, body, headers) of the POST that delivers `event` to `target`."""
    url = target.address
    headers = {"Content-Type": "application/json", **target.headers}
    body: Any
    if target.type in ("generic", "generic-hmac"):
        body = dict(event)
        headers["gotk-component"] = str(event.get("reportingController") or "")
    elif target.type in ("slack", "rocket", "discord"):
        body = slack_payload(target, event)
        if target.type == "discord" and not url.rstrip("/").endswith("/slack"):
            url = url.rstrip("/") + "/slack"
        if target.type == "slack" and target.token:
            headers["Authorization"] = f"Bearer {target.token}"
    elif target.type == "msteams":
        body = msteams_payload(event)
    else:
        body = alertmanager_payload(event)
    raw = json.dumps(body).encode()
    if target.type == "generic-hmac":
        digest = hmac.new(target.token.encode(), raw, hashlib.sha256).hexdigest()
        headers["X-Signature"] = f"sha256={digest}"
    if target.username and target.password and "Authorization" not in headers:
        token = base64.b64encode(f"{target.username}:{target.password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    return url, raw, headers


async def send(target: Target, event: Mapping[str, Any]) -> None:
    """POST the event; a non-2xx answer or a network failure raises NotifyError."""
    url, body, headers = request_for(target, event)
    shown = urlsplit(url)._replace(query="", fragment="", netloc=urlsplit(url).hostname or "").geturl()
    try:
        connector = aiohttp.TCPConnector(ssl=target.ssl if target.ssl is not None else True)
        timeout = aiohttp.ClientTimeout(total=target.timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            async with session.post(url, data=body, headers=headers, proxy=target.proxy or None) as resp:
                if resp.status >= 300:
                    raise NotifyError(f"postMessage to {shown} failed: {resp.status} {resp.reason or ''}".rstrip())
    except TimeoutError:
        raise NotifyError(f"postMessage to {shown} failed: timeout after {target.timeout:g}s") from None
    except aiohttp.ClientError as exc:
        raise NotifyError(f"postMessage to {shown} failed: {type(exc).__name__}") from None
