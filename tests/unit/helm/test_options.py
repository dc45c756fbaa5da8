"""gotk.helm.actions.options: each action's Helm options from a HelmRelease spec, with Flux's defaults."""

from __future__ import annotations

from typing import Any

from gotk.helm.actions import options


def hr(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "a", "namespace": "ns"}, "spec": {"interval": "5m", **spec}}


def test_install_defaults_are_fluxs() -> None:
    got = options.install(hr())
    assert got["timeout"] == "5m0s" and got["wait"] and got["wait_for_jobs"] and got["wait_strategy"] == "watcher"
    assert got["take_ownership"] and got["server_side_apply"] == "true" and got["force_conflicts"]
    assert got["crds"] == "Create" and not got["create_namespace"] and not got["replace"]


def test_install_settings() -> None:
    spec = {
        "timeout": "2m",
        "targetNamespace": "apps",
        "waitStrategy": {"name": "legacy"},
        "install": {
            "timeout": "30s",
            "createNamespace": True,
            "skipCRDs": True,
            "disableTakeOwnership": True,
            "disableSchemaValidation": True,
            "serverSideApply": False,
            "replace": True,
            "disableWait": True,
        },
    }
    got = options.install(hr(**spec))
    assert got["timeout"] == "30s" and not got["wait"] and got["wait_strategy"] == "legacy"
    assert got["create_namespace"] and got["crds"] == "Skip" and got["replace"]
    assert not got["take_ownership"] and got["skip_schema_validation"]
    assert got["server_side_apply"] == "false" and not got["force_conflicts"]
    assert options.install(hr(install={"skipCRDs": True, "crds": "CreateReplace"}))["crds"] == "CreateReplace"
    assert not options.install(hr(install={"createNamespace": True}))["create_namespace"], "no targetNamespace"


def test_upgrade_resets_values_unless_preserved_and_skips_crds() -> None:
    got = options.upgrade(hr(timeout="1m", maxHistory=3))
    assert got["reset_values"] and not got["reuse_values"] and got["crds"] == "Skip"
    assert got["server_side_apply"] == "auto" and got["max_history"] == 3 and got["timeout"] == "1m"
    kept = options.upgrade(hr(upgrade={"preserveValues": True, "serverSideApply": "disabled", "force": True}))
    assert kept["reuse_values"] and not kept["reset_values"]
    assert kept["server_side_apply"] == "false" and kept["force"] and not kept["force_conflicts"]
    assert not options.upgrade(hr(upgrade={"force": True}))["force"], "force replaces only without SSA"


def test_rollback_uninstall_and_test() -> None:
    assert options.rollback(hr(rollback={"cleanupOnFail": True, "disableHooks": True}))["cleanup_on_fail"]
    assert options.rollback(hr(maxHistory=0))["max_history"] == 0
    gone = options.uninstall(hr(uninstall={"keepHistory": True, "deletionPropagation": "foreground"}))
    assert gone["keep_history"] and gone["deletion_propagation"] == "foreground" and gone["wait"]
    assert options.uninstall(hr())["deletion_propagation"] == "background"
    assert options.test(hr(test={"enable": True, "timeout": "10s"})) == {"timeout": "10s", "filters": {}}
