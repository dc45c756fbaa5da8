"""SOPS decryption of the objects a Kustomization's build produced, before substitution, as Flux does it.

Decryption covers any kind carrying SOPS metadata and Secret data entries holding a SOPS file (secretGenerator
`files`); `kustomize.toolkit.fluxcd.io/decrypt: Disabled` opts an object out. A Secret still SOPS-encrypted
afterwards is refused unless opted out. No plaintext value ever reaches a message.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

from gotk.kustomize.decrypt import sops
from gotk.ssa import plan

Obj = dict[str, Any]
DECRYPT_ANNOTATION = "kustomize.toolkit.fluxcd.io/decrypt"


class DecryptionError(Exception):
    """An object cannot be decrypted or must not be applied encrypted; the message names it."""


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


def _decrypt(obj: Obj, keys: Sequence[str]) -> Obj:
    if is_sops_resource(obj):
        try:
            return sops.decrypt_document(obj, keys, verify_mac=False)  # kustomize reorders keys, as Flux
        except sops.SopsError as exc:
            raise DecryptionError(f"failed to decrypt {plan.subject(obj)}: {exc}") from None
    data = dict(obj.get("data") or {})
    for key, (raw, fmt) in encrypted_entries(obj).items():
        try:
            plain = sops.decrypt_file(raw, keys, input_format=fmt, output_format=sops.format_for_path(key))
        except sops.SopsError as exc:
            raise DecryptionError(f"failed to decrypt {plan.subject(obj)} field '{key}': {exc}") from None
        data[key] = base64.b64encode(plain).decode()
    return {**obj, "data": data}


def decrypt_objects(objects: list[Obj], decryption: Mapping[str, Any], identities: Sequence[str]) -> list[Obj]:
    """The objects with every SOPS-encrypted one decrypted with `identities` (from gotk.kustomize.decrypt.keys)
    when `decryption` (the spec field) is set; raises DecryptionError for one that cannot be, or that is still
    an encrypted Secret without an opt-out."""
    if decryption and any(_needs_decryption(o) for o in objects):
        if decryption.get("provider", "sops") != "sops":
            raise DecryptionError(f"unsupported decryption provider '{decryption.get('provider')}'")
        objects = [_decrypt(o, identities) if _needs_decryption(o) else o for o in objects]
    for obj in objects:
        if is_sops_secret(obj) and not plan.is_disabled(obj, DECRYPT_ANNOTATION):
            raise DecryptionError(
                f"{plan.subject(obj)} is SOPS encrypted, "
                "configuring decryption is required for this secret to be reconciled"
            )
    return objects
