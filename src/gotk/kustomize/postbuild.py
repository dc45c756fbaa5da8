"""After the build: SOPS decryption, then postBuild variable substitution, as Flux orders them.

Decryption covers any kind carrying SOPS metadata and Secret data entries holding a SOPS file (secretGenerator
`files`); `kustomize.toolkit.fluxcd.io/decrypt: Disabled` opts an object out. A Secret still SOPS-encrypted
afterwards is refused unless opted out. Variables come from `postBuild.substitute` and `substituteFrom`
ConfigMaps/Secrets; keys are validated. No plaintext value ever reaches a message.
"""

from __future__ import annotations

import base64
import binascii
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


def is_sops_resource(obj: Mapping[str, Any]) -> bool:
    """Any kind carrying SOPS metadata with a MAC: what Flux decrypts when `decryption` is set."""
    metadata = obj.get("sops")
    return isinstance(metadata, Mapping) and bool(metadata.get("mac"))


def encrypted_entries(obj: Mapping[str, Any]) -> dict[str, tuple[bytes, str]]:
    """A Secret's data entries that hold a SOPS file (say, from a secretGenerator), with the file's format."""
    if obj.get("kind") != "Secret" or is_sops_resource(obj):
        return {}
    found: dict[str, tuple[bytes, str]] = {}
    for key, value in (obj.get("data") or {}).items():
        try:
            raw = base64.b64decode("".join(str(value).split()), validate=True)  # the build wraps long values
        except (binascii.Error, ValueError):
            continue  # not base64: the API server will say so
        fmt = sops.detect_format(raw)
        if fmt is not None:
            found[key] = (raw, fmt)
    return found


def _needs_decryption(obj: Mapping[str, Any]) -> bool:
    return not plan.is_disabled(obj, DECRYPT_ANNOTATION) and (is_sops_resource(obj) or bool(encrypted_entries(obj)))


def _decrypt(obj: Obj, keys: list[str]) -> Obj:
    if is_sops_resource(obj):
        try:
            return sops.decrypt_document(obj, keys, verify_mac=False)  # kustomize reorders keys, as Flux
        except sops.SopsError as exc:
            raise PostBuildError(f"failed to decrypt {plan.subject(obj)}: {exc}") from None
    data = dict(obj.get("data") or {})
    for key, (raw, fmt) in encrypted_entries(obj).items():
        try:
            plain = sops.decrypt_file(raw, keys, input_format=fmt, output_format=sops.format_for_path(key))
        except sops.SopsError as exc:
            raise PostBuildError(f"failed to decrypt {plan.subject(obj)} field '{key}': {exc}") from None
        data[key] = base64.b64encode(plain).decode()
    return {**obj, "data": data}


async def post_build(req: Request[Any], client: Client, objects: list[Obj], *, strict: bool = True) -> list[Obj]:
    spec = req.spec
    decryption = spec.get("decryption") or {}
    if decryption and any(_needs_decryption(o) for o in objects):
        if decryption.get("provider", "sops") != "sops":
            raise PostBuildError(f"unsupported decryption provider '{decryption.get('provider')}'")
        keys = await identities(req.client, req.namespace, decryption)
        objects = [_decrypt(o, keys) if _needs_decryption(o) else o for o in objects]
    for obj in objects:
        if is_sops_secret(obj) and not plan.is_disabled(obj, DECRYPT_ANNOTATION):
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
