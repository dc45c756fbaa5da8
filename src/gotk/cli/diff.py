"""`flux diff kustomization NAME --path DIR`: preview what applying local manifests would change; `flux diff
helmrelease NAME`: preview what the next release would change (gotk.cli.engines.hrdiff; `--file` takes the
HelmRelease from a local manifest, `--chart-path` a local chart).

Builds --path like `flux build kustomization`, then server-side dry-runs every object and prints
flux's report (gotk.cli.engines.kdiff). Exit status as flux2's cmd/flux/diff_kustomization.go: 0 when nothing
differs, 1 when something would change (with a ⚠️ line), 2 when the diff itself failed.

`flux diff artifact oci://REPO:TAG --path DIR` (cmd/flux/diff_artifact.go): builds the tar.gz `flux push
artifact` would upload and compares its sha256 and size with the remote artifact's first layer; exit 0
with `✔ no changes detected`, or 1 with one ✗ line when they differ or the comparison failed.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, NoReturn

import click
import yaml

from gotk.cli import goflags, kubeclient, output
from gotk.cli.artifact import _client as registry_client
from gotk.cli.build import artifact_ignore_options, artifact_ignore_paths, common_options, parse_local_sources
from gotk.cli.context import Globals
from gotk.cli.engines import hrdiff, kdiff, localbuild, ociartifact
from gotk.cli.flags import AliasGroup, timeout_seconds, with_globals
from gotk.cli.output import CommandError
from gotk.kube.client import Client
from gotk.kube.resources import HELMRELEASES
from gotk.runtime.oci import refs
from gotk.runtime.oci.model import RegistryError

CHANGED = "identified at least one change, exiting with non-zero exit code"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"  # briandowns/spinner CharSets[14]


class Spinner:
    """flux's progress bar: a spinner on stdout, shown only when stdout is a terminal."""

    def __init__(self, text: str = " Kustomization diffing... running dry-run") -> None:
        self.text = text
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if sys.stdout.isatty():
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    def _run(self) -> None:
        i = 0
        while not self._stop.wait(0.1):
            sys.stdout.write(f"\r{_FRAMES[i % len(_FRAMES)]}{self.text}")
            sys.stdout.flush()
            i += 1

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            sys.stdout.write("\r\033[K")
            sys.stdout.flush()


class DiffCommand(goflags.FluxCommand):
    """Also takes `--progress-bar=false|true`, a boolean flag that defaults to true."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rewritten = []
        for arg in args:
            name, eq, value = arg.partition("=")
            if name == "--progress-bar" and eq and value in ("0", "f", "F", "FALSE", "false", "False"):
                arg = "--no-progress-bar"
            elif name == "--progress-bar" and eq and value in ("1", "t", "T", "TRUE", "true", "True"):
                arg = "--progress-bar"
            rewritten.append(arg)
        return super().parse_args(ctx, rewritten)


def _fail(message: str, code: int) -> NoReturn:
    output.failure(message)
    sys.exit(code)


async def run_diff(client: Client, opts: localbuild.Options) -> kdiff.Result:
    """Build and diff one Kustomization; with --recursive, diff the Kustomizations it builds too."""
    ks, objects = await localbuild.build(client, opts, single=True)
    result = await kdiff.diff_all(client, ks, objects)
    if not opts.recursive:
        return result
    extra: list[str] = []
    for obj in objects:
        if not localbuild.is_kustomization(obj) or localbuild.same(obj, ks):
            continue
        subject = f"Kustomization/{obj['metadata'].get('namespace')}/{obj['metadata'].get('name')}"
        if f"► {subject} created\n" in result.output:
            continue
        if localbuild.spec_of(obj).get("kubeConfig") is not None:
            extra.append(f"⚠️ {subject} skipped: diff not supported for remote clusters\n")
            continue
        try:
            child = await run_diff(client, localbuild.child_options(opts, obj))
        except CommandError as exc:
            result.errors.append(str(exc))
            continue
        result.errors.extend(child.errors)
        if child.changed:
            result.changed = True
            extra.append(f"📁 {subject} changed\n{child.output}")
    result.output += "".join(extra)
    return result


@click.command("kustomization", cls=DiffCommand, help="Diff Kustomization")
@click.argument("name", required=False)
@common_options
@click.option("--progress-bar/--no-progress-bar", default=True, help="Boolean to set the progress bar.")
@click.option("--ignore-not-found", is_flag=True, help="Ignore Kustomization not found errors on the cluster.")
@with_globals
def diff_kustomization(g: Globals, name: str | None, **flags: Any) -> None:
    if not name:
        raise CommandError("kustomization name is required")
    path = str(flags["path"])
    if not path or not Path(path).is_dir():
        _fail(f'invalid resource path "{path}"', 2)
    file = str(flags["kustomization_file"])
    if file and not Path(file).is_file():
        raise CommandError(f'invalid kustomization file "{file}"')
    opts = localbuild.Options(
        name=name,
        namespace=g.namespace,
        path=Path(path).absolute(),
        kustomization_file=Path(file) if file else None,
        strict_substitute=bool(flags["strict_substitute"]),
        ignore_paths=goflags.string_slice(flags["ignore_paths"]),
        ignore_not_found=bool(flags["ignore_not_found"]),
        recursive=bool(flags["recursive"]),
        local_sources=parse_local_sources(flags["local_sources"]),
    )
    seconds = timeout_seconds(g)

    async def body(client: Client) -> kdiff.Result:
        async with asyncio.timeout(seconds):
            return await run_diff(client, opts)

    _report(g, body, Spinner() if flags["progress_bar"] else None)


def _local_helmrelease(path: str, name: str, namespace: str) -> dict[str, Any]:
    """The HelmRelease NAME from a local manifest file (`--file`), in `namespace` unless it says otherwise."""
    try:
        docs = list(yaml.load_all(Path(path).read_text(encoding="utf-8"), Loader=_LOADER))
    except (OSError, yaml.YAMLError) as exc:
        raise CommandError(f"failed to read {path}: {exc}") from None
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "HelmRelease":
            md = doc.setdefault("metadata", {})
            if md.get("name") == name and (md.get("namespace") or namespace) == namespace:
                md["namespace"] = namespace
                return doc
    raise CommandError(f"HelmRelease '{namespace}/{name}' not found in {path}")


async def run_helmrelease_diff(
    client: Client, name: str, namespace: str, *, file: str, chart_path: str
) -> kdiff.Result:
    """Render HelmRelease NAME (from the cluster, or `file`) and diff it against the cluster."""
    live = await client.get_or_none(HELMRELEASES, name, namespace)
    if file:
        hr = _local_helmrelease(file, name, namespace)
        hr["status"] = (live or {}).get("status") or {}
    elif live is None:
        raise CommandError(f"HelmRelease '{namespace}/{name}' not found")
    else:
        hr = live
    lib = await asyncio.to_thread(hrdiff.helm_lib)
    with tempfile.TemporaryDirectory(prefix="flux-diff-hr-") as workdir:
        try:
            chart = Path(chart_path) if chart_path else await hrdiff.fetch_chart(client, hr, Path(workdir))
            rendered = await hrdiff.render(client, lib, hr, chart)
        except hrdiff.DiffError as exc:
            raise CommandError(str(exc)) from None
        return await hrdiff.diff(client, hr, rendered)


@click.command(
    "helmrelease", cls=DiffCommand, help="Diff a HelmRelease: render it locally and compare with the cluster"
)
@click.argument("name", required=False)
@click.option("-f", "--file", default="", help="Path to a manifest with the HelmRelease, in place of the cluster's.")
@click.option("--chart-path", default="", help="Path to a local chart (directory or .tgz), in place of its source's.")
@click.option("--progress-bar/--no-progress-bar", default=True, help="Boolean to set the progress bar.")
@with_globals
def diff_helmrelease(g: Globals, name: str | None, file: str, chart_path: str, progress_bar: bool) -> None:
    if not name:
        raise CommandError("helmrelease name is required")
    if chart_path and not Path(chart_path).exists():
        _fail(f'invalid chart path "{chart_path}"', 2)
    seconds = timeout_seconds(g)

    async def body(client: Client) -> kdiff.Result:
        async with asyncio.timeout(seconds):
            return await run_helmrelease_diff(client, name, g.namespace, file=file, chart_path=chart_path)

    _report(g, body, Spinner(" HelmRelease diffing... running dry-run") if progress_bar else None)


def _report(g: Globals, body: Any, spinner: Spinner | None) -> None:
    """Run a diff and print it as flux does: exit 0 unchanged, 1 changed (with a ⚠️ line), 2 failed."""
    if spinner is not None:
        spinner.start()
    try:
        result = kubeclient.run(g, body)
    except CommandError as exc:
        _fail(str(exc), 2)
    except TimeoutError:
        _fail("context deadline exceeded", 2)
    finally:
        if spinner is not None:
            spinner.stop()
    error = result.error()
    if error is not None:
        _fail(error, 2)
    click.echo(result.output, nl=False)
    if result.changed:
        output.warning(CHANGED)
        sys.exit(1)


OCI_PROVIDERS = ("generic", "aws", "azure", "gcp")
_check_provider = goflags.one_of(
    OCI_PROVIDERS,
    empty="no source OCI provider given, please specify the OCI provider name",
    unsupported="source OCI provider '{value}' is not supported, must be one of: {values}",
)


@click.command(
    "artifact",
    cls=goflags.FluxCommand,
    help="The diff artifact command computes the diff between the remote OCI artifact and a local directory or file",
    short_help="Diff Artifact",
    epilog="\b\nExamples:\n  # Compare a local directory with an artifact in the registry\n"
    "  flux diff artifact oci://ghcr.io/org/manifests/app:v1.0.0 --path=./deploy",
)
@click.argument("url", required=False)
@click.option("--path", default="", help="path to the directory where the Kubernetes manifests are located")
@click.option(
    "--creds",
    default="",
    help="credentials for OCI registry in the format <username>[:<password>] if --provider is generic",
)
@click.option(
    "--provider",
    type=goflags.Checked("|".join(OCI_PROVIDERS), _check_provider),
    metavar="|".join(OCI_PROVIDERS),
    default="generic",
    show_default=True,
    help="the OCI provider name",
)
@artifact_ignore_options
@click.option("--insecure-registry", is_flag=True, help="allows the remote artifact to be pulled without TLS")
@with_globals
def diff_artifact(
    g: Globals,
    url: str | None,
    path: str,
    creds: str,
    provider: str,
    ignore_paths: tuple[str, ...],
    add_ignore_paths: tuple[str, ...],
    insecure_registry: bool,
) -> None:
    if not url:
        raise CommandError("artifact URL is required")
    if not path:
        raise CommandError(f'invalid path "{path}"')
    try:
        ref = refs.parse_artifact_url(url)
    except refs.ReferenceError as exc:
        raise CommandError(str(exc)) from None
    if not Path(path).exists():
        raise CommandError(f"invalid path '{path}', must point to an existing directory or file")
    timeout_seconds(g)
    if provider != "generic":
        output.action("logging in to registry with provider credentials")
    ctx = click.Context(click.get_current_context().command, obj=g)
    client = registry_client(ctx, ref, creds, provider, insecure_registry)
    try:
        ociartifact.diff(client, ref, Path(path), artifact_ignore_paths(ignore_paths, add_ignore_paths))
    except (ociartifact.ArtifactBuildError, RegistryError) as exc:
        raise CommandError(str(exc)) from None
    output.success("no changes detected")


@click.group("diff", cls=AliasGroup)
def diff() -> None:
    """Diff a flux resource."""


assert isinstance(diff, AliasGroup)
diff.add_aliased(diff_kustomization, ("ks",))
diff.add_aliased(diff_helmrelease, ("hr",))
diff.add_aliased(diff_artifact)
