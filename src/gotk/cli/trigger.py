"""`flux trigger receiver NAME --url=… [--token=…] [--type=generic|generic-hmac|generic-oidc]`.

As flux2's cmd/flux/trigger_receiver.go: no cluster access; the Receiver's webhook path is computed from its
name, the namespace (-n) and the token, appended to --url, and the --payload is POSTed there
(`engines.receiverhook`). Prints `► triggering Receiver <ns>/<name>` and `✔ Receiver <ns>/<name> triggered`;
each retry is a `◎` line. The whole run is bounded by --timeout.
"""

from __future__ import annotations

import asyncio

import click

import gotk
from gotk.cli import goflags, output
from gotk.cli.context import Globals
from gotk.cli.engines import receiverhook
from gotk.cli.flags import AliasGroup, timeout_seconds, with_globals
from gotk.cli.output import CommandError

trigger = AliasGroup(
    "trigger",
    help="Trigger Flux resources from outside the cluster, such as a Receiver's incoming webhook.",
)


def run_trigger(opts: receiverhook.Options, name: str, namespace: str, timeout: float) -> None:
    """triggerReceiverCmdRun after argument parsing: check the flags, send, print flux's lines."""
    if not opts.url:
        raise CommandError("--url is required")
    try:
        receiverhook.validate(opts)
    except receiverhook.TriggerError as exc:
        raise CommandError(str(exc)) from None
    output.action(f"triggering Receiver {namespace}/{name}")
    try:
        asyncio.run(
            receiverhook.trigger(
                opts,
                name,
                namespace,
                timeout=timeout,
                user_agent=f"flux/v{gotk.__version__}",
                waiting=output.waiting,
            )
        )
    except receiverhook.TriggerError as exc:
        raise CommandError(str(exc)) from None
    output.success(f"Receiver {namespace}/{name} triggered")


def _go_int(value: str) -> int:
    """pflag's IntVar (strconv.ParseInt, base detected from the prefix)."""
    try:
        return int(value, 0)
    except ValueError:
        raise ValueError(f'strconv.ParseInt: parsing "{value}": invalid syntax') from None


@trigger.command("receiver", cls=goflags.FluxCommand)
@click.argument("args", nargs=-1, metavar="NAME")
@click.option(
    "--token", default="", help="The Receiver token; required except for generic-oidc, where it must not be set."
)
@click.option(
    "--url", default="", help="The base URL of the notification-controller webhook receiver (may have a path)."
)
@click.option(
    "--type",
    "receiver_type",
    default=receiverhook.GENERIC,
    help=f"The Receiver type, one of: {', '.join(receiverhook.TYPES)}.",
)
@click.option("--oidc-provider", default="", help="Fetch the OIDC token from: github, forgejo (generic-oidc only).")
@click.option(
    "--oidc-token",
    default="",
    help=f"The OIDC token (generic-oidc only); defaults to ${receiverhook.DEFAULT_OIDC_TOKEN_ENV}.",
)
@click.option(
    "--oidc-audience",
    default="",
    help=f'The OIDC token audience (with --oidc-provider); default "{receiverhook.DEFAULT_OIDC_AUDIENCE}".',
)
@click.option("--payload", default="{}", help="The JSON payload to send in the request body.")
@click.option(
    "--retries",
    type=goflags.Checked("int", _go_int),
    default=10,
    help="Retries on connection errors and 404, 408, 429, 5xx answers; 0 disables them.",
)
@click.option("--retry-delay", type=goflags.Duration(), default="10s", help="The delay between retries.")
@with_globals
def receiver(
    g: Globals,
    args: tuple[str, ...],
    token: str,
    url: str,
    receiver_type: str,
    oidc_provider: str,
    oidc_token: str,
    oidc_audience: str,
    payload: str,
    retries: int,
    retry_delay: int,
) -> None:
    """Trigger the webhook of a Receiver (without access to the cluster)."""
    if len(args) != 1:
        raise CommandError(f"accepts 1 arg(s), received {len(args)}")
    opts = receiverhook.Options(
        url=url,
        token=token,
        receiver_type=receiver_type,
        oidc_provider=oidc_provider,
        oidc_token=oidc_token,
        oidc_audience=oidc_audience,
        payload=payload,
        retries=retries,
        retry_delay_ns=retry_delay,
    )
    run_trigger(opts, args[0], g.namespace, timeout_seconds(g))
