"""`flux delete source git|oci|bucket|helm|chart NAME`, `flux delete kustomization|helmrelease NAME`,
`flux delete image repository|policy|update NAME` and `flux delete alert|alert-provider|receiver NAME`.

As flux2's cmd/flux/delete.go: the object must exist, then flux asks `Are you sure you want to delete
this <noun>` unless --silent (only `y` confirms; with no answer on stdin it aborts), and prints
`► deleting …` and `✔ … deleted`.
"""

from __future__ import annotations

import click

from gotk.cli import goflags, kinds_cli, kubeclient, output, prompt, readiness
from gotk.cli.context import Globals
from gotk.cli.flags import AliasGroup, with_globals
from gotk.cli.kinds_cli import Noun
from gotk.cli.output import CommandError
from gotk.kube.client import Client


async def delete_object(client: Client, noun: Noun, name: str, namespace: str, *, silent: bool) -> None:
    """Delete one object after flux's existence check and confirmation."""
    await readiness.fetch(client, noun.resource, name, namespace)
    if not silent and not prompt.confirm(f"Are you sure you want to delete this {noun.human}"):
        raise CommandError("aborting")
    output.action(f"deleting {noun.human} {name} in {namespace} namespace")
    await client.delete(noun.resource, name, namespace, propagation=None)
    output.success(f"{noun.human} deleted")


def _leaf(noun: Noun, help_text: str = "") -> click.Command:
    @click.command(noun.name, cls=goflags.FluxCommand, help=help_text or f"Delete a {noun.kind}.")
    @click.argument("args", nargs=-1, metavar="NAME")
    @click.option("-s", "--silent", is_flag=True, help="Delete resource without asking for confirmation.")
    @with_globals
    def command(g: Globals, args: tuple[str, ...], silent: bool) -> None:
        if not args:
            raise CommandError(f"{noun.human} name is required")
        kubeclient.run(g, lambda client: delete_object(client, noun, args[0], g.namespace, silent=silent))

    return command


delete = AliasGroup("delete", help="Delete sources and resources.")
source = AliasGroup("source", help="Delete sources.")
for _noun in (
    kinds_cli.SOURCE_GIT,
    kinds_cli.SOURCE_OCI,
    kinds_cli.SOURCE_BUCKET,
    kinds_cli.SOURCE_HELM,
    kinds_cli.SOURCE_CHART,
):
    source.add_command(_leaf(_noun))
delete.add_command(source)
image = AliasGroup("image", help="Delete image automation objects.")
for _noun in kinds_cli.IMAGES:
    image.add_command(_leaf(_noun))
delete.add_command(image)
delete.add_aliased(_leaf(kinds_cli.KUSTOMIZATION), kinds_cli.KUSTOMIZATION.aliases)
delete.add_aliased(_leaf(kinds_cli.HELMRELEASE), kinds_cli.HELMRELEASE.aliases)
for _noun in (kinds_cli.ALERT, kinds_cli.ALERT_PROVIDER, kinds_cli.RECEIVER):
    delete.add_command(_leaf(_noun, f"Delete a {_noun.kind} resource."))
