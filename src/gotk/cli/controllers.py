"""`flux controllers run`: run gotk's controllers in the foreground against the current kubeconfig or in-cluster.

Each controller package exposes `register(manager, settings)`; this module only parses flags and starts them.
"""

from __future__ import annotations

import asyncio
import importlib
import signal
from concurrent.futures import ThreadPoolExecutor

import click

from gotk.cli.context import Globals
from gotk.cli.kubeclient import load_config
from gotk.cli.output import CommandError
from gotk.gocompat import durations
from gotk.kube.client import Client
from gotk.runtime import logging as gotk_logging
from gotk.runtime.manager import Manager, ManagerOptions
from gotk.runtime.settings import Settings

# controller name -> module with `register(manager, settings)`
AVAILABLE: dict[str, str] = {
    "source": "gotk.source.controller",
    "kustomize": "gotk.kustomize.controller",
    "helm": "gotk.helm.controller",
    "notification": "gotk.notification.controller",
    "image": "gotk.image.controller",
    "image-reflector": "gotk.image.controller:register_reflector",
    "image-automation": "gotk.image.controller:register_automation",
}


def installed_controllers() -> list[str]:
    """Names of the controllers whose modules exist in this build."""
    found = []
    for name, target in AVAILABLE.items():
        module = target.partition(":")[0]
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
                continue  # not in this build (the module or its package)
            raise
        found.append(name)
    return found


def feature_gates(text: str) -> dict[str, bool]:
    """`--feature-gates=A=true,B=false` as a dict; ValueError names a malformed entry."""
    gates: dict[str, bool] = {}
    for entry in filter(None, (e.strip() for e in text.split(","))):
        name, sep, value = entry.partition("=")
        if not sep or value.lower() not in ("true", "false"):
            raise ValueError(f"invalid feature gate {entry!r}: want NAME=true|false")
        gates[name] = value.lower() == "true"
    return gates


@click.group()
def controllers() -> None:
    """Run gotk's controllers."""


@controllers.command("run")
@click.option("--controllers", "names", default="", help="Comma-separated controllers (default: all installed).")
@click.option("--concurrent", default=4, show_default=True, help="Concurrent reconciles per kind.")
@click.option("--kube-api-qps", default=50.0, show_default=True)
@click.option("--kube-api-burst", default=300, show_default=True)
@click.option("--watch-label-selector", default="", help="Only reconcile objects matching this label selector.")
@click.option("--watch-all-namespaces/--no-watch-all-namespaces", default=True, show_default=True)
@click.option("--enable-leader-election", is_flag=True, help="Hold a Lease per controller before reconciling.")
@click.option("--leader-election-lease-duration", default="35s", show_default=True)
@click.option("--leader-election-renew-deadline", default="30s", show_default=True)
@click.option("--leader-election-retry-period", default="5s", show_default=True)
@click.option("--runtime-namespace", envvar="RUNTIME_NAMESPACE", default="flux-system", show_default=True)
@click.option("--health-addr", default=":9440", show_default=True)
@click.option("--metrics-addr", default=":8080", show_default=True)
@click.option("--events-addr", default="", help="Notification controller address for events.")
@click.option("--min-retry-delay", default="750ms", show_default=True)
@click.option("--max-retry-delay", default="15m", show_default=True)
@click.option("--graceful-shutdown-timeout", default="600s", show_default=True)
@click.option("--storage-path", default="/data", show_default=True)
@click.option("--storage-addr", default=":9090", show_default=True)
@click.option("--storage-adv-addr", default="", help="Advertised address of the artifact server.")
@click.option("--artifact-retention-records", default=2, show_default=True)
@click.option("--artifact-retention-ttl", default="60s", show_default=True)
@click.option("--requeue-dependency", default="30s", show_default=True)
@click.option(
    "--notification-events-addr",
    default=":9690",
    show_default=True,
    help="Where the notification controller receives events (Flux's notification-controller --events-addr).",
)
@click.option("--receiver-addr", default=":9292", show_default=True, help="Webhook receiver address.")
@click.option("--rate-limit-interval", default="5m", show_default=True, help="Window for duplicate events.")
@click.option("--no-cross-namespace-refs", is_flag=True)
@click.option("--no-remote-bases", is_flag=True)
@click.option("--default-service-account", default="")
@click.option("--feature-gates", default="", help="Feature gates, e.g. GitForcePushBranch=false.")
@click.option("--log-level", default="info", show_default=True)
@click.option("--log-encoding", type=click.Choice(["json", "console"]), default="json", show_default=True)
@click.pass_obj
def run_cmd(g: Globals, /, **flags: object) -> None:
    """Run the controllers in the foreground until SIGINT or SIGTERM."""
    names = [n for n in str(flags["names"]).split(",") if n] or [
        n for n in installed_controllers() if ":" not in AVAILABLE[n]
    ]
    unknown = [n for n in names if n not in AVAILABLE]
    if unknown:
        raise CommandError(f"unknown controller(s) {', '.join(unknown)}; known: {', '.join(AVAILABLE)}")
    missing = [n for n in names if n not in installed_controllers()]
    if missing:
        raise CommandError(f"controller(s) {', '.join(missing)} not available in this build")
    try:
        options = ManagerOptions(
            namespace=str(flags["runtime_namespace"]),
            leader_election=bool(flags["enable_leader_election"]),
            lease_duration=durations.parse(str(flags["leader_election_lease_duration"])),
            renew_deadline=durations.parse(str(flags["leader_election_renew_deadline"])),
            retry_period=durations.parse(str(flags["leader_election_retry_period"])),
            watch_label_selector=str(flags["watch_label_selector"]) or None,
            watch_namespace=None if flags["watch_all_namespaces"] else str(flags["runtime_namespace"]),
            concurrent=int(str(flags["concurrent"])),
            min_retry_delay=durations.parse(str(flags["min_retry_delay"])),
            max_retry_delay=durations.parse(str(flags["max_retry_delay"])),
            health_addr=str(flags["health_addr"]) or None,
            metrics_addr=str(flags["metrics_addr"]) or None,
            events_addr=str(flags["events_addr"]) or None,
            graceful_shutdown_timeout=durations.parse(str(flags["graceful_shutdown_timeout"])),
        )
        settings = Settings(
            storage_path=str(flags["storage_path"]),
            storage_addr=str(flags["storage_addr"]),
            storage_adv_addr=str(flags["storage_adv_addr"]),
            artifact_retention_records=int(str(flags["artifact_retention_records"])),
            artifact_retention_ttl=durations.parse(str(flags["artifact_retention_ttl"])),
            requeue_dependency=durations.parse(str(flags["requeue_dependency"])),
            no_cross_namespace_refs=bool(flags["no_cross_namespace_refs"]),
            no_remote_bases=bool(flags["no_remote_bases"]),
            default_service_account=str(flags["default_service_account"]),
            notification_events_addr=str(flags["notification_events_addr"]),
            receiver_addr=str(flags["receiver_addr"]),
            rate_limit_interval=durations.parse(str(flags["rate_limit_interval"])),
            git_force_push_branch=feature_gates(str(flags["feature_gates"])).get("GitForcePushBranch", True),
        )
    except ValueError as exc:
        raise CommandError(f"invalid flag value: {exc}") from exc
    gotk_logging.setup(str(flags["log_level"]), str(flags["log_encoding"]))
    cfg = load_config(g)
    qps, burst = float(str(flags["kube_api_qps"])), int(str(flags["kube_api_burst"]))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # blocking work (git, archives, registries) runs in threads: more than asyncio's cpu+4 default, so that
        # `--concurrent` reconciles can each have one
        loop.set_default_executor(ThreadPoolExecutor(max_workers=max(32, 2 * options.concurrent)))
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with Client(cfg, qps=qps, burst=burst, user_agent="gotk-controllers") as client:
            manager = Manager(client, options)
            for name in names:
                module_name, _, function = AVAILABLE[name].partition(":")
                module = importlib.import_module(module_name)
                await getattr(module, function or "register")(manager, settings)
            await manager.run(stop)

    asyncio.run(main())
