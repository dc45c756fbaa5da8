"""`flux create source git|oci|bucket NAME`: build the source, print it (--export) or apply it and wait.

Flags, defaults, checks and lines follow flux2's cmd/flux/create_source_{git,oci,bucket}.go (helm and
chart are in create_source_helm, which shares `local_ref`, `verification` and `verify_options`). Without
--secret-ref, `git` stores credentials in a Secret named after the source (basic auth and CA for HTTPS;
for SSH a generated or given key pair plus the scanned host key, after confirming the deploy key) and
`bucket` stores --access-key/--secret-key in `bucket-NAME`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any, TypeVar

import click

from gotk.cli import create_common, goflags, kinds_cli, kubeclient, output, prompt
from gotk.cli.context import Globals
from gotk.cli.create_common import CreateArgs, create_options, fetch_timeout_option
from gotk.cli.engines import gitsecret, manifest
from gotk.cli.engines.manifest import Obj
from gotk.cli.flags import timeout_seconds, with_globals
from gotk.cli.output import CommandError
from gotk.kube.client import Client

GIT_PROVIDERS = ("generic", "github", "aws", "azure")
OCI_PROVIDERS = ("generic", "aws", "azure", "gcp")
BUCKET_PROVIDERS = ("generic", "aws", "azure", "gcp")
LAYER_OPERATIONS = ("extract", "copy")
F = TypeVar("F", bound=Callable[..., Any])


def _provider(kind: str, values: tuple[str, ...], description: str, *, types: bool = False) -> goflags.Checked:
    listed = "{types}" if types else "{values}"
    return goflags.Checked(
        "|".join(values),
        goflags.one_of(
            values,
            empty=f"no source {kind} provider given, please specify {description}",
            unsupported=f"source {kind} provider '{{value}}' is not supported, must be one of: {listed}",
        ),
    )


def _ignore(paths: tuple[str, ...]) -> str | None:
    values = goflags.string_slice(paths)
    return "\n".join(values) if values else None


def local_ref(name: str | None) -> dict[str, str] | None:
    """A LocalObjectReference, or nothing for an empty name."""
    return {"name": name} if name else None


# -- git -------------------------------------------------------------------------------------------


def git_spec(c: CreateArgs, flags: dict[str, Any]) -> Obj:
    spec: Obj = {"url": flags["url"], "interval": c.interval_text, "recurseSubmodules": flags["recurse_submodules"]}
    if flags["fetch_timeout"] > 0:
        spec["timeout"] = goflags.format_duration(flags["fetch_timeout"])
    if flags["commit"]:
        ref = {"commit": flags["commit"], "branch": flags["branch"]}
    elif flags["ref_name"]:
        ref = {"name": flags["ref_name"]}
    elif flags["tag_semver"]:
        ref = {"semver": flags["tag_semver"]}
    elif flags["tag"]:
        ref = {"tag": flags["tag"]}
    else:
        ref = {"branch": flags["branch"]}
    spec["ref"] = {k: v for k, v in ref.items() if v}
    spec["ignore"] = _ignore(flags["ignore_paths"])
    spec["sparseCheckout"] = goflags.string_slice(flags["sparse_checkout_paths"])
    spec["secretRef"] = local_ref(flags["secret_ref"])
    spec["proxySecretRef"] = local_ref(flags["proxy_secret_ref"])
    spec["provider"] = flags["provider"] or None
    return spec


def git_secret_options(c: CreateArgs, scheme: str, host: str, flags: dict[str, Any]) -> gitsecret.GitSecretOptions:
    """What goes into the credentials Secret flux generates for the source (named after it)."""
    base = gitsecret.GitSecretOptions(name=c.name, namespace=c.namespace, password=flags["password"])
    if scheme == "ssh":
        return dataclasses.replace(
            base,
            keypair=gitsecret.load_keypair(flags["private_key_file"], flags["password"]),
            ssh_hostname=host,
            key_algorithm=flags["ssh_key_algorithm"],
            rsa_bits=flags["ssh_rsa_bits"],
            ecdsa_curve=flags["ssh_ecdsa_curve"],
        )
    ca = ""
    if scheme == "https" and flags["ca_file"]:
        try:
            ca = gitsecret.read_file(flags["ca_file"])
        except gitsecret.SecretError as exc:
            raise CommandError(f"unable to read TLS CA file: {exc}") from None
    if scheme == "http":
        output.warning("insecure configuration: credentials configured for an HTTP URL")
    return dataclasses.replace(base, username=flags["username"], ca_crt=ca)


@click.command("git", cls=goflags.FluxCommand, help="Create or update a GitRepository source.")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option("--url", default="", help="Git address, e.g. ssh://git@host/org/repository.")
@click.option("--branch", default="", help="Git branch.")
@click.option("--tag", default="", help="Git tag.")
@click.option("--tag-semver", default="", help="Git tag semver range.")
@click.option("--ref-name", default="", help="Git reference name.")
@click.option("--commit", default="", help="Git commit.")
@click.option("-u", "--username", default="", help="Basic authentication username.")
@click.option("-p", "--password", default="", help="Basic authentication password.")
@create_common.ssh_key_options
@click.option("--secret-ref", default="", help="The name of an existing secret containing SSH or basic credentials.")
@click.option("--proxy-secret-ref", default="", help="The name of an existing secret with the proxy address.")
@click.option(
    "--provider",
    type=_provider("Git", GIT_PROVIDERS, "the Git provider name", types=True),
    default=None,
    help="The Git provider name.",
)
@click.option("--ca-file", default="", help="Path to TLS CA file used for validating self-signed certificates.")
@click.option("--private-key-file", default="", help="Path to a private key file for the Git SSH server.")
@click.option("--recurse-submodules", is_flag=True, help="Initialize and include Git submodules in the artifact.")
@click.option("-s", "--silent", is_flag=True, help="Assumes the deploy key is already setup, skips confirmation.")
@click.option("--ignore-paths", multiple=True, help="Paths to ignore in git resource (comma separated).")
@click.option("--sparse-checkout-paths", multiple=True, help="Paths to sparse checkout (comma separated).")
@fetch_timeout_option
@create_options
@with_globals
def git(g: Globals, args: tuple[str, ...], interval: int, export: bool, label: tuple[str, ...], **flags: Any) -> None:
    c = create_common.create_args(g, args, interval, export, label)
    if not flags["url"]:
        raise CommandError("url is required")
    try:
        scheme, host = gitsecret.parse_url(flags["url"])
    except ValueError as exc:
        raise CommandError(f"git URL parse failed: {exc}") from None
    if scheme not in ("ssh", "http", "https"):
        raise CommandError(f"git URL scheme '{scheme}' not supported, can be: ssh, http and https")
    if not any(flags[k] for k in ("branch", "tag", "tag_semver", "commit", "ref_name")):
        raise CommandError(
            "a Git ref is required, use one of the following: --branch, --tag, --commit, --ref-name or --tag-semver"
        )
    if flags["ca_file"] and scheme == "ssh":
        raise CommandError("specifying a CA file is not supported for Git over SSH")
    labels = create_common.parse_labels(c.labels)
    obj = create_common.new_object("GitRepository", c, labels, git_spec(c, flags))
    if c.export:
        create_common.print_export(obj)
        return
    deadline = time.monotonic() + timeout_seconds(g)

    async def body(client: Client) -> None:
        output.generate("generating GitRepository source")
        if not flags["secret_ref"]:
            try:
                secret = gitsecret.generate_git(git_secret_options(c, scheme, host, flags))
            except gitsecret.SecretError as exc:
                raise CommandError(str(exc)) from None
            data = secret.get("stringData") or {}
            if data:
                if "known_hosts" in data:
                    output.success(f"collected public key from SSH server:\n{data['known_hosts']}")
                if "identity.pub" in data:
                    output.generate(f"deploy key: {data['identity.pub']}")
                    if not flags["silent"] and not prompt.confirm("Have you added the deploy key to your repository"):
                        raise CommandError("aborting")
                output.action("applying secret with repository credentials")
                await create_common.upsert_secret(client, secret)
                obj["spec"]["secretRef"] = {"name": secret["metadata"]["name"]}
                output.success("authentication configured")
        await create_common.apply_and_wait(
            client,
            kinds_cli.SOURCE_GIT.resource,
            obj,
            what="GitRepository source",
            deadline=deadline,
            no_artifact="GitRepository source reconciliation completed but no artifact was found",
        )

    kubeclient.run(g, body)


# -- oci -------------------------------------------------------------------------------------------


def parse_layer_selector(selector: str) -> dict[str, str] | None:
    if not selector:
        return None
    media_type, found, operation = selector.partition(":")
    if not found or not media_type or not operation:
        raise CommandError(f"invalid --layer-selector \"{selector}\": must be in the format '<media-type>:<operation>'")
    if operation not in LAYER_OPERATIONS:
        raise CommandError(f'invalid --layer-selector "{selector}": operation must be "extract" or "copy"')
    return {"mediaType": media_type, "operation": operation}


VERIFY_PROVIDER = goflags.Checked(
    "sourceOCIVerifyProvider",
    goflags.one_of(
        ("cosign",),
        empty="no source OCI verify provider given, please specify the OCI verify provider name to use for "
        "signature verification, available options are: (cosign)",
        unsupported="source OCI verify provider '{value}' is not supported, must be one of: {values}",
    ),
)


def verification(flags: dict[str, Any], *, subject_needs_provider: bool = True) -> Obj | None:
    """spec.verify from --verify-provider/-secret-ref/-issuer/-subject, with flux's errors when the
    provider is missing. `create source chart` checks the OCI command's (always empty) subject instead of
    its own, so there a lone --verify-subject is silently dropped (subject_needs_provider=False)."""
    issuer, subject = flags["verify_issuer"], flags["verify_subject"]
    if flags["verify_provider"]:
        verify: Obj = {"provider": flags["verify_provider"]}
        if flags["verify_secret_ref"]:
            verify["secretRef"] = {"name": flags["verify_secret_ref"]}
        if issuer or subject:
            verify["matchOIDCIdentity"] = [{"issuer": issuer, "subject": subject}]
        return verify
    if flags["verify_secret_ref"]:
        raise CommandError("a verification provider must be specified when a secret is specified")
    if issuer or (subject and subject_needs_provider):
        raise CommandError("a verification provider must be specified when OIDC issuer/subject is specified")
    return None


def verify_options(f: F) -> F:
    """--verify-provider, --verify-secret-ref, --verify-subject, --verify-issuer (oci and chart)."""
    f = click.option("--verify-issuer", default="", help="Regular expression for the OIDC issuer.")(f)
    f = click.option("--verify-subject", default="", help="Regular expression for the OIDC subject.")(f)
    secret_help = "The name of a secret to use for signature verification."
    f = click.option("--verify-secret-ref", default="", help=secret_help)(f)
    f = click.option("--verify-provider", type=VERIFY_PROVIDER, default=None,
                     help="The OCI verify provider name to use for signature verification: (cosign).")(f)  # fmt: skip
    return f


def oci_spec(c: CreateArgs, flags: dict[str, Any], layer_selector: dict[str, str] | None) -> Obj:
    ref = {"digest": flags["digest"], "semver": flags["tag_semver"], "tag": flags["tag"]}
    spec: Obj = {
        "provider": flags["provider"],
        "url": flags["url"],
        "insecure": flags["insecure"],
        "interval": c.interval_text,
        "ref": {k: v for k, v in ref.items() if v},
        "ignore": _ignore(flags["ignore_paths"]),
        "layerSelector": layer_selector,
        "serviceAccountName": flags["service_account"],
        "secretRef": local_ref(flags["secret_ref"]),
        "proxySecretRef": local_ref(flags["proxy_secret_ref"]),
        "certSecretRef": local_ref(flags["cert_ref"]),
    }
    if flags["fetch_timeout"] > 0:
        spec["timeout"] = goflags.format_duration(flags["fetch_timeout"])
    spec["verify"] = verification(flags)
    return spec


@click.command("oci", cls=goflags.FluxCommand, help="Create or update an OCIRepository.")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option(
    "--provider",
    type=_provider("OCI", OCI_PROVIDERS, "the OCI provider name"),
    default="generic",
    help="The OCI provider name.",
)
@click.option("--url", default="", help="The OCI repository URL.")
@click.option("--tag", default="", help="The OCI artifact tag.")
@click.option("--tag-semver", default="", help="The OCI artifact tag semver range.")
@click.option("--digest", default="", help="The OCI artifact digest.")
@click.option("--secret-ref", default="", help="The name of the Kubernetes image pull secret.")
@click.option("--proxy-secret-ref", default="", help="The name of an existing secret with the proxy address.")
@click.option("--service-account", default="", help="The service account that refers to an image pull secret.")
@click.option("--cert-ref", default="", help="The name of a secret to use for TLS certificates.")
@verify_options
@click.option("--ignore-paths", multiple=True, help="Paths to ignore resources (comma separated).")
@click.option("--insecure", is_flag=True, help="For when connecting to a non-TLS registries over plain HTTP.")
@click.option("--layer-selector", default="", help="The OCI artifact layer selector '<media-type>:<operation>'.")
@fetch_timeout_option
@create_options
@with_globals
def oci(g: Globals, args: tuple[str, ...], interval: int, export: bool, label: tuple[str, ...], **flags: Any) -> None:
    c = create_common.create_args(g, args, interval, export, label)
    if not flags["url"]:
        raise CommandError("url is required")
    if not (flags["tag_semver"] or flags["tag"] or flags["digest"]):
        raise CommandError("--tag, --tag-semver or --digest is required")
    layer_selector = parse_layer_selector(flags["layer_selector"])
    labels = create_common.parse_labels(c.labels)
    obj = create_common.new_object("OCIRepository", c, labels, oci_spec(c, flags, layer_selector))
    if c.export:
        create_common.print_export(obj)
        return
    deadline = time.monotonic() + timeout_seconds(g)

    async def body(client: Client) -> None:
        await create_common.apply_and_wait(
            client,
            kinds_cli.SOURCE_OCI.resource,
            obj,
            what="OCIRepository",
            deadline=deadline,
            no_artifact="no artifact was found",
        )

    kubeclient.run(g, body)


# -- bucket ----------------------------------------------------------------------------------------


@click.command("bucket", cls=goflags.FluxCommand, help="Create or update a Bucket source.")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option(
    "--provider",
    type=_provider("bucket", BUCKET_PROVIDERS, "the S3 compatible storage provider name"),
    default="generic",
    help="The S3 compatible storage provider name.",
)
@click.option("--bucket-name", default="", help="The bucket name.")
@click.option("--endpoint", default="", help="The bucket endpoint address.")
@click.option("--access-key", default="", help="The bucket access key.")
@click.option("--secret-key", default="", help="The bucket secret key.")
@click.option("--region", default="", help="The bucket region.")
@click.option("--insecure", is_flag=True, help="For when connecting to a non-TLS S3 HTTP endpoint.")
@click.option("--secret-ref", default="", help="The name of an existing secret containing credentials.")
@click.option("--proxy-secret-ref", default="", help="The name of an existing secret with the proxy address.")
@click.option("--ignore-paths", multiple=True, help="Paths to ignore in bucket resource (comma separated).")
@fetch_timeout_option
@create_options
@with_globals
def bucket(
    g: Globals, args: tuple[str, ...], interval: int, export: bool, label: tuple[str, ...], **flags: Any
) -> None:
    c = create_common.create_args(g, args, interval, export, label)
    if not flags["bucket_name"]:
        raise CommandError("bucket-name is required")
    if not flags["endpoint"]:
        raise CommandError("endpoint is required")
    labels = create_common.parse_labels(c.labels)
    spec: Obj = {
        "bucketName": flags["bucket_name"],
        "provider": flags["provider"],
        "insecure": flags["insecure"],
        "endpoint": flags["endpoint"],
        "region": flags["region"],
        "interval": c.interval_text,
        "ignore": _ignore(flags["ignore_paths"]),
        "secretRef": local_ref(flags["secret_ref"]),
        "proxySecretRef": local_ref(flags["proxy_secret_ref"]),
    }
    if flags["fetch_timeout"] > 0:
        spec["timeout"] = goflags.format_duration(flags["fetch_timeout"])
    obj = create_common.new_object("Bucket", c, labels, spec)
    if c.export:
        create_common.print_export(obj)
        return
    deadline = time.monotonic() + timeout_seconds(g)

    async def body(client: Client) -> None:
        output.generate("generating Bucket source")
        if not flags["secret_ref"] and flags["access_key"] and flags["secret_key"]:
            data = {"accesskey": flags["access_key"], "secretkey": flags["secret_key"]}
            secret = manifest.secret(f"bucket-{c.name}", c.namespace, labels=labels, stringData=data)
            output.action("applying secret with the bucket credentials")
            await create_common.upsert_secret(client, secret)
            obj["spec"]["secretRef"] = {"name": secret["metadata"]["name"]}
            output.success("authentication configured")
        await create_common.apply_and_wait(
            client,
            kinds_cli.SOURCE_BUCKET.resource,
            obj,
            what="Bucket source",
            deadline=deadline,
            no_artifact="Bucket source reconciliation but no artifact was found",
        )

    kubeclient.run(g, body)
