"""`flux uninstall [--keep-namespace] [--dry-run] [-s/--silent]`: remove Flux from the cluster, as flux2's
cmd/flux/uninstall.go and pkg/uninstall do it, in the same order and with the same lines.

1. Unless --silent or --dry-run: `Are you sure you want to delete Flux and its custom resource definitions`
   (or `Flux is managed by <tool>! …` when the GitRepository CRD carries another app.kubernetes.io/managed-by).
2. `► deleting components in <ns> namespace`: the Deployments, Services, NetworkPolicies and ServiceAccounts
   labelled app.kubernetes.io/part-of=flux in the namespace, then the ClusterRoles and ClusterRoleBindings
   labelled part-of=flux and app.kubernetes.io/instance=<ns> (what `flux install` labels them with).
   The controllers go first, so that none is left to act on what follows.
3. `► deleting toolkit.fluxcd.io finalizers in all namespaces`: every object of every gotk kind, in every
   namespace, loses its finalizers.
4. `► deleting toolkit.fluxcd.io custom resource definitions`: the CRDs labelled part-of=flux. The API server
   then deletes the Flux objects; with no finalizer and no controller, nothing they applied is pruned: the
   workloads stay, only their owners are gone.
5. The namespace, unless --keep-namespace; then `✔ uninstall finished`.

Every deletion prints `✔ <Kind>/<ns>/<name> deleted ` (flux2's trailing space, or `deleted (dry run)`) or
`✗ … deletion failed: <error>`; a kind the server does not serve is skipped silently and, as with flux2, a
failed step does not stop the next one nor change the exit code. --dry-run sends every request with
dryRun=All, so the server validates each one and changes nothing.
An unreachable server stops it with one ✗ line; --timeout bounds the whole run (`context deadline exceeded`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import click

from gotk.api import kinds
from gotk.cli import goflags, kubeclient, output, prompt
from gotk.cli.context import Globals
from gotk.cli.flags import timeout_seconds, with_globals
from gotk.cli.output import CommandError
from gotk.kube.client import Client
from gotk.kube.errors import ApiError, Unreachable
from gotk.kube.resources import CRDS, DEPLOYMENTS, NAMESPACES, SERVICE_ACCOUNTS, SERVICES, Resource, flux_resource

PART_OF = "app.kubernetes.io/part-of=flux"
INSTANCE_LABEL = "app.kubernetes.io/instance"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
CLUSTER_INFO_CRD = "gitrepositories.source.toolkit.fluxcd.io"
NETWORK_POLICIES = Resource("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy")
CLUSTER_ROLES = Resource("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced=False)
CLUSTER_ROLE_BINDINGS = Resource(
    "rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", namespaced=False
)
# flux2's pkg/uninstall order; kinds gotk serves beyond these (ExternalArtifact) follow in registry order
FINALIZER_ORDER = (
    "GitRepository",
    "OCIRepository",
    "HelmRepository",
    "HelmChart",
    "Bucket",
    "Kustomization",
    "HelmRelease",
    "Alert",
    "Provider",
    "Receiver",
    "ImagePolicy",
    "ImageRepository",
    "ImageUpdateAutomation",
    "ArtifactGenerator",
)
PROMPT = "Are you sure you want to delete Flux and its custom resource definitions"


def finalizer_kinds() -> list[Resource]:
    """Every kind of gotk.api.kinds, in flux2's order first."""
    served = [info.kind for info in kinds.all_kinds()]
    ordered = [k for k in FINALIZER_ORDER if k in served] + [k for k in served if k not in FINALIZER_ORDER]
    return [flux_resource(k) for k in ordered]


@dataclass(frozen=True)
class Plan:
    """What one uninstall run does."""

    namespace: str
    dry_run: bool = False
    keep_namespace: bool = False

    @property
    def suffix(self) -> str:
        """flux2's `deleted %s` argument: `(dry run)` or nothing (which leaves a trailing space)."""
        return "(dry run)" if self.dry_run else ""


def _ref(obj: dict[str, Any], kind: str) -> str:
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    return f"{kind}/{namespace}/{meta.get('name')}" if namespace else f"{kind}/{meta.get('name')}"


async def _list(client: Client, res: Resource, namespace: str | None, selector: str | None) -> list[dict[str, Any]]:
    """The objects, or none when the list fails (a kind not served, forbidden): flux2 skips those silently."""
    try:
        found = await client.list(res, namespace, label_selector=selector)
    except Unreachable:
        raise
    except ApiError:
        return []
    return list(found.get("items") or [])


async def _delete(client: Client, res: Resource, name: str, namespace: str | None, dry_run: bool) -> None:
    """DELETE with flux2's default options (no propagation policy), raising on every error, not-found too."""
    body: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
    if dry_run:
        body["dryRun"] = ["All"]
    await client.request("DELETE", res.path(namespace, name), body=body)


async def delete_each(client: Client, plan: Plan, res: Resource, objects: Sequence[dict[str, Any]]) -> None:
    for obj in objects:
        meta = obj.get("metadata") or {}
        ref = _ref(obj, res.kind)
        try:
            await _delete(client, res, str(meta.get("name")), meta.get("namespace"), plan.dry_run)
        except Unreachable:
            raise
        except ApiError as exc:
            output.failure(f"{ref} deletion failed: {exc}")
        else:
            output.success(f"{ref} deleted {plan.suffix}")


async def components(client: Client, plan: Plan) -> None:
    """The controllers' objects: namespaced ones by part-of, cluster-scoped ones by part-of and instance."""
    for res in (DEPLOYMENTS, SERVICES, NETWORK_POLICIES, SERVICE_ACCOUNTS):
        await delete_each(client, plan, res, await _list(client, res, plan.namespace, PART_OF))
    instance = f"{PART_OF},{INSTANCE_LABEL}={plan.namespace}"
    for res in (CLUSTER_ROLES, CLUSTER_ROLE_BINDINGS):
        await delete_each(client, plan, res, await _list(client, res, None, instance))


async def finalizers(client: Client, plan: Plan) -> None:
    """Clear metadata.finalizers of every Flux object in every namespace (a merge patch: no conflicts)."""
    patch = {"metadata": {"finalizers": None}}
    for res in finalizer_kinds():
        for obj in await _list(client, res, None, None):
            meta = obj.get("metadata") or {}
            ref = _ref(obj, res.kind)
            try:
                await client.patch(res, str(meta.get("name")), patch, meta.get("namespace"), dry_run=plan.dry_run)
            except Unreachable:
                raise
            except ApiError as exc:
                output.failure(f"{ref} removing finalizers failed: {exc}")
            else:
                output.success(f"{ref} finalizers deleted {plan.suffix}")


async def custom_resource_definitions(client: Client, plan: Plan) -> None:
    await delete_each(client, plan, CRDS, await _list(client, CRDS, None, PART_OF))


async def namespace(client: Client, plan: Plan) -> None:
    await delete_each(client, plan, NAMESPACES, [{"metadata": {"name": plan.namespace}}])


async def managed_by(client: Client) -> str:
    """The app.kubernetes.io/managed-by label of the GitRepository CRD ("" when absent or no CRD)."""
    try:
        crd = await client.get_or_none(CRDS, CLUSTER_INFO_CRD)
    except Unreachable:
        raise
    except ApiError as exc:
        raise CommandError(f"cluster info unavailable: {exc}") from exc
    labels = ((crd or {}).get("metadata") or {}).get("labels") or {}
    return str(labels.get(MANAGED_BY_LABEL) or "")


def confirm_label(manager: str) -> str:
    if manager in ("", "flux"):
        return PROMPT
    return f"Flux is managed by {manager}! Are you sure you want to delete Flux and its CRDs using Flux CLI"


async def uninstall_flux(client: Client, plan: Plan, *, silent: bool) -> None:
    if not plan.dry_run and not silent and not prompt.confirm(confirm_label(await managed_by(client))):
        raise CommandError("aborting")
    output.action(f"deleting components in {plan.namespace} namespace")
    await components(client, plan)
    output.action("deleting toolkit.fluxcd.io finalizers in all namespaces")
    await finalizers(client, plan)
    output.action("deleting toolkit.fluxcd.io custom resource definitions")
    await custom_resource_definitions(client, plan)
    if not plan.keep_namespace:
        await namespace(client, plan)
    output.success("uninstall finished")


@click.command("uninstall", cls=goflags.FluxCommand, context_settings={"allow_extra_args": True})
@click.option("--keep-namespace", is_flag=True, help="skip namespace deletion")
@click.option("--dry-run", is_flag=True, help="only print the objects that would be deleted")
@click.option("-s", "--silent", is_flag=True, help="delete components without asking for confirmation")
@with_globals
def uninstall(g: Globals, keep_namespace: bool, dry_run: bool, silent: bool) -> None:
    """Uninstall Flux and its custom resource definitions.

    The uninstall command removes the Flux components and the toolkit.fluxcd.io resources from the cluster.

    \b
    Examples:
      # Uninstall Flux components, its custom resources and namespace
      flux uninstall --namespace=flux-system

    \b
      # Uninstall Flux but keep the namespace
      flux uninstall --namespace=infra --keep-namespace=true
    """
    args = click.get_current_context().args
    if args:
        raise CommandError(f'unknown command "{args[0]}" for "flux uninstall"')
    plan = Plan(namespace=g.namespace, dry_run=dry_run, keep_namespace=keep_namespace)
    timeout = timeout_seconds(g)

    async def body(client: Client) -> None:
        try:
            await asyncio.wait_for(uninstall_flux(client, plan, silent=silent), timeout)
        except TimeoutError:
            raise CommandError("context deadline exceeded") from None

    kubeclient.run(g, body)
