"""image.toolkit.fluxcd.io/v1 models: ImageRepository, ImagePolicy and ImageUpdateAutomation.

Source of truth for the generated CRDs (crdgen.py); the image controllers handle the objects as
plain dicts.
"""

from dataclasses import dataclass
from typing import Annotated, Literal

from gotk.api import meta, schema, source_v1

GROUP = "image.toolkit.fluxcd.io"
VERSION = "v1"

SortOrder = Annotated[
    Literal["asc", "desc"] | None, schema.Default("asc"), schema.Description("Sort order of the tags.")
]


@dataclass(frozen=True, kw_only=True)
class ImageRepositorySpec:
    """The image repository to scan for tags."""

    image: Annotated[str, schema.Description("Image name without tag, e.g. ghcr.io/org/app.")]
    interval: Annotated[meta.Interval, schema.Description("How often the tags are scanned.")]
    timeout: Annotated[meta.Timeout | None, schema.Description("Timeout of a scan; interval when unset.")] = None
    secret_ref: Annotated[meta.LocalObjectReference | None, schema.Description("Secret of type dockerconfigjson.")] = (
        None
    )
    proxy_secret_ref: Annotated[
        meta.LocalObjectReference | None,
        schema.Description("Secret with the proxy address, username and password."),
    ] = None
    service_account_name: Annotated[
        str | None,
        schema.MaxLength(253),
        schema.Description("Service account whose imagePullSecrets are used."),
    ] = None
    cert_secret_ref: Annotated[
        meta.LocalObjectReference | None,
        schema.Description("Secret with ca.crt, and tls.crt with tls.key for client auth."),
    ] = None
    suspend: meta.Suspend = None
    access_from: Annotated[
        meta.AccessFrom | None, schema.Description("Namespaces whose ImagePolicies may use this repository.")
    ] = None
    exclusion_list: Annotated[
        list[str] | None,
        schema.Default([r"^.*\.sig$"]),
        schema.MaxItems(25),
        schema.Description("Regexes of tags to ignore."),
    ] = None
    provider: Annotated[
        Literal["generic", "aws", "azure", "gcp"] | None,
        schema.Default("generic"),
        schema.Description("Authentication provider; generic uses secretRef."),
    ] = None
    insecure: Annotated[bool | None, schema.Description("Allow plain HTTP registries.")] = None


@dataclass(frozen=True, kw_only=True)
class ScanResult:
    """The outcome of the last tag scan."""

    revision: Annotated[str | None, schema.Description("Digest of the tag list.")] = None
    tag_count: Annotated[int, schema.Description("Number of tags found.")]
    scan_time: Annotated[schema.DateTime | None, schema.Description("When the scan finished.")] = None
    latest_tags: Annotated[list[str] | None, schema.Description("The latest tags, sorted.")] = None


@schema.object_markers(meta.STATUS_DEFAULT)
@dataclass(frozen=True, kw_only=True)
class ImageRepositoryStatus:
    """The observed state of an image repository."""

    observed_generation: meta.ObservedGeneration = None
    conditions: meta.Conditions = None
    canonical_image_name: Annotated[
        str | None, schema.Description("Image name with the registry host made explicit.")
    ] = None
    last_scan_result: Annotated[ScanResult | None, schema.Description("The last scan.")] = None
    observed_exclusion_list: Annotated[list[str] | None, schema.Description("spec.exclusionList of the last scan.")] = (
        None
    )
    last_handled_reconcile_at: meta.LastHandledReconcileAt = None


@dataclass(frozen=True, kw_only=True)
class SemVerPolicy:
    """Pick the highest tag within a SemVer range."""

    range: Annotated[str, schema.Description("SemVer range, e.g. >=1.0.0 <2.0.0.")]


@dataclass(frozen=True, kw_only=True)
class AlphabeticalPolicy:
    """Pick the last tag in alphabetical order."""

    order: SortOrder = None


@dataclass(frozen=True, kw_only=True)
class NumericalPolicy:
    """Pick the last tag in numerical order."""

    order: SortOrder = None


@dataclass(frozen=True, kw_only=True)
class ImagePolicyChoice:
    """Exactly one tag selection policy."""

    semver: Annotated[SemVerPolicy | None, schema.Description("SemVer ordering.")] = None
    alphabetical: Annotated[AlphabeticalPolicy | None, schema.Description("Alphabetical ordering.")] = None
    numerical: Annotated[NumericalPolicy | None, schema.Description("Numerical ordering.")] = None


@dataclass(frozen=True, kw_only=True)
class TagFilter:
    """Filters tags with a regex before the policy sorts them."""

    pattern: Annotated[str | None, schema.Description("Regex the tag must match.")] = None
    extract: Annotated[
        str | None, schema.Description("Replacement ($name or $1) giving the value the policy sorts.")
    ] = None


@dataclass(frozen=True, kw_only=True)
class ImageRef:
    """An image reference a policy selected."""

    name: Annotated[str, schema.Description("Image name.")]
    tag: Annotated[str, schema.Description("Image tag.")]
    digest: Annotated[str | None, schema.Description("Image digest.")] = None


@schema.object_markers(
    schema.Validation(
        "!has(self.interval) || (has(self.digestReflectionPolicy) && self.digestReflectionPolicy == 'Always')",
        "spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'",
    ),
    schema.Validation(
        "has(self.interval) || !has(self.digestReflectionPolicy) || self.digestReflectionPolicy != 'Always'",
        "spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'",
    ),
)
@dataclass(frozen=True, kw_only=True)
class ImagePolicySpec:
    """How to choose the latest image from an ImageRepository's tags."""

    image_repository_ref: Annotated[
        meta.NamespacedObjectReference, schema.Description("The ImageRepository with the tags.")
    ]
    policy: Annotated[ImagePolicyChoice, schema.Description("How tags are ordered.")]
    filter_tags: Annotated[TagFilter | None, schema.Description("Tags to consider.")] = None
    digest_reflection_policy: Annotated[
        Literal["Always", "IfNotPresent", "Never"] | None,
        schema.Default("Never"),
        schema.Description("Whether and when the image digest is looked up."),
    ] = None
    interval: Annotated[
        meta.Interval | None, schema.Description("How often digests are refreshed; only with Always.")
    ] = None
    suspend: meta.Suspend = None


@schema.object_markers(meta.STATUS_DEFAULT)
@dataclass(frozen=True, kw_only=True)
class ImagePolicyStatus:
    """The observed state of an image policy."""

    observed_generation: meta.ObservedGeneration = None
    conditions: meta.Conditions = None
    latest_ref: Annotated[ImageRef | None, schema.Description("The image the policy selects.")] = None
    observed_previous_ref: Annotated[ImageRef | None, schema.Description("The image the policy selected before.")] = (
        None
    )
    last_handled_reconcile_at: meta.LastHandledReconcileAt = None


@dataclass(frozen=True, kw_only=True)
class GitRepositoryReference:
    """The GitRepository the automation commits to."""

    api_version: Annotated[str | None, schema.Description("API version of the source.")] = None
    kind: Annotated[
        Literal["GitRepository"], schema.Default("GitRepository"), schema.Description("Kind of the source.")
    ]
    name: Annotated[str, schema.Description("Name of the source.")]
    namespace: Annotated[str | None, schema.Description("Namespace of the source; defaults to the automation's.")] = (
        None
    )


@dataclass(frozen=True, kw_only=True)
class GitCheckoutSpec:
    """The branch (or other ref) to clone."""

    ref: Annotated[source_v1.GitRepositoryRef, schema.Description("Git reference to check out.")]


@dataclass(frozen=True, kw_only=True)
class CommitUser:
    """Commit author."""

    name: Annotated[str | None, schema.Description("Author name.")] = None
    email: Annotated[str, schema.Description("Author email.")]


@dataclass(frozen=True, kw_only=True)
class SigningKey:
    """Key that signs the commits."""

    secret_ref: Annotated[
        meta.LocalObjectReference, schema.Description("Secret with the private key (git.asc or identity).")
    ]
    type: Annotated[Literal["gpg", "ssh"] | None, schema.Description("Key type; gpg by default.")] = None


@dataclass(frozen=True, kw_only=True)
class CommitSpec:
    """How update commits are written."""

    author: Annotated[CommitUser, schema.Description("Commit author.")]
    signing_key: Annotated[SigningKey | None, schema.Description("Commit signing key.")] = None
    message_template: Annotated[str | None, schema.Description("Go template of the commit message.")] = None
    message_template_values: Annotated[
        dict[str, str] | None, schema.Description("Extra values for the template (.Values).")
    ] = None


@dataclass(frozen=True, kw_only=True)
class PushSpec:
    """Where commits are pushed."""

    branch: Annotated[str | None, schema.Description("Branch to push to; the checkout branch when unset.")] = None
    refspec: Annotated[str | None, schema.Description("Refspec to push with, e.g. for Gerrit.")] = None
    options: Annotated[dict[str, str] | None, schema.Description("git push options.")] = None


@dataclass(frozen=True, kw_only=True)
class GitSpec:
    """Git checkout, commit and push settings."""

    checkout: Annotated[GitCheckoutSpec | None, schema.Description("What to clone; the source's ref when unset.")] = (
        None
    )
    commit: Annotated[CommitSpec, schema.Description("How commits are made.")]
    push: Annotated[PushSpec | None, schema.Description("Where commits are pushed.")] = None


@dataclass(frozen=True, kw_only=True)
class UpdateStrategy:
    """How manifests are updated."""

    strategy: Annotated[
        Literal["Setters"] | None,
        schema.Default("Setters"),
        schema.Description("Update strategy; only Setters."),
    ] = None
    path: Annotated[str | None, schema.Description("Directory to update; the repository root when unset.")] = None


@dataclass(frozen=True, kw_only=True)
class ImageUpdateAutomationSpec:
    """Writes the images selected by ImagePolicies back to Git."""

    source_ref: Annotated[GitRepositoryReference, schema.Description("The repository to update.")]
    git: Annotated[GitSpec | None, schema.Description("Git settings.")] = None
    interval: Annotated[meta.Interval, schema.Description("How often the automation runs.")]
    policy_selector: Annotated[
        meta.LabelSelector | None,
        schema.Description("ImagePolicies to apply; all in the namespace when unset."),
    ] = None
    update: Annotated[
        UpdateStrategy | None,
        schema.Default({"strategy": "Setters"}),
        schema.Description("How manifests are updated."),
    ] = None
    suspend: meta.Suspend = None


@schema.object_markers(meta.STATUS_DEFAULT)
@dataclass(frozen=True, kw_only=True)
class ImageUpdateAutomationStatus:
    """The observed state of an image update automation."""

    observed_generation: meta.ObservedGeneration = None
    conditions: meta.Conditions = None
    last_automation_run_time: Annotated[schema.DateTime | None, schema.Description("When the automation last ran.")] = (
        None
    )
    last_push_commit: Annotated[str | None, schema.Description("SHA of the last pushed commit.")] = None
    last_push_time: Annotated[schema.DateTime | None, schema.Description("When the last push happened.")] = None
    observed_policies: Annotated[
        dict[str, ImageRef] | None, schema.Description("Policies and the images they selected last run.")
    ] = None
    observed_source_revision: Annotated[
        str | None, schema.Description("Source revision the last run started from.")
    ] = None
    last_handled_reconcile_at: meta.LastHandledReconcileAt = None
