"""`flux build kustomization NAME --path DIR`: build local manifests as kustomize-controller would;
`flux build artifact --path DIR --output FILE`: the tar.gz `flux push artifact` would upload.

Fetches the Kustomization from the cluster (or reads --kustomization-file; with --dry-run no cluster is
contacted and substituteFrom variables are skipped), builds --path with its spec and prints the
multi-document YAML, SOPS-encrypted Secret values masked. Flags and messages follow flux2's
cmd/flux/build_kustomization.go; the build itself lives in gotk.cli.engines.localbuild. The artifact
command follows cmd/flux/build_artifact.go (gotk.cli.engines.ociartifact).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import click

from gotk.cli import goflags, kubeclient
from gotk.cli.context import Globals
from gotk.cli.engines import localbuild, ociartifact
from gotk.cli.flags import AliasGroup, timeout_seconds, with_globals
from gotk.cli.output import CommandError
from gotk.cli.output import action as output_action
from gotk.cli.output import success as output_success
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


def artifact_ignore_paths(ignore_paths: tuple[str, ...], add_ignore_paths: tuple[str, ...]) -> list[str] | None:
    """--ignore-paths (default: flux's OCI exclusions; replaced when given) then --add-ignore-paths."""
    ignore = goflags.string_slice(ignore_paths) if ignore_paths else list(ociartifact.EXCLUDE_OCI)
    return ociartifact.compose_ignore_paths(ignore, goflags.string_slice(add_ignore_paths))


def artifact_ignore_options(f: click.decorators.FC) -> click.decorators.FC:
    """The --ignore-paths and --add-ignore-paths flags of `build artifact` and `diff artifact`."""
    f = click.option(
        "--add-ignore-paths",
        multiple=True,
        help="additional paths to ignore in .gitignore format (appended to --ignore-paths)",
    )(f)
    return click.option(
        "--ignore-paths",
        multiple=True,
        help=f"set paths to ignore in .gitignore format (default [{','.join(ociartifact.EXCLUDE_OCI)}])",
    )(f)


@click.command(
    "artifact",
    cls=goflags.FluxCommand,
    help="The build artifact command creates a tgz file with the manifests\n"
    "from the given directory or a single manifest file.",
    short_help="Build artifact",
    epilog="\b\nExamples:\n  # Package a directory of manifests (or one manifest file) as an artifact\n"
    "  flux build artifact --path ./deploy --output ./artifact.tgz\n\n\b\n"
    "  # Show what the artifact holds\n  tar -tzvf ./artifact.tgz",
)
@click.option("-p", "--path", default="", help="Path to the directory where the Kubernetes manifests are located.")
@click.option("-o", "--output", default="artifact.tgz", help="Path to where the artifact tgz file should be written.")
@artifact_ignore_options
@click.option("--resolve-symlinks", is_flag=True, help="resolve symlinks by copying their targets into the artifact")
@with_globals
def build_artifact(
    g: Globals,
    path: str,
    output: str,
    ignore_paths: tuple[str, ...],
    add_ignore_paths: tuple[str, ...],
    resolve_symlinks: bool,
) -> None:
    if not path:
        raise CommandError(f'invalid path "{path}"')
    cleanup: list[Path] = []
    try:
        source = Path(path)
        if path == "-":
            source = ociartifact.save_stdin(sys.stdin.buffer.read())
            cleanup.append(source)
        if not source.exists():
            raise CommandError(f"invalid path '{source}', must point to an existing directory or file")
        if resolve_symlinks:
            try:
                source, tmp = ociartifact.resolve_symlinks(source)
            except ociartifact.ArtifactBuildError as exc:
                raise CommandError(f"resolving symlinks failed: {exc}") from None
            cleanup.append(tmp)
        output_action(f"building artifact from {source}")
        try:
            ociartifact.build(Path(output), source, artifact_ignore_paths(ignore_paths, add_ignore_paths))
        except ociartifact.ArtifactBuildError as exc:
            raise CommandError(str(exc)) from None
        output_success(f"artifact created at {output}")
    finally:
        for item in cleanup:
            if item.is_dir():
                shutil.rmtree(item, ignore_errors=True)
            else:
                item.unlink(missing_ok=True)


@click.group("build", cls=AliasGroup)
def build() -> None:
    """Build a flux resource."""


assert isinstance(build, AliasGroup)
build.add_aliased(build_kustomization, ("ks",))
build.add_aliased(build_artifact)
