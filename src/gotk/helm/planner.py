"""What a HelmRelease needs next, as Flux's helm-controller decides it — pure: plain data in, an action out.

`release_state` compares the release Helm has stored (`Current`, None when there is none) with what the
HelmRelease asks for (`Desired`) and what it remembers (`Memory`: its history digests, failure counts, the
last attempted action, a pending force request): absent, locked (a pending-* release), unmanaged (not in our
history), failed (also: a failed test that the active remediation does not ignore), out-of-sync (chart or
values changed), untested, drifted, or in-sync.

`next_action` turns a state into one action, as Flux's actionForState: install, upgrade, test, rollback,
uninstall (remediation), unlock, none, or a stall once the remediation retries are exhausted (`retries: -1`
retries for ever; a force request overrides it once). With the RetryOnFailure strategy a failed release is
upgraded again, after `retryInterval`, without remediation. `action_type` groups the actions as Flux's
reconciler types: each type runs at most once per reconcile, and a remediation ends it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gotk.api import helm_conditions as hc
from gotk.gocompat import durations

ABSENT, LOCKED, UNMANAGED, FAILED = "Absent", "Locked", "Unmanaged", "Failed"
OUT_OF_SYNC, DRIFTED, UNTESTED, IN_SYNC = "OutOfSync", "Drifted", "Untested", "InSync"
INSTALL, UPGRADE, TEST, ROLLBACK, UNINSTALL = "install", "upgrade", "test", "rollback", "uninstall"
UNLOCK, NONE, STALL, CORRECT_DRIFT = "unlock", "none", "stall", "correct-drift"
PENDING = ("pending-install", "pending-upgrade", "pending-rollback")


@dataclass(frozen=True)
class Current:
    """The latest release in Helm's storage."""

    version: int
    status: str
    chart_name: str
    chart_version: str
    config_digest: str
    digest: str = ""


@dataclass(frozen=True)
class Desired:
    """What the release should be: the chart, the digest of its values, and whether it is tested."""

    chart_name: str
    chart_version: str
    config_digest: str
    test_enabled: bool = False
    render_changed: bool = False  # a new generation changed spec.postRenderers or spec.commonMetadata


@dataclass(frozen=True)
class Memory:
    """What the HelmRelease's status says about earlier attempts."""

    history_digests: tuple[str, ...] = ()
    last_action: str = ""  # status.lastAttemptedReleaseAction: install | upgrade
    install_failures: int = 0
    upgrade_failures: int = 0
    tested: bool = False
    test_failed: bool = False  # a test hook of the latest release is in the Failed phase
    can_roll_back: bool = False  # an earlier deployed release of ours exists
    force: bool = False  # a reconcile.fluxcd.io/forceAt request not handled yet


@dataclass(frozen=True)
class Remediation:
    """The remediation of the last attempted action (install or upgrade), as Flux's GetActiveRemediation."""

    retries: int
    failures: int
    strategy: str  # rollback | uninstall (install: always uninstall)
    remediate_last_failure: bool
    ignore_test_failures: bool

    @property
    def exhausted(self) -> bool:
        return exhausted(self.failures, self.retries)


@dataclass(frozen=True)
class Policy:
    """The failure handling of a HelmRelease: retries, remediation strategy, RetryOnFailure, test failures."""

    install_retries: int = 0
    upgrade_retries: int = 0
    upgrade_strategy: str = ROLLBACK  # upgrade.remediation.strategy: rollback | uninstall
    remediate_last_failure: bool = False  # upgrade's (default: retries > 0)
    install_remediate_last_failure: bool = False
    retry_on_failure: bool = False  # install or upgrade strategy RetryOnFailure (either)
    install_retry: float | None = None  # seconds between RetryOnFailure attempts, None: no RetryOnFailure
    upgrade_retry: float | None = None
    test_enabled: bool = False
    test_ignore_failures: bool = False  # spec.test.ignoreFailures
    install_ignore_test_failures: bool | None = None  # install.remediation.ignoreTestFailures
    upgrade_ignore_test_failures: bool | None = None
    drift_mode: str = "disabled"  # driftDetection.mode: enabled corrects, warn reports, disabled neither

    @property
    def detects_drift(self) -> bool:
        return self.drift_mode in ("enabled", "warn")

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Policy:
        install = spec.get("install") or {}
        upgrade = spec.get("upgrade") or {}
        in_rem = install.get("remediation") or {}
        up_rem = upgrade.get("remediation") or {}
        upgrade_retries = int(up_rem.get("retries") or 0)
        remediate_last = up_rem.get("remediateLastFailure")
        test = spec.get("test") or {}
        install_retry, upgrade_retry = _retry(install), _retry(upgrade)
        return cls(
            install_retries=int(in_rem.get("retries") or 0),
            upgrade_retries=upgrade_retries,
            upgrade_strategy=str(up_rem.get("strategy") or ROLLBACK),
            remediate_last_failure=bool(upgrade_retries > 0 if remediate_last is None else remediate_last),
            install_remediate_last_failure=bool(in_rem.get("remediateLastFailure")),
            retry_on_failure=install_retry is not None or upgrade_retry is not None,
            install_retry=install_retry,
            upgrade_retry=upgrade_retry,
            test_enabled=bool(test.get("enable")),
            test_ignore_failures=bool(test.get("ignoreFailures")),
            install_ignore_test_failures=in_rem.get("ignoreTestFailures"),
            upgrade_ignore_test_failures=up_rem.get("ignoreTestFailures"),
            drift_mode=str((spec.get("driftDetection") or {}).get("mode") or "disabled"),
        )

    def remediation(self, memory: Memory) -> Remediation | None:
        """The remediation of the last attempted action; None before any install or upgrade was attempted."""
        if memory.last_action == INSTALL:
            ignore = self.install_ignore_test_failures
            return Remediation(
                self.install_retries,
                memory.install_failures,
                UNINSTALL,
                self.install_remediate_last_failure,
                self.test_ignore_failures if ignore is None else bool(ignore),
            )
        if memory.last_action == UPGRADE:
            ignore = self.upgrade_ignore_test_failures
            return Remediation(
                self.upgrade_retries,
                memory.upgrade_failures,
                self.upgrade_strategy,
                self.remediate_last_failure,
                self.test_ignore_failures if ignore is None else bool(ignore),
            )
        return None

    def retry(self, memory: Memory) -> float | None:
        """The RetryOnFailure interval (seconds) of the last attempted action; None when it remediates instead."""
        if memory.last_action == INSTALL:
            return self.install_retry
        if memory.last_action == UPGRADE:
            return self.upgrade_retry
        return None

    def ignores_test_failures(self, memory: Memory) -> bool:
        """Whether a failed test leaves the release as it is (Flux's MustIgnoreTestFailures)."""
        remediation = self.remediation(memory)
        return self.test_ignore_failures if remediation is None else remediation.ignore_test_failures


DEFAULT_RETRY_INTERVAL = 300.0  # RetryOnFailure's retryInterval default, 5m


def _retry(section: Mapping[str, Any]) -> float | None:
    strategy = section.get("strategy") or {}
    if strategy.get("name") != "RetryOnFailure":
        return None
    interval = strategy.get("retryInterval")
    return durations.parse(str(interval)) if interval else DEFAULT_RETRY_INTERVAL


@dataclass(frozen=True)
class Action:
    """The next thing to do to a release (install, upgrade, test, rollback, uninstall, unlock, stall, none)."""

    kind: str
    reason: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    stall_reason: str = hc.RETRIES_EXCEEDED  # of a stall: RetriesExceeded or MissingRollbackTarget


RELEASE, TESTING, REMEDIATE, UNLOCKING, DRIFT = "release", "test", "remediate", "unlock", "drift-correction"
TYPES = {INSTALL: RELEASE, UPGRADE: RELEASE, TEST: TESTING, ROLLBACK: REMEDIATE, UNINSTALL: REMEDIATE,
         UNLOCK: UNLOCKING, CORRECT_DRIFT: DRIFT}  # fmt: skip


def action_type(kind: str) -> str:
    """Flux's reconciler type of an action: release, test, remediate or unlock (each runs once per reconcile)."""
    return TYPES[kind]


def release_state(
    current: Current | None, desired: Desired, memory: Memory, *, drifted: bool = False, policy: Policy | None = None
) -> str:
    if current is None or current.status == "uninstalled":
        return ABSENT
    if current.status in PENDING:
        return LOCKED
    if memory.history_digests and current.digest and current.digest not in memory.history_digests:
        return UNMANAGED
    if current.status == "failed":
        return FAILED
    if (current.chart_name, current.chart_version, current.config_digest) != (
        desired.chart_name,
        desired.chart_version,
        desired.config_digest,
    ):
        return OUT_OF_SYNC
    if desired.render_changed:
        return OUT_OF_SYNC
    if desired.test_enabled and not memory.tested:
        return UNTESTED
    if desired.test_enabled and memory.test_failed and policy is not None:
        if policy.remediation(memory) is not None and not policy.ignores_test_failures(memory):
            return FAILED
    if drifted:
        return DRIFTED
    return IN_SYNC


def exhausted(failures: int, retries: int) -> bool:
    return retries >= 0 and failures > retries


def next_action(state: str, policy: Policy, memory: Memory) -> Action:
    """Flux's actionForState: the one action for the release's state (force requests included)."""
    if state == IN_SYNC:
        if memory.force:
            return Action(UPGRADE, "forcing upgrade for in-sync release")
        return Action(NONE, "release in sync")
    if state == LOCKED:
        return Action(UNLOCK, "release is locked in a pending state")
    if state == ABSENT:
        if exhausted(memory.install_failures, policy.install_retries) and not memory.force:
            return Action(STALL, "cannot install release")
        return Action(INSTALL, "no release in storage")
    if state == UNMANAGED:
        return Action(UPGRADE, "release not managed by this object")
    if state == DRIFTED:
        if policy.drift_mode == "enabled":
            return Action(CORRECT_DRIFT, "cluster state drifted from the release")
        return Action(NONE, "cluster state drifted; drift detection only warns")
    if state == OUT_OF_SYNC:
        if exhausted(memory.upgrade_failures, policy.upgrade_retries) and not memory.force:
            return Action(STALL, "cannot upgrade release")
        return Action(UPGRADE, "chart or values changed")
    if state == UNTESTED:
        return Action(TEST, "release not tested")
    return _remediate(policy, memory)


def _remediate(policy: Policy, memory: Memory) -> Action:
    """A failed release: retry, upgrade with the new configuration, remediate, or stall."""
    if policy.retry(memory) is not None:
        return Action(UPGRADE, "retrying the failed release")
    remediation = policy.remediation(memory)
    if remediation is None:
        return Action(UPGRADE, "failed release without an active remediation")
    if remediation.failures <= 0:
        return Action(UPGRADE, "release conditions have changed since last failure")
    if memory.force:
        return Action(UPGRADE, "forcing upgrade for failed release")
    if remediation.exhausted and not remediation.remediate_last_failure:
        return Action(STALL, "cannot remediate failed release")
    if remediation.strategy == UNINSTALL:
        return Action(UNINSTALL, f"remediating the failed {memory.last_action}")
    if memory.can_roll_back:
        return Action(ROLLBACK, f"remediating the failed {memory.last_action}")
    return Action(STALL, "cannot remediate failed release: missing target release for rollback",
                  stall_reason=hc.MISSING_ROLLBACK_TARGET)  # fmt: skip
