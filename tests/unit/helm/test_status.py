"""status.history snapshots as Flux writes them: the digest for the chart's OCI digest, `deleted` when an
uninstall kept the history, the action."""

from __future__ import annotations

from gotk.helm import status as hstatus
from gotk.helm.lib import ChartInfo, Release


def _release(**extra: object) -> Release:
    fields: dict[str, object] = {
        "name": "app",
        "namespace": "team",
        "version": 2,
        "status": "uninstalled",
        "description": "",
        "chart": ChartInfo("podinfo", "6.0.0+0123456789ab", "6.0.0"),
        "manifest": "",
        "notes": "",
        "config": {"a": 1},
        "first_deployed": "2026-01-01T00:00:00Z",
        "last_deployed": "2026-01-02T00:00:00Z",
        "digests": {"": "sha256:plain", "sha256:oci": "sha256:with-oci"},
    }
    return Release(**{**fields, **extra})  # type: ignore[arg-type]


def test_snapshot() -> None:
    entry = hstatus.snapshot(_release(deleted="2026-01-03T00:00:00Z"), action="uninstall", oci_digest="sha256:oci")
    assert entry["digest"] == "sha256:with-oci" and entry["ociDigest"] == "sha256:oci"
    assert entry["deleted"] == "2026-01-03T00:00:00Z" and entry["action"] == "uninstall"
    plain = hstatus.snapshot(_release())
    assert plain["digest"] == "sha256:plain" and "deleted" not in plain and "ociDigest" not in plain


def test_current_takes_the_digest_its_snapshot_recorded() -> None:
    history = [{"name": "app", "version": 2, "ociDigest": "sha256:oci"}]
    current = hstatus.current(_release(), history)
    assert current is not None and current.digest == "sha256:with-oci"
    other = hstatus.current(_release(), [{"name": "app", "version": 1, "ociDigest": "sha256:oci"}])
    assert other is not None and other.digest == "sha256:plain"
