"""`flux create kustomization NAME --source Kind/name[.namespace] …`: a kustomize.toolkit.fluxcd.io/v1
Kustomization, printed (--export) or applied and waited for, with flux2's flags, checks and lines
(cmd/flux/create_kustomization.go and internal/flags/kustomization_source.go, safe_relative_path.go).
"""

from __future__ import annotations

import posixpath
import time
from typing import Any

import click

from gotk.cli import create_common, goflags, kinds_cli, kubeclient, output
from gotk.cli.context import Globals
from gotk.cli.create_common import create_options
from gotk.cli.engines.manifest import Obj
from gotk.cli.flags import timeout_seconds, with_globals
from gotk.cli.kinds_cli import dig, text
from gotk.cli.output import CommandError
from gotk.kube.client import Client

SOURCE_KINDS = ("OCIRepository", "GitRepository", "Bucket")
HEALTH_CHECK_KINDS = ("Deployment", "DaemonSet", "StatefulSet", "HelmRelease")
SOURCE_HELP = (
    "source that contains the Kubernetes manifests in the format '[<kind>/]<name>.<namespace>', "
    f"where kind must be one of: ({', '.join(SOURCE_KINDS)}), if kind is not specified it defaults to GitRepository"
)


def parse_source(value: str) -> tuple[str, str, str]:
    """flags.KustomizationSource.Set: (kind, name, namespace); kind defaults to GitRepository."""
    if not value.strip():
        raise ValueError(f"no Kustomization source given, please specify {SOURCE_HELP}")
    kind, name, namespace = "", value, ""
    parts = value.split("/")
    if len(parts) == 2:
        kind, name = parts
    if len(dotted := name.split(".")) > 1:
        name, namespace = ".".join(dotted[:-1]), dotted[-1]
    if not name:
        raise ValueError(f"no name given for source of kind '{kind}'")
    if not kind:
        if name in SOURCE_KINDS:
            raise ValueError(f"no kind specified for source '{name}'")
        kind = "GitRepository"
    for known in SOURCE_KINDS:
        if known.lower() == kind.lower():
            return known, name, namespace
    raise ValueError(f"source kind '{kind}' is not supported, must be one of: {', '.join(SOURCE_KINDS)}")


def safe_relative_path(value: str) -> str:
    """flags.SafeRelativePath.Set: the path cleaned inside `./` (no way out), always starting with `./`."""
    cleaned = posixpath.normpath("/" + value.strip()).lstrip("/")
    return "./" + ("" if cleaned == "." else cleaned)


def _decryption_provider(value: str) -> str:
    if not value.strip():
        raise ValueError("no decryption provider given, must be one of: sops")
    if value != "sops":
        raise ValueError(f"unsupported decryption provider '{value}', must be one of: sops")
    return value


def health_checks(values: list[str]) -> list[Obj]:
    """--health-check `Kind/name.namespace` entries as NamespacedObjectKindReferences."""
    checks: list[Obj] = []
    for check in values:
        kind_obj = check.split("/")
        if len(kind_obj) != 2:
            raise CommandError(
                f"invalid health check '{check}' must be in the format 'kind/name.namespace' [{' '.join(kind_obj)}]"
            )
        kind = kind_obj[0]
        if kind not in HEALTH_CHECK_KINDS:
            raise CommandError(
                f"invalid health check kind '{kind}' can be HelmRelease, Deployment, DaemonSet or StatefulSet"
            )
        name_ns = kind_obj[1].split(".")
        if len(name_ns) != 2:
            raise CommandError(f"invalid health check '{check}' must be in the format 'kind/name.namespace'")
        ref: Obj = {"kind": kind, "name": name_ns[0], "namespace": name_ns[1]}
        if kind == "HelmRelease":
            ref["apiVersion"] = "helm.toolkit.fluxcd.io/v2"
        checks.append({k: v for k, v in ref.items() if v})
    return checks


def depends_on(values: list[str]) -> list[Obj]:
    """meta.MakeDependsOn (`name`, `namespace/name`, an `@expr` suffix is dropped) as Kustomization refs."""
    refs: list[Obj] = []
    for dep in values:
        dep = dep.partition("@")[0]
        namespace, slash, name = dep.partition("/")
        ref: Obj = {"name": name if slash else dep}
        if slash and namespace:
            ref["namespace"] = namespace
        refs.append(ref)
    return refs


def kustomization_spec(flags: dict[str, Any], interval: str) -> Obj:
    kind, name, namespace = flags["source"]
    source_ref = {"kind": kind, "name": name, "namespace": namespace}
    spec: Obj = {
        "interval": interval,
        "path": flags["path"],
        "prune": flags["prune"],
        "sourceRef": {k: v for k, v in source_ref.items() if v},
        "targetNamespace": flags["target_namespace"],
    }
    if deps := goflags.string_slice(flags["depends_on"]):
        spec["dependsOn"] = depends_on(deps)
    if flags["kubeconfig_secret_ref"]:
        spec["kubeConfig"] = {"secretRef": {"name": flags["kubeconfig_secret_ref"]}}
    timeout = goflags.format_duration(flags["health_check_timeout"])
    checks = goflags.string_slice(flags["health_check"])
    if checks and not flags["wait"]:
        spec["healthChecks"] = health_checks(checks)
        spec["timeout"] = timeout
    if flags["wait"]:
        spec["wait"] = True
        spec["timeout"] = timeout
    spec["serviceAccountName"] = flags["service_account"]
    if flags["decryption_provider"]:
        decryption: Obj = {"provider": flags["decryption_provider"]}
        if flags["decryption_secret"]:
            decryption["secretRef"] = {"name": flags["decryption_secret"]}
        spec["decryption"] = decryption
    if flags["retry_interval"] > 0:
        spec["retryInterval"] = goflags.format_duration(flags["retry_interval"])
    return spec


@click.command("kustomization", cls=goflags.FluxCommand, help="Create or update a Kustomization resource.")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option("--source", type=goflags.Checked("string", parse_source), default=None, help=SOURCE_HELP + ".")
@click.option("--path", type=goflags.Checked("safeRelativePath", safe_relative_path), default="./",
              help="Path to the directory containing a kustomization.yaml file.")  # fmt: skip
@click.option("--prune", is_flag=True, help="Enable garbage collection.")
@click.option("--wait", is_flag=True, help="Enable health checking of all the applied resources.")
@click.option("--health-check", multiple=True, help="Workload to health check, '<kind>/<name>.<namespace>'.")
@click.option("--health-check-timeout", type=goflags.Duration(), default="2m", help="Timeout of health checking.")
@click.option("--validation", default="", hidden=True)
@click.option("--depends-on", multiple=True, help="Kustomizations that must be ready first: '<name>', '<ns>/<name>'.")
@click.option("--service-account", default="", help="The service account to impersonate when reconciling.")
@click.option("--decryption-provider", type=goflags.Checked("decryptionProvider", _decryption_provider),
              default=None, help="Decryption provider, available options are: (sops).")  # fmt: skip
@click.option("--decryption-secret", default="", help="The Secret with the private keys used for sops decryption.")
@click.option("--target-namespace", default="", help="Overrides the namespace of all reconciled objects.")
@click.option("--kubeconfig-secret-ref", default="", help="The Secret with the kubeconfig of a remote cluster.")
@click.option("--retry-interval", type=goflags.Duration(), default="0s", help="Retry interval after a failure.")
@create_options
@with_globals
def kustomization(
    g: Globals, args: tuple[str, ...], interval: int, export: bool, label: tuple[str, ...], **flags: Any
) -> None:
    c = create_common.create_args(g, args, interval, export, label)
    if flags["validation"]:
        click.echo(
            "Flag --validation has been deprecated, this arg is no longer used, "
            "all resources are validated using server-side apply dry-run",
            err=True,
        )
    if flags["source"] is None:
        raise CommandError("source is required")
    if not c.export:
        output.generate("generating Kustomization")
    labels = create_common.parse_labels(c.labels)
    obj = create_common.new_object("Kustomization", c, labels, kustomization_spec(flags, c.interval_text))
    if c.export:
        create_common.print_export(obj)
        return
    deadline = time.monotonic() + timeout_seconds(g)
    res = kinds_cli.KUSTOMIZATION.resource

    async def body(client: Client) -> None:
        output.action("applying Kustomization")
        await create_common.upsert(client, res, obj, what="Kustomization")
        output.waiting("waiting for Kustomization reconciliation")
        ready = await create_common.wait_ready(client, res, c.name, c.namespace, deadline=deadline)
        output.success(f"Kustomization {c.name} is ready")
        output.success(f"applied revision {text(dig(ready, 'status', 'lastAppliedRevision'))}")

    kubeclient.run(g, body)
