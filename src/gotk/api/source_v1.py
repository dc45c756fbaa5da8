"""source.toolkit.fluxcd.io/v1 models: GitRepository, OCIRepository, Bucket and ExternalArtifact.

HelmRepository and HelmChart live in source_v1_helm.py. These dataclasses are the source of truth for the
generated CRDs (crdgen.py); controllers handle the objects as plain dicts.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from gotk.api import defaults, meta, schema

GROUP = "source.toolkit.fluxcd.io"
VERSION = "v1"

IntervalField = Annotated[
    meta.Interval, schema.Fallback("1m"), schema.Description("How often the source is checked for changes.")
]
TimeoutField = Annotated[
    meta.Timeout | None, schema.Default("60s"), schema.Description("Timeout for remote operations.")
]
IgnoreField = Annotated[str | None, schema.Description("Paths to exclude from the artifact, in .gitignore syntax.")]
ProxySecretRef = Annotated[
    meta.LocalObjectReference | None,
    schema.Description("Secret with the proxy address, username and password."),
]
CertSecretRef = Annotated[
    meta.LocalObjectReference | None,
    schema.Description("Secret with TLS data: ca.crt, and tls.crt with tls.key for client auth."),
]
ArtifactField = Annotated[meta.Artifact | None, schema.Description("The last successfully built artifact.")]


@dataclass(frozen=True, kw_only=True)
class GitRepositoryRef:
    """The Git reference to check out; commit > name > semver > tag > branch."""

    branch: Annotated[str | None, schema.Description("Branch to check out; master when nothing is set.")] = None
    tag: Annotated[str | None, schema.Description("Tag to check out; wins over branch.")] = None
    semver: Annotated[str | None, schema.Description("SemVer range; the highest matching tag is checked out.")] = None
    name: Annotated[str | None, schema.Description("Full reference to check out, e.g. refs/pull/420/head.")] = None
    commit: Annotated[str | None, schema.Description("Commit SHA to check out; with a branch, it must be on it.")] = (
        None
    )


@dataclass(frozen=True, kw_only=True)
class GitRepositoryVerification:
    """OpenPGP or SSH signature verification of the checked out commit or tag."""

    mode: Annotated[
        Literal["head", "HEAD", "Tag", "TagAndHEAD"] | None,
        schema.Default("HEAD"),
        schema.Description("What to verify: the HEAD commit, the tag, or both."),
    ] = None
    secret_ref: Annotated[
        meta.LocalObjectReference,
        schema.Description("Secret with the trusted public keys (*.asc or *.sshpub)."),
    ]


@dataclass(frozen=True, kw_only=True)
class GitRepositoryInclude:
    """Copies the artifact of another GitRepository into this one."""

    repository: Annotated[meta.LocalObjectReference, schema.Description("The GitRepository to include.")]
    from_path: Annotated[str | None, schema.Description("Path in the included artifact to copy.")] = None
    to_path: Annotated[
        str | None, schema.Description("Destination path; defaults to the included repository's name.")
    ] = None


@schema.object_markers(
    schema.Validation(
        "!has(self.serviceAccountName) || (has(self.provider) && (self.provider == 'azure' || self.provider == 'aws'))",
        "serviceAccountName can only be set when provider is 'azure' or 'aws'",
    )
)
@dataclass(frozen=True, kw_only=True)
class GitRepositorySpec:
    """The desired state of a Git repository source."""

    url: Annotated[
        str,
        schema.Pattern(r"^(http|https|ssh)://.*$"),
        schema.Description("Repository URL: http, https or ssh."),
    ]
    secret_ref: Annotated[
        meta.LocalObjectReference | None,
        schema.Description("Secret with credentials: basic auth, bearer token, SSH key or GitHub App keys."),
    ] = None
    provider: Annotated[
        Literal["generic", "aws", "azure", "github"] | None,
        schema.Description("Authentication provider; generic uses secretRef."),
    ] = None
    service_account_name: Annotated[
        str | None, schema.Description("Service account whose identity is used with the aws/azure provider.")
    ] = None
    interval: IntervalField
    timeout: TimeoutField = None
    ref: Annotated[GitRepositoryRef | None, schema.Description("Git reference to check out.")] = None
    verify: Annotated[GitRepositoryVerification | None, schema.Description("Signature verification settings.")] = None
    proxy_secret_ref: ProxySecretRef = None
    ignore: IgnoreField = None
    suspend: meta.Suspend = None
    recurse_submodules: Annotated[
        bool | None, schema.Description("Also clone the submodules, with the same credentials.")
    ] = None
    include: Annotated[list[GitRepositoryInclude] | None, schema.Description("Other GitRepositories to include.")] = (
        None
    )
    sparse_checkout: Annotated[
        list[str] | None, schema.Description("Directories to check out; the whole tree when empty.")
    ] = None


@schema.object_markers(meta.STATUS_DEFAULT)
@dataclass(frozen=True, kw_only=True)
class GitRepositoryStatus:
    """The observed state of a Git repository source."""

    observed_generation: meta.ObservedGeneration = None
    conditions: meta.Conditions = None
    artifact: ArtifactField = None
    included_artifacts: Annotated[
        list[meta.Artifact] | None, schema.Description("Artifacts of the included repositories.")
    ] = None
    observed_ignore: Annotated[str | None, schema.Description("spec.ignore of the last artifact.")] = None
    observed_recurse_submodules: Annotated[
        bool | None, schema.Description("spec.recurseSubmodules of the last artifact.")
    ] = None
    observed_include: Annotated[
        list[GitRepositoryInclude] | None, schema.Description("spec.include of the last artifact.")
    ] = None
    observed_sparse_checkout: Annotated[
        list[str] | None, schema.Description("spec.sparseCheckout of the last artifact.")
    ] = None
    source_verification_mode: Annotated[
        str | None, schema.Description("Verification mode used for the last artifact.")
    ] = None
    last_handled_reconcile_at: meta.LastHandledReconcileAt = None


@dataclass(frozen=True, kw_only=True)
class OCIRepositoryRef:
    """The OCI artifact to pull; digest > semver > tag."""

    digest: Annotated[str | None, schema.Description("Image digest to pull, <algorithm>:<hex>.")] = None
    semver: Annotated[str | None, schema.Description("SemVer range; the highest matching tag is pulled.")] = None
    semver_filter: Annotated[
        str | None, schema.Description("Regex the tags must match before the semver range is applied.")
    ] = None
    tag: Annotated[str | None, schema.Description("Tag to pull; latest when nothing is set.")] = None


@dataclass(frozen=True, kw_only=True)
class OCILayerSelector:
    """Which layer of the OCI artifact is used and how."""

    media_type: Annotated[str | None, schema.Description("Media type of the layer; the first layer when empty.")] = None
    operation: Annotated[
        Literal["extract", "copy"] | None,
        schema.Description("extract untars the layer; copy stores the layer as is."),
    ] = None


@dataclass(frozen=True, kw_only=True)
class OIDCIdentityMatch:
    """Keyless signing identity; issuer and subject are regular expressions."""

    issuer: Annotated[str, schema.Description("Regex the OIDC issuer must match.")]
    subject: Annotated[str, schema.Description("Regex the OIDC subject must match.")]


@dataclass(frozen=True, kw_only=True)
class OCIRepositoryVerification:
    """Signature verification of OCI artifacts with cosign or notation."""

    provider: Annotated[
        Literal["cosign", "notation"], schema.Default("cosign"), schema.Description("Verification tool.")
    ]
    secret_ref: Annotated[
        meta.LocalObjectReference | None,
        schema.Description("Secret with the public keys, or the notation trust policy and certificates."),
    ] = None
    match_oidc_identity: Annotated[
        list[OIDCIdentityMatch] | None,
        schema.JsonName("matchOIDCIdentity"),
        schema.Description("Identities accepted for keyless signatures; any may match."),
    ] = None
    trusted_root_secret_ref: Annotated[
        meta.LocalObjectReference | None,
        schema.Description("Secret with a custom Sigstore trusted_root.json."),
    ] = None


@dataclass(frozen=True, kw_only=True)
class OCIRepositorySpec:
    """The desired state of an OCI artifact source."""

    url: Annotated[str, schema.Pattern(r"^oci://.*$"), schema.Description("Artifact address, oci://<host>/<repo>.")]
    ref: Annotated[OCIRepositoryRef | None, schema.Description("The artifact version to pull.")] = None
    layer_selector: Annotated[
        OCILayerSelector | None, schema.Description("The layer to use; the first one when absent.")
    ] = None
    provider: Annotated[
        Literal["generic", "aws", "azure", "gcp"] | None,
        schema.Default("generic"),
        schema.Description("Authentication provider; generic uses secretRef."),
    ] = None
    secret_ref: Annotated[meta.LocalObjectReference | None, schema.Description("Secret of type dockerconfigjson.")] = (
        None
    )
    verify: Annotated[OCIRepositoryVerification | None, schema.Description("Signature verification settings.")] = None
    service_account_name: Annotated[
        str | None, schema.Description("Service account whose imagePullSecrets are used.")
    ] = None
    cert_secret_ref: CertSecretRef = None
    proxy_secret_ref: ProxySecretRef = None
    interval: IntervalField
    timeout: TimeoutField = None
    ignore: IgnoreField = None
    insecure: Annotated[bool | None, schema.Description("Allow plain HTTP registries.")] = None
    suspend: meta.Suspend = None


@schema.object_markers(meta.STATUS_DEFAULT)
@dataclass(frozen=True, kw_only=True)
class OCIRepositoryStatus:
    """The observed state of an OCI artifact source."""

    observed_generation: meta.ObservedGeneration = None
    conditions: meta.Conditions = None
    url: Annotated[str | None, schema.Description("Download address of the last artifact.")] = None
    artifact: ArtifactField = None
    observed_ignore: Annotated[str | None, schema.Description("spec.ignore of the last artifact.")] = None
    observed_layer_selector: Annotated[
        OCILayerSelector | None, schema.Description("spec.layerSelector of the last artifact.")
    ] = None
    last_handled_reconcile_at: meta.LastHandledReconcileAt = None


@dataclass(frozen=True, kw_only=True)
class BucketSTSSpec:
    """A security token service that issues temporary bucket credentials."""

    provider: Annotated[Literal["aws", "ldap"], schema.Description("STS provider.")]
    endpoint: Annotated[str, schema.Pattern(r"^(http|https)://.*$"), schema.Description("STS endpoint address.")]
    secret_ref: Annotated[
        meta.LocalObjectReference | None, schema.Description("Secret with the STS credentials (ldap).")
    ] = None
    cert_secret_ref: Annotated[
        meta.LocalObjectReference | None, schema.Description("Secret with TLS data for the STS endpoint.")
    ] = None


@schema.object_markers(
    schema.Validation(
        "self.provider == 'aws' || self.provider == 'generic' || !has(self.sts)",
        "STS configuration is only supported for the 'aws' and 'generic' Bucket providers",
    ),
    schema.Validation(
        "self.provider != 'aws' || !has(self.sts) || self.sts.provider == 'aws'",
        "'aws' is the only supported STS provider for the 'aws' Bucket provider",
    ),
    schema.Validation(
        "self.provider != 'generic' || !has(self.sts) || self.sts.provider == 'ldap'",
        "'ldap' is the only supported STS provider for the 'generic' Bucket provider",
    ),
    schema.Validation(
        "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.secretRef)",
        "spec.sts.secretRef is not required for the 'aws' STS provider",
    ),
    schema.Validation(
        "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.certSecretRef)",
        "spec.sts.certSecretRef is not required for the 'aws' STS provider",
    ),
    schema.Validation(
        "self.provider != 'generic' || !has(self.serviceAccountName)",
        "ServiceAccountName is not supported for the 'generic' Bucket provider",
    ),
    schema.Validation(
        "!has(self.secretRef) || !has(self.serviceAccountName)",
        "cannot set both .spec.secretRef and .spec.serviceAccountName",
    ),
)
@dataclass(frozen=True, kw_only=True)
class BucketSpec:
    """The desired state of an S3-compatible, GCS or Azure Blob bucket source."""

    # The Literal sits inside its own Annotated: see schema.py on how unions can reorder enums.
    provider: (
        Annotated[
            Literal["generic", "aws", "gcp", "azure"],
            schema.Default("generic"),
            schema.Description("Storage API; generic is any S3-compatible service."),
        ]
        | None
    ) = None
    bucket_name: Annotated[str, schema.Description("Name of the bucket.")]
    endpoint: Annotated[str, schema.Description("Storage endpoint host, optionally with a port.")]
    sts: Annotated[BucketSTSSpec | None, schema.Description("Temporary credentials from an STS.")] = None
    insecure: Annotated[bool | None, schema.Description("Use plain HTTP.")] = None
    region: Annotated[str | None, schema.Description("Bucket region.")] = None
    prefix: Annotated[str | None, schema.Description("Only fetch objects under this key prefix.")] = None
    secret_ref: Annotated[
        meta.LocalObjectReference | None, schema.Description("Secret with the access credentials.")
    ] = None
    service_account_name: Annotated[str | None, schema.Description("Service account whose cloud identity is used.")] = (
        None
    )
    cert_secret_ref: CertSecretRef = None
    proxy_secret_ref: ProxySecretRef = None
    interval: IntervalField
    timeout: TimeoutField = None
    ignore: IgnoreField = None
    suspend: meta.Suspend = None


@schema.object_markers(meta.STATUS_DEFAULT)
@dataclass(frozen=True, kw_only=True)
class BucketStatus:
    """The observed state of a bucket source."""

    observed_generation: meta.ObservedGeneration = None
    conditions: meta.Conditions = None
    url: Annotated[str | None, schema.Description("Download address of the last artifact.")] = None
    artifact: ArtifactField = None
    observed_ignore: Annotated[str | None, schema.Description("spec.ignore of the last artifact.")] = None
    last_handled_reconcile_at: meta.LastHandledReconcileAt = None


@dataclass(frozen=True, kw_only=True)
class ExternalArtifactSpec:
    """An artifact produced by a controller other than source-controller."""

    source_ref: Annotated[
        meta.NamespacedObjectKindReference | None,
        schema.Description("The object the artifact was generated from."),
    ] = None


@dataclass(frozen=True, kw_only=True)
class ExternalArtifactStatus:
    """The artifact the producer published."""

    artifact: ArtifactField = None
    conditions: meta.Conditions = None


def interval(obj: Mapping[str, Any], model: type) -> float:
    """spec.interval of a source of spec `model`, in seconds."""
    return defaults.duration(obj, model, "interval")


def timeout(obj: Mapping[str, Any], model: type) -> float:
    """spec.timeout of a source of spec `model`, in seconds (60s when unset)."""
    return defaults.duration(obj, model, "timeout")
