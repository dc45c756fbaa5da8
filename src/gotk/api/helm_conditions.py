"""Condition types and reasons of helm.toolkit.fluxcd.io/v2 (Flux's helm-controller condition_types.go)."""

from typing import Final

# Condition types
RELEASED: Final = "Released"
TEST_SUCCESS: Final = "TestSuccess"
REMEDIATED: Final = "Remediated"
DRIFTED: Final = "Drifted"

# Reasons of the release actions
INSTALL_SUCCEEDED: Final = "InstallSucceeded"
INSTALL_FAILED: Final = "InstallFailed"
UPGRADE_SUCCEEDED: Final = "UpgradeSucceeded"
UPGRADE_FAILED: Final = "UpgradeFailed"
TEST_SUCCEEDED: Final = "TestSucceeded"
TEST_FAILED: Final = "TestFailed"
ROLLBACK_SUCCEEDED: Final = "RollbackSucceeded"
ROLLBACK_FAILED: Final = "RollbackFailed"
UNINSTALL_SUCCEEDED: Final = "UninstallSucceeded"
UNINSTALL_FAILED: Final = "UninstallFailed"
REMEDIATION_SUCCEEDED: Final = "RemediationSucceeded"

# Reasons of the reconcile around them
ARTIFACT_FAILED: Final = "ArtifactFailed"
INIT_FAILED: Final = "InitFailed"
RETRIES_EXCEEDED: Final = "RetriesExceeded"
RELEASE_LOCKED: Final = "ReleaseLocked"
PENDING_RELEASE: Final = "PendingRelease"
INVALID_CHART_REFERENCE: Final = "InvalidChartReference"
MISSING_ROLLBACK_TARGET: Final = "MissingRollbackTarget"
CHART_MUTATE_ERROR: Final = "ChartMutateError"
REST_CLIENT_ERROR: Final = "RESTClientError"  # the release's cluster (spec.kubeConfig) cannot be reached

# Drift detection
DRIFT_DETECTED: Final = "DriftDetected"
NO_DRIFT_DETECTED: Final = "NoDriftDetected"
DRIFT_CORRECTED: Final = "DriftCorrected"
DRIFT_CORRECTION_FAILED: Final = "DriftCorrectionFailed"
DRIFT_DETECTION_KEY: Final = "helm.toolkit.fluxcd.io/driftDetection"  # "disabled" on an object opts it out
INVENTORY_BUILD_FAILED: Final = "InventoryBuildFailed"  # Warning event: status.inventory could not be built
NAMESPACE_CHECK_SKIPPED: Final = "NamespaceCheckSkipped"  # Warning event: a kind's scope was not known
