"""The chart version a HelmRelease releases, as Flux's helm-controller mutates it — pure.

A chart from an OCIRepository, or from an ExternalArtifact whose revision carries a digest, is released as
`<version>+<digest[:12]>` (the semver build metadata replaced), so that a new digest of the same version — a
mutable tag pushed again — upgrades the release. The digest itself goes to `lastAttemptedRevisionDigest` and
the history's `ociDigest`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from gotk.runtime import semver


class ChartVersionError(ValueError):
    """The source's revision does not fit the chart (another version, or no digest to append)."""


@dataclass(frozen=True)
class Released:
    """The version to release and the source digest behind it ("" when the source has none)."""

    version: str
    digest: str = ""


def with_source_revision(kind: str, revision: str, chart_version: str) -> Released:
    """The chart version as released from a source of `kind` at `revision` (Flux's
    mutateChartWithSourceRevision): unchanged for a HelmChart or a revision without a digest."""
    if kind != "OCIRepository" and not (kind == "ExternalArtifact" and ":" in revision):
        return Released(chart_version)
    try:
        version = semver.parse(chart_version)
    except semver.SemverError:
        raise ChartVersionError(f"invalid chart version {chart_version}") from None
    digest = revision
    if "@" in revision:
        tag, _, digest = revision.partition("@")
        try:
            tagged = semver.parse(tag.replace("_", "+"))
        except semver.SemverError:
            tagged = None
        if tagged is not None and tagged != version:
            raise ChartVersionError(f"artifact revision {tag} does not match chart version {chart_version}")
        if tagged is None:
            digest = revision  # not a semver tag: the whole revision must be a digest
    algorithm, sep, hexdigits = digest.partition(":")
    if not sep or ":" in hexdigits or len(hexdigits) < 12 or not algorithm:
        raise ChartVersionError(f"invalid artifact revision {revision}")
    return Released(str(replace(version, metadata=hexdigits[:12])), digest)
