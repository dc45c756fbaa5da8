"""Ignore rules (Kustomization spec.ignore, HelmRelease driftDetection.ignore): which JSON Pointer paths of an
object drift detection and correction leave alone, by Flux's target selector (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any


def _matches(pattern: str | None, value: str) -> bool:
    if not pattern:
        return True
    return re.fullmatch(pattern, value) is not None


def _labels_match(selector: str | None, labels: Mapping[str, str]) -> bool:
    if not selector:
        return True
    for term in selector.split(","):
        term = term.strip()
        if not term:
            continue
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def selects(target: Mapping[str, Any] | None, obj: Mapping[str, Any]) -> bool:
    """Flux's kustomize Selector: group/version/kind/name/namespace as regexes, plus label/annotation selectors."""
    if not target:
        return True
    meta = obj.get("metadata") or {}
    api_version = str(obj.get("apiVersion") or "")
    group, _, version = api_version.rpartition("/")
    return (
        _matches(target.get("group"), group)
        and _matches(target.get("version"), version)
        and _matches(target.get("kind"), str(obj.get("kind") or ""))
        and _matches(target.get("name"), str(meta.get("name") or ""))
        and _matches(target.get("namespace"), str(meta.get("namespace") or ""))
        and _labels_match(target.get("labelSelector"), meta.get("labels") or {})
        and _labels_match(target.get("annotationSelector"), meta.get("annotations") or {})
    )


def paths_for(rules: Sequence[Mapping[str, Any]], obj: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for rule in rules:
        if selects(rule.get("target"), obj):
            out.extend(rule.get("paths") or [])
    return out
