"""kinds_cli: the `flux get` cells of every noun (revisions, truncated hashes, static kinds, image
columns), --status-selector matching, and the success lines of reconcile/resume, as flux2 prints them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gotk.api import kinds
from gotk.cli import kinds_cli

SHA = "696f056df216eea4f9401adbee0ff744d4df390f"


def obj(
    kind: str, name: str = "demo", *, spec: dict[str, Any] | None = None, status: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": name, "namespace": "apps"}, "spec": spec or {}, "status": status or {}}


def ready(status: str, message: str) -> list[dict[str, Any]]:
    return [{"type": "Ready", "status": status, "reason": "X", "message": message}]


def test_git_revision_and_message_are_truncated() -> None:
    git = obj(
        "GitRepository",
        status={"artifact": {"revision": f"main@sha1:{SHA}"}, "conditions": ready("True", f"stored main@sha1:{SHA}")},
    )
    assert kinds_cli.row(kinds_cli.SOURCE_GIT, git, all_namespaces=False) == [
        "demo",
        "main@sha1:696f056d",
        "False",
        "True",
        "stored main@sha1:696f056d",
    ]


def test_without_ready_condition_it_waits_to_be_reconciled() -> None:
    ks = obj("Kustomization", spec={"suspend": True})
    assert kinds_cli.row(kinds_cli.KUSTOMIZATION, ks, all_namespaces=True) == [
        "apps",
        "demo",
        "",
        "True",
        "False",
        "waiting to be reconciled",
    ]


def test_get_all_prefixes_the_lower_cased_kind() -> None:
    row = kinds_cli.row(kinds_cli.SOURCE_OCI, obj("OCIRepository"), all_namespaces=False, with_kind=True)
    assert row[0] == "ocirepository/demo"


def test_chart_revision_is_not_truncated_but_message_is() -> None:
    chart = obj(
        "HelmChart", status={"artifact": {"revision": f"1.0.0+{SHA}"}, "conditions": ready("True", f"from {SHA}")}
    )
    assert kinds_cli.SOURCE_CHART.cells(chart) == [f"1.0.0+{SHA}", "False", "True", "from 696f056d"]


def test_oci_helm_repository_is_always_ready() -> None:
    repo = obj("HelmRepository", spec={"type": "oci"}, status={"conditions": ready("False", "boom")})
    assert kinds_cli.SOURCE_HELM.cells(repo) == ["", "False", "True", "Helm repository is Ready"]


def test_helmrelease_revision_prefers_history() -> None:
    hr = obj("HelmRelease", status={"history": [{"chartVersion": "6.3.5"}], "lastAttemptedRevision": "6.3.4"})
    assert kinds_cli.HELMRELEASE.cells(hr)[0] == "6.3.5"
    hr["status"].pop("history")
    assert kinds_cli.HELMRELEASE.cells(hr)[0] == "6.3.4"
    assert kinds_cli.HELMRELEASE.success(hr) == "applied revision 6.3.4"


def test_show_source_column() -> None:
    ks = obj("Kustomization", spec={"sourceRef": {"kind": "GitRepository", "name": "repo"}})
    assert kinds_cli.headers(kinds_cli.KUSTOMIZATION, all_namespaces=False, show_source=True)[:2] == ["Name", "Source"]
    assert (
        kinds_cli.row(kinds_cli.KUSTOMIZATION, ks, all_namespaces=False, show_source=True)[1]
        == "GitRepository/apps/repo"
    )
    hr = obj(
        "HelmRelease",
        spec={"chart": {"spec": {"sourceRef": {"kind": "HelmRepository", "name": "r", "namespace": "x"}}}},
    )
    assert kinds_cli.helmrelease_source(hr) == "HelmRepository/x/r"


def test_alerts_and_providers_are_static() -> None:
    assert kinds_cli.ALERT.cells(obj("Alert")) == ["False", "True", "Alert is Ready"]
    assert kinds_cli.ALERT_PROVIDER.cells(obj("Provider")) == ["True", "Provider is Ready"]
    assert kinds_cli.ALERT.selector_matches(obj("Alert"), "READY", "true")
    assert not kinds_cli.ALERT.selector_matches(obj("Alert"), "ready", "false")


def test_image_columns() -> None:
    policy = obj("ImagePolicy", status={"latestRef": {"name": "ghcr.io/x/app", "tag": "1.2.3", "digest": "sha256:ab"}})
    assert kinds_cli.headers(kinds_cli.IMAGE_POLICY, all_namespaces=False) == [
        "Name",
        "Image",
        "Tag",
        "Ready",
        "Message",
    ]
    assert kinds_cli.IMAGE_POLICY.cells(policy)[:2] == ["ghcr.io/x/app", "1.2.3"]
    assert kinds_cli.IMAGE_POLICY.success(policy) == "selected ref ghcr.io/x/app:1.2.3@sha256:ab"
    repo = obj("ImageRepository", status={"lastScanResult": {"scanTime": "2026-01-02T03:04:05Z", "tagCount": 7}})
    assert kinds_cli.IMAGE_REPOSITORY.cells(repo)[0] == kinds_cli.local_rfc3339("2026-01-02T03:04:05Z")
    assert kinds_cli.IMAGE_REPOSITORY.success(repo) == "scan fetched 7 tags"
    assert kinds_cli.IMAGE_UPDATE.success(obj("ImageUpdateAutomation")) == "automation not yet run"


def test_local_rfc3339_is_the_same_instant_without_fraction() -> None:
    shown = kinds_cli.local_rfc3339("2026-01-02T03:04:05.123Z")
    assert "." not in shown
    parsed = datetime.fromisoformat(shown.replace("Z", "+00:00"))
    assert parsed == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert kinds_cli.local_rfc3339(None) == ""


@pytest.mark.parametrize(
    ("selector_type", "selector_status", "expected"),
    [("ready", "false", True), ("Ready", "FALSE", True), ("ready", "true", False), ("stalled", "true", False)],
)
def test_status_selector_is_case_insensitive(selector_type: str, selector_status: str, expected: bool) -> None:
    failed = obj("GitRepository", status={"conditions": ready("False", "boom")})
    assert kinds_cli.SOURCE_GIT.selector_matches(failed, selector_type, selector_status) is expected


def test_truncate_hex_only_touches_long_hex() -> None:
    assert kinds_cli.truncate_hex("abc 1234") == "abc 1234"
    assert kinds_cli.truncate_hex(f"x {SHA} y {SHA}") == "x 696f056d y 696f056d"
    assert kinds_cli.truncate_hex("sha256:" + "a" * 64) == "sha256:aaaaaaaa"


def test_every_noun_names_a_served_kind() -> None:
    for noun in kinds_cli.ALL:
        info = kinds.by_kind(noun.kind)
        assert noun.resource.plural == info.plural
        assert kinds_cli.by_kind(noun.kind) is noun
