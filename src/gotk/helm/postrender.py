"""A HelmRelease's post-rendering — pure: what libgotkhelm's post-renderer is asked to do (spec.postRenderers,
spec.commonMetadata, and the origin labels `helm.toolkit.fluxcd.io/name` and `/namespace` on every object, as
Flux's helm-controller adds them), and the digests Flux records of the first two
(`status.observedPostRenderersDigest`, `observedCommonMetadataDigest`): sha256 of Go's JSON encoding of
the API structs, so a switch between Flux and gotk sees the same digests and upgrades nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from gotk.gocompat import json as gojson

Obj = dict[str, Any]
GROUP = "helm.toolkit.fluxcd.io"
_SELECTOR = ("group", "version", "kind", "namespace", "name", "annotationSelector", "labelSelector")


def request(obj: Mapping[str, Any]) -> Obj:
    """The library's `postRendering` request field for the HelmRelease."""
    spec = obj.get("spec") or {}
    meta = obj.get("metadata") or {}
    return {
        "postRenderers": list(spec.get("postRenderers") or []),
        "commonMetadata": spec.get("commonMetadata"),
        "originLabels": {f"{GROUP}/name": str(meta.get("name")), f"{GROUP}/namespace": str(meta.get("namespace"))},
    }


def _str_map(value: Any) -> Obj:
    return {str(k): str(v) for k, v in sorted((value or {}).items())}


def _patch(patch: Mapping[str, Any]) -> Obj:
    out: Obj = {"patch": str(patch.get("patch") or "")}
    target = patch.get("target")
    if target is not None:
        out["target"] = {k: str(target[k]) for k in _SELECTOR if target.get(k)}
    return out


def _image(image: Mapping[str, Any]) -> Obj:
    out: Obj = {"name": str(image.get("name") or "")}
    for key in ("newName", "newTag", "digest"):
        if image.get(key):
            out[key] = str(image[key])
    return out


def _renderer(renderer: Mapping[str, Any]) -> Obj:
    kustomize = renderer.get("kustomize")
    if kustomize is None:
        return {}
    body: Obj = {}
    if kustomize.get("patches"):
        body["patches"] = [_patch(p) for p in kustomize["patches"]]
    if kustomize.get("images"):
        body["images"] = [_image(i) for i in kustomize["images"]]
    return {"kustomize": body}


def _digest(value: Any) -> str:
    return "sha256:" + hashlib.sha256((gojson.marshal(value) + "\n").encode()).hexdigest()


def renderers_digest(obj: Mapping[str, Any]) -> str:
    """Flux's postrender.Digest of spec.postRenderers ("" when unset)."""
    renderers = (obj.get("spec") or {}).get("postRenderers")
    if renderers is None:
        return ""
    return _digest([_renderer(r) for r in renderers])


def common_metadata_digest(obj: Mapping[str, Any]) -> str:
    """Flux's postrender.CommonMetadataDigest of spec.commonMetadata ("" when unset)."""
    common = (obj.get("spec") or {}).get("commonMetadata")
    if common is None:
        return ""
    body: Obj = {}
    if common.get("annotations"):
        body["annotations"] = _str_map(common["annotations"])
    if common.get("labels"):
        body["labels"] = _str_map(common["labels"])
    return _digest(body)
