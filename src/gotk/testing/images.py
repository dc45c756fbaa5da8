"""Container images for the image automation tests and benchmarks: push a small but valid OCI image
(config and one layer, unique per tag) under many tags of a repository on a test registry."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from gotk.runtime.oci import spec
from gotk.runtime.oci.client import RegistryClient

__all__ = ["push_image", "push_tags"]

_CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
_LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"


def _blob(client: RegistryClient, repository: str, data: bytes) -> dict[str, object]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    client.push_blob(repository, data, digest)
    return {"digest": digest, "size": len(data)}


def push_image(client: RegistryClient, repository: str, tag: str, *, content: str | None = None) -> str:
    """Push an image whose layer holds `content` (default: the tag) under `tag`; returns its manifest digest."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}})
    manifest = {
        "schemaVersion": 2,
        "mediaType": spec.OCI_MANIFEST,
        "config": {"mediaType": _CONFIG_TYPE, **_blob(client, repository, config.encode())},
        "layers": [{"mediaType": _LAYER_TYPE, **_blob(client, repository, (content or tag).encode())}],
    }
    return client.push_manifest(repository, tag, json.dumps(manifest).encode(), spec.OCI_MANIFEST)


def push_tags(client: RegistryClient, repository: str, tags: Iterable[str]) -> dict[str, str]:
    """Push one image per tag; returns each tag's digest."""
    return {tag: push_image(client, repository, tag) for tag in tags}
