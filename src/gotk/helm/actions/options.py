"""The Helm options of each action, from a HelmRelease's spec as Flux's helm-controller reads them — pure.

Per-action `timeout` over spec.timeout; the wait (none with `disableWait`, else spec.waitStrategy: `poller`, the
default, is Helm's kstatus watcher, `legacy` Helm 3's polling); server-side apply (install: on unless
`serverSideApply: false`; upgrade and rollback: `enabled`, `disabled`, or `auto`, the release's own); the CRD
policy (install: Create unless skipCRDs, upgrade: Skip); take-ownership unless `disableTakeOwnership`; the
post-rendering (`gotk.helm.postrender`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gotk.api import helm_v2
from gotk.helm import postrender
from gotk.helm.lib import Options

Obj = Mapping[str, Any]
SSA_MODES = {"enabled": "true", "disabled": "false", "auto": "auto"}


def timeout(obj: Obj, section: Obj) -> str:
    """The action's timeout: its own, else spec.timeout (5m0s)."""
    return str(section.get("timeout") or helm_v2.timeout(obj))


def waiting(obj: Obj, section: Obj) -> Options:
    """How the action waits for the release's resources (and Jobs); spec.healthCheckExprs judge the kinds they
    name while the poller waits (Flux evaluates them with the poller only)."""
    spec = obj.get("spec") or {}
    strategy = str((spec.get("waitStrategy") or {}).get("name") or "poller")
    out: Options = {
        "wait": not section.get("disableWait"),
        "wait_strategy": "legacy" if strategy == "legacy" else "watcher",
        "wait_for_jobs": not section.get("disableWaitForJobs"),
    }
    exprs = spec.get("healthCheckExprs") or []
    if exprs and out["wait"] and strategy != "legacy":
        out["health_check_exprs"] = [dict(e) for e in exprs]
    return out


def install(obj: Obj) -> Options:
    """spec.install as Helm install options."""
    section: Obj = (obj.get("spec") or {}).get("install") or {}
    ssa = section.get("serverSideApply") is not False
    policy = str(section.get("crds") or ("Skip" if section.get("skipCRDs") else "Create"))
    return {
        "timeout": timeout(obj, section),
        **waiting(obj, section),
        "disable_hooks": bool(section.get("disableHooks")),
        "disable_openapi_validation": bool(section.get("disableOpenAPIValidation")),
        "skip_schema_validation": bool(section.get("disableSchemaValidation")),
        "take_ownership": not section.get("disableTakeOwnership"),
        "replace": bool(section.get("replace")),
        "server_side_apply": "true" if ssa else "false",
        "force_conflicts": ssa,
        "create_namespace": bool(section.get("createNamespace"))
        and bool((obj.get("spec") or {}).get("targetNamespace")),
        "crds": policy,
        "post_rendering": postrender.request(obj),
        "post_render_strategy": str((obj.get("spec") or {}).get("postRenderStrategy") or ""),
    }


def upgrade(obj: Obj) -> Options:
    """spec.upgrade as Helm upgrade options."""
    section: Obj = (obj.get("spec") or {}).get("upgrade") or {}
    ssa = SSA_MODES.get(str(section.get("serverSideApply") or "auto"), "auto")
    preserve = bool(section.get("preserveValues"))
    return {
        "timeout": timeout(obj, section),
        **waiting(obj, section),
        "disable_hooks": bool(section.get("disableHooks")),
        "disable_openapi_validation": bool(section.get("disableOpenAPIValidation")),
        "skip_schema_validation": bool(section.get("disableSchemaValidation")),
        "take_ownership": not section.get("disableTakeOwnership"),
        "server_side_apply": ssa,
        "force_conflicts": ssa != "false",
        "force": bool(section.get("force")) and ssa == "false",
        "reset_values": not preserve,
        "reuse_values": preserve,
        "cleanup_on_fail": bool(section.get("cleanupOnFail")),
        "max_history": helm_v2.max_history(obj),
        "crds": str(section.get("crds") or "Skip"),
        "post_rendering": postrender.request(obj),
        "post_render_strategy": str((obj.get("spec") or {}).get("postRenderStrategy") or ""),
    }


def rollback(obj: Obj) -> Options:
    """spec.rollback as Helm rollback options."""
    section: Obj = (obj.get("spec") or {}).get("rollback") or {}
    ssa = SSA_MODES.get(str(section.get("serverSideApply") or "auto"), "auto")
    return {
        "timeout": timeout(obj, section),
        **waiting(obj, section),
        "disable_hooks": bool(section.get("disableHooks")),
        "server_side_apply": ssa,
        "force_conflicts": ssa != "false",
        "force": bool(section.get("force")) and ssa == "false",
        "cleanup_on_fail": bool(section.get("cleanupOnFail")),
        "max_history": helm_v2.max_history(obj),
    }


def uninstall(obj: Obj) -> Options:
    """spec.uninstall as Helm uninstall options."""
    section: Obj = (obj.get("spec") or {}).get("uninstall") or {}
    return {
        "timeout": timeout(obj, section),
        "wait": waiting(obj, section)["wait"],
        "wait_strategy": waiting(obj, section)["wait_strategy"],
        "disable_hooks": bool(section.get("disableHooks")),
        "keep_history": bool(section.get("keepHistory")),
        "deletion_propagation": str(section.get("deletionPropagation") or "background"),
    }


def test(obj: Obj) -> Options:
    """spec.test as Helm test options."""
    section: Obj = (obj.get("spec") or {}).get("test") or {}
    return {"timeout": timeout(obj, section), "filters": test_filters(section)}


def test_filters(section: Obj) -> dict[str, list[str]]:
    """spec.test.filters as Helm's: the names to run under `name`, the excluded ones under `!name`."""
    out: dict[str, list[str]] = {}
    for entry in section.get("filters") or ():
        out.setdefault("!name" if entry.get("exclude") else "name", []).append(str(entry.get("name")))
    return out
