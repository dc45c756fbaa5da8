"""helm.toolkit.fluxcd.io/v2 models: HelmRelease.

The per-action settings (install, upgrade, test, rollback, uninstall, drift detection, post-renderers)
live in helm_v2_actions.py. Source of truth for the generated CRD (crdgen.py); the helm controller
handles the objects as plain dicts.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from gotk.api import defaults, meta, schema
from gotk.api import helm_v2_actions as actions

GROUP = "helm.toolkit.fluxcd.io"
VERSION = "v2"

Name = Annotated[str, schema.MinLength(1), schema.MaxLength(253)]
Namespace = Annotated[str, schema.MinLength(1), schema.MaxLength(63)]


@dataclass(frozen=True, kw_only=True)
class CrossNamespaceObjectReference:
    """The source of a chart template: a Helm repository, Git repository or bucket."""

    api_version: Annotated[str | None, schema.Description("API version of the source.")] = None
    kind: Annotated[Literal["HelmRepository", "GitRepository", "Bucket"], schema.Description("Kind of the source.")]
    name: Annotated[Name, schema.Description("Name of the source.")]
    namespace: Annotated[
        Namespace | None, schema.Description("Namespace of the source; defaults to the HelmRelease's.")
    ] = None


@dataclass(frozen=True, kw_only=True)
class CrossNamespaceSourceReference:
    """A chart already packaged by another object."""

    api_version: Annotated[str | None, schema.Description("API version of the referent.")] = None
    kind: Annotated[
        Literal["OCIRepository", "HelmChart", "ExternalArtifact"], schema.Description("Kind of the referent.")
    ]
    name: Annotated[Name, schema.Description("Name of the referent.")]
    namespace: Annotated[
        Namespace | None, schema.Description("Namespace of the referent; defaults to the HelmRelease's.")
    ] = None


@dataclass(frozen=True, kw_only=True)
class HelmChartTemplateVerification:
    """Signature verification of OCI charts."""

    provider: Annotated[
        Literal["cosign", "notation"], schema.Default("cosign"), schema.Description("Verification tool.")
    ]
    secret_ref: Annotated[
        meta.LocalObjectReference | None, schema.Description("Secret with the trusted public keys.")
    ] = None


@dataclass(frozen=True, kw_only=True)
class HelmChartTemplateSpec:
    """The HelmChart object the controller creates for this release."""

    chart: Annotated[
        str,
        schema.MinLength(1),
        schema.MaxLength(2048),
        schema.Description("Chart name in a HelmRepository, or chart path in a Git or Bucket source."),
    ]
    version: Annotated[str | None, schema.Default("*"), schema.Description("SemVer range of the chart version.")] = None
    source_ref: Annotated[CrossNamespaceObjectReference, schema.Description("Where the chart comes from.")]
    interval: Annotated[
        meta.Interval | None, schema.Description("How often the chart is checked; spec.interval when unset.")
    ] = None
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
    verify: Annotated[
        HelmChartTemplateVerification | None, schema.Description("Signature verification of OCI charts.")
    ] = None


@dataclass(frozen=True, kw_only=True)
class HelmChartTemplate:
    """Template of the HelmChart the release is installed from."""

    metadata: Annotated[meta.CommonMetadata | None, schema.Description("Labels and annotations of the HelmChart.")] = (
        None
    )
    spec: Annotated[HelmChartTemplateSpec, schema.Description("Spec of the HelmChart.")]


@schema.object_markers(
    schema.Validation(
        "(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))",
        "either chart or chartRef must be set",
    )
)
@dataclass(frozen=True, kw_only=True)
class HelmReleaseSpec:
    """The desired state of a Helm release."""

    chart: Annotated[
        HelmChartTemplate | None, schema.Description("Chart to create a HelmChart for; or use chartRef.")
    ] = None
    chart_ref: Annotated[
        CrossNamespaceSourceReference | None,
        schema.Description("Existing OCIRepository, HelmChart or ExternalArtifact with the chart."),
    ] = None
    interval: Annotated[
        meta.Interval, schema.Fallback("10m"), schema.Description("How often the release is reconciled.")
    ]
    kube_config: Annotated[meta.KubeConfigReference | None, schema.Description("Release to a remote cluster.")] = None
    suspend: meta.Suspend = None
    release_name: Annotated[
        str | None,
        schema.MinLength(1),
        schema.MaxLength(53),
        schema.Description("Helm release name; [<targetNamespace>-]<name> when unset."),
    ] = None
    target_namespace: Annotated[
        Namespace | None, schema.Description("Namespace to install into; the HelmRelease's when unset.")
    ] = None
    storage_namespace: Annotated[
        Namespace | None, schema.Description("Namespace of the Helm storage; the HelmRelease's when unset.")
    ] = None
    depends_on: Annotated[
        list[meta.DependencyReference] | None, schema.Description("HelmReleases that must be ready first.")
    ] = None
    timeout: Annotated[
        meta.Duration | None, schema.Fallback("5m0s"), schema.Description("Default timeout of every Helm action (5m).")
    ] = None
    max_history: Annotated[
        int | None,
        schema.Fallback(5),
        schema.Description("Number of release revisions kept; 0 keeps all (default 5)."),
    ] = None
    service_account_name: Annotated[
        Name | None, schema.Description("Service account to impersonate for the Helm actions.")
    ] = None
    persistent_client: Annotated[
        bool | None, schema.Description("Reuse one Kubernetes client for all Helm actions (default true).")
    ] = None
    drift_detection: Annotated[
        actions.DriftDetection | None, schema.Description("Detection and correction of cluster drift.")
    ] = None
    install: Annotated[actions.Install | None, schema.Description("Helm install settings.")] = None
    upgrade: Annotated[actions.Upgrade | None, schema.Description("Helm upgrade settings.")] = None
    test: Annotated[actions.Test | None, schema.Description("Helm test settings.")] = None
    rollback: Annotated[actions.Rollback | None, schema.Description("Helm rollback settings.")] = None
    uninstall: Annotated[actions.Uninstall | None, schema.Description("Helm uninstall settings.")] = None
    values_from: Annotated[
        list[meta.ValuesReference] | None,
        schema.Description("ConfigMaps and Secrets with values, merged in order before spec.values."),
    ] = None
    values: Annotated[schema.JSON | None, schema.Description("Helm values; merged last.")] = None
    common_metadata: Annotated[
        meta.CommonMetadata | None, schema.Description("Labels and annotations added to every object.")
    ] = None
    post_renderers: Annotated[
        list[actions.PostRenderer] | None,
        schema.Description("Post-renderers applied in order to the rendered manifests."),
    ] = None
    post_render_strategy: Annotated[
        Literal["nohooks", "combined", "separate"] | None,
        schema.Description("Whether hooks are post-rendered, with the manifests or on their own."),
    ] = None
    wait_strategy: Annotated[actions.WaitStrategy | None, schema.Description("How Helm waits for readiness.")] = None
    health_check_exprs: Annotated[
        list[meta.CustomHealthCheck] | None,
        schema.Description("CEL health rules for kinds kstatus does not understand."),
    ] = None


@dataclass(frozen=True, kw_only=True)
class TestHookStatus:
    """The last run of one Helm test hook."""

    last_started: Annotated[schema.DateTime | None, schema.Description("When the hook last started.")] = None
    last_completed: Annotated[schema.DateTime | None, schema.Description("When the hook last completed.")] = None
    phase: Annotated[str | None, schema.Description("Phase the hook was last seen in.")] = None


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """One Helm release revision as the controller recorded it."""

    api_version: Annotated[str | None, schema.Description("Version of this snapshot format.")] = None
    digest: Annotated[str, schema.Description("Checksum of the release object.")]
    name: Annotated[str, schema.Description("Release name.")]
    namespace: Annotated[str, schema.Description("Release namespace.")]
    version: Annotated[int, schema.Description("Release revision.")]
    status: Annotated[str, schema.Description("Helm release status.")]
    action: Annotated[str | None, schema.Description("Helm action that created the revision.")] = None
    chart_name: Annotated[str, schema.Description("Chart name.")]
    chart_version: Annotated[str, schema.Description("Chart version.")]
    app_version: Annotated[str | None, schema.Description("Chart app version.")] = None
    config_digest: Annotated[str, schema.Description("Checksum of the values.")]
    first_deployed: Annotated[schema.DateTime, schema.Description("When the release was first deployed.")]
    last_deployed: Annotated[schema.DateTime, schema.Description("When this revision was deployed.")]
    deleted: Annotated[schema.DateTime | None, schema.Description("When the release was deleted.")] = None
    test_hooks: Annotated[
        dict[str, TestHookStatus] | None, schema.Description("Test hooks by name, with their last run.")
    ] = None
    oci_digest: Annotated[str | None, schema.Description("Digest of the OCI chart artifact.")] = None


@schema.object_markers(meta.STATUS_DEFAULT)
@dataclass(frozen=True, kw_only=True)
class HelmReleaseStatus:
    """The observed state of a Helm release."""

    observed_generation: meta.ObservedGeneration = None
    observed_post_renderers_digest: Annotated[
        str | None, schema.Description("Digest of the post-renderers last applied.")
    ] = None
    observed_common_metadata_digest: Annotated[
        str | None, schema.Description("Digest of the common metadata last applied.")
    ] = None
    last_attempted_generation: Annotated[
        schema.Int64 | None, schema.Description("Generation of the last attempted release.")
    ] = None
    conditions: meta.Conditions = None
    helm_chart: Annotated[
        str | None, schema.Description("The HelmChart created for this release, <namespace>/<name>.")
    ] = None
    storage_namespace: Annotated[
        Namespace | None, schema.Description("Namespace of the Helm storage of the current release.")
    ] = None
    history: Annotated[list[Snapshot] | None, schema.Description("Release revisions, newest first.")] = None
    inventory: Annotated[meta.ResourceInventory | None, schema.Description("Objects of the current release.")] = None
    last_attempted_release_action: Annotated[
        Literal["install", "upgrade"] | None, schema.Description("The last Helm action attempted.")
    ] = None
    last_attempted_release_action_duration: Annotated[
        str | None, schema.Description("How long the last Helm action took.")
    ] = None
    failures: Annotated[schema.Int64 | None, schema.Description("Failures since the last success.")] = None
    install_failures: Annotated[schema.Int64 | None, schema.Description("Install failures since the last success.")] = (
        None
    )
    upgrade_failures: Annotated[schema.Int64 | None, schema.Description("Upgrade failures since the last success.")] = (
        None
    )
    last_attempted_revision: Annotated[str | None, schema.Description("Chart version of the last attempt.")] = None
    last_attempted_revision_digest: Annotated[
        str | None, schema.Description("OCI digest of the chart of the last attempt.")
    ] = None
    last_attempted_values_checksum: Annotated[
        str | None, schema.Description("Deprecated checksum of the values of the last attempt.")
    ] = None
    last_release_revision: Annotated[
        int | None, schema.Description("Deprecated: revision of the last successful release.")
    ] = None
    last_attempted_config_digest: Annotated[
        str | None, schema.Description("Digest of the values of the last attempt.")
    ] = None
    last_handled_reconcile_at: meta.LastHandledReconcileAt = None
    last_handled_force_at: Annotated[
        str | None, schema.Description("The reconcile.fluxcd.io/forceAt value last acted on.")
    ] = None
    last_handled_reset_at: Annotated[
        str | None, schema.Description("The reconcile.fluxcd.io/resetAt value last acted on.")
    ] = None


def interval(obj: Mapping[str, Any]) -> float:
    """spec.interval in seconds."""
    return defaults.duration(obj, HelmReleaseSpec, "interval")


def timeout(obj: Mapping[str, Any]) -> str:
    """spec.timeout as the Go duration Helm's actions take (`5m0s` when unset)."""
    return str(defaults.value(obj, HelmReleaseSpec, "timeout"))


def max_history(obj: Mapping[str, Any]) -> int:
    """spec.maxHistory: release revisions Helm keeps (0: all)."""
    return int(defaults.value(obj, HelmReleaseSpec, "max_history") or 0)


def chart_interval(obj: Mapping[str, Any]) -> str:
    """The interval of the HelmChart made from spec.chart: its template's, else the release's own."""
    template = ((obj.get("spec") or {}).get("chart") or {}).get("spec") or {}
    return str(template.get("interval") or defaults.value(obj, HelmReleaseSpec, "interval"))


def storage_namespace(obj: Mapping[str, Any]) -> str:
    """Where Helm stores the release: spec.storageNamespace, else the HelmRelease's own namespace (as Flux)."""
    spec = obj.get("spec") or {}
    return str(spec.get("storageNamespace") or (obj.get("metadata") or {}).get("namespace") or "")
