"""`flux build kustomization NAME --path DIR`: build local manifests as kustomize-controller would.

Fetches the Kustomization from the cluster (or reads --kustomization-file; with --dry-run no cluster is
contacted and substituteFrom variables are skipped), builds --path with its spec and prints the
multi-document YAML, SOPS-encrypted Secret values masked. Flags and messages follow flux2's
cmd/flux/build_kustomization.go; the build itself lives in gotk.cli.engines.localbuild.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from gotk.cli import goflags, kubeclient
from gotk.cli.context import Globals
from gotk.cli.engines import localbuild
from gotk.cli.flags import AliasGroup, timeout_seconds, with_globals
from gotk.cli.output import CommandError
from gotk.kube.client import Client


def parse_local_sources(values: tuple[str, ...]) -> dict[str, str]:
    """--local-sources `Kind/namespace/name=path[,…]` (cobra's StringToString)."""
    out: dict[str, str] = {}
    for item in goflags.string_slice(values):
        key, sep, value = item.partition("=")
        if not sep:
            raise CommandError(
                f'invalid argument "{item}" for "--local-sources" flag: {item} must be formatted as key=value'
            )
        out[key] = value
    return out


def common_options(f: click.decorators.FC) -> click.decorators.FC:
    """The flags `build kustomization` and `diff kustomization` share."""
    for decorator in reversed(
        [
            click.option("--path", default="", help="Path to the manifests location."),
            click.option("--kustomization-file", default="", help="Path to the Flux Kustomization YAML file."),
            click.option(
                "--ignore-paths", multiple=True, help="set paths to ignore in .gitignore format (comma separated)"
            ),
            click.option(
                "--strict-substitute",
                is_flag=True,
                help="When enabled, the post build substitutions will fail if a var without a default value is "
                "declared in files but is missing from the input vars.",
            ),
            click.option("-r", "--recursive", is_flag=True, help="Recursively build Kustomizations"),
            click.option(
                "--local-sources",
                multiple=True,
                help="Comma-separated list of repositories in format: Kind/namespace/name=path",
            ),
            click.option("--in-memory-build", is_flag=True, help="Use in-memory filesystem during build."),
        ]
    ):
        f = decorator(f)
    return f


@click.command("kustomization", cls=goflags.FluxCommand, help="Build Kustomization")
@click.argument("name", required=False)
@common_options
@click.option("--dry-run", is_flag=True, help="Dry run mode.")
@with_globals
def build_kustomization(
    g: Globals,
    name: str | None,
    path: str,
    kustomization_file: str,
    ignore_paths: tuple[str, ...],
    strict_substitute: bool,
    recursive: bool,
    local_sources: tuple[str, ...],
    in_memory_build: bool,
    dry_run: bool,
) -> None:
    if not name:
        raise CommandError("kustomization name is required")
    if not path:
        raise CommandError(f'invalid resource path "{path}"')
    directory = Path(path).absolute()
    if not directory.is_dir():
        raise CommandError(f'invalid resource path "{directory}"')
    if dry_run and not kustomization_file:
        raise CommandError("dry-run mode requires a kustomization file")
    if kustomization_file and not Path(kustomization_file).is_file():
        raise CommandError(f'invalid kustomization file "{kustomization_file}"')
    opts = localbuild.Options(
        name=name,
        namespace=g.namespace,
        path=directory,
        kustomization_file=Path(kustomization_file) if kustomization_file else None,
        dry_run=dry_run,
        strict_substitute=strict_substitute,
        ignore_paths=goflags.string_slice(ignore_paths),
        recursive=recursive,
        local_sources=parse_local_sources(local_sources),
    )
    seconds = timeout_seconds(g)

    async def body(client: Client | None) -> str:
        try:
            async with asyncio.timeout(seconds):
                _, objects = await localbuild.build(client, opts)
        except TimeoutError:
            raise CommandError("context deadline exceeded") from None
        return localbuild.to_yaml(objects)

    text = asyncio.run(body(None)) if dry_run else kubeclient.run(g, body)
    click.echo(text, nl=False)


@click.group("build", cls=AliasGroup)
def build() -> None:
    """Build a flux resource."""


assert isinstance(build, AliasGroup)
build.add_aliased(build_kustomization, ("ks",))
