"""kustomize.toolkit.fluxcd.io/v1 models: Kustomization.

These dataclasses are the source of truth for the generated CRD (crdgen.py); the kustomize controller
handles the objects as plain dicts.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from gotk.api import defaults, meta, schema

GROUP = "kustomize.toolkit.fluxcd.io"
VERSION = "v1"


@dataclass(frozen=True, kw_only=True)
class CrossNamespaceSourceReference:
    """The source whose artifact is built and applied."""

    api_version: Annotated[str | None, schema.Description("API version of the source.")] = None
    kind: Annotated[
        Literal["OCIRepository", "GitRepository", "Bucket", "ExternalArtifact"],
        schema.Description("Kind of the source."),
    ]
    name: Annotated[str, schema.Description("Name of the source.")]
    namespace: Annotated[
        str | None, schema.Description("Namespace of the source; defaults to the Kustomization's.")
    ] = None


@dataclass(frozen=True, kw_only=True)
class Decryption:
    """How to decrypt SOPS-encrypted manifests before applying them."""

    provider: Annotated[Literal["sops"], schema.Description("Decryption provider; only sops.")]
    secret_ref: Annotated[
        meta.LocalObjectReference | None,
        schema.Description("Secret with the decryption keys (age, PGP, cloud KMS credentials)."),
    ] = None
    service_account_name: Annotated[
        str | None, schema.Description("Service account whose cloud identity reaches the KMS.")
    ] = None


@dataclass(frozen=True, kw_only=True)
class SubstituteReference:
    """A ConfigMap or Secret whose data provides substitution variables."""

    kind: Annotated[Literal["Secret", "ConfigMap"], schema.Description("Kind of the variables source.")]
    name: Annotated[
        str, schema.MinLength(1), schema.MaxLength(253), schema.Description("Name of the variables source.")
    ]
    optional: Annotated[
        bool | None,
        schema.Default(False),
        schema.Description("Do not fail when the source does not exist."),
    ] = None


@dataclass(frozen=True, kw_only=True)
class PostBuild:
    """Variable substitution on the built manifests (bash-style ${var} expressions)."""

    substitute: Annotated[dict[str, str] | None, schema.Description("Variables; they win over substituteFrom.")] = None
    substitute_from: Annotated[
        list[SubstituteReference] | None,
        schema.Description("ConfigMaps and Secrets holding variables, read in order."),
    ] = None
    substitute_strategy: Annotated[
        Literal["WithVariables", "Always"] | None,
        schema.Description("Substitute only when variables are defined, or always (strict mode)."),
    ] = None


@dataclass(frozen=True, kw_only=True)
class KustomizationSpec:
    """The desired state of a Kustomization: what to build from a source and how to apply it."""

    source_ref: Annotated[CrossNamespaceSourceReference, schema.Description("Source of the manifests.")]
    interval: Annotated[
        meta.Interval, schema.Fallback("10m"), schema.Description("How often the manifests are applied again.")
    ]
    retry_interval: Annotated[
        meta.Duration | None, schema.Description("Interval between retries after a failure; interval if unset.")
    ] = None
    timeout: Annotated[
        meta.Duration | None,
        schema.Fallback("5m"),  # only when interval is missing too (`timeout` below)
        schema.Description("Timeout for build, apply and health checks; defaults to interval."),
    ] = None
    path: Annotated[str | None, schema.Description("Directory in the artifact with the kustomization.yaml.")] = None
    prune: Annotated[bool, schema.Description("Delete objects that are no longer in the manifests.")]
    deletion_policy: Annotated[
        Literal["MirrorPrune", "Delete", "WaitForTermination", "Orphan"] | None,
        schema.Description("What happens to the applied objects when the Kustomization is deleted."),
    ] = None
    depends_on: Annotated[
        list[meta.DependencyReference] | None,
        schema.Description("Kustomizations that must be ready first."),
    ] = None
    health_checks: Annotated[
        list[meta.NamespacedObjectKindReference] | None,
        schema.Description("Objects that must become ready after apply."),
    ] = None
    health_check_exprs: Annotated[
        list[meta.CustomHealthCheck] | None,
        schema.Description("CEL health rules for kinds kstatus does not understand."),
    ] = None
    wait: Annotated[
        bool | None, schema.Description("Wait for every applied object to become ready; overrides healthChecks.")
    ] = None
    force: Annotated[
        bool | None,
        schema.Default(False),
        schema.Description("Recreate objects whose immutable fields changed."),
    ] = None
    service_account_name: Annotated[str | None, schema.Description("Service account to impersonate when applying.")] = (
        None
    )
    kube_config: Annotated[meta.KubeConfigReference | None, schema.Description("Apply to a remote cluster.")] = None
    target_namespace: Annotated[
        str | None,
        schema.MinLength(1),
        schema.MaxLength(63),
        schema.Description("Namespace set on every namespaced object."),
    ] = None
    name_prefix: Annotated[
        str | None,
        schema.MinLength(1),
        schema.MaxLength(200),
        schema.Description("Prefix added to every object name."),
    ] = None
    name_suffix: Annotated[
        str | None,
        schema.MinLength(1),
        schema.MaxLength(200),
        schema.Description("Suffix added to every object name."),
    ] = None
    common_metadata: Annotated[
        meta.CommonMetadata | None, schema.Description("Labels and annotations added to every object.")
    ] = None
    patches: Annotated[list[meta.Patch] | None, schema.Description("Patches applied to the build.")] = None
    images: Annotated[list[meta.Image] | None, schema.Description("Image overrides.")] = None
    components: Annotated[list[str] | None, schema.Description("Kustomize components, relative to path.")] = None
    ignore_missing_components: Annotated[bool | None, schema.Description("Skip components that do not exist.")] = None
    build_metadata: Annotated[
        list[Literal["originAnnotations", "transformerAnnotations"]] | None,
        schema.Description("Kustomize build metadata annotations to add."),
    ] = None
    post_build: Annotated[PostBuild | None, schema.Description("Variable substitution after the build.")] = None
    decryption: Annotated[Decryption | None, schema.Description("Decryption of SOPS secrets.")] = None
    ignore: Annotated[
        list[meta.IgnoreRule] | None,
        schema.Description("Fields left alone by drift correction."),
    ] = None
    suspend: meta.Suspend = None


@schema.object_markers(meta.STATUS_DEFAULT)
@dataclass(frozen=True, kw_only=True)
class KustomizationStatus:
    """The observed state of a Kustomization."""

    observed_generation: meta.ObservedGeneration = None
    conditions: meta.Conditions = None
    last_applied_revision: Annotated[str | None, schema.Description("Source revision last applied successfully.")] = (
        None
    )
    last_applied_origin_revision: Annotated[
        str | None, schema.Description("Origin revision (e.g. OCI source commit) last applied.")
    ] = None
    last_attempted_revision: Annotated[str | None, schema.Description("Source revision of the last attempt.")] = None
    inventory: Annotated[meta.ResourceInventory | None, schema.Description("Objects applied by the last success.")] = (
        None
    )
    history: Annotated[
        list[meta.HistoryEntry] | None, schema.Description("The last reconciliations, newest first.")
    ] = None
    last_handled_reconcile_at: meta.LastHandledReconcileAt = None


def interval(obj: Mapping[str, Any]) -> float:
    """spec.interval in seconds."""
    return defaults.duration(obj, KustomizationSpec, "interval")


def retry_interval(obj: Mapping[str, Any]) -> float | None:
    """spec.retryInterval in seconds; None (backoff) when unset."""
    return defaults.optional_duration(obj, KustomizationSpec, "retry_interval")


def timeout(obj: Mapping[str, Any]) -> float:
    """spec.timeout, else spec.interval, in seconds: how long build, apply and health checks may take."""
    spec = obj.get("spec") or {}
    if not spec.get("timeout") and spec.get("interval"):
        return interval(obj)
    return defaults.duration(obj, KustomizationSpec, "timeout")
