"""Packaged Helm charts (`<name>-<version>.tgz`), read the same way by the source and helm controllers:
`metadata_from_archive` is the chart's `<name>/Chart.yaml`, checked as Helm's loader checks it
(`check_metadata`: a name and a strict semver version).

Blocking, bounded reads, no network. Errors are `ChartError` with Flux's build-failure reason.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import PurePosixPath
from typing import Any

import yaml

from gotk.runtime import semver

__all__ = [
    "CHART_PACKAGE_ERROR",
    "CHART_PULL_ERROR",
    "INVALID_CHART_REFERENCE",
    "MAX_CHART_FILE",
    "ChartError",
    "check_metadata",
    "load_yaml",
    "metadata_from_archive",
]

Obj = dict[str, Any]
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Flux's build error reasons for what is wrong with a chart
INVALID_CHART_REFERENCE = "InvalidChartReference"
CHART_PULL_ERROR = "ChartPullError"
CHART_PACKAGE_ERROR = "ChartPackageError"
MAX_CHART_FILE = 5 * 1024 * 1024  # Flux's --helm-chart-file-max-size default


class ChartError(Exception):
    """A chart could not be read, merged or packaged; `reason` is Flux's build error reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def load_yaml(data: bytes, what: str) -> Any:
    """One YAML document of a chart (`what` names it in the error)."""
    try:
        return yaml.load(data, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ChartError(CHART_PACKAGE_ERROR, f"{what}: invalid YAML: {str(exc).splitlines()[0]}") from None


def check_metadata(meta: Any, where: str) -> Obj:
    """A Chart.yaml's content, checked as Helm's loader does (name, valid semver version)."""
    if not isinstance(meta, dict):
        raise ChartError(INVALID_CHART_REFERENCE, f"{where}: Chart.yaml is not a mapping")
    if not meta.get("name"):
        raise ChartError(INVALID_CHART_REFERENCE, f"{where}: chart.metadata.name is required")
    version = str(meta.get("version") or "")
    try:
        semver.parse_strict(version)
    except semver.SemverError:
        raise ChartError(INVALID_CHART_REFERENCE, f"{where}: chart.metadata.version '{version}' is invalid") from None
    return meta


def metadata_from_archive(data: bytes) -> Obj:
    """The Chart.yaml of a packaged chart (`<name>/Chart.yaml`, the first top-level directory's)."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar:
                parts = PurePosixPath(member.name).parts
                if len(parts) == 2 and parts[1] == "Chart.yaml" and member.isfile():
                    fh = tar.extractfile(member)
                    if fh is None or member.size > MAX_CHART_FILE:
                        break
                    return check_metadata(load_yaml(fh.read(), "Chart.yaml"), "chart archive")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ChartError(CHART_PULL_ERROR, f"not a chart archive: {exc}") from None
    raise ChartError(CHART_PULL_ERROR, "not a chart archive: no <name>/Chart.yaml in it")
