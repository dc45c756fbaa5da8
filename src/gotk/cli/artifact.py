"""`flux push artifact`, `flux pull artifact`, `flux list artifacts` and `flux tag artifact`: OCI
artifacts in a registry, as flux2's cmd/flux/{push,pull,list,tag}_artifact.go. The groups `push`,
`pull`, `list_` (named `list`) and `tag` are registered by `gotk.cli.main`.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import click
import yaml

from gotk.cli import output
from gotk.cli.context import Globals
from gotk.gocompat import durations
from gotk.runtime.oci import auth, refs
from gotk.runtime.oci.client import RegistryClient
from gotk.runtime.oci.model import RegistryError
from gotk.source.oci import artifacts

__all__ = ["list_", "pull", "push", "tag"]

_CREDS_HELP = "credentials for OCI registry in the format <username>[:<password>] if --provider is generic"
_PROVIDERS = ("generic", "aws", "azure", "gcp")


def _split(values: Iterable[str]) -> list[str]:
    """A cobra StringSlice: repeated flags, each a comma-separated list."""
    return [item for value in values for item in value.split(",") if item]


def _client(ctx: click.Context, ref: refs.Reference, creds: str, provider: str, insecure: bool) -> RegistryClient:
    if provider != "generic":
        raise output.CommandError(f"error during login with provider: provider '{provider}' is not supported")
    credentials: auth.Credentials | None
    try:
        if creds:
            output.action("logging in to registry with credentials")
            credentials = auth.parse_creds(creds)
        else:
            credentials = auth.docker_config_credentials(ref.registry)
    except auth.CredentialsError as exc:
        raise output.CommandError(f"could not login with credentials: {exc}") from None
    globals_ = ctx.find_object(Globals)
    timeout = durations.parse(globals_.timeout) if globals_ else 300.0
    return RegistryClient(ref.registry, credentials=credentials, insecure=insecure, timeout=timeout)


def _parse(url: str) -> refs.Reference:
    try:
        return refs.parse_artifact_url(url)
    except refs.ReferenceError as exc:
        raise output.CommandError(str(exc)) from None


def _shown(url: str) -> str:
    return url.removeprefix("oci://")


_creds_option = click.option("--creds", default="", help=_CREDS_HELP)
_provider_option = click.option(
    "--provider", type=click.Choice(_PROVIDERS), default="generic", show_default=True, help="the OCI provider name"
)


@click.group()
def push() -> None:
    """Push artifacts."""


@push.command("artifact")
@click.argument("url")
@click.option("-f", "--path", default="", help="path to the directory where the Kubernetes manifests are located")
@click.option("--source", default="", help="the source address, e.g. the Git URL")
@click.option("--revision", default="", help="the source revision in the format '<branch|tag>@sha1:<commit-sha>'")
@_creds_option
@_provider_option
@click.option("--ignore-paths", multiple=True, help="set paths to ignore in .gitignore format")
@click.option("--add-ignore-paths", multiple=True, help="additional paths to ignore in .gitignore format")
@click.option("-a", "--annotations", multiple=True, help="Set custom OCI annotations in the format '<key>=<value>'")
@click.option("-o", "--output", "fmt", type=click.Choice(["json", "yaml"]), default=None, help="print the digest")
@click.option("--reproducible", is_flag=True, help="set the created timestamp to '1970-01-01T00:00:00Z'")
@click.option("--insecure-registry", is_flag=True, help="allows artifacts to be pushed without TLS")
@click.pass_context
def push_artifact(
    ctx: click.Context,
    url: str,
    path: str,
    source: str,
    revision: str,
    creds: str,
    provider: str,
    ignore_paths: tuple[str, ...],
    add_ignore_paths: tuple[str, ...],
    annotations: tuple[str, ...],
    fmt: str | None,
    reproducible: bool,
    insecure_registry: bool,
) -> None:
    """Push a tarball of a directory or file to an OCI repository as a Flux artifact."""
    if not source:
        raise output.CommandError("--source is required")
    if not revision:
        raise output.CommandError("--revision is required")
    if not path:
        raise output.CommandError(f'invalid path "{path}"')
    ref = _parse(url)
    notes: dict[str, str] = {}
    for annotation in annotations:
        key, sep, value = annotation.partition("=")
        if not sep or "=" in value:
            raise output.CommandError(f"invalid annotation {annotation}, must be in the format key=value")
        notes[key] = value
    patterns = (_split(ignore_paths) if ignore_paths else list(artifacts.DEFAULT_IGNORE_PATHS)) + _split(
        add_ignore_paths
    )
    with tempfile.TemporaryDirectory(prefix="flux-push-") as tmp:
        source_path = Path(path)
        if path == "-":
            source_path = Path(tmp, "stdin.yaml")
            source_path.write_bytes(sys.stdin.buffer.read())
        if not source_path.exists():
            raise output.CommandError(f"invalid path '{path}', must point to an existing directory or file")
        client = _client(ctx, ref, creds, provider, insecure_registry)
        if fmt is None:
            output.action(f"pushing artifact to {_shown(url)}")
        try:
            digest = artifacts.push(
                client,
                ref,
                source_path,
                source=source,
                revision=revision,
                annotations=notes,
                created="1970-01-01T00:00:00Z" if reproducible else None,
                ignore_paths=patterns,
            )
        except (RegistryError, artifacts.ArtifactError, OSError) as exc:
            raise output.CommandError(f"pushing artifact failed: {exc}") from None
    info = {"url": f"oci://{ref.name}@{digest}", "repository": ref.name, "tag": ref.tag or "latest", "digest": digest}
    if fmt == "json":
        click.echo(json.dumps(info, indent=2))
    elif fmt == "yaml":
        click.echo(yaml.safe_dump(info, sort_keys=False), nl=False)
    else:
        output.success(f"artifact successfully pushed to {ref.name}@{digest}")


@click.group()
def pull() -> None:
    """Pull artifacts."""


@pull.command("artifact")
@click.argument("url")
@click.option("-o", "--output", "out", default="", help="path where the artifact content should be extracted.")
@_creds_option
@_provider_option
@click.option("--insecure-registry", is_flag=True, help="allows artifacts to be pulled without TLS")
@click.pass_context
def pull_artifact(ctx: click.Context, url: str, out: str, creds: str, provider: str, insecure_registry: bool) -> None:
    """Download and extract the content of an OCI artifact."""
    if not out:
        raise output.CommandError("output path cannot be empty")
    if not Path(out).is_dir():
        raise output.CommandError(f'invalid output path "{out}": not an existing directory')
    ref = _parse(url)
    client = _client(ctx, ref, creds, provider, insecure_registry)
    output.action(f"pulling artifact from {_shown(url)}")
    try:
        info = artifacts.pull(client, ref, Path(out))
    except (RegistryError, artifacts.ArtifactError, OSError) as exc:
        raise output.CommandError(str(exc)) from None
    if info.source:
        output.success(f"source {info.source}")
    if info.revision:
        output.success(f"revision {info.revision}")
    output.success(f"digest {ref.name}@{info.digest}")
    output.success(f"artifact content extracted to {out}")


@click.group(name="list")
def list_() -> None:
    """List artifacts."""


@list_.command("artifacts")
@click.argument("url")
@click.option("--filter-semver", default="", help="filter tags returned from the oci repository using semver")
@click.option("--filter-regex", default="", help="filter tags returned from the oci repository using regex")
@_creds_option
@_provider_option
@click.option("--insecure-registry", is_flag=True, help="allows the remote artifacts list to be fetched without TLS")
@click.pass_context
def list_artifacts(
    ctx: click.Context,
    url: str,
    filter_semver: str,
    filter_regex: str,
    creds: str,
    provider: str,
    insecure_registry: bool,
) -> None:
    """Print the tags of an OCI repository with their digest, source and revision."""
    repo = _parse(url)
    client = _client(ctx, repo, creds, provider, insecure_registry)
    try:
        infos = artifacts.list_artifacts(client, repo, semver_filter=filter_semver, regex_filter=filter_regex)
    except RegistryError as exc:
        raise output.CommandError(f"listing tags failed: {exc}") from None
    except artifacts.ArtifactError as exc:
        raise output.CommandError(str(exc)) from None
    rows = [[i.url, i.digest, i.source, i.revision] for i in infos]
    click.echo(output.table(["artifact", "digest", "source", "revision"], rows), nl=False)


@click.group()
def tag() -> None:
    """Tag artifacts."""


@tag.command("artifact")
@click.argument("url")
@click.option("--tag", "tags", multiple=True, help="tag name")
@_creds_option
@_provider_option
@click.option("--insecure-registry", is_flag=True, help="allows artifacts to be tagged without TLS")
@click.pass_context
def tag_artifact(
    ctx: click.Context, url: str, tags: tuple[str, ...], creds: str, provider: str, insecure_registry: bool
) -> None:
    """Add tags to an OCI artifact."""
    names = _split(tags)
    if not names:
        raise output.CommandError("--tag is required")
    ref = _parse(url)
    client = _client(ctx, ref, creds, provider, insecure_registry)
    output.action("tagging artifact")
    for name in names:
        try:
            target = artifacts.tag(client, ref, name)
        except (RegistryError, artifacts.ArtifactError) as exc:
            raise output.CommandError(f"tagging artifact failed: {exc}") from None
        output.success(f"artifact tagged as {target}")
