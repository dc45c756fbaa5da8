"""helm.toolkit.fluxcd.io/v2 models for the Helm actions a HelmRelease configures.

Install, upgrade, test, rollback and uninstall settings, remediation, drift detection and post-renderers;
helm_v2.py holds HelmRelease itself. Source of truth for the generated CRD (crdgen.py).
"""

from dataclasses import dataclass
from typing import Annotated, Literal

from gotk.api import meta, schema

CRDsPolicy = Annotated[
    Literal["Skip", "Create", "CreateReplace"] | None,
    schema.Description("What to do with the chart's crds/ directory."),
]
ActionTimeout = Annotated[
    meta.Duration | None, schema.Description("Timeout of the Helm action; spec.timeout when unset.")
]
DisableWait = Annotated[bool | None, schema.Description("Do not wait for the resources to become ready.")]
DisableWaitForJobs = Annotated[bool | None, schema.Description("Do not wait for Jobs to complete.")]
DisableHooks = Annotated[bool | None, schema.Description("Do not run the chart's hooks.")]
DisableTakeOwnership = Annotated[
    bool | None, schema.Description("Fail instead of adopting existing objects not owned by the release.")
]
DisableOpenAPIValidation = Annotated[
    bool | None,
    schema.JsonName("disableOpenAPIValidation"),
    schema.Description("Do not validate the rendered manifests against the cluster's OpenAPI schema."),
]
DisableSchemaValidation = Annotated[
    bool | None, schema.Description("Do not validate the values against the chart's JSON schema.")
]
Retries = Annotated[int | None, schema.Description("Attempts before giving up; a negative value retries forever.")]
IgnoreTestFailures = Annotated[bool | None, schema.Description("Do not remediate when the Helm tests fail.")]
RemediateLastFailure = Annotated[
    bool | None, schema.Description("Remediate the last failure when the retries are exhausted.")
]
StrategyName = Annotated[
    Literal["RemediateOnFailure", "RetryOnFailure"],
    schema.Description("Remediate (rollback or uninstall) on failure, or retry without remediating."),
]
StrategyRetryInterval = Annotated[meta.Duration | None, schema.Description("Time between retries with RetryOnFailure.")]
ServerSideApplyMode = Annotated[
    Literal["enabled", "disabled", "auto"] | None,
    schema.Description("Use server-side apply; auto follows what the release used before."),
]


@dataclass(frozen=True, kw_only=True)
class InstallRemediation:
    """What to do when an install fails."""

    retries: Retries = None
    ignore_test_failures: IgnoreTestFailures = None
    remediate_last_failure: RemediateLastFailure = None


@schema.object_markers(
    schema.Validation(
        "!has(self.retryInterval) || self.name != 'RemediateOnFailure'",
        ".retryInterval cannot be set when .name is 'RemediateOnFailure'",
    )
)
@dataclass(frozen=True, kw_only=True)
class InstallStrategy:
    """How a failed install is handled."""

    name: StrategyName
    retry_interval: StrategyRetryInterval = None


@dataclass(frozen=True, kw_only=True)
class Install:
    """Settings of Helm install."""

    timeout: ActionTimeout = None
    strategy: Annotated[InstallStrategy | None, schema.Description("Failure handling.")] = None
    remediation: Annotated[InstallRemediation | None, schema.Description("Remediation of failed installs.")] = None
    disable_take_ownership: DisableTakeOwnership = None
    disable_wait: DisableWait = None
    disable_wait_for_jobs: DisableWaitForJobs = None
    disable_hooks: DisableHooks = None
    disable_open_api_validation: DisableOpenAPIValidation = None
    disable_schema_validation: DisableSchemaValidation = None
    replace: Annotated[bool | None, schema.Description("Reuse the name of a deleted release.")] = None
    skip_crds: Annotated[
        bool | None,
        schema.JsonName("skipCRDs"),
        schema.Description("Deprecated: use crds: Skip."),
    ] = None
    crds: CRDsPolicy = None
    create_namespace: Annotated[
        bool | None, schema.Description("Create the target namespace if it does not exist.")
    ] = None
    server_side_apply: Annotated[bool | None, schema.Description("Install with server-side apply.")] = None


@dataclass(frozen=True, kw_only=True)
class UpgradeRemediation:
    """What to do when an upgrade fails."""

    retries: Retries = None
    ignore_test_failures: IgnoreTestFailures = None
    remediate_last_failure: RemediateLastFailure = None
    strategy: Annotated[
        Literal["rollback", "uninstall"] | None,
        schema.Description("Roll back or uninstall a failed upgrade; rollback by default."),
    ] = None


@schema.object_markers(
    schema.Validation(
        "!has(self.retryInterval) || self.name == 'RetryOnFailure'",
        ".retryInterval can only be set when .name is 'RetryOnFailure'",
    )
)
@dataclass(frozen=True, kw_only=True)
class UpgradeStrategy:
    """How a failed upgrade is handled."""

    name: StrategyName
    retry_interval: StrategyRetryInterval = None


@dataclass(frozen=True, kw_only=True)
class Upgrade:
    """Settings of Helm upgrade."""

    timeout: ActionTimeout = None
    strategy: Annotated[UpgradeStrategy | None, schema.Description("Failure handling.")] = None
    remediation: Annotated[UpgradeRemediation | None, schema.Description("Remediation of failed upgrades.")] = None
    disable_take_ownership: DisableTakeOwnership = None
    disable_wait: DisableWait = None
    disable_wait_for_jobs: DisableWaitForJobs = None
    disable_hooks: DisableHooks = None
    disable_open_api_validation: DisableOpenAPIValidation = None
    disable_schema_validation: DisableSchemaValidation = None
    force: Annotated[bool | None, schema.Description("Replace objects that cannot be patched.")] = None
    preserve_values: Annotated[bool | None, schema.Description("Keep the values of the previous release.")] = None
    cleanup_on_fail: Annotated[
        bool | None,
        schema.Description("Delete objects created by a failed upgrade."),
    ] = None
    crds: CRDsPolicy = None
    server_side_apply: ServerSideApplyMode = None
    chart_name_change_strategy: Annotated[
        Literal["InPlaceUpdate", "Reinstall"] | None,
        schema.Description("Upgrade in place or reinstall when the chart name changes."),
    ] = None


@dataclass(frozen=True, kw_only=True)
class TestFilter:
    """Selects Helm tests by name."""

    name: Annotated[str, schema.MinLength(1), schema.MaxLength(253), schema.Description("Name of the test.")]
    exclude: Annotated[bool | None, schema.Description("Skip this test instead of running it.")] = None


@dataclass(frozen=True, kw_only=True)
class Test:
    """Settings of Helm test, run after install and upgrade."""

    enable: Annotated[bool | None, schema.Description("Run the chart's tests.")] = None
    timeout: ActionTimeout = None
    ignore_failures: Annotated[bool | None, schema.Description("Keep the release Ready when tests fail.")] = None
    filters: Annotated[list[TestFilter] | None, schema.Description("Which tests to run.")] = None


@dataclass(frozen=True, kw_only=True)
class Rollback:
    """Settings of Helm rollback."""

    timeout: ActionTimeout = None
    disable_wait: DisableWait = None
    disable_wait_for_jobs: DisableWaitForJobs = None
    disable_hooks: DisableHooks = None
    recreate: Annotated[bool | None, schema.Description("Restart pods of the rolled back objects.")] = None
    force: Annotated[bool | None, schema.Description("Replace objects that cannot be patched.")] = None
    cleanup_on_fail: Annotated[
        bool | None,
        schema.Description("Delete objects created by a failed rollback."),
    ] = None
    server_side_apply: ServerSideApplyMode = None


@dataclass(frozen=True, kw_only=True)
class Uninstall:
    """Settings of Helm uninstall."""

    timeout: ActionTimeout = None
    disable_hooks: DisableHooks = None
    keep_history: Annotated[bool | None, schema.Description("Keep the release history.")] = None
    disable_wait: DisableWait = None
    deletion_propagation: Annotated[
        Literal["background", "foreground", "orphan"] | None,
        schema.Default("background"),
        schema.Description("Deletion propagation policy for the release's objects."),
    ] = None


@dataclass(frozen=True, kw_only=True)
class DriftDetection:
    """Comparison of the cluster state with the release manifest."""

    mode: Annotated[
        Literal["enabled", "warn", "disabled"] | None,
        schema.Description("enabled corrects drift, warn only reports it."),
    ] = None
    ignore: Annotated[list[meta.IgnoreRule] | None, schema.Description("Fields left alone by drift detection.")] = None


@dataclass(frozen=True, kw_only=True)
class KustomizePostRenderer:
    """Kustomize patches and image overrides applied to the rendered manifests."""

    patches: Annotated[list[meta.Patch] | None, schema.Description("Patches to apply.")] = None
    images: Annotated[list[meta.Image] | None, schema.Description("Image overrides.")] = None


@dataclass(frozen=True, kw_only=True)
class PostRenderer:
    """A post-renderer; they run in order."""

    kustomize: Annotated[KustomizePostRenderer | None, schema.Description("Kustomize post-rendering.")] = None


@dataclass(frozen=True, kw_only=True)
class WaitStrategy:
    """How Helm waits for the release's resources."""

    name: Annotated[Literal["poller", "legacy"], schema.Description("poller uses kstatus; legacy is Helm's old wait.")]
