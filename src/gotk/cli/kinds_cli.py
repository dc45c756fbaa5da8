"""The CLI's nouns (`source git`, `kustomization`, `image policy`, …) and how `flux get` shows each kind.

Every `Noun` names its kind, its command names and aliases, the columns `flux get` prints after NAME,
the row cells, the success line of `flux reconcile`/`flux resume`, and whether it can be suspended or
reconciled. The cells follow flux2's cmd/flux/get_*.go adapters; pure functions over plain dicts.
The ArtifactGenerator is paused by an annotation (`source.extensions.fluxcd.io/reconcile: disabled`),
every other suspendable kind by spec.suspend: `Noun.is_suspended` and `Noun.suspend_patch` hide that.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gotk.api import kinds
from gotk.api import source_extensions_v1beta1 as swapi
from gotk.kube.resources import Resource

Obj = Mapping[str, Any]
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
FORCE_AT = "reconcile.fluxcd.io/forceAt"
RESET_AT = "reconcile.fluxcd.io/resetAt"

DISABLED = "disabled"
"""The value of source-watcher's reconcile annotation that pauses an ArtifactGenerator."""

_HEX = re.compile(r"\b[a-f0-9]{40,128}\b")


# -- field helpers ---------------------------------------------------------------------------------


def dig(obj: Obj, *path: str) -> Any:
    """obj[path[0]][path[1]]…, or None as soon as a step is missing."""
    node: Any = obj
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def text(value: Any) -> str:
    return "" if value is None else str(value)


def truncate_hex(value: str) -> str:
    """Shorten every 40 to 128 character hex string (SHA-1 up to SHA-512) to its first 8 characters."""
    return _HEX.sub(lambda m: m.group(0)[:8], value) if value else ""


def conditions(obj: Obj) -> list[Mapping[str, Any]]:
    found = dig(obj, "status", "conditions")
    return [c for c in found if isinstance(c, Mapping)] if isinstance(found, list) else []


def find_condition(obj: Obj, ctype: str) -> Mapping[str, Any] | None:
    for cond in conditions(obj):
        if cond.get("type") == ctype:
            return cond
    return None


def status_and_message(obj: Obj) -> tuple[str, str]:
    """The Ready condition's status and message; ("False", "waiting to be reconciled") without one."""
    ready = find_condition(obj, "Ready")
    if ready is None:
        return "False", "waiting to be reconciled"
    return text(ready.get("status")), text(ready.get("message"))


def status_matches(obj: Obj, ctype: str, cstatus: str) -> bool:
    """--status-selector: the last condition whose type equals `ctype` (any case) has status `cstatus`."""
    match = None
    for cond in conditions(obj):
        if text(cond.get("type")).lower() == ctype.lower():
            match = cond
    return match is not None and text(match.get("status")).lower() == cstatus.lower()


def suspended(obj: Obj) -> str:
    return "True" if dig(obj, "spec", "suspend") is True else "False"


def annotation_disabled(obj: Obj, key: str = swapi.RECONCILE_ANNOTATION) -> bool:
    """source-watcher's IsDisabled: the annotation (`source.extensions.fluxcd.io/reconcile`) is `disabled`, any case."""
    value = dig(obj, "metadata", "annotations", key)
    return isinstance(value, str) and value.lower() == DISABLED


def local_rfc3339(value: Any) -> str:
    """A metav1.Time re-printed as Go's time.RFC3339 in the local zone, like flux does."""
    if not value:
        return ""
    try:
        stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone()
    except ValueError:
        return str(value)
    out = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    offset = stamp.strftime("%z")
    return out + ("Z" if offset in ("+0000", "") else f"{offset[:3]}:{offset[3:]}")


def artifact_revision(obj: Obj) -> str:
    return text(dig(obj, "status", "artifact", "revision"))


def helmrelease_revision(obj: Obj) -> str:
    history = dig(obj, "status", "history")
    if isinstance(history, list) and history and isinstance(history[0], Mapping):
        return text(history[0].get("chartVersion"))
    return text(dig(obj, "status", "lastAttemptedRevision"))


def _ref(kind: Any, namespace: Any, name: Any) -> str:
    return f"{text(kind)}/{text(namespace)}/{text(name)}"


def kustomization_source(obj: Obj) -> str:
    ref = dig(obj, "spec", "sourceRef") or {}
    return _ref(ref.get("kind"), ref.get("namespace") or dig(obj, "metadata", "namespace"), ref.get("name"))


def helmrelease_source(obj: Obj) -> str:
    ref = dig(obj, "spec", "chartRef") or dig(obj, "spec", "chart", "spec", "sourceRef") or {}
    return _ref(ref.get("kind"), ref.get("namespace") or dig(obj, "metadata", "namespace"), ref.get("name"))


def image_ref(ref: Any) -> str:
    """An ImagePolicy's latestRef as `name:tag[@digest]`."""
    if not isinstance(ref, Mapping):
        return ""
    out = f"{text(ref.get('name'))}:{text(ref.get('tag'))}"
    return out + (f"@{ref['digest']}" if ref.get("digest") else "")


# -- row cells -------------------------------------------------------------------------------------

Cells = Callable[[Obj], list[str]]


def _source_cells(*, shorten_revision: bool = True) -> Cells:
    def cells(obj: Obj) -> list[str]:
        status, msg = status_and_message(obj)
        revision = artifact_revision(obj)
        return [truncate_hex(revision) if shorten_revision else revision, suspended(obj), status, truncate_hex(msg)]

    return cells


def _helmrepo_cells(obj: Obj) -> list[str]:
    if dig(obj, "spec", "type") == "oci":
        status, msg = "True", "Helm repository is Ready"
    else:
        status, msg = status_and_message(obj)
    return [truncate_hex(artifact_revision(obj)), suspended(obj), status, truncate_hex(msg)]


def _external_cells(obj: Obj) -> list[str]:
    status, msg = status_and_message(obj)
    ref = dig(obj, "spec", "sourceRef")
    source = _ref(ref.get("kind"), ref.get("namespace"), ref.get("name")) if isinstance(ref, Mapping) else ""
    return [truncate_hex(artifact_revision(obj)), source, status, truncate_hex(msg)]


def _kustomization_cells(obj: Obj) -> list[str]:
    status, msg = status_and_message(obj)
    revision = text(dig(obj, "status", "lastAppliedRevision"))
    return [truncate_hex(revision), suspended(obj), status, truncate_hex(msg)]


def _helmrelease_cells(obj: Obj) -> list[str]:
    status, msg = status_and_message(obj)
    return [helmrelease_revision(obj), suspended(obj), status, msg]


def _receiver_cells(obj: Obj) -> list[str]:
    return [suspended(obj), *status_and_message(obj)]


def _image_repository_cells(obj: Obj) -> list[str]:
    scan = dig(obj, "status", "lastScanResult")
    last_scan = ""
    if isinstance(scan, Mapping):  # scanTime has no omitempty: a scan without one is Go's zero time
        last_scan = local_rfc3339(scan.get("scanTime")) or "0001-01-01T00:00:00Z"
    return [last_scan, suspended(obj), *status_and_message(obj)]


def _image_policy_cells(obj: Obj) -> list[str]:
    ref = dig(obj, "status", "latestRef") or {}
    return [text(ref.get("name")), text(ref.get("tag")), *status_and_message(obj)]


def _image_update_cells(obj: Obj) -> list[str]:
    last_run = local_rfc3339(dig(obj, "status", "lastAutomationRunTime"))
    return [last_run, suspended(obj), *status_and_message(obj)]


def _artifact_generator_cells(obj: Obj) -> list[str]:
    """get_artifact_generator.go: IsDisabled title-cased, then Ready and its message (hex not shortened)."""
    return [str(annotation_disabled(obj)), *status_and_message(obj)]


# -- success lines (flux reconcile / flux resume) ---------------------------------------------------


def _fetched(obj: Obj) -> str:
    return f"fetched revision {artifact_revision(obj)}"


def _helmrepo_success(obj: Obj) -> str:
    if dig(obj, "spec", "type") == "oci":
        return text((find_condition(obj, "Ready") or {}).get("message"))
    return _fetched(obj)


def _image_update_success(obj: Obj) -> str:
    ready = find_condition(obj, "Ready")
    if ready is not None:
        return text(ready.get("message"))
    last_run = dig(obj, "status", "lastAutomationRunTime")
    return f"last run {local_rfc3339(last_run)}" if last_run else "automation not yet run"


def _ready_message(obj: Obj) -> str:
    return text((find_condition(obj, "Ready") or {}).get("message"))


# -- the table -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Noun:
    """One kind as the CLI names and shows it."""

    kind: str
    name: str
    """Command name under `reconcile`/`suspend`/`resume` (`git`, `kustomization`)."""
    human: str
    """How suspend/resume messages name it (`source git`, `image policy`)."""
    columns: tuple[str, ...]
    """`flux get` columns after NAME (and NAMESPACE)."""
    cells: Cells
    get_name: str = ""
    """Command name under `get` when it differs from `name` (`kustomizations`)."""
    aliases: tuple[str, ...] = ()
    get_aliases: tuple[str, ...] = ()
    parent: str | None = None
    """`source` or `image` for nouns one level down."""
    success: Callable[[Obj], str] = field(default=lambda obj: "")
    static: bool = False
    """Alerts and Providers have no status: always Ready, nothing to wait for."""
    suspendable: bool = True
    reconcilable: bool = True
    show_source: Callable[[Obj], str] | None = None
    pause_annotation: str = ""
    """Paused by this annotation set to `disabled` (the ArtifactGenerator) instead of by spec.suspend."""
    status_generation: bool = True
    """The status has an observedGeneration (the ArtifactGenerator's has none, only its conditions do)."""

    @property
    def info(self) -> kinds.KindInfo:
        return kinds.by_kind(self.kind)

    @property
    def resource(self) -> Resource:
        info = self.info
        return Resource(info.group, info.version, info.plural, info.kind, info.namespaced)

    @property
    def get_command(self) -> str:
        return self.get_name or self.name

    def is_suspended(self, obj: Obj) -> bool:
        if self.pause_annotation:
            return annotation_disabled(obj, self.pause_annotation)
        return dig(obj, "spec", "suspend") is True

    def suspend_patch(self, suspend: bool) -> dict[str, Any]:
        """The merge patch that suspends (or resumes) the object; resuming removes the pause annotation."""
        if self.pause_annotation:
            return {"metadata": {"annotations": {self.pause_annotation: DISABLED if suspend else None}}}
        return {"spec": {"suspend": suspend}}

    def selector_matches(self, obj: Obj, ctype: str, cstatus: str) -> bool:
        if self.static:
            return ctype.lower() == "ready" and cstatus.lower() == "true"
        return status_matches(obj, ctype, cstatus)


_READY = ("Ready", "Message")
_SOURCE = ("Revision", "Suspended", *_READY)

SOURCE_OCI = Noun("OCIRepository", "oci", "source oci", _SOURCE, _source_cells(), parent="source", success=_fetched)
SOURCE_BUCKET = Noun("Bucket", "bucket", "source bucket", _SOURCE, _source_cells(), parent="source", success=_fetched)
SOURCE_GIT = Noun("GitRepository", "git", "source git", _SOURCE, _source_cells(), parent="source", success=_fetched)
SOURCE_HELM = Noun(
    "HelmRepository", "helm", "source helm", _SOURCE, _helmrepo_cells, parent="source", success=_helmrepo_success
)
SOURCE_CHART = Noun(
    "HelmChart",
    "chart",
    "source chart",
    _SOURCE,
    _source_cells(shorten_revision=False),
    parent="source",
    success=_fetched,
)
SOURCE_EXTERNAL = Noun(
    "ExternalArtifact",
    "external",
    "source external-artifact",
    ("Revision", "Source", *_READY),
    _external_cells,
    parent="source",
    suspendable=False,
    reconcilable=False,
)
KUSTOMIZATION = Noun(
    "Kustomization",
    "kustomization",
    "kustomization",
    _SOURCE,
    _kustomization_cells,
    get_name="kustomizations",
    aliases=("ks",),
    get_aliases=("ks", "kustomization"),
    success=lambda obj: f"applied revision {text(dig(obj, 'status', 'lastAppliedRevision'))}",
    show_source=kustomization_source,
)
HELMRELEASE = Noun(
    "HelmRelease",
    "helmrelease",
    "helmrelease",
    _SOURCE,
    _helmrelease_cells,
    get_name="helmreleases",
    aliases=("hr",),
    get_aliases=("hr", "helmrelease"),
    success=lambda obj: f"applied revision {helmrelease_revision(obj)}",
    show_source=helmrelease_source,
)
RECEIVER = Noun(
    "Receiver",
    "receiver",
    "receiver",
    ("Suspended", *_READY),
    _receiver_cells,
    get_name="receivers",
    get_aliases=("receiver",),
    success=lambda obj: "Receiver reconciliation completed",
)
ALERT_PROVIDER = Noun(
    "Provider",
    "alert-provider",
    "alert provider",
    _READY,
    lambda obj: ["True", "Provider is Ready"],
    get_name="alert-providers",
    get_aliases=("alert-provider",),
    success=lambda obj: "Provider reconciliation completed",
    static=True,
    reconcilable=False,
)
ALERT = Noun(
    "Alert",
    "alert",
    "alert",
    ("Suspended", *_READY),
    lambda obj: [suspended(obj), "True", "Alert is Ready"],
    get_name="alerts",
    get_aliases=("alert",),
    success=lambda obj: "Alert reconciliation completed",
    static=True,
    reconcilable=False,
)
IMAGE_REPOSITORY = Noun(
    "ImageRepository",
    "repository",
    "image repository",
    ("Last scan", "Suspended", *_READY),
    _image_repository_cells,
    parent="image",
    success=lambda obj: f"scan fetched {text(dig(obj, 'status', 'lastScanResult', 'tagCount') or 0)} tags",
)
IMAGE_POLICY = Noun(
    "ImagePolicy",
    "policy",
    "image policy",
    ("Image", "Tag", *_READY),
    _image_policy_cells,
    parent="image",
    success=lambda obj: f"selected ref {image_ref(dig(obj, 'status', 'latestRef'))}",
)
IMAGE_UPDATE = Noun(
    "ImageUpdateAutomation",
    "update",
    "image update automation",
    ("Last run", "Suspended", *_READY),
    _image_update_cells,
    parent="image",
    success=_image_update_success,
)

ARTIFACT_GENERATOR = Noun(
    "ArtifactGenerator",
    "generator",
    "artifactgenerator",  # flux2's artifactGeneratorType.humanKind
    ("Suspended", *_READY),
    _artifact_generator_cells,
    get_name="generators",
    get_aliases=("generator",),
    parent="artifact",
    success=_ready_message,
    pause_annotation=swapi.RECONCILE_ANNOTATION,
    status_generation=False,
)

SOURCES = (SOURCE_OCI, SOURCE_BUCKET, SOURCE_GIT, SOURCE_HELM, SOURCE_CHART, SOURCE_EXTERNAL)
"""In `flux get sources all` order."""
IMAGES = (IMAGE_REPOSITORY, IMAGE_POLICY, IMAGE_UPDATE)
TOP_LEVEL = (HELMRELEASE, KUSTOMIZATION, RECEIVER, ALERT_PROVIDER, ALERT)
"""In `flux get all` order (after sources and images)."""
ALL = (*SOURCES, *IMAGES, *TOP_LEVEL)
"""What `flux get all` lists; it leaves the artifact nouns out, as flux2 does."""
ARTIFACTS = (ARTIFACT_GENERATOR,)
NOUNS = (*ALL, *ARTIFACTS)
"""Every noun."""


def by_kind(kind: str) -> Noun | None:
    """The noun of a Kubernetes kind (`GitRepository`), or None when the CLI has none."""
    for noun in NOUNS:
        if noun.kind == kind:
            return noun
    return None


def headers(noun: Noun, *, all_namespaces: bool, show_source: bool = False) -> list[str]:
    cols = ["Name"]
    if show_source and noun.show_source is not None:
        cols.append("Source")
    cols.extend(noun.columns)
    return ["Namespace", *cols] if all_namespaces else cols


def row(noun: Noun, obj: Obj, *, all_namespaces: bool, with_kind: bool = False, show_source: bool = False) -> list[str]:
    """One `flux get` row; `with_kind` prefixes the name with the lower-cased kind, as `flux get all` does."""
    name = text(dig(obj, "metadata", "name"))
    if with_kind:
        name = f"{noun.kind.lower()}/{name}"
    cells = [text(dig(obj, "metadata", "namespace")), name] if all_namespaces else [name]
    if show_source and noun.show_source is not None:
        cells.append(noun.show_source(obj))
    return cells + noun.cells(obj)
