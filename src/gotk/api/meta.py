"""Condition types, reasons, annotations, labels and finalizers shared by every Flux kind.

These are the names Flux's pkg/apis/meta defines; every other module refers to them here.
"""

from typing import Final

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

# Annotations and labels
RECONCILE_REQUEST_ANNOTATION: Final = "reconcile.fluxcd.io/requestedAt"
FORCE_REQUEST_ANNOTATION: Final = "reconcile.fluxcd.io/forceAt"
RESET_REQUEST_ANNOTATION: Final = "reconcile.fluxcd.io/resetAt"
WATCH_LABEL: Final = "reconcile.fluxcd.io/watch"
WATCH_LABEL_ENABLED: Final = "Enabled"

# Finalizer
FINALIZER: Final = "finalizers.fluxcd.io"
