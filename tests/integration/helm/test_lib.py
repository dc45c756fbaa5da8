"""gotk.helm.lib against the local control plane: real Helm releases made by Helm v4's own action
package through libgotkhelm.so, checked in the cluster and with the real helm CLI (the oracle):
it lists and upgrades the releases gotk made.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gotk.helm.lib import HelmActionError, HelmLib, HelmLibNotFoundError, Target
from gotk.local.controlplane import ControlPlane
from gotk.testing import helm

pytestmark = pytest.mark.cluster

TEST_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-test
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: test
          image: busybox
"""


@pytest.fixture(scope="module")
def lib() -> HelmLib:
    return HelmLib()


@pytest.fixture(scope="module")
def charts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Packaged charts: `app` (one ConfigMap from the values), `app2` (version 0.2.0 of it),
    `tested` (with a test hook Job) and `broken` (a template rendering invalid YAML)."""
    src, dist = tmp_path_factory.mktemp("charts"), tmp_path_factory.mktemp("dist")
    app = helm.write_chart(src, "app", values={"greeting": "hello"})
    tested = helm.write_chart(
        src, "tested", templates={"configmap.yaml": helm.DEFAULT_TEMPLATE, "test-job.yaml": TEST_JOB}
    )
    broken = helm.write_chart(src, "broken", templates={"bad.yaml": "kind: ConfigMap\nmetadata: [unclosed\n"})
    return {
        "app": helm.package(app, dist),
        "app2": helm.package(app, dist, version="0.2.0", app_version="2.0.0"),
        "tested": helm.package(tested, dist),
        "broken": helm.package(broken, dist),
    }


def configmap(cluster: ControlPlane, namespace: str, name: str) -> dict[str, Any]:
    out = cluster.kubectl("get", "configmap", name, "-n", namespace, "-o", "json", "--show-managed-fields")
    obj: dict[str, Any] = json.loads(out.stdout)
    return obj


def release_secrets(cluster: ControlPlane, namespace: str, release: str) -> list[str]:
    out = cluster.kubectl("get", "secrets", "-n", namespace, "-l", f"owner=helm,name={release}", "-o", "name")
    return sorted(out.stdout.split())


def helm_cli(cluster: ControlPlane, *args: str) -> Any:
    """The real helm CLI against the cluster, `-o json` parsed."""
    return json.loads(helm.run(*args, "--kubeconfig", str(cluster.kubeconfig), "-o", "json").stdout)


def cli_upgrade(cluster: ControlPlane, namespace: str, release: str, chart: Path, *args: str) -> None:
    helm.run("upgrade", release, str(chart), "-n", namespace, "--kubeconfig", str(cluster.kubeconfig), *args)


def test_version(lib: HelmLib) -> None:
    assert lib.version() | {"go": ""} == {
        "helm": "v4.3.1",
        "clientGo": "v0.37.1",
        "fieldManager": "helm-controller",
        "go": "",
    }


def test_missing_library_names_path_and_setup(tmp_path: Path) -> None:
    with pytest.raises(HelmLibNotFoundError, match=r"libgotkhelm\.so.*make setup"):
        HelmLib(tmp_path / "libgotkhelm.so")


def test_template_renders_offline(lib: HelmLib, charts: dict[str, Path]) -> None:
    manifest = lib.template(charts["app"], {"greeting": "hi", "extra": 3}, release_name="demo", namespace="ns1")
    assert "kind: ConfigMap" in manifest
    assert "name: demo-app" in manifest
    assert 'greeting: "hi"' in manifest
    assert 'extra: "3"' in manifest
    with_hooks = lib.template(charts["tested"], release_name="demo")
    assert "kind: Job" in with_hooks and "name: demo-test\n" in with_hooks
    assert "kind: Job" not in lib.template(charts["tested"], release_name="demo", disable_hooks=True)


def test_release_lifecycle_and_helm_cli_interop(
    lib: HelmLib, charts: dict[str, Path], cluster: ControlPlane, namespace: str
) -> None:
    target = Target(namespace=namespace, kubeconfig=cluster.kubeconfig)

    rel = lib.install(target, "web", charts["app"], {"greeting": "one"}, timeout="1m")
    assert (rel.name, rel.namespace, rel.version, rel.status) == ("web", namespace, 1, "deployed")
    assert (rel.chart.name, rel.chart.version, rel.chart.app_version) == ("app", "0.1.0", "1.0.0")
    assert rel.config == {"greeting": "one"} and "web-app" in rel.manifest and rel.first_deployed
    cm = configmap(cluster, namespace, "web-app")
    assert cm["data"]["greeting"] == "one"
    assert {f["manager"] for f in cm["metadata"]["managedFields"]} == {"helm-controller"}
    assert release_secrets(cluster, namespace, "web") == ["secret/sh.helm.release.v1.web.v1"]

    rel = lib.upgrade(target, "web", charts["app2"], {"greeting": "two"})
    assert (rel.version, rel.status, rel.chart.version) == (2, "deployed", "0.2.0")
    assert configmap(cluster, namespace, "web-app")["data"]["greeting"] == "two"

    history = lib.history(target, "web")
    assert [(r.version, r.status) for r in history] == [(1, "superseded"), (2, "deployed")]

    rel = lib.rollback(target, "web", 1)
    assert (rel.version, rel.status, rel.config) == (3, "deployed", {"greeting": "one"})
    assert rel.description == "Rollback to 1"
    assert configmap(cluster, namespace, "web-app")["data"]["greeting"] == "one"
    assert lib.get(target, "web").version == 3
    assert lib.get(target, "web", 2).config == {"greeting": "two"}

    # The real helm CLI lists gotk's releases and upgrades them. Fields it applies unchanged are shared
    # with helm-controller; changed ones conflict under server-side apply unless forced, both ways.
    listed = helm_cli(cluster, "list", "-n", namespace)
    assert [(r["name"], r["revision"], r["status"], r["chart"]) for r in listed] == [
        ("web", "3", "deployed", "app-0.1.0")
    ]
    cli_history = helm_cli(cluster, "history", "web", "-n", namespace)
    assert [(r["revision"], r["status"]) for r in cli_history] == [
        (1, "superseded"),
        (2, "superseded"),
        (3, "deployed"),
    ]
    cli_upgrade(cluster, namespace, "web", charts["app"], "--reuse-values")
    assert (lib.get(target, "web").version, configmap(cluster, namespace, "web-app")["data"]["greeting"]) == (4, "one")
    with pytest.raises(helm.HelmError, match='conflicts with "helm-controller"'):
        cli_upgrade(cluster, namespace, "web", charts["app2"], "--set", "greeting=cli")
    cli_upgrade(cluster, namespace, "web", charts["app2"], "--set", "greeting=cli", "--force-conflicts")
    cm = configmap(cluster, namespace, "web-app")
    assert cm["data"]["greeting"] == "cli" and "helm" in {f["manager"] for f in cm["metadata"]["managedFields"]}
    with pytest.raises(HelmActionError, match='conflicts with "helm"'):
        lib.upgrade(target, "web", charts["app"], {"greeting": "gotk"})
    rel = lib.upgrade(target, "web", charts["app"], {"greeting": "gotk"}, force_conflicts=True)
    assert (rel.version, configmap(cluster, namespace, "web-app")["data"]["greeting"]) == (8, "gotk")

    rel = lib.uninstall(target, "web")
    assert rel.status == "uninstalled"
    assert cluster.kubectl("get", "configmap", "web-app", "-n", namespace, check=False).returncode != 0
    assert release_secrets(cluster, namespace, "web") == []


def test_uninstall_keep_history_and_storage_namespace(
    lib: HelmLib, charts: dict[str, Path], cluster: ControlPlane, namespace: str
) -> None:
    cluster.ensure_namespace(f"{namespace}-store")
    target = Target(namespace=namespace, kubeconfig=cluster.kubeconfig, storage_namespace=f"{namespace}-store")
    lib.install(target, "kept", charts["app"])
    assert configmap(cluster, namespace, "kept-app")["data"]["greeting"] == "hello"
    assert release_secrets(cluster, namespace, "kept") == []
    assert release_secrets(cluster, f"{namespace}-store", "kept") == ["secret/sh.helm.release.v1.kept.v1"]

    uninstalled = lib.uninstall(target, "kept", keep_history=True)
    assert release_secrets(cluster, f"{namespace}-store", "kept") == ["secret/sh.helm.release.v1.kept.v1"]
    assert [(r.version, r.status) for r in lib.history(target, "kept")] == [(1, "uninstalled")]
    assert uninstalled.deleted and lib.history(target, "kept")[0].deleted, "the history's `deleted` time"
    cluster.kubectl("delete", "namespace", f"{namespace}-store", "--wait=false")


def test_release_test_runs_the_test_hook_job(
    lib: HelmLib, charts: dict[str, Path], cluster: ControlPlane, namespace: str
) -> None:
    target = Target(namespace=namespace, kubeconfig=cluster.kubeconfig)
    lib.install(target, "checked", charts["tested"])
    rel = lib.test(target, "checked", timeout="1m")
    assert [(h.name, h.kind, h.events, h.phase) for h in rel.hooks] == [("checked-test", "Job", ("test",), "Succeeded")]


def test_errors_carry_helms_message(
    lib: HelmLib, charts: dict[str, Path], cluster: ControlPlane, namespace: str
) -> None:
    target = Target(namespace=namespace, kubeconfig=cluster.kubeconfig)
    with pytest.raises(HelmActionError) as err:
        lib.upgrade(target, "missing", charts["app"])
    assert (err.value.action, err.value.message) == ("upgrade", '"missing" has no deployed releases')

    with pytest.raises(HelmActionError, match=r"YAML parse error on broken/templates/bad\.yaml") as err:
        lib.install(target, "bad", charts["broken"])
    assert err.value.action == "install"
    with pytest.raises(HelmActionError, match="YAML parse error"):
        lib.template(charts["broken"])
    with pytest.raises(HelmActionError, match="release: not found"):
        lib.get(target, "missing")
    assert lib.call({"action": "frobnicate"}) == {"ok": False, "error": 'unknown action "frobnicate"'}
