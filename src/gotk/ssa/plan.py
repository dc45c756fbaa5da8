"""Pure planning for server-side apply: object identity, staging, normalization, and change detection.

Everything here takes and returns plain dicts; nothing talks to the API server.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
LEGACY_ANNOTATIONS = (
    LAST_APPLIED,
    "kustomize.toolkit.fluxcd.io/checksum",
    "fluxcd.io/sync-checksum",
    "fluxcd.io/sync-gc-mark",
)
SSA_ANNOTATION = "kustomize.toolkit.fluxcd.io/ssa"
OWNER_LABELS = ("kustomize.toolkit.fluxcd.io/name", "kustomize.toolkit.fluxcd.io/namespace")
FORCE_ANNOTATION = "kustomize.toolkit.fluxcd.io/force"
PRUNE_ANNOTATION = "kustomize.toolkit.fluxcd.io/prune"
RECONCILE_ANNOTATION = "kustomize.toolkit.fluxcd.io/reconcile"

# managers whose fields kustomize-controller takes over (Flux's defaults plus kubectl's variants)
DEFAULT_OVERRIDE_MANAGERS = ("kubectl", "kubectl-client-side-apply", "kubectl-edit", "before-first-apply")

CREATED, CONFIGURED, UNCHANGED, DELETED, SKIPPED = "created", "configured", "unchanged", "deleted", "skipped"

# apply order inside a stage, as kustomize's legacy order (the rest sort after, by kind)
_KIND_ORDER = [
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
]
_KIND_RANK = {k: i for i, k in enumerate(_KIND_ORDER)}


def group_of(obj: Mapping[str, Any]) -> str:
    api_version = str(obj.get("apiVersion") or "")
    return api_version.split("/", 1)[0] if "/" in api_version else ""


RBAC_GROUP = "rbac.authorization.k8s.io"


def obj_id(obj: Mapping[str, Any]) -> str:
    """Flux's inventory id: `<namespace>_<name>_<group>_<kind>`; RBAC names write `:` as `__`, as Flux does."""
    meta = obj.get("metadata") or {}
    group = group_of(obj)
    name = str(meta.get("name"))
    if group == RBAC_GROUP:
        name = name.replace(":", "__")
    return f"{meta.get('namespace') or ''}_{name}_{group}_{obj.get('kind')}"


def version_of(obj: Mapping[str, Any]) -> str:
    """The version part of an object's apiVersion (an inventory entry's `v`)."""
    return str(obj.get("apiVersion") or "").rsplit("/", 1)[-1]


def inventory_entry(obj: Mapping[str, Any]) -> dict[str, str]:
    """An object as one entry of Flux's `status.inventory.entries`: `{id, v}`."""
    return {"id": obj_id(obj), "v": version_of(obj)}


def parse_id(entry_id: str) -> tuple[str, str, str, str]:
    """(namespace, name, group, kind) of an inventory id (names cannot contain `_`; RBAC `__` is `:`)."""
    parts = entry_id.split("_")
    if len(parts) < 4:
        raise ValueError(f"invalid inventory id {entry_id!r}")
    namespace, group, kind = parts[0], parts[-2], parts[-1]
    name = "_".join(parts[1:-2])
    if group == RBAC_GROUP:
        name = name.replace("__", ":")
    return namespace, name, group, kind


def subject(obj: Mapping[str, Any]) -> str:
    """`Kind/namespace/name` (or `Kind/name` when cluster-scoped), as Flux's change set prints it."""
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{obj.get('kind')}/{ns}/{meta.get('name')}" if ns else f"{obj.get('kind')}/{meta.get('name')}"


def annotation(obj: Mapping[str, Any], key: str) -> str:
    """The value of annotation `key`, else of label `key` (Flux's selectors match either), else ""."""
    meta = obj.get("metadata") or {}
    return str((meta.get("annotations") or {}).get(key) or (meta.get("labels") or {}).get(key) or "")


def is_disabled(obj: Mapping[str, Any], key: str) -> bool:
    return annotation(obj, key).lower() == "disabled"


def ssa_policy(obj: Mapping[str, Any]) -> str:
    """`override` (default), `merge`, `ifnotpresent` or `ignore` (lower-cased annotation value)."""
    value = annotation(obj, SSA_ANNOTATION).lower()
    return value if value in ("merge", "ifnotpresent", "ignore") else "override"


def skipped(obj: Mapping[str, Any]) -> bool:
    """Objects gotk must neither apply nor prune."""
    return ssa_policy(obj) == "ignore" or is_disabled(obj, RECONCILE_ANNOTATION)


def stage_of(obj: Mapping[str, Any]) -> int:
    """0: CRDs, Namespaces and ClusterRoles; 1: `*Class` kinds; 2: everything else."""
    kind = str(obj.get("kind") or "")
    if kind in ("CustomResourceDefinition", "Namespace", "ClusterRole"):
        return 0
    if kind.endswith("Class"):
        return 1
    return 2


def sort_key(obj: Mapping[str, Any]) -> tuple[int, str, str, str]:
    meta = obj.get("metadata") or {}
    kind = str(obj.get("kind") or "")
    return (_KIND_RANK.get(kind, len(_KIND_ORDER)), kind, str(meta.get("namespace") or ""), str(meta.get("name") or ""))


def stages(objects: Iterable[Obj]) -> list[list[Obj]]:
    out: list[list[Obj]] = [[], [], []]
    for obj in objects:
        out[stage_of(obj)].append(obj)
    return [sorted(s, key=sort_key) for s in out if s]


def prepare(obj: Obj, labels: Mapping[str, str]) -> Obj:
    """The object as gotk applies it: owner labels set, legacy annotations and status removed."""
    desired = copy.deepcopy(obj)
    meta = desired.setdefault("metadata", {})
    meta.setdefault("labels", {}).update(labels)
    annotations = meta.get("annotations")
    if annotations:
        for key in LEGACY_ANNOTATIONS:
            annotations.pop(key, None)
        if not annotations:
            meta.pop("annotations")
    for key in ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink"):
        meta.pop(key, None)
    desired.pop("status", None)
    return desired


_VOLATILE_META = ("managedFields", "resourceVersion", "generation", "creationTimestamp", "uid", "selfLink")


def comparable(obj: Mapping[str, Any]) -> Obj:
    """The parts of a live or dry-run object that an apply can change (no status, no bookkeeping)."""
    out = {k: v for k, v in obj.items() if k != "status"}
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _VOLATILE_META}
    out["metadata"] = meta
    return out


def fingerprint(obj: Mapping[str, Any]) -> str:
    """A digest of the desired object, to recognise an unchanged desired state cheaply."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def differs(live: Mapping[str, Any] | None, dry_run: Mapping[str, Any]) -> bool:
    return live is None or comparable(live) != comparable(dry_run)


def takeover_patch(live: Mapping[str, Any], manager: str, override: Iterable[str]) -> list[Obj] | None:
    """A JSON patch handing the fields of `override` managers (Update operations) to `manager` (Apply).

    Returns None when there is nothing to take over.
    """
    entries = (live.get("metadata") or {}).get("managedFields") or []
    override = set(override)
    if not any(e.get("manager") in override and e.get("operation") == "Update" for e in entries):
        return None
    merged: Obj = {}
    kept: list[Obj] = []
    ours: Obj | None = None
    for entry in entries:
        if entry.get("subresource"):
            kept.append(entry)
        elif entry.get("manager") in override and entry.get("operation") == "Update":
            _merge_fields(merged, entry.get("fieldsV1") or {})
        elif entry.get("manager") == manager and entry.get("operation") == "Apply":
            ours = entry
        else:
            kept.append(entry)
    if ours is not None:
        _merge_fields(merged, ours.get("fieldsV1") or {})
    base = (
        dict(ours)
        if ours is not None
        else {"manager": manager, "operation": "Apply", "apiVersion": live.get("apiVersion")}
    )
    base["fieldsType"] = "FieldsV1"
    base["fieldsV1"] = merged
    new_entries = [*kept, base]
    rv = (live.get("metadata") or {}).get("resourceVersion")
    return [
        {"op": "test", "path": "/metadata/resourceVersion", "value": rv},
        {"op": "replace", "path": "/metadata/managedFields", "value": new_entries},
    ]


def _merge_fields(into: Obj, extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge_fields(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def remove_paths(obj: Obj, pointers: Iterable[str]) -> None:
    """Delete the JSON Pointer paths (RFC 6901) from `obj`; missing paths are ignored."""
    for pointer in pointers:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
        if not parts:
            continue
        node: Any = obj
        for part in parts[:-1]:
            node = _child(node, part)
            if node is None:
                break
        else:
            last = parts[-1]
            if isinstance(node, dict):
                node.pop(last, None)
            elif isinstance(node, list) and last.isdigit() and int(last) < len(node):
                node.pop(int(last))


def adopt_paths(desired: Obj, live: Mapping[str, Any], pointers: Iterable[str], manager: str) -> None:
    """Keep the live value of each JSON Pointer path (`spec.ignore`), as Flux's drift rules do.

    A path another Apply manager owns is stripped from `desired`; otherwise `desired` takes the live value
    (or loses the path when live has none). Only stripping would hand a field we own back to its default.
    """
    for pointer in pointers:
        parts = _pointer_parts(pointer)
        if not parts:
            continue
        found, value = _lookup(live, parts)
        if not found or _owned_by_other_applier(live, parts, manager):
            remove_paths(desired, [pointer])
        elif not _assign(desired, parts, copy.deepcopy(value)):
            remove_paths(desired, [pointer])


def _pointer_parts(pointer: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]


def _lookup(obj: Any, parts: list[str]) -> tuple[bool, Any]:
    node = obj
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def _assign(obj: Obj, parts: list[str], value: Any) -> bool:
    node: Any = obj
    for part in parts[:-1]:
        if isinstance(node, dict):
            node = node.setdefault(part, {})
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    last = parts[-1]
    if isinstance(node, dict):
        node[last] = value
        return True
    if isinstance(node, list) and last.isdigit() and int(last) < len(node):
        node[int(last)] = value
        return True
    return False


def _owned_by_other_applier(live: Mapping[str, Any], parts: list[str], manager: str) -> bool:
    """Whether another Apply manager's fieldsV1 reaches the path (list items count as reached)."""
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if entry.get("operation") != "Apply" or entry.get("manager") == manager or entry.get("subresource"):
            continue
        node: Any = entry.get("fieldsV1") or {}
        for part in parts:
            if isinstance(node, dict) and f"f:{part}" in node:
                node = node[f"f:{part}"]
            elif part.isdigit() and isinstance(node, dict) and any(k.startswith(("k:", "v:", "i:")) for k in node):
                return True  # a list item: fieldsV1 keys items by value, not by index
            else:
                break
        else:
            return True
    return False


def _child(node: Any, part: str) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    return None


@dataclass
class ChangeSet:
    """What an apply or prune did, object by object, in order (Flux's ssa.ChangeSet)."""

    entries: list[tuple[str, str, str]] = field(default_factory=list)  # (id, subject, action)

    def add(self, obj: Mapping[str, Any], action: str) -> None:
        self.entries.append((obj_id(obj), subject(obj), action))

    def extend(self, other: ChangeSet) -> None:
        self.entries.extend(other.entries)

    def changed(self) -> list[tuple[str, str, str]]:
        return [e for e in self.entries if e[2] in (CREATED, CONFIGURED, DELETED)]

    def summary(self) -> str:
        """Flux's event text: one `<subject> <action>` line per changed object."""
        return "\n".join(f"{s} {a}" for _, s, a in self.changed())

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for _, _, action in self.entries:
            out[action] = out.get(action, 0) + 1
        return out
