"""What a HelmRelease needs next, as Flux's helm-controller decides it — pure: plain data in, an action out.

`release_state` compares the release Helm has stored (`Current`, None when there is none) with what the
HelmRelease asks for (`Desired`) and what it remembers (`Memory`: its history digests, failure counts, the
last attempted action): absent, locked (a pending-* release), unmanaged (not in our history), failed,
out-of-sync (chart or values changed), drifted, untested, or in-sync.

`next_action` turns a state into one action: install, upgrade, test, rollback, uninstall (remediation),
unlock, none, or a stall once the remediation retries are exhausted (`retries: -1` retries for ever). With the
RetryOnFailure strategy a failed action is retried without remediation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ABSENT, LOCKED, UNMANAGED, FAILED = "Absent", "Locked", "Unmanaged", "Failed"
OUT_OF_SYNC, DRIFTED, UNTESTED, IN_SYNC = "OutOfSync", "Drifted", "Untested", "InSync"
INSTALL, UPGRADE, TEST, ROLLBACK, UNINSTALL = "install", "upgrade", "test", "rollback", "uninstall"
UNLOCK, NONE, STALL = "unlock", "none", "stall"
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


@dataclass(frozen=True)
class Memory:
    """What the HelmRelease's status says about earlier attempts."""

    history_digests: tuple[str, ...] = ()
    last_action: str = ""  # status.lastAttemptedReleaseAction: install | upgrade
    install_failures: int = 0
    upgrade_failures: int = 0
    tested: bool = False
    can_roll_back: bool = False  # an earlier deployed release of ours exists
    changed_since_last_attempt: bool = False  # chart, values or spec differ from the last attempt


@dataclass(frozen=True)
class Policy:
    """The remediation settings of a HelmRelease: retries, the upgrade strategy, RetryOnFailure."""

    install_retries: int = 0
    upgrade_retries: int = 0
    upgrade_strategy: str = ROLLBACK  # upgrade.remediation.strategy: rollback | uninstall
    remediate_last_failure: bool = False
    retry_on_failure: bool = False  # install/upgrade.strategy.name RetryOnFailure

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Policy:
        install = spec.get("install") or {}
        upgrade = spec.get("upgrade") or {}
        up_rem = upgrade.get("remediation") or {}
        upgrade_retries = int(up_rem.get("retries") or 0)
        remediate_last = up_rem.get("remediateLastFailure")
        strategies = {((install.get("strategy") or {}).get("name")), ((upgrade.get("strategy") or {}).get("name"))}
        return cls(
            install_retries=int((install.get("remediation") or {}).get("retries") or 0),
            upgrade_retries=upgrade_retries,
            upgrade_strategy=str(up_rem.get("strategy") or ROLLBACK),
            remediate_last_failure=bool(upgrade_retries > 0 if remediate_last is None else remediate_last),
            retry_on_failure="RetryOnFailure" in strategies,
        )


@dataclass(frozen=True)
class Action:
    """The next thing to do to a release (install, upgrade, test, rollback, uninstall, unlock, stall, none)."""

    kind: str
    reason: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


def release_state(current: Current | None, desired: Desired, memory: Memory, *, drifted: bool = False) -> str:
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
    if drifted:
        return DRIFTED
    if desired.test_enabled and not memory.tested:
        return UNTESTED
    return IN_SYNC


def exhausted(failures: int, retries: int) -> bool:
    return retries >= 0 and failures > retries


def next_action(state: str, policy: Policy, memory: Memory) -> Action:
    if state == IN_SYNC:
        return Action(NONE, "release in sync")
    if state == LOCKED:
        return Action(UNLOCK, "release is locked in a pending state")
    if state == ABSENT:
        if exhausted(memory.install_failures, policy.install_retries) and not memory.changed_since_last_attempt:
            return Action(STALL, f"install retries exhausted ({memory.install_failures} failures)")
        return Action(INSTALL, "no release in storage")
    if state in (UNMANAGED, DRIFTED):
        return Action(UPGRADE, "release not managed by this object" if state == UNMANAGED else "cluster state drifted")
    if state == OUT_OF_SYNC:
        if exhausted(memory.upgrade_failures, policy.upgrade_retries) and not memory.changed_since_last_attempt:
            return Action(STALL, f"upgrade retries exhausted ({memory.upgrade_failures} failures)")
        return Action(UPGRADE, "chart or values changed")
    if state == UNTESTED:
        return Action(TEST, "release not tested")
    return _remediate(policy, memory)


def _remediate(policy: Policy, memory: Memory) -> Action:
    """A failed release: retry with the new configuration, remediate, or stall."""
    if memory.changed_since_last_attempt or not memory.last_action:
        return Action(UPGRADE, "failed release, new configuration")
    if memory.last_action == INSTALL:
        if exhausted(memory.install_failures, policy.install_retries):
            return Action(STALL, f"install retries exhausted ({memory.install_failures} failures)")
        if policy.retry_on_failure:
            return Action(INSTALL, "retrying the failed install")
        return Action(UNINSTALL, "remediating the failed install")
    if exhausted(memory.upgrade_failures, policy.upgrade_retries):
        if policy.remediate_last_failure and policy.upgrade_strategy == ROLLBACK and memory.can_roll_back:
            return Action(ROLLBACK, "remediating the last failed upgrade")
        return Action(STALL, f"upgrade retries exhausted ({memory.upgrade_failures} failures)")
    if policy.retry_on_failure:
        return Action(UPGRADE, "retrying the failed upgrade")
    if policy.upgrade_strategy == UNINSTALL:
        return Action(UNINSTALL, "remediating the failed upgrade")
    if memory.can_roll_back:
        return Action(ROLLBACK, "remediating the failed upgrade")
    return Action(UPGRADE, "failed upgrade without a release to roll back to")
