"""A HelmRelease's status bookkeeping: history snapshots of releases, the planner's memory read back from the
status, Flux's release messages, and the kubeconfig file Helm's client reads. Pure except `kubeconfig_file`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from gotk.helm import planner
from gotk.helm import values as hv
from gotk.helm.lib import Release
from gotk.kube.config import KubeConfig

Obj = dict[str, Any]
MAX_HISTORY_SNAPSHOTS = 5
API_VERSION = "helm.toolkit.fluxcd.io/v2"


def release_digest(rls: Release, oci_digest: str = "") -> str:
    """Flux's digest of a stored release revision (computed by libgotkhelm over Helm's release object, as Flux's
    helm-controller observes it), with the OCI digest of its chart when it came from one."""
    found = rls.digests.get(oci_digest) or rls.digests.get("")
    if found:
        return found
    body = [rls.name, rls.namespace, rls.version, rls.chart.name, rls.chart.version, hv.digest(rls.config)]
    return "sha256:" + hashlib.sha256(json.dumps(body).encode()).hexdigest()  # a release the library did not digest


def snapshot(rls: Release, *, action: str = "", oci_digest: str = "") -> Obj:
    """A `status.history` entry, as Flux writes it (the action that made it; the OCI digest of its chart)."""
    entry: Obj = {
        "apiVersion": API_VERSION,
        "digest": release_digest(rls, oci_digest),
        "name": rls.name,
        "namespace": rls.namespace,
        "version": rls.version,
        "status": rls.status,
        "chartName": rls.chart.name,
        "chartVersion": rls.chart.version,
        "appVersion": rls.chart.app_version,
        "configDigest": hv.digest(rls.config),
        "firstDeployed": rls.first_deployed,
        "lastDeployed": rls.last_deployed,
    }
    if rls.deleted:
        entry["deleted"] = rls.deleted
    if action:
        entry["action"] = action
    if oci_digest:
        entry["ociDigest"] = oci_digest
    return entry


def record(status: Obj, rls: Release, *, action: str = "") -> None:
    """Put the release at the head of `status.history` (replacing an entry of the same version); an install or
    upgrade records the OCI digest of the chart it released (status.lastAttemptedRevisionDigest)."""
    history = [h for h in status.get("history") or [] if h.get("version") != rls.version or h.get("name") != rls.name]
    digest = (
        str(status.get("lastAttemptedRevisionDigest") or "") if action in (planner.INSTALL, planner.UPGRADE) else ""
    )
    status["history"] = [snapshot(rls, action=action, oci_digest=digest), *history][:MAX_HISTORY_SNAPSHOTS]


def current(rls: Release | None, history: list[Obj] | None = None) -> planner.Current | None:
    """The stored release as the planner sees it; its digest taken with the OCI digest that the history's
    snapshot of the same revision recorded (as Flux verifies a snapshot)."""
    if rls is None:
        return None
    same = [h for h in history or [] if h.get("name") == rls.name and h.get("version") == rls.version]
    oci = str(same[0].get("ociDigest") or "") if same else ""
    return planner.Current(
        version=rls.version,
        status=rls.status,
        chart_name=rls.chart.name,
        chart_version=rls.chart.version,
        config_digest=hv.digest(rls.config),
        digest=release_digest(rls, oci),
    )


def memory(status: Obj, *, force: bool = False) -> planner.Memory:
    """The planner's memory from the HelmRelease's status (and whether a force request is pending)."""
    history = status.get("history") or []
    latest = history[0] if history else {}
    hooks = latest.get("testHooks")
    deployed = [h for h in history[1:] if h.get("status") in ("deployed", "superseded")]
    return planner.Memory(
        history_digests=tuple(str(h.get("digest")) for h in history),
        last_action=str(status.get("lastAttemptedReleaseAction") or ""),
        install_failures=int(status.get("installFailures") or 0),
        upgrade_failures=int(status.get("upgradeFailures") or 0),
        tested=isinstance(hooks, dict),
        test_failed=isinstance(hooks, dict) and any((h or {}).get("phase") == "Failed" for h in hooks.values()),
        can_roll_back=bool(deployed),
        force=force,
    )


def test_hooks(hooks: Any, filters: dict[str, list[str]]) -> Obj:
    """The test hooks of a release as status.history records them, {name: {phase, lastStarted, lastCompleted}},
    only those the filters select (as Flux's TestHooksFromRelease)."""
    run, skip = set(filters.get("name") or ()), set(filters.get("!name") or ())
    out: Obj = {}
    for hook in hooks:
        if "test" not in hook.events or hook.name in skip or (run and hook.name not in run):
            continue
        out[hook.name] = {"phase": hook.phase} if hook.phase else {}
    return out


def clear_failures(status: Obj) -> None:
    """Flux's ClearFailures: the failure counters back to zero."""
    for key in ("failures", "installFailures", "upgradeFailures"):
        status.pop(key, None)


def message(action: str, rls: Release, *, ok: bool = True, error: str = "") -> str:
    """Flux's event and condition text for one release action."""
    target = f"release {rls.namespace}/{rls.name}.v{rls.version} with chart {rls.chart.name}@{rls.chart.version}"
    if action == planner.ROLLBACK:
        verdict = "succeeded" if ok else f"failed: {error}"
        return f"Helm rollback to previous {target} {verdict}"
    verb = {planner.INSTALL: "install", planner.UPGRADE: "upgrade", planner.UNINSTALL: "uninstall",
            planner.TEST: "test"}.get(action, action)  # fmt: skip
    return f"Helm {verb} succeeded for {target}" if ok else f"Helm {verb} failed for {target}: {error}"


def kubeconfig_file(cfg: KubeConfig, directory: Path) -> Path:
    """A kubeconfig file for Helm's client, written (0600) from the controller's own connection settings."""
    cluster: Obj = {"server": cfg.server}
    if cfg.insecure:
        cluster["insecure-skip-tls-verify"] = True
    elif cfg.ca_file:
        cluster["certificate-authority"] = cfg.ca_file
    elif cfg.ca_data:
        cluster["certificate-authority-data"] = base64.b64encode(cfg.ca_data).decode()
    user: Obj = {}
    if cfg.token:
        user["token"] = cfg.token
    elif cfg.token_file:
        user["tokenFile"] = cfg.token_file
    if cfg.cert_file and cfg.key_file:
        user["client-certificate"], user["client-key"] = cfg.cert_file, cfg.key_file
    if cfg.username:
        user["username"], user["password"] = cfg.username, cfg.password or ""
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "gotk", "cluster": cluster}],
        "users": [{"name": "gotk", "user": user}],
        "contexts": [{"name": "gotk", "context": {"cluster": "gotk", "user": "gotk"}}],
        "current-context": "gotk",
    }
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="kubeconfig-", dir=directory)
    with os.fdopen(fd, "w") as fh:
        yaml.safe_dump(doc, fh)
    os.chmod(name, 0o600)
    return Path(name)
