"""`spec.kubeConfig` of a Kustomization or a HelmRelease: the kubeconfig of another cluster, read from a Secret
in the object's namespace (`secretRef`, key `value` or `value.yaml` unless `key` names one).

A kubeconfig that would read the controller's own files or run its programs is refused, and so is
`configMapRef` (Flux's cloud-provider workload identity, which no local cluster can back): never the local
cluster in its place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from gotk.kube import config as kubeconfig
from gotk.kube.client import Client
from gotk.runtime import secrets

Obj = dict[str, Any]
FIELD = "spec.kubeConfig.secretRef"
FILE_KEYS = {
    "clusters": ("certificate-authority",),
    "users": ("client-certificate", "client-key", "tokenFile", "exec", "auth-provider"),
}


class KubeConfigError(Exception):
    """The kubeConfig Secret cannot be read or used; the message names the Secret, never its data."""

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


class UnsupportedKubeConfigError(KubeConfigError):
    """A kubeConfig gotk refuses whatever the cluster holds (configMapRef): retrying cannot help."""


@dataclass(frozen=True)
class Remote:
    """A resolved kubeConfig: the document, its connection settings, and a key that changes with the Secret."""

    doc: Obj
    config: kubeconfig.KubeConfig
    key: str


def file_references(doc: Mapping[str, Any]) -> list[str]:
    """Kubeconfig entries that would read the controller's own files or run its programs (refused)."""
    found: list[str] = []
    for section, keys in FILE_KEYS.items():
        for item in doc.get(section) or []:
            body = item.get(section[:-1]) or {}
            found.extend(f"{section[:-1]} {item.get('name')!r}: {k}" for k in keys if body.get(k))
    return found


def secret_ref(spec: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The `secretRef` of `spec.kubeConfig`; None without a kubeConfig; refuses a configMapRef."""
    kube = spec.get("kubeConfig")
    if not kube:
        return None
    ref = kube.get("secretRef")
    if not ref:
        raise UnsupportedKubeConfigError(
            "spec.kubeConfig.configMapRef (a cloud provider's workload identity) is not supported: "
            "give the remote cluster's kubeconfig in a Secret with spec.kubeConfig.secretRef"
        )
    return ref  # type: ignore[no-any-return]


async def load(client: Client, namespace: str, ref: Mapping[str, Any]) -> Remote:
    """Read and check the kubeconfig Secret `ref` of `namespace`."""
    name = str(ref.get("name"))
    try:
        secret = await secrets.get_secret(client, namespace, name, field=FIELD)
    except secrets.ReadError as exc:
        why = exc.error.reason or exc.error
        message = f"failed to get kubeConfig secret '{namespace}/{name}': {why}"
        raise KubeConfigError(message, not_found=exc.not_found) from None
    data = secrets.decoded(secret)
    key = str(ref.get("key") or ("value" if "value" in data else "value.yaml"))
    if key not in data:
        raise KubeConfigError(f"kubeConfig secret '{namespace}/{name}' has no key '{key}'")
    try:
        doc = yaml.load(data[key], Loader=yaml.CSafeLoader) or {}
    except yaml.YAMLError:
        raise KubeConfigError(f"kubeConfig secret '{namespace}/{name}' key '{key}' is not valid YAML") from None
    if not isinstance(doc, dict):
        raise KubeConfigError(f"kubeConfig secret '{namespace}/{name}' key '{key}' is not a kubeconfig")
    unsafe = file_references(doc)
    if unsafe:
        raise KubeConfigError(
            f"kubeConfig secret '{namespace}/{name}' refers to files on the controller's disk "
            f"({', '.join(unsafe)}): embed the data instead (e.g. certificate-authority-data)"
        )
    try:
        cfg = kubeconfig.from_dict(doc, source=f"secret {namespace}/{name}")
    except kubeconfig.ConfigError as exc:
        raise KubeConfigError(str(exc)) from None
    return Remote(doc, cfg, f"{namespace}/{name}@{secret['metadata'].get('resourceVersion')}")
