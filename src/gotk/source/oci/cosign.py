"""Key-based cosign verification, offline: the signatures cosign stores under the tag
`sha256-<hex>.sig` (simple-signing payload layers, base64 signature annotation, per cosign's
SIGNATURE_SPEC), checked with `cryptography` against the `*.pub` keys of a Secret.

Like Flux with a public key, no transparency log is consulted. Keyless (Fulcio/Rekor) and the
newer sigstore bundle format (OCI referrers) are not supported. `verify` blocks (registry I/O).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from gotk.runtime.oci import spec
from gotk.runtime.oci.client import RegistryClient
from gotk.runtime.oci.model import NotFoundError

__all__ = ["PublicKey", "VerificationError", "payload_matches", "public_keys", "signature_tag", "verify"]

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey
_PAYLOAD_LIMIT = 1 << 20


class VerificationError(Exception):
    """No signature verifies, or the keys cannot be used (messages never carry key material)."""


def public_keys(data: Mapping[str, bytes]) -> list[tuple[str, PublicKey]]:
    """The PEM public keys under `*.pub` keys of a Secret's data, in name order."""
    keys: list[tuple[str, PublicKey]] = []
    for name in sorted(k for k in data if k.endswith(".pub")):
        try:
            key = serialization.load_pem_public_key(data[name])
        except ValueError:
            raise VerificationError(f"'{name}' is not a PEM-encoded public key") from None
        if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
            raise VerificationError(f"'{name}': unsupported public key type {type(key).__name__}")
        keys.append((name, key))
    if not keys:
        raise VerificationError("no public keys ('*.pub') found in the secret")
    return keys


def signature_tag(digest: str) -> str:
    """`sha256:<hex>` -> `sha256-<hex>.sig`, where cosign stores an artifact's signatures."""
    return digest.replace(":", "-") + ".sig"


def _signature_valid(key: PublicKey, payload: bytes, signature: bytes) -> bool:
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())
        else:
            key.verify(signature, payload)
    except InvalidSignature:
        return False
    return True


def _lower_keys(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k).lower(): _lower_keys(v) for k, v in value.items()}
    return value


def payload_matches(payload: bytes, digest: str) -> bool:
    """Whether a simple-signing payload claims `digest` (keys compared case-insensitively, as Go does)."""
    try:
        doc = _lower_keys(json.loads(payload))
    except (ValueError, UnicodeDecodeError):
        return False
    critical = doc.get("critical") if isinstance(doc, Mapping) else None
    image = critical.get("image") if isinstance(critical, Mapping) else None
    return isinstance(image, Mapping) and image.get("docker-manifest-digest") == digest


def verify(client: RegistryClient, repository: str, digest: str, keys: list[tuple[str, PublicKey]]) -> str:
    """Find a signature of `digest` that one of `keys` verifies; returns that key's name.

    Raises VerificationError("no matching signatures were found ...") otherwise; registry errors
    other than a missing signature tag propagate.
    """
    ref = f"{client.registry}/{repository}@{digest}"
    try:
        manifest = client.get_manifest(repository, signature_tag(digest))
    except NotFoundError:
        raise VerificationError(f"no signatures found for '{ref}'") from None
    for layer in manifest.layers:
        encoded = layer.annotations.get(spec.COSIGN_SIGNATURE_ANNOTATION, "")
        if layer.media_type != spec.COSIGN_SIMPLESIGNING or not encoded:
            continue
        try:
            signature = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            continue
        payload = client.read_blob(repository, layer.digest, max_size=_PAYLOAD_LIMIT)
        if not payload_matches(payload, digest):
            continue
        for name, key in keys:
            if _signature_valid(key, payload, signature):
                return name
    raise VerificationError(f"no matching signatures were found for '{ref}'")
