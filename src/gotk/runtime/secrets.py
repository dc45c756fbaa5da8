"""Reading the Secrets and ConfigMaps an object refers to (credentials, CA, proxy, tokens, decryption keys,
variables), as decoded bytes or text.

A missing or unreadable object becomes a ReadError (a SecretError) that names the object and the field, and
carries the API server's answer so that a caller can word it as its Flux counterpart does; values never reach
a message.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, Literal, overload

from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.kube.resources import CONFIGMAPS, SECRETS, Resource


class SecretError(Exception):
    """A referenced Secret is missing or unreadable (the message names it, never its data)."""


class ReadError(SecretError):
    """Reading a referenced Secret or ConfigMap failed. The message names the object and the field; `error`
    is the API server's answer, for a caller that words the failure as its Flux counterpart does."""

    def __init__(self, message: str, *, kind: str, namespace: str, name: str, field: str, error: ApiError) -> None:
        super().__init__(message)
        self.kind, self.namespace, self.name, self.field, self.error = kind, namespace, name, field, error

    @property
    def not_found(self) -> bool:
        """The object does not exist."""
        return self.error.not_found


async def _get(
    client: Client, resource: Resource, namespace: str, name: str, field: str, *, optional: bool = False
) -> dict[str, Any] | None:
    """The object, or None when it does not exist and is `optional`."""
    try:
        return await client.get(resource, name, namespace)
    except ApiError as exc:
        if optional and exc.not_found:
            return None
        what = resource.kind.lower()
        why = f"{what} not found" if exc.not_found else exc.reason or exc.status
        message = f"failed to get {what} '{namespace}/{name}' ({field}): {why}"
        raise ReadError(message, kind=resource.kind, namespace=namespace, name=name, field=field, error=exc) from None


async def get_secret(client: Client, namespace: str, name: str, *, field: str = "spec.secretRef") -> dict[str, Any]:
    """Secret `namespace/name` referenced by `field`, as the API server returns it (see `decoded`)."""
    secret = await _get(client, SECRETS, namespace, name, field)
    assert secret is not None, "not optional"
    return secret


def decoded(secret: Mapping[str, Any]) -> dict[str, bytes]:
    """A Secret's data, base64-decoded, and its stringData (which the API server folds into data) on top."""
    data: dict[str, bytes] = {}
    for key, value in (secret.get("data") or {}).items():
        data[key] = base64.b64decode(value)
    for key, value in (secret.get("stringData") or {}).items():
        data[key] = str(value).encode()
    return data


async def secret_data(client: Client, namespace: str, name: str, *, field: str = "spec.secretRef") -> dict[str, bytes]:
    """The decoded data of Secret `namespace/name` referenced by `field`."""
    return decoded(await get_secret(client, namespace, name, field=field))


async def optional_secret(
    client: Client, namespace: str, ref: dict[str, str] | None, field: str
) -> dict[str, bytes] | None:
    if not ref or not ref.get("name"):
        return None
    return await secret_data(client, namespace, ref["name"], field=field)


@overload
async def secret_text(
    client: Client, namespace: str, name: str, *, field: str, optional: Literal[False] = False
) -> dict[str, str]: ...
@overload
async def secret_text(
    client: Client, namespace: str, name: str, *, field: str, optional: bool
) -> dict[str, str] | None: ...
async def secret_text(
    client: Client, namespace: str, name: str, *, field: str, optional: bool = False
) -> dict[str, str] | None:
    """The data of Secret `namespace/name` as text: UTF-8, bytes that do not decode kept as surrogate escapes.
    None when the Secret does not exist and it is `optional`."""
    secret = await _get(client, SECRETS, namespace, name, field, optional=optional)
    if secret is None:
        return None
    return {key: value.decode("utf-8", "surrogateescape") for key, value in decoded(secret).items()}


@overload
async def configmap_data(
    client: Client, namespace: str, name: str, *, field: str, optional: Literal[False] = False
) -> dict[str, str]: ...
@overload
async def configmap_data(
    client: Client, namespace: str, name: str, *, field: str, optional: bool
) -> dict[str, str] | None: ...
async def configmap_data(
    client: Client, namespace: str, name: str, *, field: str, optional: bool = False
) -> dict[str, str] | None:
    """The data of ConfigMap `namespace/name` referenced by `field` (binaryData is left out). None when the
    ConfigMap does not exist and it is `optional`."""
    configmap = await _get(client, CONFIGMAPS, namespace, name, field, optional=optional)
    if configmap is None:
        return None
    return {str(key): str(value) for key, value in (configmap.get("data") or {}).items()}
