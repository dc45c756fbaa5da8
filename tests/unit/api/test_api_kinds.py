"""gotk.api.kinds: the registry of served kinds and name lookups."""

import pytest

from gotk.api import kinds

FLUX_KINDS = {
    # kind: (apiVersion, plural, short names, category)
    "GitRepository": ("source.toolkit.fluxcd.io/v1", "gitrepositories", ("gitrepo",), "fluxcd-sources"),
    "OCIRepository": ("source.toolkit.fluxcd.io/v1", "ocirepositories", ("ocirepo",), "fluxcd-sources"),
    "HelmRepository": ("source.toolkit.fluxcd.io/v1", "helmrepositories", ("helmrepo",), "fluxcd-sources"),
    "HelmChart": ("source.toolkit.fluxcd.io/v1", "helmcharts", ("hc",), "fluxcd-sources"),
    "Bucket": ("source.toolkit.fluxcd.io/v1", "buckets", (), "fluxcd-sources"),
    "ExternalArtifact": ("source.toolkit.fluxcd.io/v1", "externalartifacts", ("ea",), "fluxcd-sources"),
    "ArtifactGenerator": (
        "source.extensions.fluxcd.io/v1beta1",
        "artifactgenerators",
        ("ag",),
        "fluxcd-sources",
    ),
    "Kustomization": ("kustomize.toolkit.fluxcd.io/v1", "kustomizations", ("ks",), "fluxcd-appliers"),
    "HelmRelease": ("helm.toolkit.fluxcd.io/v2", "helmreleases", ("hr",), "fluxcd-appliers"),
    "Receiver": ("notification.toolkit.fluxcd.io/v1", "receivers", (), "fluxcd-notifications"),
    "Provider": ("notification.toolkit.fluxcd.io/v1beta3", "providers", (), "fluxcd-notifications"),
    "Alert": ("notification.toolkit.fluxcd.io/v1beta3", "alerts", (), "fluxcd-notifications"),
    "ImageRepository": (
        "image.toolkit.fluxcd.io/v1",
        "imagerepositories",
        ("imgrepo", "imagerepo"),
        "fluxcd-images",
    ),
    "ImagePolicy": ("image.toolkit.fluxcd.io/v1", "imagepolicies", ("imgpol", "imagepol"), "fluxcd-images"),
    "ImageUpdateAutomation": (
        "image.toolkit.fluxcd.io/v1",
        "imageupdateautomations",
        ("iua", "imgupd", "imgauto"),
        "fluxcd-images",
    ),
}


def test_registry_holds_exactly_the_flux_kinds() -> None:
    assert [info.kind for info in kinds.all_kinds()] == list(FLUX_KINDS)


@pytest.mark.parametrize("kind", list(FLUX_KINDS))
def test_names_match_flux(kind: str) -> None:
    api_version, plural, short_names, category = FLUX_KINDS[kind]
    info = kinds.by_kind(kind)
    assert kinds.api_version(info) == api_version
    assert info.plural == plural
    assert info.singular == kind.lower()
    assert info.list_kind == kind + "List"
    assert info.short_names == short_names
    assert info.categories == ("all", "fluxcd", category)
    assert info.namespaced


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("gitrepository", "GitRepository"),
        ("GITREPOSITORIES", "GitRepository"),
        ("gitrepo", "GitRepository"),
        ("ks", "Kustomization"),
        ("Kustomization", "Kustomization"),
        ("hr", "HelmRelease"),
        ("ea", "ExternalArtifact"),
        ("iua", "ImageUpdateAutomation"),
        ("imagepol", "ImagePolicy"),
        ("gitrepositories.source.toolkit.fluxcd.io", "GitRepository"),
        ("HelmRelease.helm.toolkit.fluxcd.io", "HelmRelease"),
    ],
)
def test_by_kind_accepts_kind_plural_singular_and_short_names(name: str, kind: str) -> None:
    assert kinds.by_kind(name).kind == kind


def test_by_kind_rejects_unknown_names() -> None:
    with pytest.raises(KeyError, match="deployment"):
        kinds.by_kind("deployment")


def test_printer_columns_match_flux() -> None:
    def columns(kind: str) -> list[str]:
        return [column.name for column in kinds.by_kind(kind).printer_columns]

    assert columns("GitRepository") == ["URL", "Age", "Ready", "Status"]
    assert columns("OCIRepository") == ["URL", "Ready", "Status", "Age"]
    assert columns("HelmChart") == ["Chart", "Version", "Source Kind", "Source Name", "Age", "Ready", "Status"]
    assert columns("Bucket") == ["Endpoint", "Age", "Ready", "Status"]
    assert columns("ExternalArtifact") == ["Age", "Ready", "Status", "Source"]
    assert columns("Kustomization") == ["Age", "Ready", "Status"]
    assert columns("HelmRelease") == ["Age", "Ready", "Status"]
    assert columns("Alert") == ["Age"]
    assert columns("ImageRepository") == ["Image", "Tags", "Ready", "Status", "Last scan", "Age"]
    assert columns("ImagePolicy") == ["Image", "Tag", "Ready", "Status", "Age"]
    assert columns("ImageUpdateAutomation") == ["Ready", "Status", "Last run", "Age"]
    ready = kinds.by_kind("ks").printer_columns[1]
    assert ready.json_path == '.status.conditions[?(@.type=="Ready")].status'
    assert kinds.by_kind("imagerepo").printer_columns[4].priority == 1


def test_only_alert_and_provider_have_no_status() -> None:
    assert sorted(info.kind for info in kinds.all_kinds() if info.status is None) == ["Alert", "Provider"]
