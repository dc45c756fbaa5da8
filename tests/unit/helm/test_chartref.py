"""gotk.helm.chartref: the chart version released from an OCI source carries the digest's first 12 characters,
a HelmChart's does not, and a revision that does not fit the chart is refused (Flux's
mutateChartWithSourceRevision)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gotk.helm.chartref import ChartVersionError, Released, with_source_revision

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("kind", "revision", "version", "released"),
    [
        ("HelmChart", "6.0.0", "6.0.0", Released("6.0.0")),
        ("OCIRepository", f"6.0.0@{DIGEST}", "6.0.0", Released("6.0.0+0123456789ab", DIGEST)),
        ("OCIRepository", DIGEST, "v6.0", Released("6.0.0+0123456789ab", DIGEST)),
        ("OCIRepository", f"6.0.0_build.1@{DIGEST}", "6.0.0+build.1", Released("6.0.0+0123456789ab", DIGEST)),
        ("OCIRepository", f"latest@{DIGEST}", "1.2.3", Released("1.2.3+0123456789ab", f"latest@{DIGEST}")),
        ("ExternalArtifact", "1.0.0", "1.0.0", Released("1.0.0")),
        ("ExternalArtifact", DIGEST, "1.0.0-rc.1", Released("1.0.0-rc.1+0123456789ab", DIGEST)),
    ],
)
def test_released_version(kind: str, revision: str, version: str, released: Released) -> None:
    assert with_source_revision(kind, revision, version) == released


@pytest.mark.parametrize(
    ("revision", "version", "message"),
    [
        (f"6.1.0@{DIGEST}", "6.0.0", "artifact revision 6.1.0 does not match chart version 6.0.0"),
        ("sha256:abc", "6.0.0", "invalid artifact revision sha256:abc"),
        (DIGEST, "not-a-version", "invalid chart version not-a-version"),
    ],
)
def test_revisions_that_do_not_fit_are_refused(revision: str, version: str, message: str) -> None:
    with pytest.raises(ChartVersionError, match=message):
        with_source_revision("OCIRepository", revision, version)


@given(
    st.tuples(st.integers(0, 999), st.integers(0, 999), st.integers(0, 999)),
    st.text("0123456789abcdef", min_size=12, max_size=64),
)
def test_the_digest_replaces_any_build_metadata(numbers: tuple[int, int, int], hexdigits: str) -> None:
    version = ".".join(map(str, numbers))
    out = with_source_revision("OCIRepository", f"sha256:{hexdigits}", version + "+old")
    assert out == Released(f"{version}+{hexdigits[:12]}", f"sha256:{hexdigits}")
