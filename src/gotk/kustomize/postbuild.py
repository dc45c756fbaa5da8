"""After the build: SOPS decryption of Secrets, then postBuild variable substitution, as Flux orders them.

Variables come from `postBuild.substitute` and `substituteFrom` ConfigMaps/Secrets; keys are validated.
A Secret still SOPS-encrypted after decryption is refused. No plaintext value ever reaches a message.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.kube.resources import CONFIGMAPS, SECRETS
from gotk.kustomize import sops, varsub
from gotk.runtime.reconciler import Request
from gotk.ssa import plan

Obj = dict[str, Any]
DECRYPT_ANNOTATION = "kustomize.toolkit.fluxcd.io/decrypt"


class PostBuildError(Exception):
    """Decryption or substitution failed; the message names the object or the source of variables."""


async def _data(client: Client, kind: str, namespace: str, name: str, optional: bool) -> dict[str, str] | None:
    res = SECRETS if kind == "Secret" else CONFIGMAPS
    try:
        obj = await client.get(res, name, namespace)
    except ApiError as exc:
        if exc.not_found and optional:
            return None
        what = "secret" if kind == "Secret" else "configmap"
        why = "not found" if exc.not_found else exc.reason
        raise PostBuildError(f"substitute from '{kind}/{name}' failed: {what} '{namespace}/{name}' {why}") from None
    if kind == "Secret":
        return {k: base64.b64decode(v).decode("utf-8", "surrogateescape") for k, v in (obj.get("data") or {}).items()}
    return {str(k): str(v) for k, v in (obj.get("data") or {}).items()}


async def variables(client: Client, namespace: str, post_build: Mapping[str, Any]) -> dict[str, str]:
    sources: list[tuple[str, dict[str, str]]] = []
    for ref in post_build.get("substituteFrom") or []:
        data = await _data(client, ref.get("kind", "ConfigMap"), namespace, ref["name"], bool(ref.get("optional")))
        if data is not None:
            sources.append((f"{ref.get('kind', 'ConfigMap')}/{ref['name']}", data))
    return varsub.merge_variables(post_build.get("substitute") or {}, sources)


async def identities(client: Client, namespace: str, decryption: Mapping[str, Any]) -> list[str]:
    ref = decryption.get("secretRef") or {}
    if not ref.get("name"):
        return []
    try:
        secret = await client.get(SECRETS, ref["name"], namespace)
    except ApiError as exc:
        raise PostBuildError(
            f"cannot get decryption secret '{namespace}/{ref['name']}': {exc.reason or exc.status}"
        ) from None
    data = {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}
    return sops.age_identities_from_secret(data)


def is_sops_secret(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") == "Secret" and sops.is_encrypted(obj)


async def post_build(req: Request, client: Client, objects: list[Obj], *, strict: bool = True) -> list[Obj]:
    spec = req.spec
    decryption = spec.get("decryption") or {}
    if decryption and any(is_sops_secret(o) for o in objects):
        if decryption.get("provider", "sops") != "sops":
            raise PostBuildError(f"unsupported decryption provider '{decryption.get('provider')}'")
        keys = await identities(req.client, req.namespace, decryption)
        out = []
        for obj in objects:
            if is_sops_secret(obj) and not plan.is_disabled(obj, DECRYPT_ANNOTATION):
                try:
                    obj = sops.decrypt_document(obj, keys, verify_mac=False)  # kustomize reorders keys, as Flux
                except sops.SopsError as exc:
                    raise PostBuildError(f"failed to decrypt {plan.subject(obj)}: {exc}") from None
            out.append(obj)
        objects = out
    for obj in objects:
        if is_sops_secret(obj):
            raise PostBuildError(
                f"{plan.subject(obj)} is SOPS encrypted, "
                "configuring decryption is required for this secret to be reconciled"
            )
    post = spec.get("postBuild")
    if post is not None:
        values = await variables(req.client, req.namespace, post)
        strategy: varsub.SubstituteStrategy = (
            "Always" if post.get("substituteStrategy") == "Always" else "WithVariables"
        )
        try:
            objects = varsub.substitute_objects(objects, values, strict=strict, strategy=strategy)
        except varsub.SubstitutionError as exc:
            raise PostBuildError(str(exc)) from None
    return objects
