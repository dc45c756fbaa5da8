"""The notification controller: the event server (Alerts route controller events to Providers), the
Receiver reconciler and the webhook receiver server.

`register(manager, settings)` is what `flux controllers run --controllers notification` calls.
"""

from __future__ import annotations

from aiohttp import web

from gotk.kube.resources import ALERTS, PROVIDERS
from gotk.notification.events import Dispatcher
from gotk.notification.receivers import HookServer, ReceiverReconciler
from gotk.runtime.informer import Informer
from gotk.runtime.manager import Manager, serve
from gotk.runtime.settings import Settings

NAME = "notification-controller"


async def register(manager: Manager, settings: Settings) -> tuple[Dispatcher, HookServer]:
    client = manager.client
    namespace = manager.options.watch_namespace
    alerts = Informer(client, ALERTS, namespace=namespace)
    providers = Informer(client, PROVIDERS, namespace=namespace)
    manager.add_informer(NAME, alerts)
    manager.add_informer(NAME, providers)
    receivers = manager.add(ReceiverReconciler())
    dispatcher = Dispatcher(
        client,
        alerts,
        providers,
        rate_limit_interval=settings.rate_limit_interval,
        no_cross_namespace_refs=settings.no_cross_namespace_refs,
    )
    hooks = HookServer(client, receivers.informer, no_cross_namespace_refs=settings.no_cross_namespace_refs)
    events_app = web.Application(client_max_size=2 << 20)
    events_app.router.add_route("*", "/", dispatcher.handle)
    hooks_app = web.Application(client_max_size=8 << 20)
    hooks_app.router.add_route("*", "/hook/{digest}", hooks.handle)
    manager.extra_servers.append(await serve(events_app, settings.notification_events_addr))
    manager.extra_servers.append(await serve(hooks_app, settings.receiver_addr))
    manager.cleanups.append(dispatcher.drain)
    return dispatcher, hooks
