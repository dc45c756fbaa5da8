"""Reading the Secrets an object refers to (credentials, CA, proxy, tokens), as plain decoded bytes.

A missing Secret or key becomes an error that names the object and the field; values never reach a message.
"""

from __future__ import annotations

import base64

from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.kube.resources import SECRETS


class SecretError(Exception):
    """A referenced Secret is missing or unreadable (the message names it, never its data)."""


async def secret_data(client: Client, namespace: str, name: str, *, field: str = "spec.secretRef") -> dict[str, bytes]:
    """The decoded data of Secret `namespace/name` referenced by `field`."""
    try:
        secret = await client.get(SECRETS, name, namespace)
    except ApiError as exc:
        if exc.not_found:
            raise SecretError(f"failed to get secret '{namespace}/{name}' ({field}): secret not found") from None
        raise SecretError(f"failed to get secret '{namespace}/{name}' ({field}): {exc.reason or exc.status}") from None
    data: dict[str, bytes] = {}
    for key, value in (secret.get("data") or {}).items():
        data[key] = base64.b64decode(value)
    for key, value in (secret.get("stringData") or {}).items():
        data[key] = str(value).encode()
    return data


async def optional_secret(
    client: Client, namespace: str, ref: dict[str, str] | None, field: str
) -> dict[str, bytes] | None:
    if not ref or not ref.get("name"):
        return None
    return await secret_data(client, namespace, ref["name"], field=field)
