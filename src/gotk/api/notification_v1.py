"""notification.toolkit.fluxcd.io/v1 models: Receiver (webhooks that trigger reconciliations).

Alert and Provider are served as v1beta3 (notification_v1beta3.py). Source of truth for the generated CRD
(crdgen.py); the notification controller handles the objects as plain dicts.
"""

from dataclasses import dataclass
from typing import Annotated, Literal

from gotk.api import meta, schema

GROUP = "notification.toolkit.fluxcd.io"
VERSION = "v1"

ReceiverType = Literal[
    "generic",
    "generic-hmac",
    "generic-oidc",
    "github",
    "gitlab",
    "bitbucket",
    "harbor",
    "dockerhub",
    "quay",
    "gcr",
    "nexus",
    "acr",
    "cdevents",
]
"""Webhook payload formats a Receiver understands."""

EventSourceKind = Literal[
    "Bucket",
    "GitRepository",
    "Kustomization",
    "HelmRelease",
    "HelmChart",
    "HelmRepository",
    "ImageRepository",
    "ImagePolicy",
    "ImageUpdateAutomation",
    "OCIRepository",
    "ArtifactGenerator",
    "ExternalArtifact",
]
"""Flux kinds that emit events and can be triggered (shared with Alert event sources)."""


@dataclass(frozen=True, kw_only=True)
class CrossNamespaceObjectReference:
    """Flux objects selected by kind and name (or `*` with matchLabels), optionally in another namespace."""

    api_version: Annotated[str | None, schema.Description("API version of the referent.")] = None
    kind: Annotated[EventSourceKind, schema.Description("Kind of the referent.")]
    name: Annotated[
        str,
        schema.MinLength(1),
        schema.MaxLength(253),
        schema.Description("Name of the referent; * selects all objects of the kind."),
    ]
    namespace: Annotated[
        str | None,
        schema.MinLength(1),
        schema.MaxLength(253),
        schema.Description("Namespace of the referent; defaults to the referrer's."),
    ] = None
    match_labels: Annotated[
        dict[str, str] | None, schema.Description("Labels the objects must carry when name is *.")
    ] = None


@dataclass(frozen=True, kw_only=True)
class ReceiverResource(CrossNamespaceObjectReference):
    """An object to annotate with reconcile.fluxcd.io/requestedAt when a valid webhook arrives."""

    filter: Annotated[
        str | None, schema.Description("CEL expression over `res` and `req` selecting matching objects.")
    ] = None


@dataclass(frozen=True, kw_only=True)
class OIDCVariable:
    """A named CEL expression over the token claims, usable in the validations."""

    name: Annotated[str, schema.Description("Variable name.")]
    expression: Annotated[str, schema.Description("CEL expression over `claims`.")]


@dataclass(frozen=True, kw_only=True)
class OIDCValidation:
    """A CEL check the token claims must pass."""

    expression: Annotated[str, schema.Description("CEL expression that must be true.")]
    message: Annotated[str, schema.Description("Error reported when it is false.")]


@dataclass(frozen=True, kw_only=True)
class OIDCProvider:
    """An OIDC issuer whose ID tokens generic-oidc receivers accept."""

    issuer_url: Annotated[
        str,
        schema.JsonName("issuerURL"),
        schema.Pattern(r"^https?://"),
        schema.Description("Issuer address used for discovery."),
    ]
    audience: Annotated[str | None, schema.Description("Expected token audience.")] = None
    variables: Annotated[list[OIDCVariable] | None, schema.Description("Variables for the validations.")] = None
    validations: Annotated[list[OIDCValidation], schema.MinItems(1), schema.Description("Checks the claims must pass.")]


@schema.object_markers(
    schema.Validation(
        "self.type != 'generic-oidc' || (has(self.oidcProviders) && size(self.oidcProviders) > 0)",
        "generic-oidc receivers must define at least one oidcProvider",
    ),
    schema.Validation(
        "self.type == 'generic-oidc' || !has(self.oidcProviders) || size(self.oidcProviders) == 0",
        "oidcProviders can only be set when type is generic-oidc",
    ),
    schema.Validation(
        "self.type != 'generic-oidc' || !has(self.secretRef)",
        "secretRef cannot be set when type is generic-oidc",
    ),
    schema.Validation(
        "self.type == 'generic-oidc' || has(self.secretRef)",
        "secretRef is required when type is not generic-oidc",
    ),
)
@dataclass(frozen=True, kw_only=True)
class ReceiverSpec:
    """The desired state of a webhook receiver."""

    type: Annotated[ReceiverType, schema.Description("Payload format and validation scheme.")]
    interval: Annotated[
        meta.Interval | None,
        schema.Default("10m"),
        schema.Description("How often the receiver's configuration is checked."),
    ] = None
    events: Annotated[list[str] | None, schema.Description("Event types to act on; all when empty.")] = None
    resources: Annotated[
        list[ReceiverResource], schema.Description("Objects to reconcile when a valid webhook arrives.")
    ]
    resource_filter: Annotated[
        str | None, schema.Description("CEL expression over `res`, `req` (and `claims`) applied to all.")
    ] = None
    secret_ref: Annotated[
        meta.LocalObjectReference | None,
        schema.Description("Secret with the token (and the gcr email and audience)."),
    ] = None
    oidc_providers: Annotated[
        list[OIDCProvider] | None,
        schema.ListType("map", ("issuerURL",)),
        schema.Description("Accepted token issuers for generic-oidc."),
    ] = None
    suspend: meta.Suspend = None


@schema.object_markers(meta.STATUS_DEFAULT)
@dataclass(frozen=True, kw_only=True)
class ReceiverStatus:
    """The observed state of a receiver."""

    observed_generation: meta.ObservedGeneration = None
    conditions: meta.Conditions = None
    webhook_path: Annotated[
        str | None, schema.Description("Path of the webhook, /hook/<sha256 of token, name and namespace>.")
    ] = None
    last_handled_reconcile_at: meta.LastHandledReconcileAt = None
