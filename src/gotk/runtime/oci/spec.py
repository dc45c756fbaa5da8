"""Media types and annotation keys of OCI artifacts as Flux writes and reads them (fluxcd/pkg `oci`),
plus the OCI/Docker manifest media types a registry client must ask for. Constants only.
"""

from __future__ import annotations

from typing import Final

OCI_PREFIX: Final = "oci://"

# Flux artifacts (fluxcd/pkg oci/globals.go)
CONFIG_MEDIA_TYPE: Final = "application/vnd.cncf.flux.config.v1+json"
CONTENT_MEDIA_TYPE: Final = "application/vnd.cncf.flux.content.v1.tar+gzip"
HELM_CHART_CONTENT_MEDIA_TYPE: Final = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
"""Helm stores chart version `1.0.0+build` under the OCI tag `1.0.0_build` (`+` is no tag character)."""

# OCI image-spec annotations written by `flux push artifact`
SOURCE_ANNOTATION: Final = "org.opencontainers.image.source"
REVISION_ANNOTATION: Final = "org.opencontainers.image.revision"
CREATED_ANNOTATION: Final = "org.opencontainers.image.created"

# Manifests
OCI_MANIFEST: Final = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX: Final = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST: Final = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST: Final = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_TYPES: Final = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST)
INDEX_TYPES: Final = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})

# Cosign (sigstore/cosign specs/SIGNATURE_SPEC.md)
COSIGN_SIMPLESIGNING: Final = "application/vnd.dev.cosign.simplesigning.v1+json"
COSIGN_SIGNATURE_ANNOTATION: Final = "dev.cosignproject.cosign/signature"
COSIGN_TAG_SUFFIXES: Final = (".att", ".sbom", ".sig")

USER_AGENT: Final = "flux/v2"
