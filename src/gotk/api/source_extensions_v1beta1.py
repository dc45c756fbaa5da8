"""source.extensions.fluxcd.io/v1beta1 models: ArtifactGenerator (Flux 2.7's source-watcher), which composes
and splits source artifacts into ExternalArtifacts.

Source of truth for the generated CRD (crdgen.py); the reconciler handles the objects as plain dicts.
"""

from dataclasses import dataclass
from typing import Annotated, Final, Literal

from gotk.api import meta, schema

GROUP = "source.extensions.fluxcd.io"
VERSION = "v1beta1"

GENERATOR_LABEL: Final = "source.extensions.fluxcd.io/generator"
RECONCILE_ANNOTATION: Final = "source.extensions.fluxcd.io/reconcile"
ORIGIN_REVISION_ANNOTATION: Final = "org.opencontainers.image.revision"
FINALIZER: Final = "source.extensions.fluxcd.io/finalizer"

_ALIAS = r"^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$"
_AT_ALIAS = r"^@([a-z0-9]([a-z0-9_-]*[a-z0-9])?)$"
_AT_ALIAS_PATH = r"^@([a-z0-9]([a-z0-9_-]*[a-z0-9])?)/(.*)$"


@dataclass(frozen=True, kw_only=True)
class CommonMetadata:
    """Labels and annotations put on every generated ExternalArtifact."""

    annotations: Annotated[dict[str, str] | None, schema.Description("Annotations to add.")] = None
    labels: Annotated[dict[str, str] | None, schema.Description("Labels to add.")] = None


@dataclass(frozen=True, kw_only=True)
class SourceReference:
    """A source the generator reads, by alias."""

    alias: Annotated[
        str, schema.Pattern(_ALIAS), schema.MaxLength(63), schema.Description("Alias of the source in copy operations.")
    ]
    name: Annotated[
        str, schema.Pattern(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"), schema.MaxLength(253), schema.Description("Name.")
    ]
    namespace: Annotated[
        str | None,
        schema.Pattern(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"),
        schema.MinLength(1),
        schema.MaxLength(63),
        schema.Description("Namespace; the generator's when unset."),
    ] = None
    kind: Annotated[
        Literal["Bucket", "GitRepository", "OCIRepository", "HelmChart", "ExternalArtifact"],
        schema.Description("Kind of the source."),
    ]


@dataclass(frozen=True, kw_only=True)
class CopyOperation:
    """Copies files from a source (`@alias/glob`) into the artifact (`@artifact/path`)."""

    from_: Annotated[
        str,
        schema.JsonName("from"),
        schema.Pattern(_AT_ALIAS_PATH),
        schema.MinLength(1),
        schema.MaxLength(1024),
        schema.Description("Source alias and glob pattern, `@alias/pattern`."),
    ]
    to: Annotated[
        str,
        schema.Pattern(r"^@(artifact)/(.*)$"),
        schema.MinLength(1),
        schema.MaxLength(1024),
        schema.Description("Destination in the artifact, `@artifact/path`."),
    ]
    exclude: Annotated[
        list[str] | None, schema.MaxItems(100), schema.Description("Glob patterns of files to leave out.")
    ] = None
    strategy: Annotated[
        Literal["Overwrite", "Merge", "Extract"] | None,
        schema.Description("Overwrite (default), Merge (YAML) or Extract (tarballs)."),
    ] = None


@dataclass(frozen=True, kw_only=True)
class OutputArtifact:
    """One ExternalArtifact to generate."""

    name: Annotated[
        str, schema.MinLength(1), schema.MaxLength(253), schema.Description("Name of the ExternalArtifact.")
    ]
    revision: Annotated[
        str | None,
        schema.Pattern(_AT_ALIAS),
        schema.MaxLength(64),
        schema.Description("`@alias`: take that source's revision instead of the content digest."),
    ] = None
    origin_revision: Annotated[
        str | None,
        schema.Pattern(_AT_ALIAS),
        schema.MaxLength(64),
        schema.Description("`@alias`: that source's origin revision goes into the artifact's metadata."),
    ] = None
    copy: Annotated[list[CopyOperation], schema.MinItems(1), schema.Description("Copy operations, in order.")]


@schema.object_markers(
    schema.Validation(
        "has(self.pathPattern) && size(self.pathPattern) > 0 || self.artifacts.all(a, "
        "a.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'))",
        "artifact names must be valid Kubernetes object names when pathPattern is not set",
    )
)
@dataclass(frozen=True, kw_only=True)
class ArtifactGeneratorSpec:
    """Sources in, ExternalArtifacts out."""

    common_metadata: Annotated[
        CommonMetadata | None, schema.Description("Labels and annotations of every generated artifact.")
    ] = None
    sources: Annotated[
        list[SourceReference], schema.MinItems(1), schema.MaxItems(1000), schema.Description("The sources.")
    ]
    path_pattern: Annotated[
        str | None,
        schema.Pattern(_AT_ALIAS_PATH),
        schema.MaxLength(1024),
        schema.Description("`@alias/dir/{capture}`: one set of artifacts per matching directory."),
    ] = None
    artifacts: Annotated[
        list[OutputArtifact], schema.MinItems(1), schema.MaxItems(1000), schema.Description("The artifacts.")
    ]


@dataclass(frozen=True, kw_only=True)
class ExternalArtifactReference:
    """A generated ExternalArtifact and its stored file."""

    name: Annotated[str, schema.Description("Name of the ExternalArtifact.")]
    namespace: Annotated[str, schema.Description("Namespace of the ExternalArtifact.")]
    digest: Annotated[str, schema.Description("Digest of its artifact.")]
    filename: Annotated[str, schema.Description("File name of its artifact.")]


@dataclass(frozen=True, kw_only=True)
class ArtifactGeneratorStatus:
    """The generated artifacts."""

    last_handled_reconcile_at: meta.LastHandledReconcileAt = None
    conditions: meta.Conditions = None
    inventory: Annotated[
        list[ExternalArtifactReference] | None, schema.Description("The generated ExternalArtifacts.")
    ] = None
    observed_sources_digest: Annotated[
        str | None, schema.Description("Digest of the sources' artifacts the inventory was built from.")
    ] = None
