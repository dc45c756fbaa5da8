"""Condition reasons of image.toolkit.fluxcd.io/v1 (Flux's image-reflector-controller and
image-automation-controller condition_types.go); the condition types are the kstatus ones of `meta`."""

from typing import Final

# ImageRepository, ImagePolicy
IMAGE_URL_INVALID: Final = "ImageURLInvalid"
AUTHENTICATION_FAILED: Final = "AuthenticationFailed"
READ_OPERATION_FAILED: Final = "ReadOperationFailed"
DEPENDENCY_NOT_READY: Final = "DependencyNotReady"
INTERVAL_NOT_CONFIGURED: Final = "IntervalNotConfigured"
INVALID_POLICY: Final = "InvalidPolicy"

# ImageUpdateAutomation
INVALID_UPDATE_STRATEGY: Final = "InvalidUpdateStrategy"
INVALID_SOURCE_CONFIGURATION: Final = "InvalidSourceConfiguration"
SOURCE_MANAGER_FAILED: Final = "SourceManagerFailed"
GIT_OPERATION_FAILED: Final = "GitOperationFailed"
UPDATE_FAILED: Final = "UpdateFailed"
INVALID_POLICY_SELECTOR: Final = "InvalidPolicySelector"
REMOVED_TEMPLATE_FIELD: Final = "RemovedTemplateField"
