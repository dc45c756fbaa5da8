"""The engine of `flux diff kustomization` (flux2's internal/build/diff.go over fluxcd/pkg/ssa's Diff).

Every built object is normalised, looked up, and server-side applied in dry-run mode with the
`kustomize-controller` field manager; what differs from the live object is printed as `► <subject>
created|drifted|skipped` (drifts followed by a dyff report), then objects of the Kustomization's
inventory that a prune would delete. Secret values never appear: data is masked as `***`, and Secrets
whose values were SOPS-encrypted in the build are compared by their keys only.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gotk.cli.engines import dyff, dyff_report
from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.ssa import plan
from gotk.ssa.ignore import paths_for

Obj = dict[str, Any]
FIELD_MANAGER = "kustomize-controller"
MASK = "**SOPS**"
EXCLUSIONS = {"kustomize.toolkit.fluxcd.io/reconcile": "disabled", "kustomize.toolkit.fluxcd.io/ssa": "ignore"}
IF_NOT_PRESENT = {"kustomize.toolkit.fluxcd.io/ssa": "ifnotpresent"}
FORCE = {"kustomize.toolkit.fluxcd.io/force": "enabled"}


@dataclass(frozen=True)
class Policy:
    """Who applies the objects and which annotations change how: the Kustomization's by default; a
    HelmRelease's are `helm-controller` and its driftDetection opt-out, with no ssa/force annotations."""

    field_manager: str = FIELD_MANAGER
    exclusions: Mapping[str, str] = field(default_factory=lambda: EXCLUSIONS)
    if_not_present: Mapping[str, str] = field(default_factory=lambda: IF_NOT_PRESENT)
    force: Mapping[str, str] = field(default_factory=lambda: FORCE)


KUSTOMIZE = Policy()
# fluxcd/pkg/ssa ReconcileOrder: kinds sorted first (in this order) and last
_FIRST = (
    "CustomResourceDefinition Namespace ClusterRole ClusterClass RuntimeClass PriorityClass StorageClass "
    "VolumeSnapshotClass IngressClass GatewayClass ClusterRoleBinding ResourceQuota ServiceAccount Role "
    "RoleBinding ConfigMap Secret Service LimitRange Deployment StatefulSet CronJob PodDisruptionBudget"
).split()
_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
_KIND_INDEX = {**{k: i - len(_FIRST) for i, k in enumerate(_FIRST)}, **{k: i + 1 for i, k in enumerate(_LAST)}}
_POD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


@dataclass
class Result:
    """What the diff found: the text to print, whether anything would change, and the errors met."""

    output: str = ""
    changed: bool = False
    errors: list[str] = field(default_factory=list)

    def error(self) -> str | None:
        """The errors as k8s' utilerrors aggregate prints them (one message, or `[a, b]`)."""
        unique = list(dict.fromkeys(self.errors))
        if not unique:
            return None
        return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


# -- object identity -----------------------------------------------------------------------------------

Meta = tuple[str, str, str, str]  # namespace, name, group, kind


def meta_of(obj: Mapping[str, Any]) -> Meta:
    md = obj.get("metadata") or {}
    return str(md.get("namespace") or ""), str(md.get("name") or ""), plan.group_of(obj), str(obj.get("kind") or "")


def parse_id(entry_id: str) -> Meta:
    """cli-utils ParseObjMetadata: `<namespace>_<name>_<group>_<kind>`, `__` in names standing for `:`.

    Raises ValueError (flux's message) when the id has fewer than four fields.
    """
    namespace, sep, rest = entry_id.partition("_")
    if not sep:
        raise ValueError(f"unable to parse stored object metadata: {entry_id}")
    head, sep, kind = rest.rpartition("_")
    if not sep:
        raise ValueError(f"unable to parse stored object metadata: {rest}")
    name, sep, group = head.rpartition("_")
    if not sep:
        raise ValueError(f"unable to parse stored object metadata: {head}")
    return namespace, name.replace("__", ":"), group, kind


def fmt_meta(m: Meta) -> str:
    namespace, name, _, kind = m
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def sort_key(m: Meta) -> tuple[int, str, str, str, str]:
    namespace, name, group, kind = m
    return _KIND_INDEX.get(kind, 0), group, kind, namespace, name


# -- normalisation -------------------------------------------------------------------------------------


def normalize(obj: Obj) -> Obj:
    """fluxcd/pkg/ssa/normalize: Secret stringData folded into data, default port protocols, no status."""
    out = copy.deepcopy(obj)
    kind = out.get("kind")
    if kind == "Secret" and out.get("stringData"):
        data = dict(out.get("data") or {})
        for key, value in out.pop("stringData").items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        out["data"] = data
    elif kind == "Service":
        for port in (out.get("spec") or {}).get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
    elif kind in _POD_KINDS or kind in ("Pod", "CronJob"):
        for container in _containers(out):
            for port in container.get("ports") or []:
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")
    if kind != "CustomResourceDefinition":
        out.pop("status", None)
    else:
        webhook = ((out.get("spec") or {}).get("conversion") or {}).get("webhook") or {}
        (webhook.get("clientConfig") or {}).pop("caBundle", None)
    return out


def _containers(obj: Obj) -> list[Obj]:
    spec = obj.get("spec") or {}
    if obj.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    if obj.get("kind") != "Pod":
        spec = (spec.get("template") or {}).get("spec") or {}
    return [c for c in spec.get("containers") or [] if isinstance(c, dict)]


def _any_in_metadata(obj: Mapping[str, Any] | None, selector: Mapping[str, str]) -> bool:
    md = (obj or {}).get("metadata") or {}
    for field_name in ("labels", "annotations"):
        values = md.get(field_name) or {}
        for key, want in selector.items():
            value = str(values.get(key) or "")
            if value and value.lower() == want.lower():
                return True
    return False


def drifted(live: Obj, dry: Obj) -> bool:
    """fluxcd/pkg/ssa hasDrifted: labels, annotations, then everything but metadata and status."""
    if not (dry.get("metadata") or {}).get("resourceVersion"):
        return True
    for key in ("labels", "annotations"):
        if ((live.get("metadata") or {}).get(key) or {}) != ((dry.get("metadata") or {}).get(key) or {}):
            return True

    def rest(obj: Obj) -> Obj:
        out = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
        if out.get("kind") == "HorizontalPodAutoscaler":
            spec = dict(out.get("spec") or {})
            metrics: list[Any] = []
            for metric in spec.get("metrics") or []:
                if metric not in metrics and (metric or {}).get("type"):
                    metrics.append(metric)
            spec["metrics"] = metrics
            out["spec"] = spec
        return out

    return rest(live) != rest(dry)


def sanitize(live: Obj, dry: Obj) -> None:
    """ssa.SanitizeUnstructuredData: Secret data values become `***`, `*** (before)`/`*** (after)` if changed."""
    old = dict(live["data"]) if isinstance(live.get("data"), dict) else None
    new = dict(dry["data"]) if isinstance(dry.get("data"), dict) else None
    if old is not None:
        for key, value in old.items():
            changed = new is not None and key in new and new[key] != value
            if new is not None and key in new:
                new[key] = "*** (after)" if changed else "***"
            old[key] = "*** (before)" if changed else "***"
        live["data"] = old
    if new is not None:
        for key in new:
            if old is None or key not in old:
                new[key] = "***"
        dry["data"] = new


def _sops_unchanged(desired: Obj, live: Obj, dry: Obj) -> bool:
    """A Secret built from SOPS-masked values counts as unchanged while its keys are the same."""
    masked = False
    for value in (desired.get("data") or {}).values():
        try:
            masked = masked or MASK.encode() in base64.b64decode(str(value))
        except ValueError:
            continue
    if not masked:
        return False
    keys: list[list[str]] = []
    for obj in (live, dry):
        data: dict[str, Any] = obj["data"] if isinstance(obj.get("data"), dict) else {}
        obj["data"] = dict.fromkeys(data, "*****")
        keys.append(sorted(data))
    return keys[0] == keys[1]


# -- one object ----------------------------------------------------------------------------------------


async def diff_object(
    client: Client, obj: Obj, rules: Sequence[Mapping[str, Any]], policy: Policy = KUSTOMIZE
) -> tuple[str, Meta, Obj | None]:
    """(action, identity, report) for one prepared object; raises ValueError with flux's dry-run message."""
    subject = plan.subject(obj)
    try:
        res = await client.resource_for(str(obj.get("apiVersion")), str(obj.get("kind")))
    except ApiError as exc:
        raise ValueError(f"{subject} dry-run failed: {exc}") from None
    md = obj.get("metadata") or {}
    namespace = md.get("namespace") if res.namespaced else None
    live = None
    if not res.namespaced or namespace:
        live = await client.get_or_none(res, str(md.get("name")), namespace)
    if _any_in_metadata(obj, policy.exclusions) or _any_in_metadata(live, policy.exclusions):
        return plan.SKIPPED, meta_of(live or obj), None
    if live is not None and _any_in_metadata(obj, policy.if_not_present):
        return plan.SKIPPED, meta_of(live), None
    if res.namespaced and not namespace:
        raise ValueError(f"{subject} namespace not specified: the server could not find the requested resource")
    try:
        dry = await client.apply(res, obj, field_manager=policy.field_manager, force=True, dry_run=True)
    except ApiError as exc:
        if (
            live is not None
            and _any_in_metadata(obj, policy.force)
            and exc.invalid
            and "immutable" in exc.message.lower()
        ):
            return plan.CREATED, meta_of(obj), None
        if exc.not_found:
            raise ValueError(f"{subject} not found: {exc}") from None
        reason = f" ({exc.reason})" if exc.reason else ""
        raise ValueError(f"{subject} dry-run failed{reason}: {exc}") from None
    if live is None or not (dry.get("metadata") or {}).get("resourceVersion"):
        return plan.CREATED, meta_of(obj), None
    paths = paths_for(rules, dry) if rules else []
    compared_live, compared_dry = copy.deepcopy(live), copy.deepcopy(dry)
    plan.remove_paths(compared_live, paths)
    plan.remove_paths(compared_dry, paths)
    if not drifted(compared_live, compared_dry):
        return plan.UNCHANGED, meta_of(obj), None
    for shown in (compared_live, compared_dry):
        (shown.get("metadata") or {}).pop("managedFields", None)
    if dry.get("kind") == "Secret":
        sanitize(compared_live, compared_dry)
        if _sops_unchanged(obj, compared_live, compared_dry):
            return plan.UNCHANGED, meta_of(obj), None
    return plan.CONFIGURED, meta_of(obj), {"live": compared_live, "merged": compared_dry}


async def diff_objects(
    client: Client, objects: Sequence[Obj], rules: Sequence[Mapping[str, Any]], policy: Policy = KUSTOMIZE
) -> tuple[Result, set[Meta]]:
    """The report of every object (normalised first) and the identities seen, for `stale`."""
    result = Result()
    seen: set[Meta] = set()
    out: list[str] = []
    for obj in (normalize(o) for o in objects):
        try:
            action, identity, report = await diff_object(client, obj, rules, policy)
        except ValueError as exc:
            result.errors.append(str(exc))
            continue
        if action == plan.SKIPPED:
            out.append(f"► {fmt_meta(identity)} skipped\n")
        elif action == plan.CREATED:
            out.append(f"► {plan.subject(obj)} created\n")
            result.changed = True
        elif action == plan.CONFIGURED and report is not None:
            out.append(f"► {plan.subject(obj)} drifted\n")
            out.append(dyff_report.render(dyff.compare(report["live"], report["merged"])))
            result.changed = True
        seen.add(identity)
    result.output = "".join(out)
    return result, seen


def stale(result: Result, entries: Sequence[Mapping[str, Any]], seen: set[Meta], keep: Any = None) -> None:
    """Add to `result` the inventory entries that are no longer built (`► … deleted`); `keep(meta)` spares some."""
    try:
        old = [parse_id(str(e.get("id"))) for e in entries]
    except ValueError as exc:
        result.errors.append(str(exc))
        return
    gone = sorted({m for m in old if m not in seen and not (keep is not None and keep(m))}, key=sort_key)
    result.output += "".join(f"► {fmt_meta(m)} deleted\n" for m in gone)
    result.changed = result.changed or bool(gone)


async def diff_all(client: Client, ks: Mapping[str, Any], objects: Sequence[Obj]) -> Result:
    """flux's Builder.diff over the built objects of Kustomization `ks`."""
    spec = ks.get("spec") or {}
    result, seen = await diff_objects(client, objects, spec.get("ignore") or [])
    inventory = ((ks.get("status") or {}).get("inventory") or {}).get("entries")
    if spec.get("prune") and not result.errors and inventory is not None:
        stale(result, inventory, seen)
    return result
