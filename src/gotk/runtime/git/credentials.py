"""The credentials a GitRepository's spec asks for: `secretRef` (basic, bearer or SSH keys) and
`proxySecretRef`, read from the API server. Shared by the GitRepository reconciler and the image automation,
which clones and pushes with its GitRepository's credentials. Errors are typed: `ProxySecretError` (the proxy
Secret), `auth.InvalidURLError` (the URL), and `SecretError` or `GitError` (the credentials Secret).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from gotk.kube.client import Client
from gotk.runtime.git import auth as gitauth
from gotk.runtime.secrets import SecretError, optional_secret, secret_data

__all__ = ["ProxySecretError", "from_spec"]


class ProxySecretError(Exception):
    """`proxySecretRef` names a Secret that is missing or does not hold a proxy address."""


async def from_spec(client: Client, namespace: str, spec: Mapping[str, Any], url: str) -> gitauth.GitAuth:
    """The `GitAuth` for `url` from a GitRepository spec's `secretRef` and `proxySecretRef`."""
    proxy = ""
    proxy_name = str((spec.get("proxySecretRef") or {}).get("name") or "")
    if proxy_name:
        try:
            data = await secret_data(client, namespace, proxy_name, field="spec.proxySecretRef")
            proxy = gitauth.proxy_from_secret(f"{namespace}/{proxy_name}", data)
        except (SecretError, gitauth.ProxyConfigError) as exc:
            raise ProxySecretError(str(exc)) from None
    data_ = await optional_secret(client, namespace, spec.get("secretRef"), "spec.secretRef")
    auth = gitauth.from_secret(url, data_)
    return dataclasses.replace(auth, proxy=proxy) if proxy else auth
