"""`flux export source git|oci|bucket|helm|chart|external|all NAME|--all`, `flux export kustomization` and
`flux export helmrelease`.

Each object is printed as flux2's export adapters do (cmd/flux/export*.go): `---`, then apiVersion,
kind, metadata (name, namespace, labels, annotations) and the spec in Go's form; no status and no
server-set metadata (see `manifest`). `--with-credentials` adds the Secret named by spec.secretRef
(its data and type). `export source all` is a gotk addition: every source kind, in `get sources all` order.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from gotk.cli import goflags, kinds_cli, kubeclient, readiness
from gotk.cli.context import Globals
from gotk.cli.engines import manifest
from gotk.cli.flags import AliasGroup, with_globals
from gotk.cli.kinds_cli import Noun, Obj, dig, text
from gotk.cli.output import CommandError
from gotk.kube.client import Client
from gotk.kube.errors import ApiError, ResourceNotFound
from gotk.kube.resources import SECRETS

SOURCE_NOUNS = (
    kinds_cli.SOURCE_GIT,
    kinds_cli.SOURCE_OCI,
    kinds_cli.SOURCE_BUCKET,
    kinds_cli.SOURCE_HELM,
    kinds_cli.SOURCE_CHART,
    kinds_cli.SOURCE_EXTERNAL,
)
_WITH_SECRET = frozenset({"GitRepository", "OCIRepository", "Bucket", "HelmRepository"})


def render(obj: Obj) -> str:
    return manifest.render(manifest.export(obj))


async def credentials(client: Client, obj: Obj) -> str:
    """printSecretCredentials: the Secret of spec.secretRef with its data and type only ('' without one)."""
    name = text(dig(obj, "spec", "secretRef", "name"))
    if obj.get("kind") not in _WITH_SECRET or not name:
        return ""
    namespace = text(dig(obj, "metadata", "namespace"))
    try:
        found = await client.get(SECRETS, name, namespace)
    except ApiError as exc:
        raise CommandError(f"failed to retrieve secret {name}, error: {exc}") from None
    secret = manifest.secret(name, namespace, data=found.get("data"), type=found.get("type"))
    return manifest.render(secret)


async def export_objects(
    client: Client, nouns: Sequence[Noun], name: str | None, namespace: str, *, with_credentials: bool = False
) -> str:
    """The YAML of one named object or (name None) of all objects of the kinds, in namespace order."""
    items: list[Obj] = []
    for noun in nouns:
        if name is not None and len(nouns) == 1:
            items.append(await readiness.fetch(client, noun.resource, name, namespace))
            continue
        try:
            items += await readiness.list_objects(client, noun.resource, namespace, name=name)
        except ResourceNotFound:
            if len(nouns) == 1:
                raise
    if not items:
        raise CommandError(f"no objects found in {namespace} namespace")
    out = []
    for obj in items:
        out.append(render(obj))
        if with_credentials:
            out.append(await credentials(client, obj))
    return "".join(out)


def _leaf(nouns: Sequence[Noun], command_name: str, *, source: bool) -> click.Command:
    @click.command(command_name, cls=goflags.FluxCommand, help=f"Export {command_name} objects in YAML format.")
    @click.argument("args", nargs=-1, metavar="NAME")
    @click.option("--all", "all_", is_flag=True, help="Select all resources.")
    @with_globals
    def command(g: Globals, args: tuple[str, ...], all_: bool, with_credentials: bool = False) -> None:
        if not all_ and not args:
            raise CommandError("name is required")
        name = None if all_ else args[0]

        async def body(client: Client) -> None:
            click.echo(
                await export_objects(client, nouns, name, g.namespace, with_credentials=with_credentials), nl=False
            )

        kubeclient.run(g, body)

    if source:
        command = click.option("--with-credentials", is_flag=True, help="Include credential secrets.")(command)
    return command


export = AliasGroup("export", help="Export resources in YAML format.")
source = AliasGroup("source", help="Export sources.")
for _noun in SOURCE_NOUNS:
    source.add_command(_leaf((_noun,), _noun.name, source=True))
source.add_command(_leaf(SOURCE_NOUNS, "all", source=True))
export.add_command(source)
export.add_aliased(_leaf((kinds_cli.KUSTOMIZATION,), "kustomization", source=False), kinds_cli.KUSTOMIZATION.aliases)
export.add_aliased(_leaf((kinds_cli.HELMRELEASE,), "helmrelease", source=False), kinds_cli.HELMRELEASE.aliases)
