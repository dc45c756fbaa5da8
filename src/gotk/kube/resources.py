"""Resource addressing: `Resource` (group, version, plural, kind, scope) and the URL paths built from it.

Well-known core kinds are declared here, and every kind gotk serves is derived from the registry
`gotk.api.kinds` (`flux_resource`, and the constants below); anything else is resolved through discovery.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from gotk.api import kinds


@dataclass(frozen=True)
class Resource:
    """One REST resource of the API server."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def base(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        parts = [self.base()]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{quote(namespace, safe='')}")
        parts.append(self.plural)
        if name:
            parts.append(quote(name, safe=""))
            if subresource:
                parts.append(subresource)
        return "/".join(parts)


def split_api_version(api_version: str) -> tuple[str, str]:
    """`apps/v1` -> (`apps`, `v1`); `v1` -> (``, `v1`)."""
    if "/" in api_version:
        group, version = api_version.split("/", 1)
        return group, version
    return "", api_version


NAMESPACES = Resource("", "v1", "namespaces", "Namespace", namespaced=False)
NODES = Resource("", "v1", "nodes", "Node", namespaced=False)
SECRETS = Resource("", "v1", "secrets", "Secret")
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")
SERVICES = Resource("", "v1", "services", "Service")
EVENTS = Resource("", "v1", "events", "Event")
SERVICE_ACCOUNTS = Resource("", "v1", "serviceaccounts", "ServiceAccount")
PODS = Resource("", "v1", "pods", "Pod")
LEASES = Resource("coordination.k8s.io", "v1", "leases", "Lease")
DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment")
CRDS = Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False)


def flux_resource(kind: str) -> Resource:
    """The REST resource of a kind gotk serves (`GitRepository`, `ks`, `helmreleases`, …), from `gotk.api.kinds`."""
    info = kinds.by_kind(kind)
    return Resource(info.group, info.version, info.plural, info.kind, info.namespaced)


GITREPOSITORIES = flux_resource("GitRepository")
OCIREPOSITORIES = flux_resource("OCIRepository")
HELMREPOSITORIES = flux_resource("HelmRepository")
HELMCHARTS = flux_resource("HelmChart")
BUCKETS = flux_resource("Bucket")
EXTERNALARTIFACTS = flux_resource("ExternalArtifact")
ARTIFACTGENERATORS = flux_resource("ArtifactGenerator")
KUSTOMIZATIONS = flux_resource("Kustomization")
HELMRELEASES = flux_resource("HelmRelease")
RECEIVERS = flux_resource("Receiver")
PROVIDERS = flux_resource("Provider")
ALERTS = flux_resource("Alert")
