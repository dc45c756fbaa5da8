"""gotk.source.helm.chart: packaging a chart directory as Helm does (`<name>/` entries, `.helmignore`, a new
version, merged values files, local `file://` dependencies as sub-chart directories), read back with
gotk.runtime.chartarchive, and the errors (with Flux's reasons) for what cannot be built."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
import yaml

from gotk.runtime import chartarchive
from gotk.source.helm import chart


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    write(
        root,
        {
            "charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.2.3\ndependencies:\n"
            "  - name: lib\n    version: '>=0.1.0'\n    repository: file://../lib\n",
            "charts/app/values.yaml": "replicas: 1\nimage: {repository: app, tag: v1}\n",
            "charts/app/values-prod.yaml": "replicas: 3\nimage: {tag: v2}\n",
            "charts/app/templates/cm.yaml": "kind: ConfigMap\n",
            "charts/app/notes.md": "ignored\n",
            "charts/app/tmp/scratch.txt": "ignored dir\n",
            "charts/app/.helmignore": "*.md\ntmp/\n",
            "charts/lib/Chart.yaml": "apiVersion: v2\nname: lib\nversion: 0.2.0\ntype: library\n",
            "charts/lib/templates/_helpers.tpl": '{{- define "lib.name" -}}lib{{- end -}}\n',
            "env/staging.yaml": "replicas: 2\n",
        },
    )
    return root


def test_package_with_helmignore_and_local_dependency(source: Path, tmp_path: Path) -> None:
    path, meta = chart.package_dir(source / "charts/app", tmp_path / "out", root=source)
    assert path.name == "app-1.2.3.tgz" and meta["version"] == "1.2.3"
    files = members(path)
    assert sorted(files) == [
        "app/Chart.yaml",
        "app/charts/lib/Chart.yaml",
        "app/charts/lib/templates/_helpers.tpl",
        "app/templates/cm.yaml",
        "app/values-prod.yaml",
        "app/values.yaml",
    ]
    assert chartarchive.metadata_from_archive(path.read_bytes())["name"] == "app"


def test_package_with_version_and_merged_values(source: Path, tmp_path: Path) -> None:
    values, found = chart.merge_values_files(
        source, ["charts/app/values.yaml", "charts/app/values-prod.yaml", "missing.yaml"], ignore_missing=True
    )
    assert found == ["charts/app/values.yaml", "charts/app/values-prod.yaml"]
    assert yaml.safe_load(values) == {"replicas": 3, "image": {"repository": "app", "tag": "v2"}}
    path, _ = chart.package_dir(
        source / "charts/app", tmp_path / "out", root=source, version="1.2.3+abcdef012345.2", values=values
    )
    assert path.name == "app-1.2.3+abcdef012345.2.tgz"
    files = members(path)
    assert yaml.safe_load(files["app/Chart.yaml"])["version"] == "1.2.3+abcdef012345.2"
    assert yaml.safe_load(files["app/values.yaml"])["replicas"] == 3


def test_packaging_is_deterministic(source: Path, tmp_path: Path) -> None:
    a, _ = chart.package_dir(source / "charts/app", tmp_path / "a", root=source)
    b, _ = chart.package_dir(source / "charts/app", tmp_path / "b", root=source)
    assert a.read_bytes() == b.read_bytes()


def test_values_files_errors(source: Path) -> None:
    with pytest.raises(chart.ChartError, match=r"no values file found at path 'missing\.yaml'") as err:
        chart.merge_values_files(source, ["missing.yaml"], ignore_missing=False)
    assert err.value.reason == chart.VALUES_FILES_ERROR
    with pytest.raises(chart.ChartError, match="leaves the source"):
        chart.merge_values_files(source / "charts", ["../env/staging.yaml"], ignore_missing=False)


def test_dependencies_that_cannot_be_built(source: Path, tmp_path: Path) -> None:
    write(
        source,
        {
            "charts/remote/Chart.yaml": "apiVersion: v2\nname: remote\nversion: 1.0.0\ndependencies:\n"
            "  - name: redis\n    version: 17.x\n    repository: https://charts.example\n",
            "charts/tooold/Chart.yaml": "apiVersion: v2\nname: tooold\nversion: 1.0.0\ndependencies:\n"
            "  - name: lib\n    version: '>=1.0.0'\n    repository: file://../lib\n",
        },
    )
    with pytest.raises(chart.ChartError, match="only file:// dependencies are built") as err:
        chart.package_dir(source / "charts/remote", tmp_path / "out", root=source)
    assert err.value.reason == chart.DEPENDENCY_BUILD_ERROR
    with pytest.raises(chart.ChartError, match="does not match constraint"):
        chart.package_dir(source / "charts/tooold", tmp_path / "out", root=source)
    # a vendored dependency needs nothing built
    write(source, {"charts/remote/charts/redis-17.1.0.tgz": "vendored"})
    path, _ = chart.package_dir(source / "charts/remote", tmp_path / "out", root=source)
    assert "remote/charts/redis-17.1.0.tgz" in members(path)


@pytest.mark.parametrize(
    ("chart_yaml", "message"),
    [
        ("apiVersion: v2\nversion: 1.0.0\n", "name is required"),
        ("apiVersion: v2\nname: x\nversion: one\n", "version 'one' is invalid"),
        ("- a\n", "not a mapping"),
    ],
)
def test_invalid_metadata(tmp_path: Path, chart_yaml: str, message: str) -> None:
    write(tmp_path, {"x/Chart.yaml": chart_yaml})
    with pytest.raises(chart.ChartError, match=message) as err:
        chart.package_dir(tmp_path / "x", tmp_path / "out", root=tmp_path)
    assert err.value.reason == chart.INVALID_CHART_REFERENCE
