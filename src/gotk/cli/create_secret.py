"""`flux create secret git|helm NAME …`: a credentials Secret, printed (--export) or applied.

As flux2's cmd/flux/create_secret_git.go: for ssh URLs a key pair (from --private-key-file, or generated
with --ssh-key-algorithm) and the server's host key; for http(s) URLs --username with --password, or
--bearer-token, and an optional CA (--ca-crt-file). The public key is shown as `deploy key: …`.
As create_secret_helm.go: basic auth and/or --tls-crt-file/--tls-key-file/--ca-crt-file (flux2 removed
the deprecated --cert-file/--key-file/--ca-file), built by `helmsecret.generate_helm`.
As create_secret_{tls,oci,proxy,receiver,github_app}.go: the Secrets built by `fluxsecrets`; tls prints
its --export without cobra's extra empty line, oci and githubapp take no labels (flux passes none).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from gotk.cli import create_common, create_notification, goflags, kubeclient, output
from gotk.cli.context import Globals
from gotk.cli.create_common import create_options
from gotk.cli.engines import fluxsecrets, gitsecret, helmsecret, manifest
from gotk.cli.flags import AliasGroup, with_globals
from gotk.cli.output import CommandError
from gotk.kube.client import Client
from gotk.runtime.oci import refs


def secret_options(
    name: str, namespace: str, labels: dict[str, str], flags: dict[str, Any]
) -> gitsecret.GitSecretOptions:
    """sourcesecret.Options for the URL's scheme; flux's validation errors for http(s) credentials."""
    try:
        scheme, host = gitsecret.parse_url(flags["url"])
    except ValueError as exc:
        raise CommandError(f"git URL parse failed: {exc}") from None
    base = gitsecret.GitSecretOptions(name=name, namespace=namespace, labels=labels)
    if scheme == "ssh":
        keypair = gitsecret.load_keypair(flags["private_key_file"], flags["password"])
        return dataclasses.replace(
            base,
            keypair=keypair,
            ssh_hostname=host,
            key_algorithm=flags["ssh_key_algorithm"],
            rsa_bits=flags["ssh_rsa_bits"],
            ecdsa_curve=flags["ssh_ecdsa_curve"],
            password=flags["password"],
        )
    if scheme in ("http", "https"):
        username, password, token = flags["username"], flags["password"], flags["bearer_token"]
        if (not username or not password) and not token:
            raise CommandError("for Git over HTTP/S the username and password, or a bearer token is required")
        if username and password and token:
            raise CommandError("user credentials and bearer token cannot be used together")
        ca = ""
        ca_file = flags["ca_crt_file"] or flags["ca_file"]  # --ca-crt-file takes precedence over --ca-file
        if ca_file:
            try:
                ca = gitsecret.read_file(ca_file)
            except gitsecret.SecretError as exc:
                raise CommandError(f"unable to read TLS CA file: {exc}") from None
        return dataclasses.replace(base, username=username, password=password, bearer_token=token, ca_crt=ca)
    raise CommandError(f"git URL scheme '{scheme}' not supported, can be: ssh, http and https")


@click.command("git", cls=goflags.FluxCommand, help="Create or update a Kubernetes secret for Git authentication.")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option("--url", default="", help="Git address, e.g. ssh://git@host/org/repository.")
@click.option("-u", "--username", default="", help="Basic authentication username.")
@click.option("-p", "--password", default="", help="Basic authentication password.")
@create_common.ssh_key_options
@click.option("--ca-crt-file", default="", help="Path to TLS CA certificate file for self-signed certificates.")
@click.option("--ca-file", default="", hidden=True, help="Deprecated: use --ca-crt-file.")
@click.option("--private-key-file", default="", help="Path to a private key file for the Git SSH server.")
@click.option("--bearer-token", default="", help="Bearer authentication token.")
@create_options
@with_globals
def git(g: Globals, args: tuple[str, ...], interval: int, export: bool, label: tuple[str, ...], **flags: Any) -> None:
    c = create_common.create_args(g, args, interval, export, label)
    if not flags["url"]:
        raise CommandError("url is required")
    try:
        gitsecret.parse_url(flags["url"])
    except ValueError as exc:
        raise CommandError(f"git URL parse failed: {exc}") from None
    labels = create_common.parse_labels(c.labels)
    try:
        secret = gitsecret.generate_git(secret_options(c.name, c.namespace, labels, flags))
    except gitsecret.SecretError as exc:
        raise CommandError(str(exc)) from None
    if c.export:
        click.echo(manifest.render_secret(secret), nl=False)
        return
    public = (secret.get("stringData") or {}).get("identity.pub")
    if public is not None:
        output.generate(f"deploy key: {public}")
    apply_secret(g, c, secret, "git")


def apply_secret(g: Globals, c: create_common.CreateArgs, secret: manifest.Obj, what: str) -> None:
    """Create or update the Secret, then flux's `<what> secret 'NAME' created in 'NS' namespace`."""

    async def body(client: Client) -> None:
        await create_common.upsert_secret(client, secret)
        output.action(f"{what} secret '{c.name}' created in '{c.namespace}' namespace")

    kubeclient.run(g, body)


@click.command(
    "helm", cls=goflags.FluxCommand, help="Create or update a Kubernetes secret for Helm repository authentication."
)
@click.argument("args", nargs=-1, metavar="NAME")
@click.option("-u", "--username", default="", help="Basic authentication username.")
@click.option("-p", "--password", default="", help="Basic authentication password.")
@click.option("--tls-crt-file", default="", help="TLS authentication cert file path.")
@click.option("--tls-key-file", default="", help="TLS authentication key file path.")
@click.option("--ca-crt-file", default="", help="TLS authentication CA file path.")
@create_options
@with_globals
def helm(g: Globals, args: tuple[str, ...], interval: int, export: bool, label: tuple[str, ...], **flags: Any) -> None:
    c = create_common.create_args(g, args, interval, export, label)
    labels = create_common.parse_labels(c.labels)
    try:
        opts = helmsecret.HelmSecretOptions(
            name=c.name,
            namespace=c.namespace,
            labels=labels,
            username=flags["username"],
            password=flags["password"],
            ca_crt=helmsecret.read_ca(flags["ca_crt_file"]),
            tls_crt=helmsecret.read_cert(flags["tls_crt_file"]),
            tls_key=helmsecret.read_key(flags["tls_key_file"]),
        )
        secret = helmsecret.generate_helm(opts)
    except gitsecret.SecretError as exc:
        raise CommandError(str(exc)) from None
    if c.export:
        click.echo(manifest.render_secret(secret), nl=False)
        return
    apply_secret(g, c, secret, "helm")


def _export_or_apply(
    g: Globals, c: create_common.CreateArgs, secret: manifest.Obj, what: str, *, nl: bool = True
) -> None:
    """--export: `---`, the YAML and (cobra's Println, `nl`) an empty line; else create or update it."""
    if c.export:
        text = manifest.render_secret(secret)
        click.echo(text if nl else text[:-1], nl=False)
        return
    apply_secret(g, c, secret, what)


@click.command("tls", cls=goflags.FluxCommand, help="Create or update a Kubernetes secret with TLS certificates.")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option("--tls-crt-file", default="", help="TLS authentication cert file path.")
@click.option("--tls-key-file", default="", help="TLS authentication key file path.")
@click.option("--ca-crt-file", default="", help="TLS authentication CA file path.")
@create_options
@with_globals
def tls(g: Globals, args: tuple[str, ...], interval: int, export: bool, label: tuple[str, ...], **flags: Any) -> None:
    c = create_common.create_args(g, args, interval, export, label)
    labels = create_common.parse_labels(c.labels)
    try:
        ca = helmsecret.read_ca(flags["ca_crt_file"])
        crt = helmsecret.read_cert(flags["tls_crt_file"])
        key = helmsecret.read_key(flags["tls_key_file"])
        secret = fluxsecrets.generate_tls(c.name, c.namespace, labels, ca_crt=ca, tls_crt=crt, tls_key=key)
    except gitsecret.SecretError as exc:
        raise CommandError(str(exc)) from None
    _export_or_apply(g, c, secret, "tls", nl=False)


@click.command("oci", cls=goflags.FluxCommand, help="Create or update a Kubernetes image pull secret.")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option("--url", default="", help="Oci repository address e.g ghcr.io/stefanprodan/charts.")
@click.option("-u", "--username", default="", help="Basic authentication username.")
@click.option("-p", "--password", default="", help="Basic authentication password.")
@create_options
@with_globals
def oci(g: Globals, args: tuple[str, ...], interval: int, export: bool, label: tuple[str, ...], **flags: Any) -> None:
    c = create_common.create_args(g, args, interval, export, label)
    url, username, password = flags["url"], flags["username"], flags["password"]
    for value, flag in ((url, "url"), (username, "username"), (password, "password")):
        if not value:
            raise CommandError(f"--{flag} is required")
    try:
        if url != url.strip():  # go-containerregistry does not trim: the blanks make a bad repository name
            raise refs.ReferenceError(url)
        refs.parse(url)
    except refs.ReferenceError:
        raise CommandError(f"error parsing url: 'could not parse reference: {url}'") from None
    try:
        secret = fluxsecrets.generate_oci(c.name, c.namespace, {}, server=url, username=username, password=password)
    except gitsecret.SecretError as exc:
        raise CommandError(str(exc)) from None
    _export_or_apply(g, c, secret, "oci")


@click.command("proxy", cls=goflags.FluxCommand, help="Create or update a Kubernetes secret for proxy authentication.")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option("--address", default="", help="Proxy address.")
@click.option("-u", "--username", default="", help="Basic authentication username.")
@click.option("-p", "--password", default="", help="Basic authentication password.")
@create_options
@with_globals
def proxy(g: Globals, args: tuple[str, ...], interval: int, export: bool, label: tuple[str, ...], **flags: Any) -> None:
    c = create_common.create_args(g, args, interval, export, label)
    labels = create_common.parse_labels(c.labels)
    if not flags["address"]:
        raise CommandError("address is required")
    try:
        secret = fluxsecrets.generate_proxy(
            c.name,
            c.namespace,
            labels,
            address=flags["address"],
            username=flags["username"],
            password=flags["password"],
        )
    except gitsecret.SecretError as exc:
        raise CommandError(str(exc)) from None
    _export_or_apply(g, c, secret, "proxy")


@click.command("receiver", cls=goflags.FluxCommand, help="Create or update a Kubernetes secret for a Receiver webhook.")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option(
    "--type", "receiver_type", type=create_notification.RECEIVER_TYPE, default=None, help="The receiver type."
)
@click.option(
    "--token",
    default="",
    help="Webhook token used for payload validation and URL computation, auto-generated if not specified.",
)
@click.option("--hostname", default="", help="Hostname for the webhook URL e.g. flux.example.com.")
@click.option("--email-claim", default="", help="IAM service account email, required for gcr type.")
@click.option(
    "--audience-claim", default="", help="Custom OIDC token audience for gcr type, defaults to the webhook URL."
)
@create_options
@with_globals
def receiver(
    g: Globals, args: tuple[str, ...], interval: int, export: bool, label: tuple[str, ...], **flags: Any
) -> None:
    c = create_common.create_args(g, args, interval, export, label)
    receiver_type = flags["receiver_type"] or ""
    if not receiver_type:
        raise CommandError("--type is required")
    if not flags["hostname"]:
        raise CommandError("--hostname is required")
    if receiver_type == "gcr" and not flags["email_claim"]:
        raise CommandError("--email-claim is required for gcr receiver type")
    labels = create_common.parse_labels(c.labels)
    try:
        secret = fluxsecrets.generate_receiver(
            c.name,
            c.namespace,
            labels,
            receiver_type=receiver_type,
            hostname=flags["hostname"],
            token=flags["token"],
            email_claim=flags["email_claim"],
            audience_claim=flags["audience_claim"],
        )
    except gitsecret.SecretError as exc:
        raise CommandError(str(exc)) from None
    _export_or_apply(g, c, secret, "receiver")


@click.command("githubapp", cls=goflags.FluxCommand, help="Create or update a github app secret.")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option("--app-id", default="", help="Github app ID.")
@click.option("--app-installation-owner", default="", help="Github app installation owner (user or organization).")
@click.option("--app-installation-id", default="", help="Github app installation ID.")
@click.option("--app-private-key", default="", help="Github app private key file path.")
@click.option("--app-base-url", default="", help="Github app base URL.")
@create_options
@with_globals
def githubapp(
    g: Globals, args: tuple[str, ...], interval: int, export: bool, label: tuple[str, ...], **flags: Any
) -> None:
    c = create_common.create_args(g, args, interval, export, label)
    path = flags["app_private_key"]
    try:
        if not path:
            raise gitsecret.SecretError("open : no such file or directory")
        private_key = gitsecret.read_file(path)
    except gitsecret.SecretError as exc:
        raise CommandError(f"unable to read private key file: {exc}") from None
    app = fluxsecrets.GitHubApp(
        app_id=flags["app_id"],
        private_key=private_key,
        installation_owner=flags["app_installation_owner"],
        installation_id=flags["app_installation_id"],
        base_url=flags["app_base_url"],
    )
    try:
        secret = fluxsecrets.generate_githubapp(c.name, c.namespace, {}, app)
    except gitsecret.SecretError as exc:
        raise CommandError(str(exc)) from None
    _export_or_apply(g, c, secret, "githubapp")


secret = AliasGroup("secret", help="Create or update Kubernetes secrets.")
secret.add_command(git)
secret.add_command(helm)
secret.add_command(tls)
secret.add_command(oci)
secret.add_command(proxy)
secret.add_command(receiver)
secret.add_command(githubapp)
