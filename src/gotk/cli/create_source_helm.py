"""`flux create source helm|chart NAME`: a HelmRepository or HelmChart, printed (--export) or applied
and waited for.

Flags, defaults, checks and lines follow flux2's cmd/flux/create_source_{helm,chart}.go. `helm` takes
http(s) and oci:// URLs (oci sets `type: oci` and `--oci-provider`; such a repository is static: no
conditions to wait for and no artifact). Without --secret-ref, the credentials (basic auth, client
certificate pair, CA) go into a Secret named `helm-NAME`, built as `flux create secret helm` builds it.
`chart` refers to a HelmRepository, GitRepository or Bucket in its namespace.
"""

from __future__ import annotations

import time
from typing import Any

import click

from gotk.cli import create_common, goflags, kinds_cli, kubeclient, output
from gotk.cli.context import Globals
from gotk.cli.create_common import CreateArgs, create_options, fetch_timeout_option
from gotk.cli.create_source import local_ref, verification, verify_options
from gotk.cli.engines import gitsecret, helmsecret
from gotk.cli.engines.manifest import Obj
from gotk.cli.flags import timeout_seconds, with_globals
from gotk.cli.output import CommandError
from gotk.kube.client import Client

HELM_SCHEMES = ("http", "https", "oci")
CHART_SOURCE_KINDS = ("HelmRepository", "GitRepository", "Bucket")
CHART_SOURCE_HELP = (
    "source that contains the chart in the format '<kind>/<name>', "
    f"where kind must be one of: ({', '.join(CHART_SOURCE_KINDS)})"
)


# -- helm ------------------------------------------------------------------------------------------


def helm_spec(c: CreateArgs, flags: dict[str, Any], scheme: str) -> Obj:
    spec: Obj = {"url": flags["url"], "interval": c.interval_text}
    if scheme == "oci":
        spec["type"] = "oci"
        spec["provider"] = flags["oci_provider"]
    if flags["fetch_timeout"] > 0:
        spec["timeout"] = goflags.format_duration(flags["fetch_timeout"])
    if flags["secret_ref"]:
        spec["secretRef"] = local_ref(flags["secret_ref"])
        spec["passCredentials"] = flags["pass_credentials"]
    return spec


def helm_secret_options(c: CreateArgs, flags: dict[str, Any]) -> helmsecret.HelmSecretOptions:
    """The files flux reads for the generated Secret: the CA, and the cert and key only as a pair."""
    ca = helmsecret.read_ca(flags["ca_file"])
    cert = key = ""
    if flags["cert_file"] and flags["key_file"]:
        cert = helmsecret.read_cert(flags["cert_file"])
        key = helmsecret.read_key(flags["key_file"])
    return helmsecret.HelmSecretOptions(
        name=f"helm-{c.name}",
        namespace=c.namespace,
        username=flags["username"],
        password=flags["password"],
        ca_crt=ca,
        tls_crt=cert,
        tls_key=key,
    )


@click.command("helm", cls=goflags.FluxCommand, help="Create or update a HelmRepository source.")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option("--url", default="", help="Helm repository address.")
@click.option("-u", "--username", default="", help="Basic authentication username.")
@click.option("-p", "--password", default="", help="Basic authentication password.")
@click.option("--cert-file", default="", help="TLS authentication cert file path.")
@click.option("--key-file", default="", help="TLS authentication key file path.")
@click.option("--ca-file", default="", help="TLS authentication CA file path.")
@click.option(
    "--secret-ref",
    default="",
    help="The name of an existing secret containing TLS, basic auth or docker-config credentials.",
)
@click.option("--oci-provider", default="", help="OCI provider for authentication.")
@click.option("--pass-credentials", is_flag=True, help="Pass credentials to all domains.")
@fetch_timeout_option
@create_options
@with_globals
def helm(g: Globals, args: tuple[str, ...], interval: int, export: bool, label: tuple[str, ...], **flags: Any) -> None:
    c = create_common.create_args(g, args, interval, export, label)
    if not flags["url"]:
        raise CommandError("url is required")
    labels = create_common.parse_labels(c.labels)
    try:
        scheme, host = gitsecret.parse_url(flags["url"])
    except ValueError as exc:
        raise CommandError(f"url parse failed: {exc}") from None
    if scheme not in HELM_SCHEMES:
        raise CommandError(f"url scheme '{scheme}' not supported, can be: http, https and oci")
    if not host:
        raise CommandError("url host is required")
    obj = create_common.new_object("HelmRepository", c, labels, helm_spec(c, flags, scheme))
    if c.export:
        create_common.print_export(obj)
        return
    deadline = time.monotonic() + timeout_seconds(g)
    oci = scheme == "oci"

    async def body(client: Client) -> None:
        try:
            opts = helm_secret_options(c, flags)
            output.generate("generating HelmRepository source")
            secret = None if flags["secret_ref"] else helmsecret.generate_helm(opts)
        except gitsecret.SecretError as exc:
            raise CommandError(str(exc)) from None
        if secret is not None and secret.get("stringData"):
            output.action("applying secret with repository credentials")
            await create_common.upsert_secret(client, secret)
            obj["spec"]["secretRef"] = {"name": secret["metadata"]["name"]}
            if flags["pass_credentials"]:
                obj["spec"]["passCredentials"] = True
            output.success("authentication configured")
        await create_common.apply_and_wait(
            client,
            kinds_cli.SOURCE_HELM.resource,
            obj,
            what="HelmRepository source",
            upserted="source",
            deadline=deadline,
            static=oci,
            no_artifact=None if oci else "HelmRepository source reconciliation completed but no artifact was found",
        )

    kubeclient.run(g, body)


# -- chart -----------------------------------------------------------------------------------------


def parse_chart_source(value: str) -> tuple[str, str]:
    """flags.LocalHelmChartSource.Set: (kind, name), the kind matched case-insensitively."""
    if not value.strip():
        raise ValueError(f"no helm chart source given, please specify {CHART_SOURCE_HELP}")
    kind, name = "", value
    parts = value.split("/")
    if len(parts) == 2:
        kind, name = parts
    if not kind or not name:
        raise ValueError(f"invalid helm chart source '{value}', must be in format <kind>/<name>")
    for known in CHART_SOURCE_KINDS:
        if known.lower() == kind.lower():
            return known, name
    raise ValueError(f"source kind '{kind}' is not supported, must be one of: {', '.join(CHART_SOURCE_KINDS)}")


@click.command("chart", cls=goflags.FluxCommand, help="Create or update a HelmChart source.")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option("--chart", default="", help="Helm chart name or path.")
@click.option(
    "--chart-version",
    default="",
    help="Helm chart version, a semver range (ignored for charts from GitRepository sources).",
)
@click.option("--source", type=goflags.Checked("helmChartSource", parse_chart_source), default=None,
              help=CHART_SOURCE_HELP[:1].upper() + CHART_SOURCE_HELP[1:] + ".")  # fmt: skip
@click.option("--reconcile-strategy", default="ChartVersion",
              help="The reconcile strategy for helm chart (accepted values: Revision and ChartRevision).")  # fmt: skip
@verify_options
@fetch_timeout_option
@create_options
@with_globals
def chart(g: Globals, args: tuple[str, ...], interval: int, export: bool, label: tuple[str, ...], **flags: Any) -> None:
    c = create_common.create_args(g, args, interval, export, label)
    if flags["source"] is None:
        raise CommandError("chart source is required")
    if not flags["chart"]:
        raise CommandError("chart name or path is required")
    output.generate("generating HelmChart source")
    labels = create_common.parse_labels(c.labels)
    kind, name = flags["source"]
    spec: Obj = {
        "chart": flags["chart"],
        "version": flags["chart_version"],
        "interval": c.interval_text,
        "reconcileStrategy": flags["reconcile_strategy"],
        "sourceRef": {"kind": kind, "name": name},
        "verify": verification(flags, subject_needs_provider=False),
    }
    obj = create_common.new_object("HelmChart", c, labels, spec)
    if c.export:
        create_common.print_export(obj)
        return
    deadline = time.monotonic() + timeout_seconds(g)

    async def body(client: Client) -> None:
        await create_common.apply_and_wait(
            client,
            kinds_cli.SOURCE_CHART.resource,
            obj,
            what="HelmChart source",
            upserted="source",
            deadline=deadline,
            no_artifact="HelmChart source reconciliation completed but no artifact was found",
        )

    kubeclient.run(g, body)
