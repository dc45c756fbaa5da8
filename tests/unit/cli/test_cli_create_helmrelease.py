"""`flux create helmrelease|hr … --export` without a cluster: flux2's create_hr cases (testdata/create_hr
goldens, byte for byte) and the flags they skip, --values files read and merged as Go does (numbers via
float64, go-yaml v2 scalars), the validation errors in one golden file, `flux get hr` against flux2's
get_helmrelease_from_git.golden, and the hr aliases of the generic verbs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from gotk.cli import create_helmrelease, get, kinds_cli
from gotk.cli.main import cli
from gotk.cli.output import CommandError
from gotk.testing.golden import assert_golden, export_output

GOLDEN = Path(__file__).parents[2] / "golden" / "cli"
HR = ["create", "helmrelease", "podinfo"]
TEMPLATE = [*HR, "--source=HelmRepository/podinfo", "--chart=podinfo"]

EXPORTS: dict[str, list[str]] = {
    # flux2 cmd/flux/create_helmrelease_test.go (its namespace is flux-system here)
    "helmrelease_basic": [*HR, "--source", "Helmrepository/podinfo", "--chart", "podinfo", "--interval=1m0s"],
    "helmrelease_or_basic": [*HR, "--chart-ref", "OCIRepository/podinfo", "--interval=1m0s"],
    "helmrelease_hc_basic": [*HR, "--chart-ref", "HelmChart/podinfo", "--interval=1m0s"],
    "helmrelease_everything": [
        "create",
        "hr",
        "podinfo",
        "--source=GitRepository/podinfo.flux-system",
        "--chart=./charts/podinfo",
        "--chart-version=>4.0.0",
        "--chart-interval=90s",
        "--reconcile-strategy=Revision",
        "--release-name=podinfo-dev",
        "--target-namespace=prod",
        "--create-target-namespace",
        "--depends-on=infra,flux-system/cert-manager@ready",
        "--values-from=secret/podinfo-values",
        "--values-from=ConfigMap/podinfo-defaults",
        "--kubeconfig-secret-ref=prod-kubeconfig",
        "--service-account=helm",
        "--crds=CreateReplace",
        "--interval=10m",
        "--label=app=podinfo,tier=frontend",
        "-n",
        "apps",
    ],
    "helmrelease_chart_ref_storage": [
        *HR,
        "--chart-ref=OCIRepository/podinfo.flux-system",
        "--target-namespace=prod",
        "--storage-namespace=helm-storage",
        "--crds=Skip",
        "-n",
        "apps",
    ],
    "helmrelease_no_source": [*HR, "--chart=podinfo", "--create-target-namespace=false"],
}


run = export_output


@pytest.mark.parametrize("case", sorted(EXPORTS))
def test_export_golden(case: str) -> None:
    assert_golden(GOLDEN / "create", f"{case}.golden", run(EXPORTS[case]))


def test_the_alias_builds_the_same_object() -> None:
    assert run(["create", "hr", *TEMPLATE[2:]]) == run(TEMPLATE)
    doc = yaml.safe_load(run(EXPORTS["helmrelease_no_source"]))
    assert doc["spec"]["chart"]["spec"]["sourceRef"] == {"name": ""}  # flux marshals the required name


# -- values ----------------------------------------------------------------------------------------

VALUES_1 = """\
replicaCount: 2
image: {repository: ghcr.io/stefanprodan/podinfo, tag: 6.0.0, pullPolicy: IfNotPresent}
port: "8080"
ratio: 1.50
tiny: 1e-7
huge: 12345678901234567890
whole: 3.0
date: 2026-01-01
answer: yes
list: [1, two, 0x10]
"""
VALUES_2 = """\
image: {tag: 6.1.0}
list: [replaced]
resources: {limits: {cpu: 100m}}
---
ignored: the second document
"""


def test_values_files_are_merged_in_order(tmp_path: Path) -> None:
    first, second, empty = tmp_path / "one.yaml", tmp_path / "two.yaml", tmp_path / "empty.yaml"
    first.write_text(VALUES_1)
    second.write_text(VALUES_2)
    empty.write_text("")
    out = run([*TEMPLATE, f"--values={first},{empty}", f"--values={second}"])
    assert_golden(GOLDEN / "create", "helmrelease_values.golden", out)
    values = yaml.safe_load(out)["spec"]["values"]
    assert values["image"] == {
        "repository": "ghcr.io/stefanprodan/podinfo",
        "tag": "6.1.0",
        "pullPolicy": "IfNotPresent",
    }
    assert values["list"] == ["replaced"] and values["huge"] == 12345678901234567000
    assert yaml.safe_load(run([*TEMPLATE, f"--values={empty}"]))["spec"]["values"] == {}  # set, though empty


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1),
        (3.0, 3),
        (-0.0, 0),
        (1.5, 1.5),
        (1e20, 1e20),
        (1e21, 1e21),
        (12345678901234567890, 12345678901234567000),
        (18446744073709551615, 1.8446744073709552e19),
        (True, True),
        (None, None),
        ({2: "a", True: "b", 1.5: "c"}, {"2": "a", "true": "b", "1.5": "c"}),
    ],
)
def test_json_values(value: Any, expected: Any) -> None:
    found = create_helmrelease.json_values(value)
    assert found == expected and type(found) is type(expected)


# -- validation errors -------------------------------------------------------------------------------

ERRORS: list[list[str]] = [
    ["create", "helmrelease", "--export"],
    [*HR, "--export"],
    [*HR, "--chart", "podinfo", "--chart-ref", "foobar/podinfo", "--export"],
    [*HR, "--source", "foobar/podinfo", "--chart", "podinfo", "--export"],
    [*HR, "--chart-ref", "foobar/podinfo", "--export"],
    [*HR, "--chart-ref", "helmchart/podinfo", "--export"],
    ["create", "hr", "Podinfo", "--chart=podinfo"],
    [*HR, "--chart=podinfo", "--source="],
    [*HR, "--chart=podinfo", "--source=podinfo"],
    [*HR, "--chart=podinfo", "--source=HelmRepository/"],
    [*TEMPLATE, "--reconcile-strategy=ChartRevision"],
    [*TEMPLATE, "--reconcile-strategy=Latest", "--export"],
    [*TEMPLATE, "--crds="],
    [*TEMPLATE, "--crds=create"],
    [*TEMPLATE, "--chart-interval=soon"],
    [*TEMPLATE, "--label=team"],
    [*TEMPLATE, "--values-from=podinfo-values"],
    [*TEMPLATE, "--values-from=Deployment/podinfo"],
    [*TEMPLATE, "--values=/nonexistent/values.yaml"],
    [*TEMPLATE, "--create-target-namespace=maybe"],
]


def error_report(args: list[str]) -> str:
    """`$ flux ARGS`, then what flux prints on stderr: its progress lines and one ✗ line."""
    result = CliRunner().invoke(cli, args, env={"KUBECONFIG": "/nonexistent"})
    assert isinstance(result.exception, CommandError), (args, result.output)
    assert result.stdout == "", args
    return f"$ flux {' '.join(args)}\n{result.stderr}✗ {result.exception}\n"


def test_validation_errors_golden(tmp_path: Path) -> None:
    report = [error_report(args) for args in ERRORS]
    for name, text in {"list.yaml": "- a\n- b\n", "broken.yaml": "a: [1\n", "inf.yaml": "a: .inf\n"}.items():
        (tmp_path / name).write_text(text)
        report.append(error_report([*TEMPLATE, f"--values={tmp_path / name}"]).replace(str(tmp_path), "TMP"))
    assert_golden(GOLDEN / "create", "validation_errors_helmrelease.golden", "\n".join(report))


# -- the generic verbs ---------------------------------------------------------------------------------


class FakeClient:
    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items

    async def list(self, res: Any, namespace: str | None = None, **kw: Any) -> dict[str, Any]:
        return {"items": self.items}


async def test_get_helmrelease_golden() -> None:
    """flux2's e2e get of a HelmRelease installed from a GitRepository chart (namespace thrfg-1)."""
    message = "Helm install succeeded for release thrfg-1/thrfg.v1 with chart podinfo@6.3.5"
    hr = {
        "kind": "HelmRelease",
        "metadata": {"name": "thrfg", "namespace": "thrfg-1"},
        "spec": {"chart": {"spec": {"chart": "./charts/podinfo", "sourceRef": {"kind": "GitRepository"}}}},
        "status": {
            "conditions": [{"type": "Ready", "status": "True", "reason": "InstallSucceeded", "message": message}],
            "history": [{"chartName": "podinfo", "chartVersion": "6.3.5", "version": 1, "status": "deployed"}],
            "lastAttemptedRevision": "6.3.5",
        },
    }
    client = FakeClient([hr])
    text = await get.get_one(client, kinds_cli.HELMRELEASE, get.Query(namespace="thrfg-1", name="thrfg"))  # type: ignore[arg-type]
    assert_golden(GOLDEN, "get_helmrelease_from_git.golden", text)


@pytest.mark.parametrize(
    "args",
    [
        ["get", "hr", "--help"],
        ["get", "helmrelease", "--help"],
        ["reconcile", "hr", "--help"],
        ["suspend", "hr", "--help"],
        ["resume", "hr", "--help"],
        ["export", "hr", "--help"],
        ["delete", "hr", "--help"],
        ["create", "hr", "--help"],
    ],
)
def test_hr_alias_of_every_verb(args: list[str]) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "helmrelease" in result.output.lower()


def test_helmrelease_name_is_required() -> None:
    assert str(CliRunner().invoke(cli, ["delete", "hr"]).exception) == "helmrelease name is required"
    assert str(CliRunner().invoke(cli, ["export", "hr"]).exception) == "name is required"
    assert str(CliRunner().invoke(cli, ["reconcile", "hr"]).exception) == "HelmRelease name is required"
