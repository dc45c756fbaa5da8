"""`flux create alert-provider|alert|receiver NAME`: notification.toolkit.fluxcd.io objects, printed
(--export) or applied and waited for.

Flags, checks and lines follow flux2's cmd/flux/create_alertprovider.go, create_alert.go and
create_receiver.go. A Provider (v1beta3) needs --type (not checked by flux: the CRD does); an Alert
(v1beta3) needs --provider-ref and at least one --event-source `<kind>/<name>[.<namespace>]` (`*` names
every object of the kind); a Receiver (v1) needs a --type from flux's list, --secret-ref and at least
one --resource `<kind>/<name>` (no namespace part). The `create` group's --interval is accepted and not
used. Providers and Alerts have no status, so they are ready once applied; a Receiver waits for the
notification controller's Ready for its generation, then flux prints the webhook path it published.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, get_args

import click

from gotk.api.notification_v1 import ReceiverType
from gotk.cli import create_common, goflags, kinds_cli, output
from gotk.cli.context import Globals
from gotk.cli.create_common import create_options
from gotk.cli.engines.manifest import Obj
from gotk.cli.flags import with_globals
from gotk.cli.kinds_cli import dig, text
from gotk.cli.output import CommandError

RECEIVER_TYPES = tuple(t for t in get_args(ReceiverType) if t != "generic-oidc")
"""flux2's internal/flags ReceiverType, in its order (generic-oidc takes no --secret-ref, so flux omits it)."""

RECEIVER_TYPE = goflags.Checked(
    "|".join(RECEIVER_TYPES),
    goflags.one_of(
        RECEIVER_TYPES,
        empty="no receiver type given, please specify the receiver type",
        unsupported="receiver type '{value}' is not supported, must be one of: {values}",
    ),
)


def kind_name(value: str) -> tuple[str, str]:
    """utils.ParseObjectKindName: `<kind>/<name>`; anything else is a name without a kind."""
    parts = value.split("/")
    return (parts[0], parts[1]) if len(parts) == 2 else ("", value)


def object_refs(values: Sequence[str], *, with_namespace: bool) -> list[Obj]:
    """CrossNamespaceObjectReferences from `<kind>/<name>` values; with_namespace also splits a trailing
    `.<namespace>` off the name (utils.ParseObjectKindNameNamespace). `name` is always marshalled."""
    refs: list[Obj] = []
    for value in goflags.string_slice(values):
        kind, name = kind_name(value)
        if not kind:
            # flux2 words it so for receiver resources as well
            raise CommandError(f"invalid event source '{value}', must be in format <kind>/<name>")
        ref: Obj = {"kind": kind, "name": name}
        if with_namespace and "." in name:
            ref["name"], namespace = name.rsplit(".", 1)
            if namespace:
                ref["namespace"] = namespace
        refs.append(ref)
    return refs


@click.command("alert-provider", cls=goflags.FluxCommand, help="Create or update a Provider resource.")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option("--type", "provider_type", default="", help="Type of provider.")
@click.option("--channel", default="", help="Channel to send messages to in the case of a chat provider.")
@click.option("--username", default="", help="Bot username used by the provider.")
@click.option("--address", default="", help="Path to either the git repository, chat provider or webhook.")
@click.option("--secret-ref", default="", help="Name of secret containing authentication token.")
@create_options
@with_globals
def alert_provider(
    g: Globals, args: tuple[str, ...], interval: int, export: bool, label: tuple[str, ...], **flags: Any
) -> None:
    c = create_common.create_args(g, args, interval, export, label)
    if not flags["provider_type"]:
        raise CommandError("Provider type is required")
    spec: Obj = {
        "type": flags["provider_type"],
        "channel": flags["channel"],
        "username": flags["username"],
        "address": flags["address"],
    }
    if flags["secret_ref"]:
        spec["secretRef"] = {"name": flags["secret_ref"]}
    create_common.create_or_export(g, c, kinds_cli.ALERT_PROVIDER, spec)


@click.command("alert", cls=goflags.FluxCommand, help="Create or update a Alert resource.")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option("--provider-ref", default="", help="Reference to provider.")
@click.option("--event-severity", default="", help="Severity of events to send alerts for.")
@click.option(
    "--event-source",
    multiple=True,
    help="Sources that should generate alerts (<kind>/<name>), also accepts comma-separated values.",
)
@create_options
@with_globals
def alert(g: Globals, args: tuple[str, ...], interval: int, export: bool, label: tuple[str, ...], **flags: Any) -> None:
    c = create_common.create_args(g, args, interval, export, label)
    if not flags["provider_ref"]:
        raise CommandError("provider ref is required")
    sources = object_refs(flags["event_source"], with_namespace=True)
    if not sources:
        raise CommandError("at least one event source is required")
    spec: Obj = {
        "providerRef": {"name": flags["provider_ref"]},
        "eventSeverity": flags["event_severity"],
        "eventSources": sources,
    }
    create_common.create_or_export(g, c, kinds_cli.ALERT, spec)


def _webhook(receiver: Obj) -> None:
    output.success(f"generated webhook URL {text(dig(receiver, 'status', 'webhookPath'))}")


@click.command("receiver", cls=goflags.FluxCommand, help="Create or update a Receiver resource.")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option("--type", "receiver_type", type=RECEIVER_TYPE, default=None, help="The receiver type.")
@click.option("--secret-ref", default="", help="The Secret with the token the webhook must carry.")
@click.option("--event", multiple=True, help="Event type to act on, also accepts comma-separated values.")
@click.option(
    "--resource", multiple=True, help="Object to reconcile (<kind>/<name>), also accepts comma-separated values."
)
@create_options
@with_globals
def receiver(
    g: Globals, args: tuple[str, ...], interval: int, export: bool, label: tuple[str, ...], **flags: Any
) -> None:
    c = create_common.create_args(g, args, interval, export, label)
    if not flags["receiver_type"]:
        raise CommandError("Receiver type is required")
    if not flags["secret_ref"]:
        raise CommandError("secret ref is required")
    resources = object_refs(flags["resource"], with_namespace=False)
    if not resources:
        raise CommandError("atleast one resource is required")
    spec: Obj = {
        "type": flags["receiver_type"],
        "events": goflags.string_slice(flags["event"]),
        "resources": resources,
        "secretRef": {"name": flags["secret_ref"]},
    }
    create_common.create_or_export(g, c, kinds_cli.RECEIVER, spec, report=_webhook)
