"""Registry of every kind gotk serves: API group, version, names, printer columns and models.

crdgen.py renders the CRDs from it; the CLI uses it to resolve names such as `ks`, `gitrepositories` or
`HelmRelease` to a kind. The names and columns match Flux's CRDs.
"""

from dataclasses import dataclass

from gotk.api import (
    helm_v2,
    image_v1,
    kustomize_v1,
    notification_v1,
    notification_v1beta3,
    source_extensions_v1beta1,
    source_v1,
    source_v1_helm,
)


@dataclass(frozen=True, kw_only=True)
class PrinterColumn:
    """One additionalPrinterColumns entry (`kubectl get` column)."""

    name: str
    type: str
    json_path: str
    priority: int | None = None
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class KindInfo:
    """Everything needed to serve one kind and to render its CRD."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    list_kind: str
    short_names: tuple[str, ...]
    categories: tuple[str, ...]
    namespaced: bool
    printer_columns: tuple[PrinterColumn, ...]
    spec: type
    status: type | None
    """None for kinds without a status (Alert, Provider): no status subresource either."""


AGE = PrinterColumn(name="Age", type="date", json_path=".metadata.creationTimestamp")
READY = PrinterColumn(name="Ready", type="string", json_path='.status.conditions[?(@.type=="Ready")].status')
STATUS = PrinterColumn(name="Status", type="string", json_path='.status.conditions[?(@.type=="Ready")].message')
URL = PrinterColumn(name="URL", type="string", json_path=".spec.url")


def _info(
    group: str,
    version: str,
    kind: str,
    *,
    plural: str,
    short_names: tuple[str, ...],
    category: str,
    columns: tuple[PrinterColumn, ...],
    spec: type,
    status: type | None,
) -> KindInfo:
    return KindInfo(
        group=group,
        version=version,
        kind=kind,
        plural=plural,
        singular=kind.lower(),
        list_kind=kind + "List",
        short_names=short_names,
        categories=("all", "fluxcd", category),
        namespaced=True,
        printer_columns=columns,
        spec=spec,
        status=status,
    )


_KINDS: tuple[KindInfo, ...] = (
    _info(
        source_v1.GROUP,
        source_v1.VERSION,
        "GitRepository",
        plural="gitrepositories",
        short_names=("gitrepo",),
        category="fluxcd-sources",
        columns=(URL, AGE, READY, STATUS),
        spec=source_v1.GitRepositorySpec,
        status=source_v1.GitRepositoryStatus,
    ),
    _info(
        source_v1.GROUP,
        source_v1.VERSION,
        "OCIRepository",
        plural="ocirepositories",
        short_names=("ocirepo",),
        category="fluxcd-sources",
        columns=(URL, READY, STATUS, AGE),
        spec=source_v1.OCIRepositorySpec,
        status=source_v1.OCIRepositoryStatus,
    ),
    _info(
        source_v1.GROUP,
        source_v1.VERSION,
        "HelmRepository",
        plural="helmrepositories",
        short_names=("helmrepo",),
        category="fluxcd-sources",
        columns=(URL, AGE, READY, STATUS),
        spec=source_v1_helm.HelmRepositorySpec,
        status=source_v1_helm.HelmRepositoryStatus,
    ),
    _info(
        source_v1.GROUP,
        source_v1.VERSION,
        "HelmChart",
        plural="helmcharts",
        short_names=("hc",),
        category="fluxcd-sources",
        columns=(
            PrinterColumn(name="Chart", type="string", json_path=".spec.chart"),
            PrinterColumn(name="Version", type="string", json_path=".spec.version"),
            PrinterColumn(name="Source Kind", type="string", json_path=".spec.sourceRef.kind"),
            PrinterColumn(name="Source Name", type="string", json_path=".spec.sourceRef.name"),
            AGE,
            READY,
            STATUS,
        ),
        spec=source_v1_helm.HelmChartSpec,
        status=source_v1_helm.HelmChartStatus,
    ),
    _info(
        source_v1.GROUP,
        source_v1.VERSION,
        "Bucket",
        plural="buckets",
        short_names=(),
        category="fluxcd-sources",
        columns=(PrinterColumn(name="Endpoint", type="string", json_path=".spec.endpoint"), AGE, READY, STATUS),
        spec=source_v1.BucketSpec,
        status=source_v1.BucketStatus,
    ),
    _info(
        source_v1.GROUP,
        source_v1.VERSION,
        "ExternalArtifact",
        plural="externalartifacts",
        short_names=("ea",),
        category="fluxcd-sources",
        columns=(AGE, READY, STATUS, PrinterColumn(name="Source", type="string", json_path=".spec.sourceRef.name")),
        spec=source_v1.ExternalArtifactSpec,
        status=source_v1.ExternalArtifactStatus,
    ),
    _info(
        source_extensions_v1beta1.GROUP,
        source_extensions_v1beta1.VERSION,
        "ArtifactGenerator",
        plural="artifactgenerators",
        short_names=("ag",),
        category="fluxcd-sources",
        columns=(AGE, READY, STATUS),
        spec=source_extensions_v1beta1.ArtifactGeneratorSpec,
        status=source_extensions_v1beta1.ArtifactGeneratorStatus,
    ),
    _info(
        kustomize_v1.GROUP,
        kustomize_v1.VERSION,
        "Kustomization",
        plural="kustomizations",
        short_names=("ks",),
        category="fluxcd-appliers",
        columns=(AGE, READY, STATUS),
        spec=kustomize_v1.KustomizationSpec,
        status=kustomize_v1.KustomizationStatus,
    ),
    _info(
        helm_v2.GROUP,
        helm_v2.VERSION,
        "HelmRelease",
        plural="helmreleases",
        short_names=("hr",),
        category="fluxcd-appliers",
        columns=(AGE, READY, STATUS),
        spec=helm_v2.HelmReleaseSpec,
        status=helm_v2.HelmReleaseStatus,
    ),
    _info(
        notification_v1.GROUP,
        notification_v1.VERSION,
        "Receiver",
        plural="receivers",
        short_names=(),
        category="fluxcd-notifications",
        columns=(AGE, READY, STATUS),
        spec=notification_v1.ReceiverSpec,
        status=notification_v1.ReceiverStatus,
    ),
    _info(
        notification_v1beta3.GROUP,
        notification_v1beta3.VERSION,
        "Provider",
        plural="providers",
        short_names=(),
        category="fluxcd-notifications",
        columns=(AGE,),
        spec=notification_v1beta3.ProviderSpec,
        status=None,
    ),
    _info(
        notification_v1beta3.GROUP,
        notification_v1beta3.VERSION,
        "Alert",
        plural="alerts",
        short_names=(),
        category="fluxcd-notifications",
        columns=(AGE,),
        spec=notification_v1beta3.AlertSpec,
        status=None,
    ),
    _info(
        image_v1.GROUP,
        image_v1.VERSION,
        "ImageRepository",
        plural="imagerepositories",
        short_names=("imgrepo", "imagerepo"),
        category="fluxcd-images",
        columns=(
            PrinterColumn(name="Image", type="string", json_path=".spec.image"),
            PrinterColumn(name="Tags", type="string", json_path=".status.lastScanResult.tagCount"),
            READY,
            STATUS,
            PrinterColumn(name="Last scan", type="string", json_path=".status.lastScanResult.scanTime", priority=1),
            AGE,
        ),
        spec=image_v1.ImageRepositorySpec,
        status=image_v1.ImageRepositoryStatus,
    ),
    _info(
        image_v1.GROUP,
        image_v1.VERSION,
        "ImagePolicy",
        plural="imagepolicies",
        short_names=("imgpol", "imagepol"),
        category="fluxcd-images",
        columns=(
            PrinterColumn(name="Image", type="string", json_path=".status.latestRef.name"),
            PrinterColumn(name="Tag", type="string", json_path=".status.latestRef.tag"),
            READY,
            STATUS,
            AGE,
        ),
        spec=image_v1.ImagePolicySpec,
        status=image_v1.ImagePolicyStatus,
    ),
    _info(
        image_v1.GROUP,
        image_v1.VERSION,
        "ImageUpdateAutomation",
        plural="imageupdateautomations",
        short_names=("iua", "imgupd", "imgauto"),
        category="fluxcd-images",
        columns=(
            READY,
            STATUS,
            PrinterColumn(name="Last run", type="string", json_path=".status.lastAutomationRunTime", priority=1),
            AGE,
        ),
        spec=image_v1.ImageUpdateAutomationSpec,
        status=image_v1.ImageUpdateAutomationStatus,
    ),
)


def _index() -> dict[str, KindInfo]:
    index: dict[str, KindInfo] = {}
    for info in _KINDS:
        names = [info.kind, info.plural, info.singular, *info.short_names]
        for name in names:
            index[name.lower()] = info
            index[f"{name}.{info.group}".lower()] = info
    return index


_BY_NAME = _index()


def all_kinds() -> list[KindInfo]:
    """Every kind, sources first, in a stable order."""
    return list(_KINDS)


def by_kind(name: str) -> KindInfo:
    """Look a kind up by kind, plural, singular or short name, case-insensitively.

    `<name>.<group>` (e.g. `gitrepositories.source.toolkit.fluxcd.io`) is accepted too.
    Raises KeyError for an unknown name.
    """
    try:
        return _BY_NAME[name.lower()]
    except KeyError:
        raise KeyError(f"unknown kind {name!r}") from None


def api_version(info: KindInfo) -> str:
    """The apiVersion objects of this kind carry, e.g. `source.toolkit.fluxcd.io/v1`."""
    return f"{info.group}/{info.version}"
