"""The build behind `flux build kustomization` and `flux diff kustomization` (flux2's internal/build).

Resolves the Kustomization (from the cluster, from --kustomization-file, or both: the file's spec with the
cluster's status), builds --path locally the way kustomize-controller does (generated kustomization.yaml
honouring .sourceignore and --ignore-paths, the spec's build fields, input order kept), runs postBuild
substitution (variables from the cluster's ConfigMaps/Secrets unless --dry-run), sets the owner labels
and masks SOPS-encrypted Secret values with `**SOPS**`. The user's directory is never written: the
build runs on a hard-linked copy of the enclosing git work tree (or of --path when there is none).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gotk.cli.output import CommandError
from gotk.gocompat import yaml as goyaml
from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.kube.resources import CONFIGMAPS, KUSTOMIZATIONS, SECRETS
from gotk.kustomize import build as kbuild
from gotk.kustomize.substitute import varsub
from gotk.source import ignore as sourceignore

Obj = dict[str, Any]
GROUP = "kustomize.toolkit.fluxcd.io"
NAME_LABEL = f"{GROUP}/name"
NAMESPACE_LABEL = f"{GROUP}/namespace"
MASK = "**SOPS**"
DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"


@dataclass(frozen=True)
class Options:
    """What to build: --path, the Kustomization's name and namespace, and the build flags."""

    name: str
    namespace: str
    path: Path
    kustomization_file: Path | None = None
    dry_run: bool = False
    strict_substitute: bool = False
    ignore_paths: Sequence[str] = field(default_factory=tuple)
    ignore_not_found: bool = False
    recursive: bool = False
    local_sources: Mapping[str, str] = field(default_factory=dict)


# -- the Kustomization ----------------------------------------------------------------------------------


def from_file(path: Path, name: str, namespace: str) -> Obj:
    """The Kustomization `name` in `namespace` (or without a namespace) from a YAML or JSON file."""
    try:
        docs = list(yaml.safe_load_all(path.read_text()))
    except (OSError, yaml.YAMLError) as exc:
        raise CommandError(
            f"failed to get kustomization object: failed to unmarshall kustomization file {path}: {exc}"
        ) from None
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        meta = doc["metadata"] if isinstance(doc.get("metadata"), dict) else {}
        if (
            str(doc.get("apiVersion") or "").startswith(GROUP + "/")
            and doc.get("kind") == "Kustomization"
            and meta.get("name") == name
            and (meta.get("namespace") or "") in (namespace, "")
        ):
            return doc
    raise CommandError(
        f"failed to get kustomization object: failed find kustomization with name '{name}' "
        f"and namespace '{namespace}' in file '{path}'"
    )


async def resolve(client: Client | None, opts: Options, fallback: Obj | None = None) -> Obj:
    """The Kustomization the build uses, as flux's Builder picks it (the file wins, the cluster's status kept).

    `fallback` is a Kustomization found in a parent's build (--recursive): used when the cluster has none.
    """
    live: Obj | None = None
    if opts.dry_run:
        live = fallback
    else:
        assert client is not None
        try:
            live = await client.get(KUSTOMIZATIONS, opts.name, opts.namespace)
        except ApiError as exc:
            local = fallback is not None or (opts.ignore_not_found and opts.kustomization_file is not None)
            if not (exc.not_found and local):
                raise CommandError(f"failed to get kustomization object: {exc}") from None
            live = fallback
    if opts.kustomization_file is None:
        if live is None:
            raise CommandError("kustomization file is required for dry-run")
        return live
    ks = from_file(opts.kustomization_file, opts.name, opts.namespace)
    if live is not None and (live.get("status") or {}).get("inventory") is not None:
        ks = {**ks, "status": copy.deepcopy(live["status"])}
    return ks


def spec_of(ks: Mapping[str, Any]) -> Obj:
    spec = ks.get("spec")
    return spec if isinstance(spec, dict) else {}


# -- the local kustomize build ------------------------------------------------------------------------


def source_root(path: Path) -> Path:
    """The git work tree holding `path` (so `../base` references resolve), else `path` itself."""
    for candidate in (path, *path.parents):
        if (candidate / ".git").exists():
            return candidate
    return path


def _link_tree(src: Path, dest: Path) -> None:
    def link(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    shutil.copytree(src, dest, copy_function=link, ignore=shutil.ignore_patterns(".git"))


def scan_manifests(directory: Path, matcher: sourceignore.Matcher | None) -> list[str]:
    """Flux's scanManifests: YAML files and sub-directories holding a kustomization, in filepath.Walk order."""
    found: list[str] = []

    def walk(current: Path) -> None:
        for entry in sorted(current.iterdir(), key=lambda p: p.name):
            rel = entry.relative_to(directory).as_posix()
            if entry.is_dir():
                if kbuild.kustomization_file(entry) is not None:
                    found.append(f"./{rel}")
                else:
                    walk(entry)
            elif entry.suffix in (".yaml", ".yml") and not (matcher is not None and matcher(rel, False)):
                kbuild.load_documents(entry)  # every manifest must be valid Kubernetes YAML
                found.append(f"./{rel}")

    walk(directory)
    return found


def _prepare(target: Path, ignore_paths: Sequence[str]) -> None:
    """Give the copied --path a kustomization.yaml keeping input order (kustomize's `sortOptions: fifo`)."""
    existing = kbuild.kustomization_file(target)
    if existing is not None:
        kus = yaml.safe_load(existing.read_text()) or {}
        existing.unlink()  # never write through the hard link
    else:
        matcher = None
        if ignore_paths:
            patterns = sourceignore.load_ignore_patterns(target)
            patterns.extend(sourceignore.read_patterns("\n".join(ignore_paths)))
            matcher = sourceignore.Matcher(patterns)
        resources = scan_manifests(target, matcher)
        kus = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
        if resources:
            kus["resources"] = resources
        else:
            kus["namespace"] = "_placeholder"
        existing = target / "kustomization.yaml"
    if isinstance(kus, dict):
        kus.setdefault("sortOptions", {"order": "fifo"})
    existing.write_text(yaml.safe_dump(kus, sort_keys=False))


def build_local(path: Path, spec: Mapping[str, Any], ignore_paths: Sequence[str] = ()) -> list[Obj]:
    """Build `path` with the Kustomization's spec (blocking); raises kbuild.BuildError."""
    root = source_root(path)
    rel = path.relative_to(root).as_posix()
    with tempfile.TemporaryDirectory(prefix="flux-build-") as tmp:
        tree = Path(tmp) / "src"
        _link_tree(root, tree)
        _prepare(tree / rel, ignore_paths)
        objects = kbuild.build_sync(tree, rel or "./", spec, no_remote_bases=False)
    return [o for o in objects if isinstance(o, dict)]


# -- post-build -----------------------------------------------------------------------------------------


async def variables(client: Client | None, ks: Mapping[str, Any]) -> dict[str, str]:
    """postBuild variables: substituteFrom data (skipped without a cluster), then the inline map."""
    post = spec_of(ks).get("postBuild") or {}
    namespace = str((ks.get("metadata") or {}).get("namespace") or "")
    sources: list[Mapping[str, str]] = []
    refs = (post.get("substituteFrom") or []) if client is not None else []
    for ref in refs:
        kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
        if client is None or kind not in ("ConfigMap", "Secret"):
            continue
        try:
            obj = await client.get(SECRETS if kind == "Secret" else CONFIGMAPS, name, namespace)
        except ApiError as exc:
            if exc.not_found and ref.get("optional"):
                continue
            raise varsub.SubstitutionError(f"substitute from '{kind}/{name}' error: {exc}") from None
        data = obj.get("data") or {}
        if kind == "Secret":
            data = {k: base64.b64decode(v).decode("utf-8", "surrogateescape") for k, v in data.items()}
        sources.append({str(k): str(v) for k, v in data.items()})
    return varsub.merge_variables(post.get("substitute") or {}, sources)


async def substitute(client: Client | None, ks: Mapping[str, Any], objects: list[Obj], *, strict: bool) -> list[Obj]:
    post = spec_of(ks).get("postBuild")
    if post is None or not objects:
        return objects
    first = next((o for o in objects if not _substitution_disabled(o)), None)
    try:
        values = await variables(client, ks)
    except varsub.SubstitutionError as exc:
        name = ((first or {}).get("metadata") or {}).get("name", "")
        raise CommandError(f"var substitution failed for '{name}': {exc}") from None
    strategy: varsub.SubstituteStrategy = "Always" if post.get("substituteStrategy") == "Always" else "WithVariables"
    try:
        return varsub.substitute_objects(objects, values, strict=strict, strategy=strategy)
    except varsub.ObjectSubstitutionError as exc:
        raise CommandError(f"var substitution failed for '{exc.name}': {exc.detail}") from None


def _substitution_disabled(obj: Mapping[str, Any]) -> bool:
    meta = obj.get("metadata") or {}
    return any(
        (meta.get(f) or {}).get(varsub.SUBSTITUTE_ANNOTATION) == varsub.DISABLED_VALUE
        for f in ("labels", "annotations")
    )


def set_owner_labels(obj: Obj, ks: Mapping[str, Any]) -> None:
    meta = ks.get("metadata") or {}
    labels = obj.setdefault("metadata", {}).get("labels")
    if not isinstance(labels, dict):
        labels = obj["metadata"]["labels"] = {}
    labels[NAME_LABEL] = str(meta.get("name") or "")
    labels[NAMESPACE_LABEL] = str(meta.get("namespace") or "")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _encrypted(raw: str) -> bool:
    return "sops" in raw and "ENC[" in raw


def mask_sops(obj: Obj) -> None:
    """Hide SOPS-encrypted Secret values as flux does (`**SOPS**`, or `{"mask":"**SOPS**"}` for docker configs)."""
    if obj.get("kind") != "Secret":
        return
    data: dict[str, Any] = dict(obj.get("data") or {})
    string_data: dict[str, Any] = dict(obj.get("stringData") or {})
    text = goyaml.dump(obj)
    if "sops:" in text and "mac: ENC[" in text:
        obj.pop("sops", None)
        if obj.get("type", "Opaque") == DOCKERCONFIGJSON:
            masked = json.dumps({"mask": MASK}, separators=(",", ":"))
            data = dict.fromkeys(data, _b64(masked))
            string_data = dict.fromkeys(string_data, masked)
        else:
            data = dict.fromkeys(data, _b64(MASK))
            string_data = dict.fromkeys(string_data, MASK)
    else:
        for key, value in data.items():
            try:
                raw = str(value).replace("\n", "").replace("\r", "")  # Go's decoder skips line breaks
                decoded = base64.b64decode(raw, validate=True).decode("utf-8", "replace")
            except ValueError:
                raise CommandError(f"failed to mask secret {obj['metadata'].get('name')} sops data") from None
            if _encrypted(decoded):
                data[key] = _b64(MASK)
        for key, value in string_data.items():
            if _encrypted(str(value)):
                string_data[key] = _b64(MASK)  # flux writes the base64 form here too
    if data:
        obj["data"] = data
    if string_data:
        obj["stringData"] = string_data


# -- the whole build ----------------------------------------------------------------------------------


def is_kustomization(obj: Mapping[str, Any]) -> bool:
    return str(obj.get("apiVersion") or "").startswith(GROUP + "/") and obj.get("kind") == "Kustomization"


def child_options(parent: Options, child: Mapping[str, Any]) -> Options:
    """The options to build a Kustomization found in a build: its path under the matching --local-sources."""
    meta, spec = child.get("metadata") or {}, spec_of(child)
    ref = spec.get("sourceRef") or {}
    namespace = str(meta.get("namespace") or "")
    key = f"{ref.get('kind')}/{ref.get('namespace') or namespace}/{ref.get('name')}"
    local = parent.local_sources.get(key)
    if local is None:
        raise CommandError(f"cannot get local path for {key} of kustomization {meta.get('name')}")
    path = Path(os.path.normpath(Path(local) / str(spec.get("path") or ""))).absolute()
    return dataclasses.replace(
        parent, name=str(meta.get("name")), namespace=namespace, path=path, kustomization_file=None
    )


def same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    ma, mb = a.get("metadata") or {}, b.get("metadata") or {}
    return ma.get("name") == mb.get("name") and ma.get("namespace") == mb.get("namespace")


async def build(
    client: Client | None, opts: Options, *, fallback: Obj | None = None, single: bool = False
) -> tuple[Obj, list[Obj]]:
    """The Kustomization and its built, labelled and masked objects (with --recursive, its children's too)."""
    ks = await resolve(client, opts, fallback)
    try:
        objects = await asyncio.to_thread(build_local, opts.path, spec_of(ks), opts.ignore_paths)
    except kbuild.BuildError as exc:
        message = str(exc)
        if not message.startswith("kustomize build failed"):
            message = f"kustomize build failed: {message}"
        raise CommandError(message) from None
    objects = await substitute(client, ks, objects, strict=opts.strict_substitute)
    objects = [copy.deepcopy(o) for o in objects]
    for obj in objects:
        set_owner_labels(obj, ks)
        mask_sops(obj)
    if opts.recursive and not single:
        children: list[Obj] = []
        for obj in objects:
            if is_kustomization(obj) and not same(obj, ks):
                _, sub = await build(client, child_options(opts, obj), fallback=obj)
                children.extend(sub)
        objects.extend(children)
    return ks, objects


def to_yaml(objects: Sequence[Mapping[str, Any]]) -> str:
    """flux's ObjectsToYAML: every object followed by `---`."""
    return "".join(goyaml.dump(dict(o)) + "---\n" for o in objects)
