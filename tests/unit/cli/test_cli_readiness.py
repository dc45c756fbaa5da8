"""readiness and reconcile helpers: the kstatus-like compute, "request handled" detection, Ready for the
latest generation, the RFC3339Nano request token, and which source `--with-source` reconciles.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from gotk.cli import flags, kinds_cli, readiness, reconcile
from gotk.cli.output import CommandError


def flux_obj(generation: int = 2, observed: int | None = 2, **status: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Kustomization",
        "metadata": {"name": "x", "namespace": "ns", "generation": generation},
    }
    body["status"] = dict(status)
    if observed is not None:
        body["status"]["observedGeneration"] = observed
    return body


def cond(ctype: str, status: str, message: str = "", generation: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": ctype, "status": status, "reason": "R", "message": message}
    if generation is not None:
        out["observedGeneration"] = generation
    return out


def test_compute() -> None:
    assert readiness.compute(flux_obj(conditions=[cond("Ready", "True")]))[0] == readiness.CURRENT
    assert readiness.compute(flux_obj(observed=1))[0] == readiness.IN_PROGRESS
    assert readiness.compute(flux_obj(conditions=[cond("Reconciling", "True", "working")])) == (
        readiness.IN_PROGRESS,
        "working",
    )
    assert readiness.compute(flux_obj(conditions=[cond("Ready", "Unknown", "soon")]))[0] == readiness.IN_PROGRESS
    assert readiness.compute(flux_obj(conditions=[cond("Stalled", "True", "bad spec")])) == (
        readiness.FAILED,
        "bad spec",
    )
    # Ready=False without Stalled is settled: reconcile then reports the Ready message
    assert readiness.compute(flux_obj(conditions=[cond("Ready", "False", "boom")]))[0] == readiness.CURRENT


def test_settled_raises_the_stalled_message() -> None:
    with pytest.raises(CommandError, match="bad spec"):
        readiness.settled(flux_obj(conditions=[cond("Stalled", "True", "bad spec")]))


def test_request_handled() -> None:
    token = "2026-03-01T12:00:00.5Z"
    assert not readiness.request_handled(flux_obj(), token)
    assert not readiness.request_handled(flux_obj(lastHandledReconcileAt="2026-03-01T11:00:00Z"), token)
    assert readiness.request_handled(flux_obj(lastHandledReconcileAt=token), token)
    # a later request handled in the meantime covers ours
    assert readiness.request_handled(flux_obj(lastHandledReconcileAt="2026-03-01T12:00:01Z"), token)
    assert not readiness.request_handled(flux_obj(lastHandledReconcileAt="not a time"), token)


def test_generation_ready() -> None:
    assert not readiness.generation_ready(flux_obj(observed=None, conditions=[cond("Ready", "True")]))
    assert not readiness.generation_ready(flux_obj(conditions=[]))
    assert readiness.generation_ready(flux_obj(conditions=[cond("Ready", "True")]))
    assert not readiness.generation_ready(flux_obj(observed=1, conditions=[cond("Ready", "True")]))
    assert not readiness.generation_ready(flux_obj(conditions=[cond("Ready", "True", generation=1)]))
    assert readiness.generation_ready(flux_obj(observed=1, conditions=[cond("Ready", "True", generation=2)]))


def test_request_token_looks_like_go_rfc3339nano() -> None:
    token = flags.request_token(1_700_000_000_120_000_000)
    parsed = datetime.fromisoformat(token.replace("Z", "+00:00"))
    assert parsed.timestamp() == pytest.approx(1_700_000_000.12)
    assert ".12" in token and ".120" not in token  # trailing zeros cut, as Go does
    assert "." not in flags.request_token(1_700_000_000_000_000_000)


def test_with_source_targets() -> None:
    ks = {
        "metadata": {"name": "app", "namespace": "apps"},
        "spec": {"sourceRef": {"kind": "GitRepository", "name": "repo"}},
    }
    ref = reconcile.source_of(kinds_cli.KUSTOMIZATION, ks)
    assert ref == reconcile.SourceRef("GitRepository", "repo", "apps")
    assert reconcile.source_noun(kinds_cli.KUSTOMIZATION, ref) is kinds_cli.SOURCE_GIT

    hr = {
        "metadata": {"name": "web", "namespace": "apps"},
        "spec": {"chart": {"spec": {"sourceRef": {"kind": "HelmRepository", "name": "r", "namespace": "shared"}}}},
    }
    ref = reconcile.source_of(kinds_cli.HELMRELEASE, hr)
    assert ref == reconcile.SourceRef("HelmChart", "apps-web", "shared")
    assert reconcile.source_noun(kinds_cli.HELMRELEASE, ref) is kinds_cli.SOURCE_CHART

    chart = {
        "metadata": {"name": "apps-web", "namespace": "shared"},
        "spec": {"sourceRef": {"kind": "HelmRepository", "name": "r"}},
    }
    assert (
        reconcile.source_noun(kinds_cli.SOURCE_CHART, reconcile.source_of(kinds_cli.SOURCE_CHART, chart))
        is kinds_cli.SOURCE_HELM
    )

    external = {
        "metadata": {"name": "app", "namespace": "apps"},
        "spec": {"sourceRef": {"kind": "ExternalArtifact", "name": "a"}},
    }
    with pytest.raises(CommandError, match="cannot reconcile source of kind ExternalArtifact"):
        reconcile.source_noun(kinds_cli.KUSTOMIZATION, reconcile.source_of(kinds_cli.KUSTOMIZATION, external))


def test_static_objects() -> None:
    assert reconcile.is_static(kinds_cli.ALERT, {})
    assert reconcile.is_static(kinds_cli.SOURCE_HELM, {"spec": {"type": "oci"}})
    assert not reconcile.is_static(kinds_cli.SOURCE_HELM, {"spec": {"type": "default"}})
