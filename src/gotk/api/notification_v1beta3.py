"""notification.toolkit.fluxcd.io/v1beta3 models: Provider and Alert (event forwarding).

Neither kind has a status. Source of truth for the generated CRDs (crdgen.py); the notification
controller handles the objects as plain dicts.
"""

from dataclasses import dataclass
from typing import Annotated, Literal

from gotk.api import meta, notification_v1, schema

GROUP = "notification.toolkit.fluxcd.io"
VERSION = "v1beta3"

ProviderType = Literal[
    "slack",
    "discord",
    "msteams",
    "rocket",
    "generic",
    "generic-hmac",
    "github",
    "gitlab",
    "gitea",
    "giteapullrequestcomment",
    "bitbucketserver",
    "bitbucket",
    "azuredevops",
    "googlechat",
    "googlepubsub",
    "webex",
    "sentry",
    "azureeventhub",
    "telegram",
    "lark",
    "matrix",
    "opsgenie",
    "alertmanager",
    "grafana",
    "githubdispatch",
    "githubpullrequestcomment",
    "gitlabmergerequestcomment",
    "pagerduty",
    "datadog",
    "nats",
    "zulip",
    "otel",
    "zoom",
    "incident.io",
]
"""Notification services a Provider can send to."""

COMMIT_STATUS_PROVIDERS = ("github", "gitlab", "gitea", "bitbucketserver", "bitbucket", "azuredevops")

LongString = Annotated[str, schema.MaxLength(2048)]


@schema.object_markers(
    schema.Validation(
        " || ".join(f"self.type == '{name}'" for name in COMMIT_STATUS_PROVIDERS) + " || !has(self.commitStatusExpr)",
        "spec.commitStatusExpr is only supported for the "
        + ", ".join(f"'{name}'" for name in COMMIT_STATUS_PROVIDERS)
        + " provider types",
    )
)
@dataclass(frozen=True, kw_only=True)
class ProviderSpec:
    """Where and how events are sent."""

    type: Annotated[ProviderType, schema.Description("The notification service.")]
    interval: Annotated[meta.Interval | None, schema.Description("Deprecated; not used.")] = None
    channel: Annotated[LongString | None, schema.Description("Channel, room or topic to post to.")] = None
    username: Annotated[LongString | None, schema.Description("Bot user name to post as.")] = None
    address: Annotated[LongString | None, schema.Description("Endpoint address; the secret's address key wins.")] = None
    timeout: Annotated[meta.Timeout | None, schema.Description("Timeout for sending a notification.")] = None
    proxy: Annotated[
        LongString | None,
        schema.Pattern(r"^(http|https)://.*$"),
        schema.Description("Deprecated: use proxySecretRef."),
    ] = None
    proxy_secret_ref: Annotated[
        meta.LocalObjectReference | None,
        schema.Description("Secret with the proxy address, username and password."),
    ] = None
    secret_ref: Annotated[
        meta.LocalObjectReference | None,
        schema.Description("Secret with address, token, username, password, headers or proxy keys."),
    ] = None
    service_account_name: Annotated[
        str | None, schema.Description("Service account whose cloud identity authenticates.")
    ] = None
    cert_secret_ref: Annotated[
        meta.LocalObjectReference | None,
        schema.Description("Secret with ca.crt, and tls.crt with tls.key for client auth."),
    ] = None
    suspend: meta.Suspend = None
    commit_status_expr: Annotated[
        str | None, schema.Description("CEL expression over event, provider and alert giving the status id.")
    ] = None


@dataclass(frozen=True, kw_only=True)
class AlertSpec:
    """Which events are forwarded to a provider."""

    provider_ref: Annotated[meta.LocalObjectReference, schema.Description("The Provider to send to.")]
    event_severity: Annotated[
        Literal["info", "error"] | None,
        schema.Default("info"),
        schema.Description("Minimum severity; info forwards everything."),
    ] = None
    event_sources: Annotated[
        list[notification_v1.CrossNamespaceObjectReference],
        schema.Description("Objects whose events are forwarded."),
    ]
    event_metadata: Annotated[dict[str, str] | None, schema.Description("Metadata added to every forwarded event.")] = (
        None
    )
    inclusion_list: Annotated[
        list[str] | None, schema.Description("Regexes; only events with a matching message are sent.")
    ] = None
    exclusion_list: Annotated[
        list[str] | None, schema.Description("Regexes; events with a matching message are dropped.")
    ] = None
    summary: Annotated[
        str | None, schema.MaxLength(255), schema.Description("Deprecated: use eventMetadata.summary.")
    ] = None
    suspend: meta.Suspend = None
