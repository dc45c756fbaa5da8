"""Helm charts in OCI registries (a HelmRepository of `type: oci`): the chart `<url>/<chart>`, its version
chosen among the repository's tags as Helm does (`+` is stored as `_` in tags; an exact tag first, else the
highest version satisfying the constraint), and its chart layer pulled and digest-checked.

Blocking (the registry client is synchronous): run it in a thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gotk.runtime import semver
from gotk.runtime.oci import auth
from gotk.runtime.oci.client import RegistryClient
from gotk.runtime.oci.model import RegistryError
from gotk.source.helm.index import MAX_CHART_SIZE, ChartNotFoundError

CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
USERNAME, PASSWORD = "username", "password"


def credentials(data: Mapping[str, bytes] | None, registry: str) -> auth.Credentials | None:
    """A HelmRepository secretRef for a registry: `username` + `password`, or a dockerconfigjson Secret."""
    if data is None:
        return None
    user, password = data.get(USERNAME, b""), data.get(PASSWORD, b"")
    if user or password:
        if not (user and password):
            raise auth.CredentialsError("secret must contain both 'username' and 'password'")
        return auth.Credentials(username=user.decode(errors="replace"), password=password.decode(errors="replace"))
    found = auth.from_pull_secret(data, registry)
    if found is None:
        raise auth.CredentialsError("secret holds neither 'username'/'password' nor '.dockerconfigjson'")
    return found


def select_tag(tags: list[str], chart: str, constraint: str | None) -> tuple[str, str]:
    """(version, tag) of the chart version Helm would pull for `constraint` (default `*`)."""
    wanted = (constraint or "").strip() or "*"
    versions: list[tuple[semver.Version, str, str]] = []
    for tag in tags:
        version_text = tag.replace("_", "+")
        if version_text == wanted:
            return version_text, tag
        try:
            versions.append((semver.parse_strict(version_text), version_text, tag))
        except semver.SemverError:
            continue
    try:
        rule = semver.Constraint(wanted)
    except semver.SemverError as exc:
        raise ChartNotFoundError(f"invalid chart version constraint '{wanted}': {exc}") from None
    matching = [v for v in versions if rule.check(v[0])]
    if not matching:
        raise ChartNotFoundError(f"no '{chart}' chart with version matching '{wanted}' found")
    best = max(matching, key=lambda v: v[0])
    return best[1], best[2]


def pull_tag(client: RegistryClient, repository: str, tag: str, dest: Path) -> None:
    """Download the chart layer of `repository:tag` into `dest` (digest-checked, size-limited)."""
    manifest = client.get_manifest(repository, tag)
    layers = [layer for layer in manifest.body.get("layers") or [] if layer.get("mediaType") == CHART_LAYER]
    if not layers:
        raise RegistryError(f"'{client.registry}/{repository}:{tag}' has no Helm chart layer ({CHART_LAYER})")
    client.fetch_blob(repository, str(layers[0].get("digest")), dest, max_size=MAX_CHART_SIZE)
