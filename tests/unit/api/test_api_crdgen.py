"""gotk.api.crdgen: the generated CRDs are structural and carry Flux's required lists, enums, patterns
and defaults; the YAML is stable; `--check` reports stale, missing and unexpected files.
"""

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gotk.api import crdgen, kinds, meta

REPO = Path(__file__).resolve().parents[3]
CRDS = {crd["spec"]["names"]["kind"]: crd for crd in crdgen.render_all()}


def root(kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = CRDS[kind]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def node(kind: str, path: str) -> dict[str, Any]:
    """The schema node at a dotted path; `[]` steps into array items, e.g. `spec.dependsOn[].name`."""
    current = root(kind)
    for part in path.split("."):
        name = part.removesuffix("[]")
        current = current["properties"][name]
        if part.endswith("[]"):
            current = current["items"]
    return current


def walk(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, schema
    for name, child in schema.get("properties", {}).items():
        yield from walk(child, f"{path}.{name}")
    if "items" in schema:
        yield from walk(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from walk(schema["additionalProperties"], f"{path}{{}}")


@pytest.mark.parametrize("kind", list(CRDS))
def test_schema_is_structural(kind: str) -> None:
    assert "$ref" not in yaml.safe_dump(CRDS[kind])
    for path, schema in walk(root(kind)):
        free_form = schema.get("x-kubernetes-preserve-unknown-fields") or schema.get("x-kubernetes-int-or-string")
        assert "type" in schema or free_form, f"{kind}{path} has no type"
        if "properties" in schema:
            assert schema["type"] == "object", path
            assert "additionalProperties" not in schema, path
            assert set(schema.get("required", [])) <= set(schema["properties"]), path
        if schema.get("type") == "array":
            assert "items" in schema, path
        for name in schema.get("properties", {}):
            assert "_" not in name, f"{kind}{path}.{name} is not camelCase"


@pytest.mark.parametrize("kind", list(CRDS))
def test_defaults_and_enums_are_consistent(kind: str) -> None:
    python_type = {"string": str, "boolean": bool, "integer": int, "array": list, "object": dict}
    for path, schema in walk(root(kind)):
        if "default" in schema:
            assert isinstance(schema["default"], python_type[schema["type"]]), path
            if "enum" in schema:
                assert schema["default"] in schema["enum"], path


@pytest.mark.parametrize(
    ("kind", "path", "required"),
    [
        ("GitRepository", "spec", ["interval", "url"]),
        ("OCIRepository", "spec", ["interval", "url"]),
        ("HelmRepository", "spec", ["url"]),
        ("HelmChart", "spec", ["chart", "interval", "sourceRef"]),
        ("Bucket", "spec", ["bucketName", "endpoint", "interval"]),
        ("Kustomization", "spec", ["interval", "prune", "sourceRef"]),
        ("Kustomization", "spec.sourceRef", ["kind", "name"]),
        ("HelmRelease", "spec", ["interval"]),
        ("HelmRelease", "spec.chart", ["spec"]),
        ("HelmRelease", "spec.chart.spec", ["chart", "sourceRef"]),
        ("HelmRelease", "spec.valuesFrom[]", ["kind", "name"]),
        ("Receiver", "spec", ["resources", "type"]),
        ("Alert", "spec", ["eventSources", "providerRef"]),
        ("Provider", "spec", ["type"]),
        ("ImageRepository", "spec", ["image", "interval"]),
        ("ImagePolicy", "spec", ["imageRepositoryRef", "policy"]),
        ("ImageUpdateAutomation", "spec", ["interval", "sourceRef"]),
        ("GitRepository", "status.conditions[]", ["lastTransitionTime", "message", "reason", "status", "type"]),
        ("GitRepository", "status.artifact", ["digest", "lastUpdateTime", "path", "revision", "url"]),
    ],
)
def test_required_fields(kind: str, path: str, required: list[str]) -> None:
    assert node(kind, path)["required"] == required


@pytest.mark.parametrize(
    ("kind", "path", "values"),
    [
        ("Kustomization", "spec.deletionPolicy", ["MirrorPrune", "Delete", "WaitForTermination", "Orphan"]),
        ("Kustomization", "spec.sourceRef.kind", ["OCIRepository", "GitRepository", "Bucket", "ExternalArtifact"]),
        ("HelmRelease", "spec.upgrade.crds", ["Skip", "Create", "CreateReplace"]),
        ("HelmRelease", "spec.chartRef.kind", ["OCIRepository", "HelmChart", "ExternalArtifact"]),
        ("HelmRelease", "spec.driftDetection.mode", ["enabled", "warn", "disabled"]),
        ("GitRepository", "spec.provider", ["generic", "aws", "azure", "github"]),
        ("GitRepository", "spec.verify.mode", ["head", "HEAD", "Tag", "TagAndHEAD"]),
        ("OCIRepository", "spec.provider", ["generic", "aws", "azure", "gcp"]),
        ("Bucket", "spec.provider", ["generic", "aws", "gcp", "azure"]),
        ("ImagePolicy", "spec.digestReflectionPolicy", ["Always", "IfNotPresent", "Never"]),
        ("Alert", "spec.eventSeverity", ["info", "error"]),
        ("GitRepository", "status.conditions[].status", ["True", "False", "Unknown"]),
    ],
)
def test_enums(kind: str, path: str, values: list[str]) -> None:
    assert node(kind, path)["enum"] == values


@pytest.mark.parametrize(
    ("kind", "path", "default"),
    [
        ("GitRepository", "spec.timeout", "60s"),
        ("GitRepository", "spec.verify.mode", "HEAD"),
        ("HelmChart", "spec.version", "*"),
        ("HelmRelease", "spec.chart.spec.reconcileStrategy", "ChartVersion"),
        ("HelmRelease", "spec.uninstall.deletionPropagation", "background"),
        ("Receiver", "spec.interval", "10m"),
        ("ImageRepository", "spec.exclusionList", [r"^.*\.sig$"]),
        ("ImageUpdateAutomation", "spec.update", {"strategy": "Setters"}),
        ("Kustomization", "status", {"observedGeneration": -1}),
    ],
)
def test_defaults(kind: str, path: str, default: object) -> None:
    assert node(kind, path)["default"] == default


def test_free_form_values_and_cel_rules() -> None:
    assert node("HelmRelease", "spec.values") == {
        "description": node("HelmRelease", "spec.values")["description"],
        "x-kubernetes-preserve-unknown-fields": True,
    }
    rules = [rule["message"] for rule in node("HelmRelease", "spec")["x-kubernetes-validations"]]
    assert rules == ["either chart or chartRef must be set"]
    kube_config = node("Kustomization", "spec.kubeConfig")["x-kubernetes-validations"]
    assert len(kube_config) == 2
    assert node("Receiver", "spec.oidcProviders")["x-kubernetes-list-map-keys"] == ["issuerURL"]


def test_patterns() -> None:
    assert node("GitRepository", "spec.url")["pattern"] == "^(http|https|ssh)://.*$"
    assert node("OCIRepository", "spec.url")["pattern"] == "^oci://.*$"
    assert node("HelmRepository", "spec.url")["pattern"] == "^(http|https|oci)://.*$"
    assert node("GitRepository", "spec.timeout")["pattern"] == meta.TIMEOUT_PATTERN
    for kind in ("GitRepository", "Kustomization", "HelmRelease", "ImageRepository"):
        assert node(kind, "spec.interval")["pattern"] == meta.INTERVAL_PATTERN


INTERVAL = re.compile(meta.INTERVAL_PATTERN)
TIMEOUT = re.compile(meta.TIMEOUT_PATTERN)


@pytest.mark.parametrize("value", ["1m", "1h30m", "500ms", "1.5h", "1m0s", "10m0s", "90s"])
def test_interval_pattern_accepts_go_durations(value: str) -> None:
    assert INTERVAL.match(value)


@pytest.mark.parametrize("value", ["1x", "m", "10", "", "1 m", "-1m", "1d", ".5h", "1m "])
def test_interval_pattern_rejects_malformed_values(value: str) -> None:
    assert not INTERVAL.match(value)


def test_timeout_pattern_has_no_hours() -> None:
    assert TIMEOUT.match("90s")
    assert TIMEOUT.match("1m30s")
    assert not TIMEOUT.match("1h")


durations = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=10**6),
        st.one_of(st.none(), st.integers(min_value=0, max_value=999)),
        st.sampled_from(["ms", "s", "m", "h"]),
    ),
    min_size=1,
    max_size=4,
).map(lambda parts: "".join(f"{n}{'' if f is None else f'.{f}'}{unit}" for n, f, unit in parts))


@given(durations)
def test_interval_pattern_accepts_every_unit_sequence(value: str) -> None:
    assert INTERVAL.match(value)


@given(durations, st.sampled_from(["d", "w", "x", "us", "ns", " "]))
def test_interval_pattern_rejects_unknown_units(value: str, unit: str) -> None:
    assert not INTERVAL.match(value + "1" + unit)


def test_crd_names_versions_and_subresources() -> None:
    crd = CRDS["GitRepository"]
    assert crd["metadata"]["name"] == "gitrepositories.source.toolkit.fluxcd.io"
    assert crd["spec"]["names"]["shortNames"] == ["gitrepo"]
    [version] = crd["spec"]["versions"]
    assert (version["name"], version["served"], version["storage"]) == ("v1", True, True)
    assert version["subresources"] == {"status": {}}
    assert CRDS["Alert"]["spec"]["versions"][0]["subresources"] == {}
    assert "status" not in root("Alert")["properties"]
    assert "shortNames" not in CRDS["Bucket"]["spec"]["names"]
    columns = version["additionalPrinterColumns"]
    assert columns[0] == {"name": "URL", "type": "string", "jsonPath": ".spec.url"}


def test_render_yaml_is_stable_and_round_trips() -> None:
    crd = CRDS["HelmRelease"]
    text = crdgen.render_yaml(crd)
    assert text == crdgen.render_yaml(crdgen.render(kinds.by_kind("HelmRelease")))
    assert text.startswith("---\napiVersion: apiextensions.k8s.io/v1\n")
    assert yaml.safe_load(text) == crd


def test_write_then_check_is_clean(tmp_path: Path) -> None:
    written = crdgen.write(tmp_path)
    assert len(written) == len(kinds.all_kinds()) + 1
    assert (tmp_path / "source.toolkit.fluxcd.io_gitrepositories.yaml").exists()
    listed = yaml.safe_load((tmp_path / "kustomization.yaml").read_text())["resources"]
    assert len(listed) == len(kinds.all_kinds())
    assert crdgen.check(tmp_path) == []
    assert crdgen.write(tmp_path) == []
    assert crdgen.main(["--check", str(tmp_path)]) == 0


def test_check_reports_stale_missing_and_unexpected_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    crdgen.write(tmp_path)
    stale = tmp_path / "kustomize.toolkit.fluxcd.io_kustomizations.yaml"
    stale.write_text(stale.read_text().replace("- ks\n", "- kus\n"))
    missing = tmp_path / "helm.toolkit.fluxcd.io_helmreleases.yaml"
    missing.unlink()
    unexpected = tmp_path / "source.toolkit.fluxcd.io_old.yaml"
    unexpected.write_text("---\n")

    assert crdgen.check(tmp_path) == [f"stale: {stale}", f"missing: {missing}", f"unexpected: {unexpected}"]
    assert crdgen.main(["--check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "out of date" in err
    assert str(stale) in err and str(missing) in err
    assert "python -m gotk.api.crdgen" in err

    crdgen.main([str(tmp_path)])
    assert crdgen.check(tmp_path) == []
    assert not unexpected.exists()


def test_check_on_a_missing_directory_reports_every_file(tmp_path: Path) -> None:
    problems = crdgen.check(tmp_path / "nope")
    assert len(problems) == len(kinds.all_kinds()) + 1
    assert all(line.startswith("missing: ") for line in problems)


def test_committed_crds_are_up_to_date() -> None:
    """The CLI in a fresh interpreter, as `make crds-check` runs it, agrees with config/crd."""
    result = subprocess.run(
        [sys.executable, "-m", "gotk.api.crdgen", "--check", str(REPO / "config" / "crd")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
