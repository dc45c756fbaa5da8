"""`flux bootstrap git`: put gotk's components and the sync configuration into a Git repository, install them,
and wait until the cluster syncs from that repository, in flux2's steps and words (pkg/bootstrap):

1. clone the branch (a new, empty repository gets it with the first commit);
2. write `<path>/<namespace>/gotk-components.yaml` (what `flux install --export` prints), commit and push it,
   and apply it (on gotk's local control plane the controllers run as processes: the Deployments are applied at
   zero replicas);
3. create the source Secret (an SSH deploy key, generated unless `--private-key-file`, or `--token-auth`);
4. write `gotk-sync.yaml` and `kustomization.yaml`, commit, push and apply them;
5. wait for the GitRepository and the Kustomization to report the pushed revision.

A file that did not change is not committed; a `--path` other than the one the cluster syncs is refused.
`flux bootstrap github|gitlab|gitea|…` need a forge's API and are refused, naming `bootstrap git`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from gotk.cli import output, prompt
from gotk.cli.context import Globals
from gotk.cli.engines import bootstrap_manifests as bm
from gotk.cli.engines import install_manifests as manifests
from gotk.cli.flags import timeout_seconds, with_globals
from gotk.cli.install import apply_objects, wait_deployments, wait_established
from gotk.cli.kinds_cli import dig, find_condition, text
from gotk.cli.kubeclient import run as run_client
from gotk.cli.output import CommandError
from gotk.gocompat import durations
from gotk.kube.client import Client
from gotk.kube.resources import GITREPOSITORIES, KUSTOMIZATIONS, NODES, SECRETS
from gotk.runtime.git import auth as gitauth
from gotk.runtime.git import fetcher, signatures, writer
from gotk.runtime.git.errors import GitError

FORGES = ("github", "gitlab", "gitea", "bitbucket-server")
POLL = 1.0


@click.group("bootstrap")
def bootstrap() -> None:
    """Deploy gotk on a cluster the GitOps way."""


def _forge(name: str) -> click.Command:
    @click.command(name, context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    def refused() -> None:
        raise CommandError(
            f"flux bootstrap {name} needs the {name} API, which gotk does not talk to: create the repository and "
            "use `flux bootstrap git --url=...` instead"
        )

    refused.help = f"Not in gotk: use `flux bootstrap git` with a {name} repository."
    return refused


for _name in FORGES:
    bootstrap.add_command(_forge(_name))


# -- the source Secret ------------------------------------------------------------------------------


def generate_key(algorithm: str, rsa_bits: int, curve: str) -> tuple[bytes, str]:
    """A new SSH key pair: (OpenSSH private key PEM, `algo AAAA…` public line)."""
    key: Any
    if algorithm == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    elif algorithm == "ecdsa":
        curves = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1(), "p521": ec.SECP521R1()}
        key = ec.generate_private_key(curves[curve])
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public.decode()


def load_key(path: str, password: str) -> tuple[bytes, str]:
    """A private key file: (its PEM, as given, and its public line); refuses a key it cannot read."""
    data = Path(path).read_bytes()
    try:
        key = serialization.load_ssh_private_key(data, password.encode() or None)
    except (ValueError, TypeError) as exc:
        raise CommandError(f"failed to load private key from '{path}': {exc}") from None
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return data, public.decode()


def known_hosts(host: str, port: int | None) -> str:
    """The host's public keys, `ssh-keyscan` style, as flux2 stores them in the Secret's `known_hosts`."""
    args = ["ssh-keyscan", "-T", "10"] + (["-p", str(port)] if port else []) + [host]
    try:
        scanned = subprocess.run(args, capture_output=True, text=True, timeout=30, check=False)
    except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
        raise CommandError(f"failed to scan the host keys of {host}: {exc}") from None
    lines = [line for line in scanned.stdout.splitlines() if line and not line.startswith("#")]
    if not lines:
        raise CommandError(f"failed to scan the host keys of {host}: {scanned.stderr.strip() or 'no answer'}")
    return "\n".join(sorted(lines)) + "\n"


# -- git --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Repo:
    """The repository as the CLI reaches it."""

    url: str
    auth: gitauth.GitAuth
    branch: str
    shown: str  # the URL as the user gave it, for the messages
    author: writer.Author
    appendix: str
    signing: writer.SigningKey | None
    timeout: float


def _write_and_push(repo: Repo, generate: Callable[[], dict[str, str]], message: str, what: str) -> str:
    """Clone, write the generated files, commit and push; '' when nothing changed. Prints flux2's lines (the
    clone is announced once, as flux2 keeps its clone for the sync manifests)."""
    with tempfile.TemporaryDirectory(prefix="flux-bootstrap-") as tmp:
        if what == "components":
            output.action(f'cloning branch "{repo.branch}" from Git repository "{repo.shown}"')
        ws = writer.open_or_init(repo.url, repo.auth, repo.branch, Path(tmp) / "repo", timeout=repo.timeout)
        if what == "components":
            output.success("cloned repository")
        output.action(f"generating {what_label(what)}")
        files = generate()
        output.success(f"generated {what_label(what)}")
        for rel, content in files.items():
            target = ws.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        if what == "sync":
            directory = ws.path / next(iter(files)).rsplit("/", 1)[0]
            resources = sorted(p.name for p in directory.iterdir() if p.name != "kustomization.yaml" and p.is_file())
            (directory / "kustomization.yaml").write_text(bm.kustomization_file(resources))
        full = message + (f"\n\n{repo.appendix}" if repo.appendix else "")
        sha = writer.commit_all(ws, repo.author, full, signing_key=repo.signing)
        if not sha:
            output.success(f"{what_label(what)} are up to date")
            return ""
        output.success(f'committed {what_label(what)} to "{repo.branch}" ("{sha}")')
        output.action(f'pushing {what_label(what)} to "{repo.shown}"')
        writer.push(ws, [f"refs/heads/{repo.branch}:refs/heads/{repo.branch}"])
        return sha


def _shown(url: str) -> str:
    """The URL as given, without a password."""
    parts = urllib.parse.urlsplit(url)
    if not parts.password:
        return url
    netloc = f"{parts.username}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def what_label(what: str) -> str:
    return "component manifests" if what == "components" else "sync manifests"


# -- cluster ----------------------------------------------------------------------------------------


async def local_mode(client: Client) -> bool:
    """Whether this is gotk's local control plane (kwok nodes: the controllers run as processes)."""
    nodes = (await client.list(NODES)).get("items") or []
    return bool(nodes) and all("kwok.x-k8s.io/node" in (dig(n, "metadata", "annotations") or {}) for n in nodes)


async def install_components(client: Client, opts: manifests.Options, deadline: float) -> bool:
    """Apply the components; in local mode with the Deployments at zero replicas. Returns local mode."""
    objects = manifests.generate(opts)
    local = await local_mode(client)
    if local:
        for obj in objects:
            if obj["kind"] == "Deployment":
                obj["spec"]["replicas"] = 0
    first = [o for o in objects if o["kind"] in ("Namespace", "CustomResourceDefinition")]
    rest = [o for o in objects if o not in first]
    for line in await apply_objects(client, first):
        click.echo(line, err=True)
    await wait_established(
        client, [o["metadata"]["name"] for o in first if o["kind"] == "CustomResourceDefinition"], deadline
    )
    for line in await apply_objects(client, rest):
        click.echo(line, err=True)
    return local


async def check_path(client: Client, namespace: str, path: str) -> None:
    """Refuse a --path other than the one the cluster's Kustomization syncs (flux2's overwrite check)."""
    existing = await client.get_or_none(KUSTOMIZATIONS, namespace, namespace)
    if existing is None:
        return
    current = text(dig(existing, "spec", "path"))
    wanted = f"./{bm.clean_path(path)}"
    if current and bm.clean_path(current) != bm.clean_path(wanted):
        raise CommandError(
            f'sync path configuration ("{wanted}") would overwrite path ("{current}") of existing Kustomization'
        )


async def apply_secret(client: Client, namespace: str, name: str, data: dict[str, str]) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "stringData": data,
    }
    await client.apply(SECRETS, body, field_manager="flux", force=True)


async def wait_synced(client: Client, res: Any, namespace: str, revision: str, deadline: float, label: str) -> None:
    """Wait for the object to be Ready at `revision` (its artifact's or lastAppliedRevision)."""
    output.waiting(f'waiting for {label} "{namespace}/{namespace}" to be reconciled')
    message = ""
    while time.monotonic() < deadline:
        obj = await client.get_or_none(res, namespace, namespace)
        if obj is not None:
            ready = find_condition(obj, "Ready") or {}
            got = text(dig(obj, "status", "artifact", "revision")) or text(dig(obj, "status", "lastAppliedRevision"))
            message = text(ready.get("message"))
            if ready.get("status") == "True" and (not revision or got == revision):
                output.success(f"{label} reconciled successfully")
                return
        await asyncio.sleep(POLL)
    output.failure(f"{label.lower()} '{namespace}/{namespace}' not ready: '{message}'")
    raise CommandError(f"error while waiting for {label} to be ready: '{message}'")


# -- the command ------------------------------------------------------------------------------------


def _split(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(item.strip() for value in values for item in value.split(",") if item.strip())


@bootstrap.command("git")
@click.option("--url", default="", help="Git repository URL.")
@click.option("--branch", default="main", show_default=True, help="Git branch.")
@click.option("--path", "sync_path", default="", help="Path relative to the repository root for the cluster sync.")
@click.option("-u", "--username", default="git", show_default=True, help="Basic authentication username.")
@click.option("-p", "--password", envvar="GIT_PASSWORD", default="", help="Basic authentication password.")
@click.option("--token-auth", is_flag=True, help="Use token (HTTP basic) authentication instead of an SSH key.")
@click.option("--with-bearer-token", is_flag=True, help="Use the password as a bearer token.")
@click.option("--allow-insecure-http", is_flag=True, help="Allow plain HTTP.")
@click.option("--private-key-file", default="", help="Private key for the Git SSH server (and the deploy key).")
@click.option("--ssh-key-algorithm", type=click.Choice(["rsa", "ecdsa", "ed25519"]), default="ecdsa", show_default=True)
@click.option("--ssh-rsa-bits", default=2048, show_default=True)
@click.option("--ssh-ecdsa-curve", type=click.Choice(["p256", "p384", "p521"]), default="p384", show_default=True)
@click.option("--ssh-hostname", default="", help="SSH hostname, when it differs from the HTTPS one.")
@click.option("-s", "--silent", is_flag=True, help="Assume the deploy key is already set up, skip confirmation.")
@click.option("--interval", default="1m", show_default=True, help="Sync interval.")
@click.option("--components", multiple=True, default=[",".join(manifests.DEFAULT_COMPONENTS)], show_default=True)
@click.option("--components-extra", multiple=True)
@click.option("--author-name", default="Flux", show_default=True)
@click.option("--author-email", default="")
@click.option("--gpg-key-ring", default="", help="Path to the GPG key ring that signs the commits.")
@click.option("--gpg-passphrase", default="")
@click.option("--gpg-key-id", default="")
@click.option("--commit-message-appendix", default="")
@click.option("--ca-file", default="", help="TLS CA file for self-signed certificates.")
@click.option("--secret-name", default="flux-system", show_default=True)
@click.option("--recurse-submodules", is_flag=True)
@click.option("--watch-all-namespaces", type=click.BOOL, default=True, show_default=True)
@click.option("--network-policy", type=click.BOOL, default=True, show_default=True)
@click.option("--log-level", type=click.Choice(["debug", "info", "error"]), default="info", show_default=True)
@click.option("--registry", default="ghcr.io/gotk", show_default=True)
@click.option("--image-pull-secret", default="")
@click.option("--cluster-domain", default="cluster.local", show_default=True)
@click.option("--force", is_flag=True)
@with_globals
def git_cmd(g: Globals, /, **flags: Any) -> None:
    """Deploy gotk on a cluster from a Git repository (any server, over SSH or HTTP/S)."""
    url = str(flags["url"])
    if not url:
        raise CommandError("url is required")
    parsed = urllib.parse.urlsplit(url)
    token = bool(flags["token_auth"] or flags["with_bearer_token"])
    if parsed.scheme == "http" and not flags["allow_insecure_http"]:
        raise CommandError("scheme http is insecure, pass --allow-insecure-http=true to allow it")
    if parsed.scheme not in ("ssh", "http", "https"):
        raise CommandError(f"scheme {parsed.scheme} is not supported")
    components = tuple(dict.fromkeys(_split(flags["components"]) + _split(flags["components_extra"])))
    problem = manifests.validate(components)
    if problem:
        raise CommandError(problem)
    opts = manifests.Options(
        namespace=g.namespace,
        components=components,
        registry=str(flags["registry"]),
        watch_all_namespaces=bool(flags["watch_all_namespaces"]),
        network_policy=bool(flags["network_policy"]),
        log_level=str(flags["log_level"]),
        cluster_domain=str(flags["cluster_domain"]),
    )
    password = str(flags["password"])
    ca = Path(str(flags["ca_file"])).read_text() if flags["ca_file"] else ""
    secret: dict[str, str] = {}
    public = ""
    if token:
        if flags["with_bearer_token"]:
            cli_auth = gitauth.from_secret(
                url, {"bearerToken": password.encode(), **({"ca.crt": ca.encode()} if ca else {})}
            )
            secret = {"bearerToken": password}
        else:
            data = {"username": str(flags["username"]).encode(), "password": password.encode()}
            cli_auth = gitauth.from_secret(url, {**data, **({"ca.crt": ca.encode()} if ca else {})})
            secret = {"username": str(flags["username"]), "password": password}
        if ca:
            secret["ca.crt"] = ca
        hostport = (parsed.hostname or "") + (f":{parsed.port}" if parsed.port else "")
        scheme = parsed.scheme if flags["allow_insecure_http"] else "https"
        sync_url = f"{scheme}://{hostport}{parsed.path}" + (f"?{parsed.query}" if parsed.query else "")
    else:
        if parsed.scheme != "ssh":
            raise CommandError("an SSH key needs an ssh:// URL; use --token-auth for HTTP(S)")
        if flags["private_key_file"]:
            private, public = load_key(str(flags["private_key_file"]), password)
        else:
            private, public = generate_key(
                str(flags["ssh_key_algorithm"]), int(flags["ssh_rsa_bits"]), str(flags["ssh_ecdsa_curve"])
            )
        host = str(flags["ssh_hostname"]) or parsed.hostname or ""
        user = parsed.username or str(flags["username"])
        netloc = f"{user}@{host}" + (f":{parsed.port}" if parsed.port else "")
        sync_url = f"ssh://{netloc}{parsed.path}"
        hosts = known_hosts(host, parsed.port)
        secret = {"identity": private.decode(), "identity.pub": public + "\n", "known_hosts": hosts}
        if password:
            secret["password"] = password
        cli_auth = gitauth.from_secret(sync_url, {k: v.encode() for k, v in secret.items()})
    signing: writer.SigningKey | None = None
    if flags["gpg_key_ring"]:
        signing = writer.SigningKey("gpg", Path(str(flags["gpg_key_ring"])).read_bytes(), str(flags["gpg_passphrase"]))
    repo = Repo(
        url if token else sync_url,
        cli_auth,
        str(flags["branch"]),
        _shown(url),
        writer.Author(str(flags["author_name"]), str(flags["author_email"])),
        str(flags["commit_message_appendix"]),
        signing,
        timeout_seconds(g),
    )
    interval = durations.parse(str(flags["interval"]))
    sync = bm.SyncOptions(
        url=sync_url,
        branch=repo.branch,
        name=g.namespace,
        namespace=g.namespace,
        secret=str(flags["secret_name"]),
        interval=interval,
        path=str(flags["sync_path"]),
        recurse_submodules=bool(flags["recurse_submodules"]),
    )
    directory = bm.target_dir(str(flags["sync_path"]), g.namespace)
    deadline = time.monotonic() + timeout_seconds(g)

    async def body(client: Client) -> None:
        await check_path(client, g.namespace, str(flags["sync_path"]))
        components_yaml = manifests.render(opts, manifests.generate(opts))
        try:
            await asyncio.to_thread(
                _write_and_push,
                repo,
                lambda: {f"{directory}/gotk-components.yaml": components_yaml},
                f"Add Flux v{opts.version} component manifests",
                "components",
            )
        except (GitError, signatures.SigningFailed) as exc:
            raise CommandError(f"failed to push manifests: {exc}") from None
        output.action(f'installing components in "{g.namespace}" namespace')
        local = await install_components(client, opts, deadline)
        output.success("installed components")
        if local:
            output.waiting(
                "gotk's local control plane runs the controllers as processes: Deployments applied at zero replicas"
            )
        output.success("reconciled components")
        output.action(f'determining if source secret "{g.namespace}/{sync.secret}" exists')
        existing = await client.get_or_none(SECRETS, sync.secret, g.namespace)
        if existing is not None and not flags["private_key_file"] and not token:
            output.success("source secret up to date")
        else:
            output.action("generating source secret")
            if public:
                output.success(f"public key: {public}")
                if not flags["silent"] and not prompt.confirm("Please give the key access to your repository"):
                    raise CommandError("aborting")
            output.action(f'applying source secret "{g.namespace}/{sync.secret}"')
            await apply_secret(client, g.namespace, sync.secret, secret)
            output.success("reconciled source secret")
        sync_yaml = bm.sync_manifest(sync)
        try:
            sha = await asyncio.to_thread(
                _write_and_push,
                repo,
                lambda: {f"{directory}/gotk-sync.yaml": sync_yaml},
                "Add Flux sync manifests",
                "sync",
            )
        except (GitError, signatures.SigningFailed) as exc:
            raise CommandError(f"failed to push sync manifests: {exc}") from None
        if not sha:
            heads = await asyncio.to_thread(fetcher.ls_remote, repo.url, repo.auth)
            sha = heads.get(f"refs/heads/{repo.branch}", "")
        output.action("applying sync manifests")
        docs = [d for d in yaml.safe_load_all(sync_yaml) if d]
        for line in await apply_objects(client, docs):
            click.echo(line, err=True)
        output.success("reconciled sync configuration")
        revision = f"{repo.branch}@sha1:{sha}" if sha else ""
        await wait_synced(client, GITREPOSITORIES, g.namespace, revision, deadline, "GitRepository")
        await wait_synced(client, KUSTOMIZATIONS, g.namespace, revision, deadline, "Kustomization")
        if local:
            output.success("the controllers run as local processes: no Deployment to check")
        else:
            output.action("confirming components are healthy")
            if not await wait_deployments(client, g.namespace, opts.deployed, deadline):
                raise CommandError("bootstrap failed with 1 health check failure(s)")
            output.success("all components are healthy")

    run_client(g, body)
