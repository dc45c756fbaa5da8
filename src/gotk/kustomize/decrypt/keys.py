"""The decryption key Secret of a Kustomization (`spec.decryption.secretRef`): its age identities, read
through gotk.runtime.secrets once per reconcile and handed to both generator-file and manifest decryption.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gotk.kube.client import Client
from gotk.kustomize.decrypt import sops
from gotk.runtime import secrets


class KeySecretError(Exception):
    """The decryption Secret cannot be read; the message names it, never its data."""


async def identities(client: Client, namespace: str, decryption: Mapping[str, Any]) -> list[str]:
    """The age identities in the `*.agekey` entries of the decryption Secret; none without a secretRef.

    Raises KeySecretError when the Secret cannot be read, sops.SopsError when an entry is no age identity.
    """
    ref = decryption.get("secretRef") or {}
    if not ref.get("name"):
        return []
    try:
        data = await secrets.secret_data(client, namespace, ref["name"], field="spec.decryption.secretRef")
    except secrets.ReadError as exc:
        why = exc.error.reason or exc.error.status
        raise KeySecretError(f"cannot get decryption secret '{namespace}/{ref['name']}': {why}") from None
    return sops.age_identities_from_secret(data)
