"""source.toolkit.fluxcd.io/v1 models for Helm: HelmRepository and HelmChart.

The other source kinds live in source_v1.py. These dataclasses are the source of truth for the generated
CRDs (crdgen.py); controllers handle the objects as plain dicts.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from gotk.api import defaults, meta, schema, source_v1


@dataclass(frozen=True, kw_only=True)
class HelmRepositorySpec:
    """The desired state of a Helm chart repository (an HTTP index or an OCI registry)."""

    url: Annotated[
        str,
        schema.Pattern(r"^(http|https|oci)://.*$"),
        schema.Description("Address of the repository index (http/https) or registry (oci)."),
    ]
    secret_ref: Annotated[
        meta.LocalObjectReference | None,
        schema.Description("Secret with username and password (or legacy TLS keys)."),
    ] = None
    cert_secret_ref: source_v1.CertSecretRef = None
    pass_credentials: Annotated[
        bool | None, schema.Description("Send the credentials to chart hosts other than the index host.")
    ] = None
    interval: Annotated[
        meta.Interval | None,
        schema.Fallback("1m"),
        schema.Description("How often the index is downloaded; ignored for oci."),
    ] = None
    insecure: Annotated[bool | None, schema.Description("Allow plain HTTP registries (oci only).")] = None
    timeout: Annotated[
        meta.Timeout | None,
        schema.Fallback("60s"),
        schema.Description("Timeout for index downloads and registry operations."),
    ] = None
    suspend: meta.Suspend = None
    access_from: Annotated[meta.AccessFrom | None, schema.Description("Namespaces allowed to use this repository.")] = (
        None
    )
    type: Annotated[
        Literal["default", "oci"] | None, schema.Description("default for an HTTP index, oci for a registry.")
    ] = None
    provider: Annotated[
        Literal["generic", "aws", "azure", "gcp"] | None,
        schema.Default("generic"),
        schema.Description("Authentication provider for oci registries; generic uses secretRef."),
    ] = None


@schema.object_markers(meta.STATUS_DEFAULT)
@dataclass(frozen=True, kw_only=True)
class HelmRepositoryStatus:
    """The observed state of a Helm repository."""

    observed_generation: meta.ObservedGeneration = None
    conditions: meta.Conditions = None
    url: Annotated[str | None, schema.Description("Download address of the cached index.")] = None
    artifact: source_v1.ArtifactField = None
    last_handled_reconcile_at: meta.LastHandledReconcileAt = None


@dataclass(frozen=True, kw_only=True)
class LocalHelmChartSourceReference:
    """The source a chart is fetched from, in the HelmChart's namespace."""

    api_version: Annotated[str | None, schema.Description("API version of the source.")] = None
    kind: Annotated[Literal["HelmRepository", "GitRepository", "Bucket"], schema.Description("Kind of the source.")]
    name: Annotated[str, schema.Description("Name of the source.")]


@dataclass(frozen=True, kw_only=True)
class HelmChartVerification:
    """Signature verification of charts pulled from OCI registries."""

    provider: Annotated[
        Literal["cosign", "notation"], schema.Default("cosign"), schema.Description("Verification tool.")
    ]
    secret_ref: Annotated[
        meta.LocalObjectReference | None,
        schema.Description("Secret with the public keys, or the notation trust policy and certificates."),
    ] = None
    match_oidc_identity: Annotated[
        list[source_v1.OIDCIdentityMatch] | None,
        schema.JsonName("matchOIDCIdentity"),
        schema.Description("Identities accepted for keyless signatures; any may match."),
    ] = None


@schema.object_markers(
    schema.Validation(
        "!has(self.verify) || self.sourceRef.kind == 'HelmRepository'",
        "spec.verify is only supported when spec.sourceRef.kind is 'HelmRepository'",
    )
)
@dataclass(frozen=True, kw_only=True)
class HelmChartSpec:
    """The desired state of a Helm chart packaged from a source."""

    chart: Annotated[
        str, schema.Description("Chart name in a HelmRepository, or chart path in a Git or Bucket source.")
    ]
    version: Annotated[
        str | None,
        schema.Default("*"),
        schema.Description("SemVer range of the chart version; ignored for Git and Bucket sources."),
    ] = None
    source_ref: Annotated[LocalHelmChartSourceReference, schema.Description("Where the chart comes from.")]
    interval: Annotated[
        meta.Interval, schema.Fallback("1m"), schema.Description("How often the source is checked for a new chart.")
    ]
    reconcile_strategy: Annotated[
        Literal["ChartVersion", "Revision"] | None,
        schema.Default("ChartVersion"),
        schema.Description("Package a new chart on a new chart version, or on every source revision."),
    ] = None
    values_files: Annotated[
        list[str] | None, schema.Description("Values files merged in order into the chart's values.yaml.")
    ] = None
    ignore_missing_values_files: Annotated[bool | None, schema.Description("Skip values files that do not exist.")] = (
        None
    )
    suspend: meta.Suspend = None
    verify: Annotated[HelmChartVerification | None, schema.Description("Signature verification of OCI charts.")] = None


@schema.object_markers(meta.STATUS_DEFAULT)
@dataclass(frozen=True, kw_only=True)
class HelmChartStatus:
    """The observed state of a Helm chart."""

    observed_generation: meta.ObservedGeneration = None
    observed_source_artifact_revision: Annotated[
        str | None, schema.Description("Source artifact revision the chart was last built from.")
    ] = None
    observed_chart_name: Annotated[str | None, schema.Description("Chart name of the last artifact.")] = None
    observed_values_files: Annotated[
        list[str] | None, schema.Description("Values files merged into the last artifact.")
    ] = None
    conditions: meta.Conditions = None
    url: Annotated[str | None, schema.Description("Download address of the last artifact.")] = None
    artifact: source_v1.ArtifactField = None
    last_handled_reconcile_at: meta.LastHandledReconcileAt = None


def repository_timeout(obj: Mapping[str, Any]) -> float:
    """A HelmRepository's spec.timeout in seconds (60s when unset): index downloads and registry operations."""
    return defaults.duration(obj, HelmRepositorySpec, "timeout")
