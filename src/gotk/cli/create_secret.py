"""`flux create secret git|helm NAME …`: a credentials Secret, printed (--export) or applied.

As flux2's cmd/flux/create_secret_git.go: for ssh URLs a key pair (from --private-key-file, or generated
with --ssh-key-algorithm) and the server's host key; for http(s) URLs --username with --password, or
--bearer-token, and an optional CA (--ca-crt-file). The public key is shown as `deploy key: …`.
As create_secret_helm.go: basic auth and/or --tls-crt-file/--tls-key-file/--ca-crt-file (flux2 removed
the deprecated --cert-file/--key-file/--ca-file), built by `helmsecret.generate_helm`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from gotk.cli import create_common, goflags, kubeclient, output
from gotk.cli.context import Globals
from gotk.cli.create_common import create_options
from gotk.cli.engines import gitsecret, helmsecret, manifest
from gotk.cli.flags import AliasGroup, with_globals
from gotk.cli.output import CommandError
from gotk.kube.client import Client


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


secret = AliasGroup("secret", help="Create or update Kubernetes secrets.")
secret.add_command(git)
secret.add_command(helm)
