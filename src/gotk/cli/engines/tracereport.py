"""The text of `flux trace`: the object, the Kustomization or HelmRelease that manages it and its sources.

Pure functions over plain dicts rendering the two reports of flux2's cmd/flux/trace.go line for line
(its Go templates: every line led by a newline, one trailing newline). Condition times print as Go's
time.Time.String() of a metav1.Time, which unmarshals into the local zone: `2021-07-16 15:42:20 +0000 UTC`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Obj = Mapping[str, Any]

OCI_SOURCE = "org.opencontainers.image.source"
OCI_REVISION = "org.opencontainers.image.revision"
# Go ranges over a map in key order: "Origin Revision: " sorts before "Origin Source:   "
ORIGIN_ANNOTATIONS = (("Origin Revision: ", OCI_REVISION), ("Origin Source:   ", OCI_SOURCE))


def _dig(obj: Any, *path: str) -> Any:
    node = obj
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _s(value: Any) -> str:
    """A string field as Go prints it: the zero value of a missing one is ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def ready_condition(obj: Obj | None) -> Obj | None:
    """meta.FindStatusCondition(status.conditions, "Ready"): the first Ready condition, or None."""
    found = _dig(obj, "status", "conditions")
    if not isinstance(found, list):
        return None
    for cond in found:
        if isinstance(cond, Mapping) and cond.get("type") == "Ready":
            return cond
    return None


def go_time(value: Any) -> str:
    """A metav1.Time field printed by a Go template: time.Time.String() in the local zone.

    Go's zero time (`0001-01-01 00:00:00 +0000 UTC`) for a missing or unparsable value, as json.Unmarshal leaves it.
    """
    if not value:
        return "0001-01-01 00:00:00 +0000 UTC"
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone()
    except ValueError:
        return "0001-01-01 00:00:00 +0000 UTC"
    out = moment.strftime("%Y-%m-%d %H:%M:%S")
    if moment.microsecond:
        out += f".{moment.microsecond:06d}".rstrip("0")
    offset = moment.strftime("%z") or "+0000"
    return f"{out} {offset} {moment.tzname() or offset}"


def _name(obj: Obj) -> str:
    return _s(_dig(obj, "metadata", "name"))


def _namespace(obj: Obj) -> str:
    return _s(_dig(obj, "metadata", "namespace"))


@dataclass
class _Lines:
    lines: list[str]

    def add(self, line: str) -> None:
        self.lines.append(line)

    def text(self) -> str:
        return "".join("\n" + line for line in self.lines) + "\n"


def _object_head(out: _Lines, object_name: str, object_namespace: str, width: int) -> None:
    out.add(f"{'Object:':<{width}}{object_name}")
    if object_namespace:
        out.add(f"{'Namespace:':<{width}}{object_namespace}")
    out.add(f"{'Status:':<{width}}Managed by Flux")


def _reconciled(out: _Lines, ready: Obj | None, width: int, *, failed_status: bool) -> None:
    """The Status/Message lines of a condition; `failed_status` words a False condition as a failure."""
    label = f"{'Status:':<{width}}"
    if ready is None:
        out.add(f"{label}Unknown")
        return
    when = go_time(ready.get("lastTransitionTime"))
    if failed_status and ready.get("status") == "False":
        out.add(f"{label}Last reconciliation failed at {when}")
    else:
        out.add(f"{label}Last reconciled at {when}")
    out.add(f"{'Message:':<{width}}{_s(ready.get('message'))}")


def _git_ref(out: _Lines, repo: Obj, width: int) -> None:
    ref = _dig(repo, "spec", "ref")
    if not isinstance(ref, Mapping):
        return
    if ref.get("tag"):
        out.add(f"{'Tag:':<{width}}{_s(ref.get('tag'))}")
    elif ref.get("semver"):
        out.add(f"{'Tag:':<{width}}{_s(ref.get('semver'))}")
    elif ref.get("branch"):
        out.add(f"{'Branch:':<{width}}{_s(ref.get('branch'))}")


def _oci_ref(out: _Lines, repo: Obj, width: int) -> None:
    ref = _dig(repo, "spec", "ref")
    if not isinstance(ref, Mapping):
        return
    if ref.get("tag"):
        out.add(f"{'Tag:':<{width}}{_s(ref.get('tag'))}")
    elif ref.get("semver"):
        out.add(f"{'Tag:':<{width}}{_s(ref.get('semver'))}")
    elif ref.get("digest"):
        out.add(f"{'Digest:':<{width}}{_s(ref.get('digest'))}")


def _artifact(out: _Lines, obj: Obj, width: int, *, origin: bool) -> None:
    """The Revision line of status.artifact and, with `origin`, a line per OCI origin annotation."""
    artifact = _dig(obj, "status", "artifact")
    if not isinstance(artifact, Mapping):
        return
    out.add(f"{'Revision:':<{width}}{_s(artifact.get('revision'))}")
    metadata = artifact.get("metadata")
    if origin and isinstance(metadata, Mapping) and metadata:
        for label, key in ORIGIN_ANNOTATIONS:
            value = _s(metadata.get(key))
            out.add(f"{label}{value}" if value else "")


def _external_source(obj: Obj) -> str:
    ref = _dig(obj, "spec", "sourceRef") or {}
    return f"{_s(ref.get('kind'))}/{_s(ref.get('namespace'))}/{_s(ref.get('name'))}"


def kustomization_report(
    object_name: str,
    object_namespace: str,
    ks: Obj,
    source: Obj | None = None,
) -> str:
    """traceKustomization's template; `source` is the GitRepository, OCIRepository or ExternalArtifact of
    spec.sourceRef (its kind picks the block), None for any other kind."""
    w = 17
    out = _Lines([])
    _object_head(out, object_name, object_namespace, w)
    out.add("---")
    out.add(f"{'Kustomization:':<{w}}{_name(ks)}")
    out.add(f"{'Namespace:':<{w}}{_namespace(ks)}")
    target = _dig(ks, "spec", "targetNamespace")
    if target:
        out.add(f"{'Target:':<{w}}{_s(target)}")
    out.add(f"{'Path:':<{w}}{_s(_dig(ks, 'spec', 'path'))}")
    out.add(f"{'Revision:':<{w}}{_s(_dig(ks, 'status', 'lastAppliedRevision'))}")
    ks_ready = ready_condition(ks)
    if ks_ready is not None:
        out.add(f"{'Status:':<{w}}Last reconciled at {go_time(ks_ready.get('lastTransitionTime'))}")
        out.add(f"{'Message:':<{w}}{_s(ks_ready.get('message'))}")
    else:
        out.add(f"{'Status:':<{w}}Unknown")
    kind = _s(source.get("kind")) if source is not None else ""
    if source is not None and kind == "GitRepository":
        out.add("---")
        out.add(f"{'GitRepository:':<{w}}{_name(source)}")
        out.add(f"{'Namespace:':<{w}}{_namespace(source)}")
        out.add(f"{'URL:':<{w}}{_s(_dig(source, 'spec', 'url'))}")
        _git_ref(out, source, w)
        _artifact(out, source, w, origin=False)
        _reconciled(out, ready_condition(source), w, failed_status=True)
    elif source is not None and kind == "OCIRepository":
        out.add("---")
        out.add(f"{'OCIRepository:':<{w}}{_name(source)}")
        out.add(f"{'Namespace:':<{w}}{_namespace(source)}")
        out.add(f"{'URL:':<{w}}{_s(_dig(source, 'spec', 'url'))}")
        _oci_ref(out, source, w)
        _artifact(out, source, w, origin=True)
        _reconciled(out, ready_condition(source), w, failed_status=True)
    elif source is not None and kind == "ExternalArtifact":
        out.add("---")
        out.add(f"ExternalArtifact:{_name(source)}")
        out.add(f"{'Namespace:':<{w}}{_namespace(source)}")
        out.add(f"{'Source:':<{w}}{_external_source(source)}")
        _artifact(out, source, w, origin=True)
        _reconciled(out, ready_condition(source), w, failed_status=True)
    return out.text()


def helm_report(
    object_name: str,
    object_namespace: str,
    hr: Obj,
    chart: Obj | None = None,
    source: Obj | None = None,
) -> str:
    """traceHelm's template: the HelmRelease, its HelmChart (status.helmChart) and the chart's source, a
    HelmRepository or GitRepository of spec.chart, or an OCIRepository or ExternalArtifact of spec.chartRef."""
    w = 16
    out = _Lines([])
    _object_head(out, object_name, object_namespace, w)
    out.add("---")
    out.add(f"{'HelmRelease:':<{w}}{_name(hr)}")
    out.add(f"{'Namespace:':<{w}}{_namespace(hr)}")
    target = _dig(hr, "spec", "targetNamespace")
    if target:
        out.add(f"{'Target:':<{w}}{_s(target)}")
    out.add(f"{'Revision:':<{w}}{_s(_dig(hr, 'status', 'lastAttemptedRevision'))}")
    _reconciled(out, ready_condition(hr), w, failed_status=False)
    if chart is not None:
        out.add("---")
        out.add(f"{'HelmChart:':<{w}}{_name(chart)}")
        out.add(f"{'Namespace:':<{w}}{_namespace(chart)}")
        out.add(f"{'Chart:':<{w}}{_s(_dig(chart, 'spec', 'chart'))}")
        out.add(f"{'Version:':<{w}}{_s(_dig(chart, 'spec', 'version'))}")
        _artifact(out, chart, w, origin=False)
        _reconciled(out, ready_condition(chart), w, failed_status=False)
    kind = _s(source.get("kind")) if source is not None else ""
    if source is not None and kind == "HelmRepository":
        out.add("---")
        out.add(f"{'HelmRepository:':<{w}}{_name(source)}")
        out.add(f"{'Namespace:':<{w}}{_namespace(source)}")
        out.add(f"{'URL:':<{w}}{_s(_dig(source, 'spec', 'url'))}")
        _artifact(out, source, w, origin=False)
        _reconciled(out, ready_condition(source), w, failed_status=False)
    elif source is not None and kind == "GitRepository":
        g = 15
        out.add("---")
        out.add(f"{'GitRepository:':<{g}}{_name(source)}")
        out.add(f"{'Namespace:':<{g}}{_namespace(source)}")
        out.add(f"{'URL:':<{g}}{_s(_dig(source, 'spec', 'url'))}")
        _git_ref(out, source, g)
        _artifact(out, source, g, origin=False)
        _reconciled(out, ready_condition(source), g, failed_status=True)
    elif source is not None and kind == "OCIRepository":
        o = 17
        out.add("---")
        out.add(f"{'OCIRepository:':<{o}}{_name(source)}")
        out.add(f"{'Namespace:':<{o}}{_namespace(source)}")
        out.add(f"{'URL:':<{o}}{_s(_dig(source, 'spec', 'url'))}")
        _oci_ref(out, source, o)
        _artifact(out, source, o, origin=False)
        _reconciled(out, ready_condition(source), o, failed_status=True)
    elif source is not None and kind == "ExternalArtifact":
        o = 17
        out.add("---")
        out.add(f"ExternalArtifact:{_name(source)}")
        out.add(f"{'Namespace:':<{o}}{_namespace(source)}")
        out.add(f"{'Source:':<{o}}{_external_source(source)}")
        _artifact(out, source, o, origin=False)
        _reconciled(out, ready_condition(source), o, failed_status=True)
    return out.text()
