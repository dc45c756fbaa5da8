"""Flux-style OCI artifacts on top of `RegistryClient`, as fluxcd/pkg `oci` builds them: the
deterministic tar.gz of a directory or file as the one layer, Flux's config and content media
types, the `org.opencontainers.image.*` annotations; plus pull, list and tag. Every function blocks.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from gotk.runtime import artifacts as runtime_artifacts
from gotk.runtime import semver
from gotk.runtime.oci import refs, spec
from gotk.runtime.oci.client import RegistryClient
from gotk.runtime.oci.model import Descriptor, Manifest
from gotk.source import ignore

__all__ = [
    "DEFAULT_IGNORE_PATHS",
    "ArtifactError",
    "ArtifactInfo",
    "build",
    "list_artifacts",
    "pull",
    "push",
    "tag",
]

DEFAULT_IGNORE_PATHS: Final[tuple[str, ...]] = (
    *ignore.VCS_PATTERNS,
    *(p for p in ignore.DEFAULT_PATTERNS if p.startswith("*.")),
)
"""`flux push artifact --ignore-paths` default: the VCS files and the binary/archive extensions."""

_GZIP_MAGIC: Final = b"\x1f\x8b"


class ArtifactError(Exception):
    """An artifact cannot be built, pushed or pulled for a reason other than the registry's answer."""


@dataclass(frozen=True)
class ArtifactInfo:
    """What `flux pull|list artifact` report: the reference, digest and Flux annotations."""

    url: str
    digest: str
    source: str = ""
    revision: str = ""
    created: str = ""
    annotations: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_manifest(cls, url: str, manifest: Manifest) -> ArtifactInfo:
        notes = manifest.annotations
        return cls(
            url=url,
            digest=manifest.digest,
            source=notes.get(spec.SOURCE_ANNOTATION, ""),
            revision=notes.get(spec.REVISION_ANNOTATION, ""),
            created=notes.get(spec.CREATED_ANNOTATION, ""),
            annotations=notes,
        )


class _HashingWriter:
    """Write-through sink that hashes what passes (the uncompressed tar gives the layer diff_id)."""

    def __init__(self, inner: gzip.GzipFile) -> None:
        self.inner, self.hasher, self.written = inner, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.hasher.update(data)
        self.written += len(data)
        return self.inner.write(data)

    def tell(self) -> int:
        return self.written

    def flush(self) -> None:
        self.inner.flush()


def _walk(root: Path, matcher: ignore.Matcher, prefix: str = "") -> Iterator[tuple[str, Path, os.stat_result]]:
    with os.scandir(root) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        rel = f"{prefix}{entry.name}"
        st = entry.stat(follow_symlinks=False)
        is_dir = stat.S_ISDIR(st.st_mode)
        if not is_dir and not stat.S_ISREG(st.st_mode):
            continue  # symlinks and special files are skipped, as fluxcd/pkg tar does
        excluded = matcher(rel, is_dir)
        if not excluded:
            yield rel, Path(entry.path), st
        if is_dir and not (excluded and matcher.can_prune):
            yield from _walk(Path(entry.path), matcher, f"{rel}/")


def build(path: Path, dest: Path, ignore_paths: Sequence[str] = DEFAULT_IGNORE_PATHS) -> str:
    """Write the deterministic tar.gz of `path` (a directory, or one file) to `dest`.

    Entries are in name order with mtime 0, uid/gid 0 and no owner names; `ignore_paths` are
    gitignore patterns relative to `path`. Returns the sha256 of the uncompressed tar (diff_id).
    """
    if not path.exists():
        raise ArtifactError(f"invalid path '{path}', must point to an existing directory or file")
    matcher = ignore.Matcher(ignore.read_patterns("\n".join(ignore_paths)))
    if path.is_dir():
        entries: list[tuple[str, Path, os.stat_result]] = list(_walk(path, matcher))
    else:
        st = path.stat()
        entries = [] if matcher(path.name, False) else [(path.name, path, st)]
    with dest.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        sink = _HashingWriter(gz)
        with tarfile.open(fileobj=sink, mode="w", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
            for rel, entry_path, st in entries:
                info = tarfile.TarInfo(rel)
                info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
                info.mode = stat.S_IMODE(st.st_mode)
                if stat.S_ISDIR(st.st_mode):
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                    continue
                with entry_path.open("rb") as fh:
                    info.size = os.fstat(fh.fileno()).st_size
                    tar.addfile(info, fh)
    return "sha256:" + sink.hasher.hexdigest()


def _config_blob(created: str, diff_id: str) -> bytes:
    """The image config go-containerregistry writes for a Flux artifact (empty but for created/rootfs)."""
    config = {
        "architecture": "",
        "created": created,
        "history": [{"created": "0001-01-01T00:00:00Z"}],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "config": {},
    }
    return json.dumps(config, separators=(",", ":")).encode()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def push(
    client: RegistryClient,
    ref: refs.Reference,
    path: Path,
    *,
    source: str,
    revision: str,
    annotations: Mapping[str, str] | None = None,
    created: str | None = None,
    ignore_paths: Sequence[str] = DEFAULT_IGNORE_PATHS,
) -> str:
    """Build `path`, push it as a Flux artifact to `ref` (tag, default latest) and return its digest.

    Annotations are source, revision and created (now, RFC 3339 UTC) overlaid with `annotations`.
    """
    notes = {
        spec.CREATED_ANNOTATION: created or _now(),
        spec.SOURCE_ANNOTATION: source,
        spec.REVISION_ANNOTATION: revision,
        **(annotations or {}),
    }
    with tempfile.TemporaryDirectory(prefix="gotk-push-") as tmp:
        layer_path = Path(tmp, "artifact.tgz")
        diff_id = build(path, layer_path, ignore_paths)
        layer = Descriptor(
            spec.CONTENT_MEDIA_TYPE, runtime_artifacts.file_digest(layer_path), layer_path.stat().st_size
        )
        config_raw = _config_blob(notes[spec.CREATED_ANNOTATION], diff_id)
        config = Descriptor(spec.CONFIG_MEDIA_TYPE, "sha256:" + hashlib.sha256(config_raw).hexdigest(), len(config_raw))
        repo = ref.repository
        client.push_blob(repo, layer_path, layer.digest)
        client.push_blob(repo, config_raw, config.digest)
        manifest = {
            "schemaVersion": 2,
            "mediaType": spec.OCI_MANIFEST,
            "config": config.to_json(),
            "layers": [layer.to_json()],
            "annotations": dict(sorted(notes.items())),
        }
        raw = json.dumps(manifest, separators=(",", ":")).encode()
        return client.push_manifest(repo, ref.digest or ref.tag or refs.DEFAULT_TAG, raw, spec.OCI_MANIFEST)


def _artifact_manifest(client: RegistryClient, ref: refs.Reference) -> Manifest:
    manifest = client.get_manifest(ref.repository, ref.identifier)
    if manifest.is_index:
        raise ArtifactError(f"'{ref}' is an image index, not an artifact manifest")
    return manifest


def pull(client: RegistryClient, ref: refs.Reference, output: Path) -> ArtifactInfo:
    """Download the first layer of `ref` and extract it (a tar.gz) into the directory `output`."""
    manifest = _artifact_manifest(client, ref)
    layers = manifest.layers
    if not layers:
        raise ArtifactError("no layers found in artifact")
    with tempfile.TemporaryDirectory(prefix="gotk-pull-") as tmp:
        blob = Path(tmp, "layer")
        client.fetch_blob(ref.repository, layers[0].digest, blob)
        with blob.open("rb") as fh:
            if fh.read(2) != _GZIP_MAGIC:
                raise ArtifactError(f"layer {layers[0].digest} is not a gzip-compressed tarball")
        extracted = Path(tmp, "content")
        try:
            runtime_artifacts.safe_extract(blob, extracted, max_size=None)
        except runtime_artifacts.ArtifactError as exc:
            raise ArtifactError(f"failed to extract layer contents from artifact: {exc}") from None
        shutil.copytree(extracted, output, dirs_exist_ok=True)
    return ArtifactInfo.from_manifest(str(ref), manifest)


def list_artifacts(
    client: RegistryClient, repo: refs.Reference, *, semver_filter: str = "", regex_filter: str = ""
) -> list[ArtifactInfo]:
    """The tags of `repo` (newest name first, cosign tags skipped) with their manifest metadata."""
    constraint = None
    if semver_filter:
        try:
            constraint = semver.Constraint(semver_filter)
        except semver.SemverError as exc:
            raise ArtifactError(f"semver '{semver_filter}' parse error: {exc}") from None
    try:
        pattern = re.compile(regex_filter) if regex_filter else None
    except re.error as exc:
        raise ArtifactError(f"regex '{regex_filter}' parse error: {exc}") from None
    infos: list[ArtifactInfo] = []
    for name in sorted(client.list_tags(repo.repository), reverse=True):
        if refs.is_cosign_tag(name):
            continue
        if constraint is not None:
            try:
                if not constraint.check(semver.parse_tag(name)):
                    continue
            except semver.VersionError:
                continue
        if pattern is not None and not pattern.search(name):
            continue
        ref = repo.with_tag(name)
        infos.append(ArtifactInfo.from_manifest(str(ref), client.get_manifest(repo.repository, name)))
    return infos


def tag(client: RegistryClient, ref: refs.Reference, new_tag: str) -> refs.Reference:
    """Point `new_tag` at the manifest `ref` names; returns the new reference."""
    try:
        target = refs.parse(f"{ref.name}:{new_tag}")
    except refs.ReferenceError as exc:
        raise ArtifactError(str(exc)) from None
    manifest = client.get_manifest(ref.repository, ref.identifier)
    client.push_manifest(ref.repository, new_tag, manifest.raw, manifest.media_type or spec.OCI_MANIFEST)
    return target
