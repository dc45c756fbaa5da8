"""The postBuild variables of a Kustomization: `substitute` and the `substituteFrom` ConfigMaps and Secrets,
read through gotk.runtime.secrets and merged in Flux's order (see varsub.merge_variables).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gotk.kube.client import Client
from gotk.kustomize.substitute import varsub
from gotk.runtime import secrets

FIELD = "spec.postBuild.substituteFrom"


class VariablesError(Exception):
    """A `substituteFrom` ConfigMap or Secret cannot be read; the message names it, never its data."""


async def _data(client: Client, kind: str, namespace: str, name: str, optional: bool) -> dict[str, str] | None:
    try:
        if kind == "Secret":
            return await secrets.secret_text(client, namespace, name, field=FIELD, optional=optional)
        return await secrets.configmap_data(client, namespace, name, field=FIELD, optional=optional)
    except secrets.ReadError as exc:
        what = "secret" if kind == "Secret" else "configmap"
        why = "not found" if exc.not_found else exc.error.reason
        raise VariablesError(f"substitute from '{kind}/{name}' failed: {what} '{namespace}/{name}' {why}") from None


async def variables(client: Client, namespace: str, post_build: Mapping[str, Any]) -> dict[str, str]:
    """The variables of `spec.postBuild`: `substituteFrom` data in list order, `substitute` over them all.
    A missing `optional` source is skipped; raises VariablesError for any other that cannot be read."""
    sources: list[tuple[str, dict[str, str]]] = []
    for ref in post_build.get("substituteFrom") or []:
        data = await _data(client, ref.get("kind", "ConfigMap"), namespace, ref["name"], bool(ref.get("optional")))
        if data is not None:
            sources.append((f"{ref.get('kind', 'ConfigMap')}/{ref['name']}", data))
    return varsub.merge_variables(post_build.get("substitute") or {}, sources)
