"""Condition types, reasons, annotations, labels and finalizers shared by every Flux kind.

These are the names Flux's pkg/apis/meta defines; every other module refers to them here.
It also holds the typed models several kinds share (Condition, Artifact, references, kustomize
patches and selectors, inventory, history) and the duration patterns.
"""

from dataclasses import dataclass
from typing import Annotated, Final, Literal, TypeAlias

from gotk.api import schema

# Condition types
READY: Final = "Ready"
RECONCILING: Final = "Reconciling"
STALLED: Final = "Stalled"
HEALTHY: Final = "Healthy"

# Generic reasons
SUCCEEDED: Final = "Succeeded"
FAILED: Final = "Failed"
PROGRESSING: Final = "Progressing"
PROGRESSING_WITH_RETRY: Final = "ProgressingWithRetry"
SUSPENDED: Final = "Suspended"
DEPENDENCY_NOT_READY: Final = "DependencyNotReady"
INVALID_PATH: Final = "InvalidPath"
INVALID_URL: Final = "InvalidURL"
INSECURE_CONNECTIONS_DISALLOWED: Final = "InsecureConnectionsDisallowed"
UNSUPPORTED_CONNECTION_TYPE: Final = "UnsupportedConnectionType"
PRUNE_FAILED: Final = "PruneFailed"
ARTIFACT_FAILED: Final = "ArtifactFailed"
BUILD_FAILED: Final = "BuildFailed"
HEALTH_CHECK_FAILED: Final = "HealthCheckFailed"
HEALTH_CHECK_CANCELED: Final = "HealthCheckCanceled"
RECONCILIATION_SUCCEEDED: Final = "ReconciliationSucceeded"
RECONCILIATION_FAILED: Final = "ReconciliationFailed"
INVALID_CEL_EXPRESSION: Final = "InvalidCELExpression"
FEATURE_GATE_DISABLED: Final = "FeatureGateDisabled"
ACCESS_DENIED: Final = "AccessDenied"
TERMINAL_ERROR: Final = "Reconciliation failed terminally due to configuration error"  # Flux's message prefix

# Annotations and labels
RECONCILE_REQUEST_ANNOTATION: Final = "reconcile.fluxcd.io/requestedAt"
FORCE_REQUEST_ANNOTATION: Final = "reconcile.fluxcd.io/forceAt"
RESET_REQUEST_ANNOTATION: Final = "reconcile.fluxcd.io/resetAt"
WATCH_LABEL: Final = "reconcile.fluxcd.io/watch"
WATCH_LABEL_ENABLED: Final = "Enabled"

# Finalizer
FINALIZER: Final = "finalizers.fluxcd.io"

# Duration patterns (metav1.Duration as Flux constrains it)
INTERVAL_PATTERN: Final = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"
TIMEOUT_PATTERN: Final = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"
"""Source timeouts: like INTERVAL_PATTERN but without hours."""
DIGEST_PATTERN: Final = r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"
CONDITION_TYPE_PATTERN: Final = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
)
CONDITION_REASON_PATTERN: Final = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"

Interval: TypeAlias = Annotated[str, schema.Pattern(INTERVAL_PATTERN)]
Timeout: TypeAlias = Annotated[str, schema.Pattern(TIMEOUT_PATTERN)]
"""A source timeout; hours are not accepted."""
Duration: TypeAlias = Annotated[str, schema.Pattern(INTERVAL_PATTERN)]
"""Any other duration field Flux constrains with the interval pattern (timeout, retryInterval)."""


@dataclass(frozen=True, kw_only=True)
class Condition:
    """One aspect of the object's current state (metav1.Condition)."""

    type: Annotated[
        str,
        schema.Pattern(CONDITION_TYPE_PATTERN),
        schema.MaxLength(316),
        schema.Description("Condition type in CamelCase, e.g. Ready."),
    ]
    status: Annotated[Literal["True", "False", "Unknown"], schema.Description("Status of the condition.")]
    observed_generation: Annotated[
        schema.Int64 | None,
        schema.Minimum(0),
        schema.Description("The .metadata.generation the condition was set from."),
    ] = None
    last_transition_time: Annotated[schema.DateTime, schema.Description("When the condition last changed status.")]
    reason: Annotated[
        str,
        schema.Pattern(CONDITION_REASON_PATTERN),
        schema.MinLength(1),
        schema.MaxLength(1024),
        schema.Description("Programmatic identifier of the cause of the last transition, in CamelCase."),
    ]
    message: Annotated[str, schema.MaxLength(32768), schema.Description("Human-readable detail about the transition.")]


Conditions: TypeAlias = Annotated[
    list[Condition] | None, schema.Description("Conditions holds the state of the object.")
]


@dataclass(frozen=True, kw_only=True)
class Artifact:
    """The output of a source reconciliation, served by the source controller."""

    path: Annotated[str, schema.Description("Path of the artifact relative to the storage root.")]
    url: Annotated[str, schema.Description("HTTP address the artifact can be downloaded from.")]
    revision: Annotated[str, schema.Description("Human-readable revision, e.g. main@sha1:<commit>.")]
    digest: Annotated[
        str,
        schema.Pattern(DIGEST_PATTERN),
        schema.Description("Digest of the artifact file, <algorithm>:<checksum>."),
    ]
    last_update_time: Annotated[schema.DateTime, schema.Description("When the artifact last changed.")]
    size: Annotated[schema.Int64 | None, schema.Description("Size of the artifact file in bytes.")] = None
    metadata: Annotated[
        dict[str, str] | None, schema.Description("Metadata of the artifact, e.g. OCI annotations.")
    ] = None


@dataclass(frozen=True, kw_only=True)
class LocalObjectReference:
    """A reference to an object in the same namespace."""

    name: Annotated[str, schema.Description("Name of the referent.")]


@dataclass(frozen=True, kw_only=True)
class SecretKeyReference:
    """A reference to one key of a Secret in the same namespace."""

    name: Annotated[str, schema.Description("Name of the Secret.")]
    key: Annotated[str | None, schema.Description("Key in the Secret; each consumer has a default.")] = None


@dataclass(frozen=True, kw_only=True)
class NamespacedObjectReference:
    """A reference to an object, by default in the referrer's namespace."""

    name: Annotated[str, schema.Description("Name of the referent.")]
    namespace: Annotated[str | None, schema.Description("Namespace of the referent; defaults to the referrer's.")] = (
        None
    )


@dataclass(frozen=True, kw_only=True)
class NamespacedObjectKindReference:
    """A reference to an object of any kind, by default in the referrer's namespace."""

    api_version: Annotated[str | None, schema.Description("API version of the referent.")] = None
    kind: Annotated[str, schema.Description("Kind of the referent.")]
    name: Annotated[str, schema.Description("Name of the referent.")]
    namespace: Annotated[str | None, schema.Description("Namespace of the referent; defaults to the referrer's.")] = (
        None
    )


@dataclass(frozen=True, kw_only=True)
class DependencyReference:
    """An object of the same kind that must be ready before this one is reconciled."""

    name: Annotated[str, schema.Description("Name of the dependency.")]
    namespace: Annotated[
        str | None, schema.Description("Namespace of the dependency; defaults to the dependent's.")
    ] = None
    ready_expr: Annotated[
        str | None,
        schema.Description("CEL expression over `dep` and `self` that replaces the built-in Ready check."),
    ] = None


@schema.object_markers(
    schema.Validation(
        "has(self.configMapRef) || has(self.secretRef)",
        "exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified",
    ),
    schema.Validation(
        "!has(self.configMapRef) || !has(self.secretRef)",
        "exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified",
    ),
)
@dataclass(frozen=True, kw_only=True)
class KubeConfigReference:
    """Where to find the kubeconfig for a remote cluster: a Secret key or a workload-identity ConfigMap."""

    secret_ref: Annotated[
        SecretKeyReference | None,
        schema.Description("Secret holding a kubeconfig under `key` (default value or value.yaml)."),
    ] = None
    config_map_ref: Annotated[
        LocalObjectReference | None,
        schema.Description("ConfigMap describing a cloud cluster to reach with workload identity."),
    ] = None


@dataclass(frozen=True, kw_only=True)
class ValuesReference:
    """A Secret or ConfigMap key whose content is merged into Helm values."""

    kind: Annotated[Literal["Secret", "ConfigMap"], schema.Description("Kind of the values source.")]
    name: Annotated[str, schema.MinLength(1), schema.MaxLength(253), schema.Description("Name of the values source.")]
    values_key: Annotated[
        str | None,
        schema.Pattern(r"^[\-._a-zA-Z0-9]+$"),
        schema.MaxLength(253),
        schema.Description("Data key holding the values; defaults to values.yaml."),
    ] = None
    target_path: Annotated[
        str | None,
        schema.Pattern(r"^([a-zA-Z0-9_\-.\\\/]|\[[0-9]{1,5}\])+$"),
        schema.MaxLength(250),
        schema.Description("Values path (helm --set syntax) the whole key value is written to."),
    ] = None
    optional: Annotated[bool | None, schema.Description("Do not fail when the source or key does not exist.")] = None
    literal: Annotated[
        bool | None, schema.Description("Treat the targetPath value as a literal (helm --set-literal).")
    ] = None


@dataclass(frozen=True, kw_only=True)
class Selector:
    """Selects resources by GVK, name, namespace and label/annotation selectors (regex matching)."""

    group: Annotated[str | None, schema.Description("API group of the resources.")] = None
    version: Annotated[str | None, schema.Description("API version of the resources.")] = None
    kind: Annotated[str | None, schema.Description("Kind of the resources.")] = None
    namespace: Annotated[str | None, schema.Description("Namespace of the resources.")] = None
    name: Annotated[str | None, schema.Description("Name of the resources.")] = None
    annotation_selector: Annotated[
        str | None, schema.Description("Annotation selector, as in a label selector expression.")
    ] = None
    label_selector: Annotated[str | None, schema.Description("Label selector expression.")] = None


@dataclass(frozen=True, kw_only=True)
class Patch:
    """A strategic-merge or JSON6902 patch applied to the selected resources."""

    patch: Annotated[str, schema.Description("The patch document, YAML or JSON.")]
    target: Annotated[Selector | None, schema.Description("Resources the patch applies to.")] = None


@dataclass(frozen=True, kw_only=True)
class Image:
    """A kustomize image override."""

    name: Annotated[str, schema.Description("Image name to match, without tag.")]
    new_name: Annotated[str | None, schema.Description("Replacement image name.")] = None
    new_tag: Annotated[str | None, schema.Description("Replacement tag.")] = None
    digest: Annotated[str | None, schema.Description("Replacement digest; wins over newTag.")] = None


@dataclass(frozen=True, kw_only=True)
class CustomHealthCheck:
    """CEL expressions deciding the health of objects of one kind."""

    api_version: Annotated[str, schema.Description("API version of the objects.")]
    kind: Annotated[str | None, schema.Description("Kind of the objects.")] = None
    current: Annotated[str, schema.Description("CEL expression true when the object is healthy.")]
    in_progress: Annotated[str | None, schema.Description("CEL expression true while the object is progressing.")] = (
        None
    )
    failed: Annotated[str | None, schema.Description("CEL expression true when the object failed.")] = None


@dataclass(frozen=True, kw_only=True)
class IgnoreRule:
    """JSON pointers to leave alone (drift detection) on the selected objects."""

    paths: Annotated[list[str], schema.Description("JSON Pointer paths to ignore.")]
    target: Annotated[Selector | None, schema.Description("Objects the rule applies to; all when absent.")] = None


@dataclass(frozen=True, kw_only=True)
class CommonMetadata:
    """Labels and annotations added to objects."""

    labels: Annotated[dict[str, str] | None, schema.Description("Labels to add.")] = None
    annotations: Annotated[dict[str, str] | None, schema.Description("Annotations to add.")] = None


@dataclass(frozen=True, kw_only=True)
class NamespaceSelector:
    """Selects namespaces by labels."""

    match_labels: Annotated[dict[str, str] | None, schema.Description("Labels the namespace must carry.")] = None


@dataclass(frozen=True, kw_only=True)
class AccessFrom:
    """Which namespaces may refer to this object."""

    namespace_selectors: Annotated[
        list[NamespaceSelector], schema.Description("Namespaces allowed; the selectors are OR-ed.")
    ]


@dataclass(frozen=True, kw_only=True)
class LabelSelectorRequirement:
    """A label key, an operator (In, NotIn, Exists, DoesNotExist) and values."""

    key: Annotated[str, schema.Description("Label key.")]
    operator: Annotated[str, schema.Description("In, NotIn, Exists or DoesNotExist.")]
    values: Annotated[list[str] | None, schema.ListType("atomic"), schema.Description("Values.")] = None


@schema.object_markers(schema.MapType("atomic"))
@dataclass(frozen=True, kw_only=True)
class LabelSelector:
    """A Kubernetes label selector; the requirements are AND-ed."""

    match_expressions: Annotated[
        list[LabelSelectorRequirement] | None,
        schema.ListType("atomic"),
        schema.Description("Label selector requirements."),
    ] = None
    match_labels: Annotated[dict[str, str] | None, schema.Description("Labels to match exactly.")] = None


@dataclass(frozen=True, kw_only=True)
class ResourceRef:
    """One inventory entry."""

    id: Annotated[str, schema.Description("Object id, <namespace>_<name>_<group>_<kind>.")]
    v: Annotated[str, schema.Description("API version of the object.")]


@dataclass(frozen=True, kw_only=True)
class ResourceInventory:
    """The objects applied by the last successful reconciliation."""

    entries: Annotated[list[ResourceRef], schema.Description("The applied objects.")]


@dataclass(frozen=True, kw_only=True)
class HistoryEntry:
    """A summary of reconciliations of one revision with one outcome (meta.History snapshot)."""

    digest: Annotated[str, schema.Description("Digest of the applied inputs.")]
    first_reconciled: Annotated[schema.DateTime, schema.Description("First reconciliation of this entry.")]
    last_reconciled: Annotated[schema.DateTime, schema.Description("Latest reconciliation of this entry.")]
    last_reconciled_duration: Annotated[str, schema.Description("Duration of the latest reconciliation.")]
    last_reconciled_status: Annotated[str, schema.Description("Outcome of the latest reconciliation.")]
    total_reconciliations: Annotated[schema.Int64, schema.Description("Number of reconciliations.")]
    metadata: Annotated[dict[str, str] | None, schema.Description("Extra data such as the source revision.")] = None


# Field types every kind's status (and most specs) share
STATUS_DEFAULT: Final = schema.Default({"observedGeneration": -1})
"""Object marker for status models: a new object reports observedGeneration -1."""
ObservedGeneration: TypeAlias = Annotated[
    schema.Int64 | None, schema.Description("The last generation the controller reconciled.")
]
LastHandledReconcileAt: TypeAlias = Annotated[
    str | None, schema.Description("The reconcile.fluxcd.io/requestedAt value last acted on.")
]
Suspend: TypeAlias = Annotated[bool | None, schema.Description("Stop reconciling this object until set back to false.")]
