"""`flux tree kustomization NAME`: the objects a Kustomization manages, as a tree (flux2's tree_kustomization.go).

Walks status.inventory, descending into child Kustomizations (unless the parent targets a remote
cluster) and into HelmReleases' releases (the manifest of the latest Helm storage Secret, plus CRDs
labelled with the release when it installs or upgrades CRDs). `--compact` keeps Flux objects only;
`-o json|yaml` prints the tree as flux marshals it.

`flux tree artifact generator NAME` (tree_artifact_generator.go) prints the ExternalArtifacts of an
ArtifactGenerator's status.inventory under it, one level deep, as flux2 does (not what consumes them).
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import click
import yaml

from gotk.cli import kubeclient
from gotk.cli.context import Globals
from gotk.cli.engines.kdiff import Meta, fmt_meta, parse_id
from gotk.cli.flags import AliasGroup, with_globals
from gotk.cli.output import CommandError
from gotk.gocompat import yaml as goyaml
from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.kube.resources import ARTIFACTGENERATORS, CRDS, EXTERNALARTIFACTS, HELMRELEASES, KUSTOMIZATIONS, SECRETS

KS_GROUP = "kustomize.toolkit.fluxcd.io"
HELM_GROUP = "helm.toolkit.fluxcd.io"
COMPACT_GROUP = "toolkit.fluxcd.io"
_MIDDLE, _LAST, _CONTINUE, _EMPTY = "├── ", "└── ", "│   ", "    "


@dataclass
class Tree:
    """One object and the objects it manages."""

    resource: Meta
    children: list[Tree] = field(default_factory=list)

    def add(self, resource: Meta) -> Tree:
        child = Tree(resource)
        self.children.append(child)
        return child

    def to_dict(self) -> dict[str, Any]:
        """The shape flux's json.Marshal gives its tree (cli-utils ObjMetadata has no JSON tags)."""
        namespace, name, group, kind = self.resource
        out: dict[str, Any] = {
            "resource": {"Namespace": namespace, "Name": name, "GroupKind": {"Group": group, "Kind": kind}}
        }
        if self.children:
            out["resources"] = [c.to_dict() for c in self.children]
        return out

    def render(self) -> str:
        return fmt_meta(self.resource) + "\n" + _items(self.children, [])


def _items(children: list[Tree], spaces: list[bool]) -> str:
    out: list[str] = []
    for i, child in enumerate(children):
        last = i == len(children) - 1
        lead = "".join(_EMPTY if s else _CONTINUE for s in spaces)
        out.append(lead + (_LAST if last else _MIDDLE) + fmt_meta(child.resource) + "\n")
        if child.children:
            out.append(_items(child.children, [*spaces, last]))
    return "".join(out)


def _keep(meta: Meta, compact: bool) -> bool:
    return not compact or COMPACT_GROUP in meta[2]


async def walk(client: Client, tree: Tree, ks: Mapping[str, Any], compact: bool) -> None:
    """Add the inventory of Kustomization `ks` under `tree`, recursively."""
    entries = ((ks.get("status") or {}).get("inventory") or {}).get("entries") or []
    meta = ks.get("metadata") or {}
    remote = (ks.get("spec") or {}).get("kubeConfig") is not None
    for entry in entries:
        try:
            item = parse_id(str(entry.get("id") or ""))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        namespace, name, group, kind = item
        if not _keep(item, compact):
            continue
        is_ks = group == KS_GROUP and kind == "Kustomization"
        if is_ks and namespace == meta.get("namespace") and name == meta.get("name"):
            continue
        node = tree.add(item)
        if group == HELM_GROUP and kind == "HelmRelease":
            for obj in await helmrelease_inventory(client, namespace, name):
                if _keep(obj, compact):
                    node.add(obj)
        if is_ks and not remote:
            try:
                child = await client.get(KUSTOMIZATIONS, name, namespace)
            except ApiError as exc:
                raise CommandError(f"failed to find object: {exc}") from None
            await walk(client, node, child, compact)


async def helmrelease_inventory(client: Client, namespace: str, name: str) -> list[Meta]:
    """The objects of a HelmRelease's latest release, read from its Helm storage Secret."""
    hr = await client.get(HELMRELEASES, name, namespace)
    spec, status = hr.get("spec") or {}, hr.get("status") or {}
    history = status.get("history") or []
    storage_ns = status.get("storageNamespace")
    if spec.get("kubeConfig") is not None or not storage_ns or not history:
        return []
    latest = history[0]
    key = f"{namespace}/{name}"
    secret_name = f"sh.helm.release.v1.{latest.get('name')}.v{latest.get('version')}"
    try:
        secret = await client.get(SECRETS, secret_name, storage_ns)
    except ApiError as exc:
        if exc.not_found:
            return []
        raise CommandError(f"failed to find the Helm storage object for HelmRelease '{key}': {exc}") from None
    release = (secret.get("data") or {}).get("release")
    if release is None:
        raise CommandError(f"failed to decode the Helm storage object for HelmRelease '{key}'")
    try:
        raw = base64.b64decode(base64.b64decode(release))
        if raw[:3] == b"\x1f\x8b\x08":
            raw = gzip.decompress(raw)
        manifest = str(json.loads(raw).get("manifest") or "")
    except (ValueError, OSError) as exc:
        raise CommandError(f"failed to decode the Helm storage object for HelmRelease '{key}': {exc}") from None
    try:
        docs = [d for d in yaml.safe_load_all(manifest) if isinstance(d, dict)]
    except yaml.YAMLError as exc:
        raise CommandError(f"failed to read the Helm storage object for HelmRelease '{key}': {exc}") from None
    result: list[Meta] = []
    for doc in docs:
        md = doc.get("metadata") or {}
        api_version, kind = str(doc.get("apiVersion") or ""), str(doc.get("kind") or "")
        obj_ns = str(md.get("namespace") or "")
        if not obj_ns:
            try:
                res = await client.resource_for(api_version, kind)
                obj_ns = str(latest.get("namespace") or "") if res.namespaced else ""
            except ApiError:
                obj_ns = ""
        group = api_version.rpartition("/")[0] if "/" in api_version else ""
        result.append((obj_ns, str(md.get("name") or ""), group, kind))
    if _manages_crds(spec):
        selector = f"{HELM_GROUP}/name={name},{HELM_GROUP}/namespace={namespace}"
        try:
            crds = (await client.list(CRDS, label_selector=selector))["items"]
        except ApiError:
            crds = []
        known = {(m[1], m[3]) for m in result}
        for crd in crds:
            crd_name = str(crd["metadata"]["name"])
            if (crd_name, "CustomResourceDefinition") not in known:
                result.append(("", crd_name, "apiextensions.k8s.io", "CustomResourceDefinition"))
    return result


def _manages_crds(spec: Mapping[str, Any]) -> bool:
    return any((spec.get(action) or {}).get("crds") not in (None, "", "Skip") for action in ("install", "upgrade"))


def print_tree(root: Tree, output_format: str) -> str:
    """The tree as `-o json|yaml` (flux's json.MarshalIndent / yaml.Marshal) or text, ending as Println does."""
    if output_format == "json":
        return json.dumps(root.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if output_format == "yaml":
        return goyaml.dump(root.to_dict()) + "\n"
    return root.render() + "\n"


def generator_tree(ag: Mapping[str, Any]) -> Tree:
    """An ArtifactGenerator and the ExternalArtifacts of its inventory, in inventory order."""
    meta = ag.get("metadata") or {}
    ag_res, ea_res = ARTIFACTGENERATORS, EXTERNALARTIFACTS
    root = Tree((str(meta.get("namespace") or ""), str(meta.get("name") or ""), ag_res.group, ag_res.kind))
    for ref in (ag.get("status") or {}).get("inventory") or []:
        root.add((str(ref.get("namespace") or ""), str(ref.get("name") or ""), ea_res.group, ea_res.kind))
    return root


@click.command("kustomization", help="Print the resource inventory of a Kustomization")
@click.argument("name", required=False)
@click.option("--compact", is_flag=True, help="list Flux resources only.")
@click.option(
    "-o",
    "--output",
    "output_format",
    default="",
    help="the format in which the tree should be printed. can be 'json' or 'yaml'",
)
@with_globals
def tree_kustomization(g: Globals, name: str | None, compact: bool, output_format: str) -> None:
    if not name:
        raise CommandError("kustomization name is required")

    async def body(client: Client) -> str:
        ks = await client.get(KUSTOMIZATIONS, name, g.namespace)
        root = Tree((str(ks["metadata"]["namespace"]), str(ks["metadata"]["name"]), KS_GROUP, "Kustomization"))
        await walk(client, root, ks, compact)
        return print_tree(root, output_format)

    click.echo(kubeclient.run(g, body), nl=False)


@click.command("generator", help="Print the inventory of an ArtifactGenerator")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option(
    "-o",
    "--output",
    "output_format",
    default="",
    help="the format in which the tree should be printed. can be 'json' or 'yaml'",
)
@with_globals
def tree_artifact_generator(g: Globals, args: tuple[str, ...], output_format: str) -> None:
    if len(args) != 1:  # cobra.ExactArgs(1)
        raise CommandError(f"accepts 1 arg(s), received {len(args)}")

    async def body(client: Client) -> str:
        return print_tree(generator_tree(await client.get(ARTIFACTGENERATORS, args[0], g.namespace)), output_format)

    click.echo(kubeclient.run(g, body), nl=False)


@click.group("tree", cls=AliasGroup)
def tree() -> None:
    """Print the resources reconciled by Flux."""


assert isinstance(tree, AliasGroup)
tree.add_aliased(tree_kustomization, ("ks",))
artifact = AliasGroup("artifact", help="Print artifact objects reconciled by Flux.")
artifact.add_command(tree_artifact_generator)
tree.add_command(artifact)
