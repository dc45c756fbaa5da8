"""gotk.helm.planner: the release state from storage vs. spec vs. memory, and the next action for each state
(install, upgrade, test, unlock, remediation by rollback or uninstall, RetryOnFailure, stalls once retries are
exhausted, retries -1 for ever)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gotk.helm import planner as p

WANT = p.Desired("podinfo", "6.1.0", "sha256:v2")
DEPLOYED = p.Current(3, "deployed", "podinfo", "6.1.0", "sha256:v2", digest="sha256:r3")
MEMORY = p.Memory(history_digests=("sha256:r3", "sha256:r2"), last_action="upgrade", can_roll_back=True)


@pytest.mark.parametrize(
    ("current", "desired", "memory", "drifted", "state"),
    [
        (None, WANT, MEMORY, False, p.ABSENT),
        (replace(DEPLOYED, status="uninstalled"), WANT, MEMORY, False, p.ABSENT),
        (replace(DEPLOYED, status="pending-upgrade"), WANT, MEMORY, False, p.LOCKED),
        (replace(DEPLOYED, digest="sha256:other"), WANT, MEMORY, False, p.UNMANAGED),
        (replace(DEPLOYED, status="failed"), WANT, MEMORY, False, p.FAILED),
        (DEPLOYED, replace(WANT, chart_version="6.2.0"), MEMORY, False, p.OUT_OF_SYNC),
        (DEPLOYED, replace(WANT, config_digest="sha256:v3"), MEMORY, False, p.OUT_OF_SYNC),
        (DEPLOYED, WANT, MEMORY, True, p.DRIFTED),
        (DEPLOYED, replace(WANT, test_enabled=True), MEMORY, False, p.UNTESTED),
        (DEPLOYED, replace(WANT, test_enabled=True), replace(MEMORY, tested=True), False, p.IN_SYNC),
        (DEPLOYED, WANT, MEMORY, False, p.IN_SYNC),
        (DEPLOYED, WANT, p.Memory(), False, p.IN_SYNC),  # no history yet: nothing to call unmanaged
    ],
)
def test_release_state(
    current: p.Current | None, desired: p.Desired, memory: p.Memory, drifted: bool, state: str
) -> None:
    assert p.release_state(current, desired, memory, drifted=drifted) == state


DEFAULT = p.Policy()


def action(state: str, policy: p.Policy = DEFAULT, **memory: object) -> str:
    return p.next_action(state, policy, replace(MEMORY, **memory)).kind  # type: ignore[arg-type]


def test_plain_states() -> None:
    assert action(p.IN_SYNC) == p.NONE
    assert action(p.LOCKED) == p.UNLOCK
    assert action(p.ABSENT, install_failures=0) == p.INSTALL
    assert action(p.UNMANAGED) == p.UPGRADE
    assert action(p.DRIFTED) == p.NONE  # drift detection disabled or warn: reported only
    assert action(p.DRIFTED, p.Policy(drift_mode="enabled")) == p.CORRECT_DRIFT
    assert action(p.OUT_OF_SYNC) == p.UPGRADE
    assert action(p.UNTESTED) == p.TEST


def test_install_remediation() -> None:
    twice = p.Policy(install_retries=2)
    assert action(p.FAILED, twice, last_action="install", install_failures=1) == p.UNINSTALL
    assert action(p.ABSENT, twice, install_failures=2) == p.INSTALL
    assert action(p.FAILED, twice, last_action="install", install_failures=3) == p.STALL
    assert action(p.ABSENT, twice, install_failures=3) == p.STALL
    assert action(p.ABSENT, twice, install_failures=0) == p.INSTALL  # counters reset on a new configuration
    assert action(p.FAILED, p.Policy(), last_action="install", install_failures=1) == p.STALL  # retries 0
    forever = p.Policy(install_retries=-1)
    assert action(p.FAILED, forever, last_action="install", install_failures=99) == p.UNINSTALL
    # RetryOnFailure: the failed release is upgraded again, never remediated
    retry = p.Policy.from_spec({"install": {"strategy": {"name": "RetryOnFailure", "retryInterval": "1m"}}})
    assert retry.install_retry == 60.0 and retry.upgrade_retry is None
    assert action(p.FAILED, retry, last_action="install", install_failures=5) == p.UPGRADE
    # the last failure is remediated too when asked (install's default: not)
    last = p.Policy.from_spec({"install": {"remediation": {"remediateLastFailure": True}}})
    assert action(p.FAILED, last, last_action="install", install_failures=1) == p.UNINSTALL


def test_upgrade_remediation() -> None:
    policy = p.Policy.from_spec({"upgrade": {"remediation": {"retries": 2}}})
    assert policy.remediate_last_failure and policy.upgrade_strategy == p.ROLLBACK
    assert action(p.FAILED, policy, upgrade_failures=1) == p.ROLLBACK
    missing = p.next_action(p.FAILED, policy, replace(MEMORY, upgrade_failures=1, can_roll_back=False))
    assert (missing.kind, missing.stall_reason) == (p.STALL, "MissingRollbackTarget")
    assert action(p.FAILED, policy, upgrade_failures=3) == p.ROLLBACK  # remediate the last failure
    assert action(p.OUT_OF_SYNC, policy, upgrade_failures=3) == p.STALL
    keep = p.Policy.from_spec({"upgrade": {"remediation": {"retries": 2, "remediateLastFailure": False}}})
    assert action(p.FAILED, keep, upgrade_failures=3) == p.STALL
    uninstall = p.Policy.from_spec({"upgrade": {"remediation": {"retries": 1, "strategy": "uninstall"}}})
    assert action(p.FAILED, uninstall, upgrade_failures=1) == p.UNINSTALL
    assert action(p.FAILED, policy, upgrade_failures=0) == p.UPGRADE  # conditions changed since the failure
    assert action(p.FAILED, p.Policy(), last_action="") == p.UPGRADE
    retry = p.Policy.from_spec({"upgrade": {"strategy": {"name": "RetryOnFailure"}, "remediation": {"retries": 3}}})
    assert retry.retry_on_failure and retry.upgrade_retry == p.DEFAULT_RETRY_INTERVAL
    assert action(p.FAILED, retry, upgrade_failures=1) == p.UPGRADE


def test_force_requests_override_exhausted_retries_once() -> None:
    assert action(p.IN_SYNC, force=True) == p.UPGRADE
    assert action(p.ABSENT, p.Policy(), install_failures=3, force=True) == p.INSTALL
    assert action(p.OUT_OF_SYNC, p.Policy(), upgrade_failures=3, force=True) == p.UPGRADE
    assert action(p.FAILED, p.Policy(), upgrade_failures=3, force=True) == p.UPGRADE
    assert action(p.FAILED, p.Policy(), upgrade_failures=3) == p.STALL


def test_failed_tests_fail_the_release_unless_ignored() -> None:
    tested = p.Desired("podinfo", "6.1.0", "sha256:v2", test_enabled=True)
    failed = replace(MEMORY, tested=True, test_failed=True, upgrade_failures=1)
    policy = p.Policy.from_spec({"test": {"enable": True}, "upgrade": {"remediation": {"retries": 1}}})
    assert p.release_state(DEPLOYED, tested, failed, policy=policy) == p.FAILED
    assert p.next_action(p.FAILED, policy, failed).kind == p.ROLLBACK
    ignored = p.Policy.from_spec({"test": {"enable": True, "ignoreFailures": True}})
    assert p.release_state(DEPLOYED, tested, failed, policy=ignored) == p.IN_SYNC
    # the remediation's own ignoreTestFailures wins over test.ignoreFailures
    overridden = p.Policy.from_spec(
        {"test": {"enable": True, "ignoreFailures": True}, "upgrade": {"remediation": {"ignoreTestFailures": False}}}
    )
    assert p.release_state(DEPLOYED, tested, failed, policy=overridden) == p.FAILED
    assert p.release_state(DEPLOYED, tested, replace(failed, test_failed=False), policy=policy) == p.IN_SYNC


def test_action_types_group_the_actions() -> None:
    assert {p.action_type(k) for k in (p.INSTALL, p.UPGRADE)} == {p.RELEASE}
    assert {p.action_type(k) for k in (p.ROLLBACK, p.UNINSTALL)} == {p.REMEDIATE}
    assert p.action_type(p.TEST) == p.TESTING and p.action_type(p.UNLOCK) == p.UNLOCKING


def test_policy_defaults() -> None:
    assert p.Policy.from_spec({}) == p.Policy()
    assert not p.Policy.from_spec({"upgrade": {"remediation": {"retries": 0}}}).remediate_last_failure
