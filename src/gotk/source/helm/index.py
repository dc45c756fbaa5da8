"""Helm repository indexes (`index.yaml`), as plain data: load and check one, pick a chart version by a
Masterminds constraint as Helm does, and resolve the chart's download URL against the repository URL.

All pure: bytes or dicts in, dicts and strings out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import yaml

from gotk.runtime import semver

Obj = dict[str, Any]
MAX_INDEX_SIZE = 50 * 1024 * 1024  # Helm's own limit for a repository index
MAX_CHART_SIZE = 10 * 1024 * 1024  # Flux's --helm-chart-max-size default

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class IndexFormatError(ValueError):
    """The bytes are not a Helm repository index."""


class ChartNotFoundError(LookupError):
    """No chart of that name, or no version of it matching the constraint."""


def load(data: bytes) -> Obj:
    """Parse and check an index: a mapping with `apiVersion` and `entries` of chart name -> version list."""
    try:
        index = yaml.load(data, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise IndexFormatError(f"error unmarshaling index YAML: {_first_line(str(exc))}") from None
    if not isinstance(index, dict):
        raise IndexFormatError("error unmarshaling index YAML: not a mapping")
    if not index.get("apiVersion"):
        raise IndexFormatError("no API version specified")
    entries = index.get("entries")
    if entries is None:
        index["entries"] = entries = {}
    if not isinstance(entries, dict):
        raise IndexFormatError("'entries' is not a mapping of chart names to versions")
    for name, versions in entries.items():
        if not isinstance(versions, list) or not all(isinstance(v, dict) for v in versions):
            raise IndexFormatError(f"entries of chart '{name}' are not a list of chart versions")
    return index


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def sorted_versions(index: Mapping[str, Any], name: str) -> list[Obj]:
    """The chart's entries, highest version first (unparsable versions last), as Helm's SortEntries."""
    valid: list[tuple[semver.Version, Obj]] = []
    invalid: list[Obj] = []
    for entry in (index.get("entries") or {}).get(name) or []:
        try:
            valid.append((semver.parse(str(entry.get("version", ""))), entry))
        except semver.SemverError:
            invalid.append(entry)
    valid.sort(key=lambda pair: pair[0], reverse=True)
    return [entry for _, entry in valid] + invalid


def select(index: Mapping[str, Any], name: str, constraint: str | None) -> Obj:
    """The entry Helm would install for `name` at `constraint` (default `*`): an exact version string
    first, else the highest version satisfying the constraint."""
    versions = sorted_versions(index, name)
    if not versions:
        raise ChartNotFoundError(f"no chart name found: chart '{name}' not in the repository index")
    wanted = (constraint or "").strip() or "*"
    for entry in versions:
        if str(entry.get("version")) == wanted:
            return entry
    try:
        rule = semver.Constraint(wanted)
    except semver.SemverError as exc:
        raise ChartNotFoundError(f"invalid chart version constraint '{wanted}': {exc}") from None
    for entry in versions:
        try:
            version = semver.parse(str(entry.get("version", "")))
        except semver.SemverError:
            continue
        if rule.check(version):
            return entry
    raise ChartNotFoundError(f"no '{name}' chart with version matching '{wanted}' found")


def chart_url(repository_url: str, entry: Mapping[str, Any]) -> str:
    """The entry's first URL, resolved against the repository URL when relative."""
    urls = entry.get("urls") or []
    if not urls:
        raise ChartNotFoundError(
            f"chart '{entry.get('name')}' version '{entry.get('version')}' has no downloadable URLs"
        )
    url = str(urls[0])
    if urlsplit(url).scheme:
        return url
    return urljoin(repository_url.rstrip("/") + "/", url)


def same_host(a: str, b: str) -> bool:
    """Whether two URLs name the same scheme, host and port (credentials go only there, unless passed on)."""
    x, y = urlsplit(a), urlsplit(b)
    return (x.scheme, x.hostname, x.port) == (y.scheme, y.hostname, y.port)
