"""Multi-tenancy lockdown: impersonation and cross-namespace references.

Covers: `serviceAccountName` impersonation with a ServiceAccount whose Role allows only ConfigMaps (a
ConfigMap applies, a Secret fails with Ready=False and a 403 message naming the object); deleting such a
Kustomization after its ServiceAccount is gone removes the finalizer without pruning; Settings
`no_cross_namespace_refs` (a sourceRef or dependsOn into another namespace → Stalled, AccessDenied);
Settings `default_service_account` enforcing impersonation on a Kustomization that names no account.
"""

from __future__ import annotations

from typing import Any

import pytest

from gotk.api import meta
from gotk.kube.resources import CONFIGMAPS, KUSTOMIZATIONS, SECRETS, SERVICE_ACCOUNTS, Resource
from gotk.runtime import conditions

pytestmark = pytest.mark.cluster

ROLES = Resource("rbac.authorization.k8s.io", "v1", "roles", "Role")
ROLE_BINDINGS = Resource("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding")
CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tenant-config\ndata:\n  k: v\n"
SECRET = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tenant-secret\nstringData:\n  k: v\n"
FILES = {"config/cm.yaml": CONFIG, "both/cm.yaml": CONFIG, "both/secret.yaml": SECRET}


async def tenant_account(client: Any, namespace: str, name: str = "tenant") -> None:
    """A ServiceAccount that may manage ConfigMaps, and nothing else, in `namespace`."""
    await client.create(SERVICE_ACCOUNTS, {"metadata": {"name": name}}, namespace)
    rule = {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]}
    await client.create(ROLES, {"metadata": {"name": name}, "rules": [rule]}, namespace)
    binding = {
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
    }
    await client.create(ROLE_BINDINGS, binding, namespace)


async def test_service_account_impersonation(harness: Any) -> None:
    ns = harness.namespace
    client = harness.client
    revision = harness.repo(FILES)
    await tenant_account(client, ns)
    await harness.start()
    await harness.source()

    await harness.create_ks("config", "./config", serviceAccountName="tenant")
    await harness.applied("config", revision)
    assert await client.get_or_none(CONFIGMAPS, "tenant-config", ns) is not None

    await harness.create_ks("both", "./both", serviceAccountName="tenant")
    ks = await harness.not_ready("both", meta.RECONCILIATION_FAILED, revision=revision)
    message = conditions.get_message(ks, meta.READY)
    assert f"Secret/{ns}/tenant-secret" in message and "forbidden" in message, message
    assert f"system:serviceaccount:{ns}:tenant" in message, message
    assert await client.get_or_none(SECRETS, "tenant-secret", ns) is None

    # the account is gone: deletion cannot prune, yet must not block on the finalizer
    await client.delete(SERVICE_ACCOUNTS, "tenant", ns)
    await client.delete(KUSTOMIZATIONS, "config", ns)

    async def deleted() -> bool:
        return await client.get_or_none(KUSTOMIZATIONS, "config", ns) is None

    await harness.eventually(deleted, 20, "the Kustomization deleted without its ServiceAccount")
    assert await client.get_or_none(CONFIGMAPS, "tenant-config", ns) is not None, "nothing pruned"


async def test_lockdown_settings(harness: Any) -> None:
    ns = harness.namespace
    client = harness.client
    revision = harness.repo(FILES)
    await tenant_account(client, ns)
    await harness.start(no_cross_namespace_refs=True, default_service_account="tenant")
    await harness.source()

    # a sourceRef into another namespace: Stalled, no retry can help
    cross = {"kind": "GitRepository", "name": "repo", "namespace": "flux-system"}
    await harness.create_ks("cross-source", "./config", sourceRef=cross)
    ks = await harness.not_ready("cross-source", meta.ACCESS_DENIED)
    assert conditions.is_true(ks, meta.STALLED) and conditions.get_reason(ks, meta.STALLED) == meta.ACCESS_DENIED
    assert "cross-namespace references have been disabled" in conditions.get_message(ks, meta.READY)

    # a dependsOn into another namespace
    await harness.create_ks("cross-dep", "./config", dependsOn=[{"name": "infra", "namespace": "flux-system"}])
    ks = await harness.not_ready("cross-dep", meta.ACCESS_DENIED)
    assert conditions.is_true(ks, meta.STALLED)

    # the default service account is impersonated when none is named
    await harness.create_ks("config", "./config")
    await harness.applied("config", revision)
    await harness.create_ks("both", "./both")
    ks = await harness.not_ready("both", meta.RECONCILIATION_FAILED, revision=revision)
    message = conditions.get_message(ks, meta.READY)
    assert f"Secret/{ns}/tenant-secret" in message and f"system:serviceaccount:{ns}:tenant" in message, message
