"""Flux objects in the shape flux's export adapters print: Go-typed, then YAML with a `---` header.

flux builds a fresh typed object (apiVersion, kind, name, namespace, labels, annotations, spec) and
marshals it, so durations come back in Go's form (`5m` -> `5m0s`), zero-valued `omitempty` fields
vanish and required ones appear even when unset (`prune: false`, `interval: 0s`). `KINDS` lists, per
kind, the top-level spec fields where that matters (from the Go API types). Used by `flux export`
and every `flux create … --export`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gotk.api import kinds
from gotk.cli import goflags
from gotk.gocompat import yaml as goyaml

Obj = dict[str, Any]


@dataclass(frozen=True)
class Shape:
    """How the Go type of one kind's spec marshals its top-level fields."""

    durations: tuple[str, ...] = ()
    """metav1.Duration fields, re-printed by Duration.String."""
    required: tuple[tuple[str, Any], ...] = ()
    """Fields without omitempty (or struct values): always printed, with this zero value when unset."""
    pointers: tuple[str, ...] = ()
    """Pointer fields: printed whenever set, even to a zero value (`ignore: ""`, `ref: {}`)."""


_REF = ("secretRef", "proxySecretRef", "certSecretRef")
_HELMRELEASE_POINTERS = tuple(
    "chart chartRef kubeConfig timeout maxHistory persistentClient driftDetection install upgrade test rollback "
    "uninstall values commonMetadata waitStrategy kustomize".split()
)
KINDS: dict[str, Shape] = {
    "GitRepository": Shape(
        durations=("interval", "timeout"),
        required=(("url", ""), ("interval", "0s")),
        pointers=(*_REF, "timeout", "ref", "verify", "ignore"),
    ),
    "OCIRepository": Shape(
        durations=("interval", "timeout"),
        required=(("url", ""), ("interval", "0s")),
        pointers=(*_REF, "timeout", "ref", "layerSelector", "verify", "ignore"),
    ),
    "Bucket": Shape(
        durations=("interval", "timeout"),
        required=(("bucketName", ""), ("endpoint", ""), ("interval", "0s")),
        pointers=(*_REF, "timeout", "sts", "ignore"),
    ),
    "HelmRepository": Shape(
        durations=("interval", "timeout"),
        required=(("url", ""), ("interval", "0s")),
        pointers=(*_REF, "timeout", "accessFrom"),
    ),
    "HelmChart": Shape(
        durations=("interval",),
        required=(("chart", ""), ("sourceRef", {"kind": "", "name": ""}), ("interval", "0s")),
        pointers=("verify",),
    ),
    "ExternalArtifact": Shape(pointers=("sourceRef",)),
    "Kustomization": Shape(
        durations=("interval", "retryInterval", "timeout"),
        required=(("interval", "0s"), ("prune", False), ("sourceRef", {"kind": "", "name": ""})),
        pointers=("commonMetadata", "decryption", "retryInterval", "kubeConfig", "postBuild", "timeout"),
    ),
    "HelmRelease": Shape(
        durations=("interval", "timeout"),
        required=(("interval", "0s"),),
        pointers=_HELMRELEASE_POINTERS,
    ),
}


def _zero(value: Any) -> bool:
    return value is None or value is False or value == 0 or value == "" or value == [] or value == {}


def shape_spec(kind: str, spec: Mapping[str, Any]) -> Obj:
    """The spec as flux's Go type re-serialises it (top-level fields; nested values are kept as stored)."""
    shape = KINDS.get(kind, Shape())
    required = dict(shape.required)
    out: Obj = {}
    for key, value in spec.items():
        if key in shape.durations:
            value = goflags.normalize_duration(value)
        if value is None or (_zero(value) and key not in shape.pointers and key not in required):
            continue
        out[key] = value
    for key, zero in required.items():
        out.setdefault(key, zero)
    return out


def export(obj: Mapping[str, Any]) -> Obj:
    """What flux's export<Kind> keeps of an object: no status, no server-set metadata."""
    kind = str(obj.get("kind") or "")
    info = kinds.by_kind(kind)
    meta = obj.get("metadata") or {}
    metadata: Obj = {"name": meta.get("name", "")}
    for key in ("namespace", "labels", "annotations"):
        if meta.get(key):
            metadata[key] = meta[key]
    return {
        "apiVersion": f"{info.group}/{info.version}",
        "kind": kind,
        "metadata": metadata,
        "spec": shape_spec(kind, obj.get("spec") or {}),
    }


def render(obj: Mapping[str, Any]) -> str:
    """flux's printExport: `---`, the YAML without trailing whitespace, one newline."""
    return "---\n" + goyaml.dump(dict(obj)).strip() + "\n"


def secret(name: str, namespace: str, *, labels: Mapping[str, str] | None = None, **fields: Any) -> Obj:
    """A v1 Secret as flux's manifest generators build it (type, data or stringData in `fields`)."""
    metadata: Obj = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = dict(labels)
    body: Obj = {"apiVersion": "v1", "kind": "Secret", "metadata": metadata}
    body.update({key: value for key, value in fields.items() if not _zero(value)})
    return body


def render_secret(obj: Mapping[str, Any]) -> str:
    """`flux create secret … --export`: `---`, the YAML as generated, then an empty line (cobra's Println)."""
    return "---\n" + goyaml.dump(dict(obj)) + "\n"
