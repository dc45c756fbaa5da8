"""Which Alerts an event goes to, and what it carries there — as Flux's notification-controller decides.

Pure: plain dicts in, plain data out. An event is the JSON the controllers POST (`involvedObject`, `severity`,
`message`, `reason`, `metadata`, `reportingController`, ...). Routing looks at an Alert's `eventSources`
(kind, name or `*`, namespace defaulting to the Alert's, `matchLabels` against the involved object's labels),
`eventSeverity` (`info` takes every event, `error` only errors; `trace` events are never forwarded) and its
`inclusionList`/`exclusionList` regular expressions on the message (exclusion wins).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Obj = dict[str, Any]
SEVERITIES = ("info", "error")
EXCLUDED_METADATA = ("checksum", "digest")


class EventError(ValueError):
    """The request body is not a Flux event."""


def parse_event(body: Any) -> Obj:
    """Check an event's required fields; returns it (a dict)."""
    if not isinstance(body, dict):
        raise EventError("the event is not a JSON object")
    involved = body.get("involvedObject")
    if not isinstance(involved, dict) or not all(involved.get(k) for k in ("kind", "name", "namespace")):
        raise EventError("involvedObject needs kind, name and namespace")
    if body.get("severity") not in (*SEVERITIES, "trace"):
        raise EventError(f"unknown severity {body.get('severity')!r}")
    if not isinstance(body.get("message", ""), str) or not body.get("message"):
        raise EventError("the event has no message")
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise EventError("metadata must map strings to strings")
    return body


def group_of(event: Mapping[str, Any]) -> str:
    api_version = str((event.get("involvedObject") or {}).get("apiVersion") or "")
    return api_version.split("/")[0] if "/" in api_version else ""


def clean_metadata(event: Mapping[str, Any]) -> dict[str, str]:
    """Only the metadata keys under the involved object's API group, without that prefix (checksum and digest
    dropped), as Flux keeps them."""
    group = group_of(event)
    out: dict[str, str] = {}
    for key, value in (event.get("metadata") or {}).items():
        if not group or not key.startswith(f"{group}/"):
            continue
        short = key.removeprefix(f"{group}/")
        if short not in EXCLUDED_METADATA:
            out[short] = value
    return out


def _regex_any(patterns: list[str] | None, text: str) -> bool:
    for pattern in patterns or []:
        try:
            if re.search(pattern, text):
                return True
        except re.error:
            continue
    return False


def source_matches(
    source: Mapping[str, Any],
    alert_namespace: str,
    involved: Mapping[str, Any],
    labels: Callable[[], Mapping[str, str] | None],
) -> bool:
    """Whether one `eventSources` entry selects the involved object; `labels()` fetches its labels (only
    called for a `*` entry with `matchLabels`)."""
    if source.get("kind") != involved.get("kind"):
        return False
    if (source.get("namespace") or alert_namespace) != involved.get("namespace"):
        return False
    name = source.get("name")
    if name == "*":
        selector = source.get("matchLabels") or {}
        if not selector:
            return True
        found = labels() or {}
        return all(found.get(k) == v for k, v in selector.items())
    return bool(name == involved.get("name"))


def alert_matches(
    alert: Mapping[str, Any],
    event: Mapping[str, Any],
    labels: Callable[[], Mapping[str, str] | None],
    *,
    no_cross_namespace_refs: bool = False,
) -> bool:
    """Whether `alert` forwards `event`."""
    spec = alert.get("spec") or {}
    if spec.get("suspend") or event.get("severity") == "trace":
        return False
    if spec.get("eventSeverity") == "error" and event.get("severity") != "error":
        return False
    alert_ns = str((alert.get("metadata") or {}).get("namespace") or "")
    involved = event.get("involvedObject") or {}
    if no_cross_namespace_refs and involved.get("namespace") != alert_ns:
        return False
    if not any(source_matches(s, alert_ns, involved, labels) for s in spec.get("eventSources") or []):
        return False
    message = str(event.get("message") or "")
    if spec.get("inclusionList") and not _regex_any(spec["inclusionList"], message):
        return False
    return not _regex_any(spec.get("exclusionList"), message)


def for_alert(event: Mapping[str, Any], alert: Mapping[str, Any], annotations: Mapping[str, str]) -> Obj:
    """The event as the Alert sends it: metadata from the object's `event.toolkit.fluxcd.io/*` annotations,
    then the Alert's `eventMetadata`, then its `summary`, then the controller's own keys (last wins)."""
    spec = alert.get("spec") or {}
    metadata: dict[str, str] = {}
    prefix = "event.toolkit.fluxcd.io/"
    metadata.update({k.removeprefix(prefix): v for k, v in annotations.items() if k.startswith(prefix)})
    metadata.update(spec.get("eventMetadata") or {})
    if spec.get("summary"):
        metadata["summary"] = str(spec["summary"])
    metadata.update(clean_metadata(event))
    out = dict(event)
    out["metadata"] = metadata
    return out


def rate_limit_key(event: Mapping[str, Any]) -> str:
    """Flux's duplicate key: the involved object, the message and the metadata."""
    involved = event.get("involvedObject") or {}
    meta = ",".join(f"{k}={v}" for k, v in sorted((event.get("metadata") or {}).items()))
    return (
        "/".join(str(involved.get(k, "")) for k in ("kind", "namespace", "name"))
        + f"|{event.get('severity')}|{event.get('message')}|{meta}"
    )
