"""`flux create alert-provider|alert|receiver … --export` without a cluster: the YAML against golden files
(the `notification_flux2_*` cases are the objects of flux2's testdata/export/{provider,alert,receiver}.yaml
as these commands can build them), and the validation errors, one ✗ line and exit code 1 each, collected in
one golden file as test_cli_create.py does for the other `create` commands.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
import yaml

from gotk.cli import create_notification
from gotk.cli.main import main
from gotk.testing.golden import assert_golden, export_output

GOLDEN = Path(__file__).parents[2] / "golden" / "cli" / "create"
PROVIDER = ["create", "alert-provider", "slack", "--type=slack"]
ALERT = ["create", "alert", "podinfo", "--provider-ref=slack"]
RECEIVER = ["create", "receiver", "github-receiver", "--type=github", "--secret-ref=webhook-token"]
FLUX_NS = ["-n", "flux-system"]

EXPORTS: dict[str, list[str]] = {
    "notification_flux2_provider": [
        *PROVIDER,
        "--channel",
        "A channel with spacess",
        "--address=https://hooks.slack.com/services/mock",
        *FLUX_NS,
    ],
    "notification_flux2_alert": [
        "create",
        "alert",
        "flux-system",
        "--event-severity",
        "info",
        "--event-source",
        "GitRepository/*,Kustomization/*",
        "--provider-ref",
        "slack",
        *FLUX_NS,
    ],
    "notification_flux2_receiver": [
        *RECEIVER[:2],
        "flux-system",
        *RECEIVER[3:],
        "--event",
        "ping",
        "--event",
        "push",
        "--resource",
        "GitRepository/flux-system",
        *FLUX_NS,
    ],
    "notification_provider_everything": [
        "create",
        "alert-provider",
        "github-podinfo",
        "--type=github",
        "--address=https://github.com/stefanprodan/podinfo",
        "--secret-ref=github-token",
        "--username=flux-bot",
        "--interval=5m",  # a `create` flag, unused by Providers
        "--label=team=a,tier=ops",
    ],
    "notification_provider_minimal": [*PROVIDER],
    "notification_alert_everything": [
        *ALERT,
        "--event-severity=error",
        "--event-source=Kustomization/podinfo.apps,HelmRelease/*",
        "--event-source=GitRepository/podinfo.",
        "--event-source=OCIRepository/my.app.flux-system",
        "--event-source=Bucket/",
        "--label=app=podinfo",
        "-n",
        "apps",
    ],
    "notification_alert_no_severity": [*ALERT, "--event-source=Kustomization/flux-system"],
    "notification_receiver_everything": [
        *RECEIVER,
        "--event=push,ping",
        "--event=tag_push",
        "--resource=GitRepository/webapp,HelmRepository/webapp",
        "--resource=OCIRepository/app.with.dots",
        "--label=team=a",
        "-n",
        "apps",
    ],
    "notification_receiver_no_events": [*RECEIVER[:3], "--type=generic-hmac", "--secret-ref=s", "--resource=Bucket/b"],
}


run = export_output


@pytest.mark.parametrize("case", sorted(EXPORTS))
def test_export_golden(case: str) -> None:
    assert_golden(GOLDEN, f"{case}.golden", run(EXPORTS[case]))


def test_exports_read_back_as_the_objects() -> None:
    doc = yaml.safe_load(run(EXPORTS["notification_alert_everything"]))
    assert doc["spec"]["eventSources"][0] == {"kind": "Kustomization", "name": "podinfo", "namespace": "apps"}
    assert doc["spec"]["eventSources"][-1] == {"kind": "Bucket", "name": ""}  # flux marshals the required name
    doc = yaml.safe_load(run(EXPORTS["notification_receiver_everything"]))
    assert doc["apiVersion"] == "notification.toolkit.fluxcd.io/v1"
    assert doc["spec"]["events"] == ["push", "ping", "tag_push"]
    assert doc["spec"]["resources"][-1] == {"kind": "OCIRepository", "name": "app.with.dots"}  # no namespace part


def test_every_receiver_type_exports() -> None:
    for kind in create_notification.RECEIVER_TYPES:
        args = ["create", "receiver", "rcv", f"--type={kind}", "--secret-ref=s", "--resource=GitRepository/x"]
        assert yaml.safe_load(run(args))["spec"]["type"] == kind


# -- validation errors -------------------------------------------------------------------------------

ERRORS: list[list[str]] = [
    ["create", "alert-provider"],
    ["create", "alert-provider", "Slack", "--type=slack"],
    ["create", "alert-provider", "slack"],
    ["create", "alert-provider", "slack", "--type="],
    [*PROVIDER, "--label=team"],
    [*PROVIDER, "--label=team=a b"],
    [*PROVIDER, "--interval=often"],
    ["create", "alert"],
    ["create", "alert", "podinfo"],
    ["create", "alert", "podinfo", "--event-source=Kustomization/podinfo"],
    [*ALERT],
    [*ALERT, "--event-source="],
    [*ALERT, "--event-source=podinfo"],
    [*ALERT, "--event-source=Kustomization/apps/podinfo"],
    [*ALERT, "--event-source=/podinfo"],
    [*ALERT, "--event-source=Kustomization/a,,Kustomization/b"],
    [*ALERT, "--event-source=Kustomization/*", "--label=Bad Key=v"],
    ["create", "receiver"],
    ["create", "receiver", "rcv"],
    ["create", "receiver", "rcv", "--type="],
    ["create", "receiver", "rcv", "--type=generic-oidc"],
    ["create", "receiver", "rcv", "--type=GitHub"],
    ["create", "receiver", "rcv", "--type=github"],
    [*RECEIVER],
    [*RECEIVER, "--event=push"],
    [*RECEIVER, "--resource=webapp"],
    [*RECEIVER, "--resource=GitRepository/apps/webapp"],
    [*RECEIVER, "--resource=GitRepository/webapp", "--label=a=b=c"],
]


def flux_main(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    """`flux ARGS` through `main()`, as the installed command runs: (exit code, stdout, stderr)."""
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "argv", ["flux", *args])
        mp.setenv("KUBECONFIG", "/nonexistent")
        mp.setattr(sys, "stdin", io.StringIO(""))
        with pytest.raises(SystemExit) as exited:
            main()
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_validation_errors_golden(capsys: pytest.CaptureFixture[str]) -> None:
    report = []
    for args in ERRORS:
        code, out, err = flux_main(capsys, args)
        assert (code, out) == (1, ""), args
        assert err.startswith("✗ ") and err.count("\n") == 1, args
        report.append(f"$ flux {' '.join(args)}\n{err}exit {code}\n")
    assert_golden(GOLDEN, "validation_errors_notification.golden", "\n".join(report))
