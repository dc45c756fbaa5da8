"""The registry client an OCIRepository asks for: credentials from `secretRef` (dockerconfigjson)
or the `serviceAccountName`'s imagePullSecrets, `proxySecretRef`, `certSecretRef` and `insecure`.

Used by the OCIRepository reconciler and the image reflector; errors are `RemoteConfigError` with a message that names
Secrets and fields but never their values.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Mapping
from typing import Any

from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.kube.resources import SERVICE_ACCOUNTS
from gotk.runtime.oci import auth
from gotk.runtime.oci.client import RegistryClient
from gotk.runtime.oci.model import TLSConfig, tls_from_secret
from gotk.runtime.secrets import SecretError, optional_secret, secret_data

__all__ = ["RemoteConfigError", "UnsupportedProviderError", "credentials", "proxy_url", "registry_client"]


class RemoteConfigError(Exception):
    """The credentials, proxy or TLS settings cannot be read; `stage` says which."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage


class UnsupportedProviderError(RemoteConfigError):
    """`spec.provider` aws/azure/gcp needs cloud workload identity, which gotk does not implement."""


async def credentials(
    client: Client, namespace: str, spec: Mapping[str, Any], registry: str
) -> auth.Credentials | None:
    """The credentials for `registry`: `secretRef` first, then the service account's imagePullSecrets."""
    ref = spec.get("secretRef")
    if ref and ref.get("name"):
        data = await secret_data(client, namespace, ref["name"], field="spec.secretRef")
        found = auth.from_pull_secret(data, registry)
        if found is not None:
            return found
    sa_name = spec.get("serviceAccountName")
    if sa_name:
        try:
            account = await client.get(SERVICE_ACCOUNTS, sa_name, namespace)
        except ApiError as exc:
            what = "not found" if exc.not_found else (exc.reason or str(exc.status))
            raise SecretError(f"failed to get service account '{namespace}/{sa_name}': {what}") from None
        for pull_secret in account.get("imagePullSecrets") or []:
            name = pull_secret.get("name")
            if not name:
                continue
            data = await secret_data(client, namespace, name, field=f"serviceaccount/{sa_name} imagePullSecrets")
            found = auth.from_pull_secret(data, registry)
            if found is not None:
                return found
    return None


def proxy_url(data: Mapping[str, bytes]) -> str:
    """`address` (required), `username`, `password` of a proxySecretRef as one proxy URL."""
    address = data.get("address", b"").decode().strip()
    if not address:
        raise ValueError("invalid proxy secret: key 'address' not found")
    user, password = data.get("username", b"").decode(), data.get("password", b"").decode()
    if not user:
        return address
    parts = urllib.parse.urlsplit(address)
    userinfo = urllib.parse.quote(user, safe="") + (":" + urllib.parse.quote(password, safe="") if password else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}"))


async def registry_client(
    client: Client, namespace: str, spec: Mapping[str, Any], registry: str, *, timeout: float
) -> RegistryClient:
    """Read the referenced Secrets and build the client (building loads CA stores, so in a thread)."""
    try:
        creds = await credentials(client, namespace, spec, registry)
    except (SecretError, auth.CredentialsError) as exc:
        raise RemoteConfigError("credentials", f"failed to get credential: {exc}") from None
    provider = spec.get("provider") or "generic"
    if provider != "generic" and creds is None:
        message = f"failed to get credential from {provider}: cloud provider authentication is not supported by gotk"
        raise UnsupportedProviderError("credentials", message)
    try:
        proxy_data = await optional_secret(client, namespace, spec.get("proxySecretRef"), "spec.proxySecretRef")
        proxy = proxy_url(proxy_data) if proxy_data is not None else None
    except (SecretError, ValueError, UnicodeDecodeError) as exc:
        raise RemoteConfigError("proxy", f"failed to get proxy address: {exc}") from None
    url = spec.get("url")
    try:
        cert_data = await optional_secret(client, namespace, spec.get("certSecretRef"), "spec.certSecretRef")
        tls: TLSConfig | None = tls_from_secret(cert_data) if cert_data is not None else None
        return await asyncio.to_thread(
            RegistryClient,
            registry,
            credentials=creds,
            insecure=bool(spec.get("insecure")),
            tls=tls,
            proxy=proxy,
            timeout=timeout,
        )
    except (SecretError, ValueError, OSError) as exc:
        raise RemoteConfigError("transport", f"failed to generate transport for '{url}': {exc}") from None
