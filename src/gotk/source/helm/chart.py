"""Helm chart directories: read a chart's metadata, merge values files, and package a chart directory as Helm
does (`<name>/...` entries in a tar.gz, `.helmignore` honoured, local `file://` dependencies included as
sub-chart directories under `charts/`), optionally with a new version and merged values.

Blocking file work, no network; errors are `ChartError` with a Flux build-failure reason. Packaged charts
are read by `gotk.runtime.chartarchive`.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from gotk.runtime import helmvalues, semver
from gotk.runtime.chartarchive import (
    CHART_PACKAGE_ERROR,
    INVALID_CHART_REFERENCE,
    MAX_CHART_FILE,
    ChartError,
    check_metadata,
    load_yaml,
)
from gotk.source import ignore

Obj = dict[str, Any]
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# Flux's build error reasons of values files and dependencies (a chart's own are in gotk.runtime.chartarchive)
VALUES_FILES_ERROR = "ValuesFilesError"
DEPENDENCY_BUILD_ERROR = "DependencyBuildError"


def metadata_from_dir(chart_dir: Path) -> Obj:
    path = chart_dir / "Chart.yaml"
    if not path.is_file():
        raise ChartError(INVALID_CHART_REFERENCE, f"no Chart.yaml in chart path '{chart_dir.name}'")
    return check_metadata(load_yaml(path.read_bytes(), "Chart.yaml"), str(chart_dir.name))


def merge_values_files(root: Path, paths: Sequence[str], *, ignore_missing: bool) -> tuple[bytes, list[str]]:
    """Merge the values files (paths relative to `root`, which they may not leave) in order; return the
    merged values.yaml and the paths that were found."""
    merged: Obj = {}
    found: list[str] = []
    base = root.resolve()
    for rel in paths:
        path = (root / rel.lstrip("/")).resolve()
        if not path.is_relative_to(base):
            raise ChartError(VALUES_FILES_ERROR, f"values file path '{rel}' leaves the source")
        if not path.is_file():
            if ignore_missing:
                continue
            raise ChartError(VALUES_FILES_ERROR, f"no values file found at path '{rel}'")
        values = load_yaml(path.read_bytes(), f"values file '{rel}'") or {}
        if not isinstance(values, dict):
            raise ChartError(VALUES_FILES_ERROR, f"values file '{rel}' is not a mapping")
        merged = helmvalues.merge(merged, values)
        found.append(rel)
    return yaml.dump(merged, Dumper=_Dumper, sort_keys=True).encode(), found


def _helmignore(chart_dir: Path) -> ignore.Matcher:
    text = ""
    if (chart_dir / ".helmignore").is_file():
        text = (chart_dir / ".helmignore").read_text(errors="replace")
    return ignore.make_matcher(ignore.read_patterns(text), defaults=False)


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    tar.addfile(info, io.BytesIO(data))


def _write_chart(
    tar: tarfile.TarFile, chart_dir: Path, base: str, root: Path, *, version: str | None, values: bytes | None
) -> Obj:
    meta = metadata_from_dir(chart_dir)
    if version is not None:
        meta = {**meta, "version": version}
    matcher = _helmignore(chart_dir)
    files: list[tuple[str, Path]] = []
    for path in sorted(chart_dir.rglob("*")):
        rel = path.relative_to(chart_dir).as_posix()
        if path.is_symlink() or not path.is_file() or rel in ("Chart.yaml", ".helmignore"):
            continue
        if matcher(rel, False) or any(matcher(p, True) for p in _parents(rel)):
            continue
        if values is not None and rel == "values.yaml":
            continue
        files.append((rel, path))
    _add(tar, f"{base}/Chart.yaml", yaml.dump(meta, Dumper=_Dumper, sort_keys=False).encode())
    if values is not None:
        _add(tar, f"{base}/values.yaml", values)
    for rel, path in files:
        if path.stat().st_size > MAX_CHART_FILE:
            raise ChartError(CHART_PACKAGE_ERROR, f"file '{rel}' is larger than {MAX_CHART_FILE} bytes")
        _add(tar, f"{base}/{rel}", path.read_bytes())
    for dep in meta.get("dependencies") or []:
        _add_local_dependency(tar, chart_dir, base, root, dep)
    return meta


def _parents(rel: str) -> list[str]:
    parts = rel.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _add_local_dependency(tar: tarfile.TarFile, chart_dir: Path, base: str, root: Path, dep: Mapping[str, Any]) -> None:
    name = str(dep.get("name") or "")
    repo = str(dep.get("repository") or "")
    vendored = chart_dir / "charts"
    if vendored.is_dir() and any(p.name == name or p.name.startswith(f"{name}-") for p in vendored.iterdir()):
        return  # already under charts/ (as a directory or an archive)
    if not repo.startswith("file://"):
        where = repo or "no repository"
        raise ChartError(
            DEPENDENCY_BUILD_ERROR,
            f"dependency '{name}' ({where}) is not vendored under charts/; only file:// dependencies are built",
        )
    dep_dir = (chart_dir / repo.removeprefix("file://")).resolve()
    if not dep_dir.is_relative_to(root.resolve()):
        raise ChartError(DEPENDENCY_BUILD_ERROR, f"dependency '{name}' path '{repo}' leaves the source")
    if not dep_dir.is_dir():
        raise ChartError(DEPENDENCY_BUILD_ERROR, f"dependency '{name}': no chart directory at '{repo}'")
    meta = metadata_from_dir(dep_dir)
    constraint = str(dep.get("version") or "*")
    try:
        if not semver.check(constraint, str(meta["version"])):
            raise ChartError(
                DEPENDENCY_BUILD_ERROR,
                f"dependency '{name}' version '{meta['version']}' does not match constraint '{constraint}'",
            )
    except semver.SemverError as exc:
        raise ChartError(DEPENDENCY_BUILD_ERROR, f"dependency '{name}': {exc}") from None
    _write_chart(tar, dep_dir, f"{base}/charts/{meta['name']}", root, version=None, values=None)


def package_dir(
    chart_dir: Path, dest: Path, *, root: Path, version: str | None = None, values: bytes | None = None
) -> tuple[Path, Obj]:
    """Package `chart_dir` into `dest/<name>-<version>.tgz`; `root` bounds file:// dependencies. Returns the
    archive and the chart's (updated) metadata."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        name = str(metadata_from_dir(chart_dir)["name"])
        meta = _write_chart(tar, chart_dir, name, root, version=version, values=values)
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / f"{meta['name']}-{meta['version']}.tgz"
    out.write_bytes(buf.getvalue())
    return out, meta
