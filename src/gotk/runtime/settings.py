"""Flags that individual controllers read (storage, multi-tenancy, dependencies), set by `flux controllers run`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Settings:
    """Flags that individual controllers read (storage, multi-tenancy, dependencies)."""

    storage_path: str = "/data"
    storage_addr: str = ":9090"
    storage_adv_addr: str = ""
    artifact_retention_records: int = 2
    artifact_retention_ttl: float = 60.0
    requeue_dependency: float = 30.0
    no_cross_namespace_refs: bool = False
    no_remote_bases: bool = False
    default_service_account: str = ""
    concurrent_source: int = 0
    concurrent_ssa: int = 8
    watch_configs_label_selector: str = "reconcile.fluxcd.io/watch=Enabled"
    notification_events_addr: str = ":9690"  # the notification controller's event server (Flux: :9090)
    receiver_addr: str = ":9292"
    rate_limit_interval: float = 300.0
    git_force_push_branch: bool = True  # GitForcePushBranch gate (false: always build on the push branch)
    extra: dict[str, str] = field(default_factory=dict)
