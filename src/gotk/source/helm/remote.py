"""How the source controller reaches a HelmRepository's charts: the HTTP/S options or the OCI registry client,
built from the repository's `secretRef` and `certSecretRef` (read with the controller's API client).

Errors are `HelmAuthError` naming the Secret and field, never their values.
"""

from __future__ import annotations

import asyncio
from typing import Any

from gotk.kube.client import Client
from gotk.runtime.oci import auth, refs
from gotk.runtime.oci.client import RegistryClient
from gotk.runtime.oci.model import tls_from_secret
from gotk.runtime.secrets import SecretError, optional_secret
from gotk.source.helm import http as helmhttp
from gotk.source.helm import oci as helmoci
from gotk.source.helm.http import HelmAuthError

Obj = dict[str, Any]


async def _secrets(
    client: Client, namespace: str, spec: Obj
) -> tuple[dict[str, bytes] | None, dict[str, bytes] | None]:
    try:
        auth_data = await optional_secret(client, namespace, spec.get("secretRef"), "HelmRepository spec.secretRef")
        certs = await optional_secret(client, namespace, spec.get("certSecretRef"), "HelmRepository spec.certSecretRef")
    except SecretError as exc:
        raise HelmAuthError(str(exc)) from None
    return auth_data, certs


async def http_options(client: Client, namespace: str, repo: Obj, *, timeout: float) -> helmhttp.HelmHTTPOptions:
    spec = repo.get("spec") or {}
    auth_data, certs = await _secrets(client, namespace, spec)
    return helmhttp.options_from_secrets(
        str(spec.get("url") or ""),
        auth_data,
        certs,
        secret_name=(spec.get("secretRef") or {}).get("name", ""),
        pass_credentials=bool(spec.get("passCredentials")),
        timeout=timeout,
    )


async def oci_client(
    client: Client, namespace: str, repo: Obj, chart: str, *, timeout: float
) -> tuple[RegistryClient, str]:
    """The registry client for `<spec.url>/<chart>` and the chart's repository path in that registry."""
    spec = repo.get("spec") or {}
    try:
        ref = refs.parse_repository_url(f"{str(spec.get('url') or '').rstrip('/')}/{chart}")
    except refs.ReferenceError as exc:
        raise HelmAuthError(f"invalid OCI chart reference: {exc}") from None
    auth_data, certs = await _secrets(client, namespace, spec)
    try:
        creds = helmoci.credentials(auth_data, ref.registry)
        tls = tls_from_secret(certs) if certs is not None else None
        registry = await asyncio.to_thread(
            RegistryClient,
            ref.registry,
            credentials=creds,
            insecure=bool(spec.get("insecure")),
            tls=tls,
            timeout=timeout,
        )
    except (auth.CredentialsError, ValueError, OSError) as exc:
        name = (spec.get("secretRef") or {}).get("name", "")
        raise HelmAuthError(f"invalid '{name}' secret data: {exc}") from None
    return registry, ref.repository
