"""`flux create tenant NAME --with-namespace=NS …`: per namespace a Namespace, a ServiceAccount and a
`<tenant>-reconciler` RoleBinding to --cluster-role, printed (--export) or applied.

As flux2's cmd/flux/create_tenant.go: the tenant, namespace and account names must be qualified names;
with --export every object is `---` then its YAML; applying creates each object or updates its labels
(the RoleBinding is deleted and re-created when its subjects, role or labels differ), then
`tenant setup completed`. --skip-namespace leaves the Namespace out of both.
"""

from __future__ import annotations

from typing import Any

import click

from gotk.cli import create_common, goflags, kubeclient, output
from gotk.cli.context import Globals
from gotk.cli.create_common import create_options
from gotk.cli.engines import fluxsecrets, manifest
from gotk.cli.flags import with_globals
from gotk.cli.output import CommandError
from gotk.gocompat import yaml as goyaml
from gotk.kube.client import Client
from gotk.kube.resources import NAMESPACES, SERVICE_ACCOUNTS, Resource

ROLE_BINDINGS = Resource("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding")


def _check(value: str, what: str) -> None:
    if errs := create_common.qualified_name_errors(value):
        raise CommandError(f"invalid {what} '{value}': [{' '.join(errs)}]")


def _print(obj: manifest.Obj) -> None:
    click.echo("---\n" + goyaml.dump(obj).strip() + "\n", nl=False)


async def _upsert_labelled(client: Client, res: Resource, obj: manifest.Obj) -> None:
    """flux's upsertNamespace / upsertServiceAccount: create, or replace the labels when they differ."""
    meta = obj["metadata"]
    existing = await client.get_or_none(res, meta["name"], meta.get("namespace"))
    if existing is None:
        await client.create(res, obj, meta.get("namespace"))
        return
    if not fluxsecrets.derives(meta.get("labels") or {}, existing["metadata"].get("labels") or {}):
        existing["metadata"]["labels"] = meta.get("labels")
        await client.replace(res, existing, meta.get("namespace"))


async def _upsert_role_binding(client: Client, obj: manifest.Obj) -> None:
    """flux's upsertRoleBinding: create, or delete and re-create when subjects, roleRef or labels differ."""
    meta = obj["metadata"]
    existing = await client.get_or_none(ROLE_BINDINGS, meta["name"], meta["namespace"])
    if existing is None:
        await client.create(ROLE_BINDINGS, obj, meta["namespace"])
        return
    same = (
        fluxsecrets.derives(obj["subjects"], existing.get("subjects") or [])
        and fluxsecrets.derives(obj["roleRef"], existing.get("roleRef") or {})
        and fluxsecrets.derives(meta.get("labels") or {}, existing["metadata"].get("labels") or {})
    )
    if not same:
        await client.delete(ROLE_BINDINGS, meta["name"], meta["namespace"])
        await client.create(ROLE_BINDINGS, obj, meta["namespace"])


@click.command("tenant", cls=goflags.FluxCommand, help="Create or update a tenant.")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option("--with-namespace", "with_namespace", multiple=True, help="Namespace belonging to this tenant.")
@click.option("--cluster-role", default="cluster-admin", help="Cluster role of the tenant role binding.")
@click.option("--with-service-account", default="", help="Service account belonging to this tenant.")
@click.option("--skip-namespace", is_flag=True, help="Skip namespace creation (namespace must exist already).")
@create_options
@with_globals
def tenant(
    g: Globals, args: tuple[str, ...], interval: int, export: bool, label: tuple[str, ...], **flags: Any
) -> None:
    c = create_common.create_args(g, args, interval, export, label)
    name = c.name
    _check(name, "tenant name")
    if not flags["cluster_role"]:
        raise CommandError("cluster-role is required")
    if not flags["with_namespace"]:  # pflag: a given but empty --with-namespace is an empty, non-nil slice
        raise CommandError("with-namespace is required")
    objects: list[fluxsecrets.TenantObjects] = []
    for ns in goflags.string_slice(flags["with_namespace"]):
        _check(ns, "namespace")
        labels = create_common.parse_labels(c.labels)
        account = flags["with_service_account"] or name
        _check(account, "service-account name")
        objects.append(fluxsecrets.tenant_objects(name, ns, account, flags["cluster_role"], labels))
    skip = bool(flags["skip_namespace"])
    if c.export:
        for objs in objects:
            if not skip:
                _print(objs.namespace)
            _print(objs.account)
            _print(objs.role_binding)
        return

    async def body(client: Client) -> None:
        for objs in objects:
            if not skip:
                output.action(f"applying namespace {objs.namespace['metadata']['name']}")
                await _upsert_labelled(client, NAMESPACES, objs.namespace)
            output.action(f"applying service account {objs.account['metadata']['name']}")
            await _upsert_labelled(client, SERVICE_ACCOUNTS, objs.account)
            output.action(f"applying role binding {objs.role_binding['metadata']['name']}")
            await _upsert_role_binding(client, objs.role_binding)
        output.success("tenant setup completed")

    kubeclient.run(g, body)
