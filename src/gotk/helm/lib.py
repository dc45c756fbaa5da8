"""Real Helm releases from Python: `HelmLib` calls Helm v4's own `action` package (helm.sh/helm/v4
v4.3.1) through `libgotkhelm.so`, gotk's small cgo library (tools/helmlib, built by `make setup`
into `<GOTK_CACHE or ~/.cache/gotk>/bin`). One C function takes a JSON request and returns a JSON
response; `HelmLib.call` is that raw call, and the typed methods (`template`, `install`, `upgrade`,
`rollback`, `uninstall`, `history`, `get`, `test`) raise `HelmActionError` with Helm's message.

Releases are stored as Helm does (Secrets `sh.helm.release.v1.<name>.v<N>` in the storage
namespace) and applied with the field manager `helm-controller`, so the helm CLI reads and
upgrades them. Calls block (the GIL is released) and may run concurrently: from asyncio use
`asyncio.to_thread`. Do not call the library in a child made by `os.fork()` after loading it
(the Go runtime does not survive a fork); use the `spawn` start method.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict, Unpack

from gotk.runtime.golib import GoLibrary, GoLibraryNotFoundError, default_library_path

__all__ = [
    "ChartInfo",
    "HelmActionError",
    "HelmLib",
    "HelmLibNotFoundError",
    "Hook",
    "Options",
    "Release",
    "Target",
    "default_library_path",
]


HelmLibNotFoundError = GoLibraryNotFoundError


class HelmActionError(RuntimeError):
    """A Helm action failed; `message` is Helm's error, `release` the release as the failure left it when the
    library returned one (a failed test: its hooks' phases)."""

    def __init__(self, action: str, message: str, release: Release | None = None) -> None:
        super().__init__(f"helm {action}: {message}")
        self.action = action
        self.message = message
        self.release = release


class ReleaseNotFoundError(HelmActionError):
    """The release (or the revision asked for) is not in its storage namespace."""


_ERRORS: dict[str, type[HelmActionError]] = {"releaseNotFound": ReleaseNotFoundError}


@dataclass(frozen=True)
class Target:
    """Where a release lives: the cluster (kubeconfig file and context; empty means $KUBECONFIG,
    ~/.kube/config or in-cluster), the release namespace, the namespace of its release Secrets
    (default: the release namespace), an optional user to impersonate (e.g.
    `system:serviceaccount:NS:SA`) and client QPS/burst (0: the library's 50/300)."""

    namespace: str = "default"
    kubeconfig: str | Path = ""
    context: str = ""
    storage_namespace: str = ""
    impersonate: str = ""
    qps: float = 0
    burst: int = 0
    oci_digests: tuple[str, ...] = ()  # the releases returned also carry their digests for these OCI digests

    def request(self) -> dict[str, Any]:
        return {
            "kubeconfig": str(self.kubeconfig),
            "context": self.context,
            "namespace": self.namespace,
            "storageNamespace": self.storage_namespace or self.namespace,
            "impersonate": self.impersonate,
            "qps": self.qps,
            "burst": self.burst,
            "ociDigests": list(self.oci_digests),
        }


@dataclass(frozen=True)
class ChartInfo:
    """The chart of a stored release: name, version and appVersion."""

    name: str
    version: str
    app_version: str


@dataclass(frozen=True)
class Hook:
    """A hook of a release (a test Pod, say): name, kind, manifest path, events and last phase."""

    name: str
    kind: str
    path: str
    events: tuple[str, ...]
    phase: str  # "" (never run), Running, Succeeded, Failed, Unknown


@dataclass(frozen=True)
class Release:
    """One revision of a release as Helm stored it; `config` holds the user-supplied values."""

    name: str
    namespace: str
    version: int
    status: str
    description: str
    chart: ChartInfo
    manifest: str
    notes: str
    config: dict[str, Any]
    first_deployed: str
    last_deployed: str
    hooks: tuple[Hook, ...] = field(default=())
    deleted: str = ""  # when an uninstall that kept the history marked it
    digests: Mapping[str, str] = field(default_factory=dict)
    """Flux's status.history digest of this revision: under "" without an OCI digest, and under each OCI digest
    the request's Target named (the digest covers the chart's OCI digest when there is one)."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Release:
        chart = data.get("chart") or {}
        hooks = tuple(
            Hook(h["name"], h["kind"], h["path"], tuple(h.get("events") or ()), h.get("phase", ""))
            for h in data.get("hooks") or ()
        )
        return cls(
            name=data["name"],
            namespace=data["namespace"],
            version=int(data["version"]),
            status=data["status"],
            description=data.get("description", ""),
            chart=ChartInfo(chart.get("name", ""), chart.get("version", ""), chart.get("appVersion", "")),
            manifest=data.get("manifest", ""),
            notes=data.get("notes", ""),
            config=dict(data.get("config") or {}),
            first_deployed=data.get("firstDeployed", ""),
            last_deployed=data.get("lastDeployed", ""),
            hooks=hooks,
            deleted=data.get("deleted", ""),
            digests=dict(data.get("digests") or {}),
        )


class Options(TypedDict, total=False):
    """Action options (snake_case of the library's request fields); each action uses its own."""

    timeout: str  # a Go duration, e.g. "5m0s" (the default)
    wait: bool  # wait until every resource is ready (kstatus); hooks are always waited for
    wait_for_jobs: bool
    disable_hooks: bool
    disable_openapi_validation: bool  # install, upgrade
    force: bool  # Helm v4 ForceReplace (install, upgrade, rollback)
    force_conflicts: bool  # server-side apply takes fields other managers own (install, upgrade, rollback)
    server_side_apply: str  # "true"/"false"; upgrade and rollback also "auto" (their default: the release's)
    create_namespace: bool  # install
    skip_crds: bool  # install, upgrade
    max_history: int  # upgrade, rollback
    reset_values: bool  # upgrade
    reuse_values: bool  # upgrade
    cleanup_on_fail: bool  # upgrade, rollback
    keep_history: bool  # uninstall
    description: str
    take_ownership: bool  # install, upgrade: adopt objects that carry no Helm ownership annotations
    skip_schema_validation: bool  # install, upgrade: ignore the chart's values.schema.json
    replace: bool  # install: reuse the name of an uninstalled release
    wait_strategy: str  # with wait: "watcher" (kstatus, the default) or "legacy" (Helm 3's polling)
    deletion_propagation: str  # uninstall: background, foreground or orphan
    crds: str  # install, upgrade: Skip, Create or CreateReplace the chart's crds/
    chart_version: str  # install, upgrade: the version the release records instead of the chart's own
    post_rendering: dict[str, Any]  # install, upgrade: {postRenderers, commonMetadata, originLabels} (postrender.go)
    post_render_strategy: str  # install, upgrade: nohooks, combined (Helm 4's default) or separate
    health_check_exprs: list[dict[str, Any]]  # install, upgrade, rollback with the watcher: spec.healthCheckExprs
    filters: dict[str, list[str]]  # test: {"name": [...]} runs only these tests, {"!name": [...]} skips these


_KEYS = {"disable_openapi_validation": "disableOpenAPIValidation", "skip_crds": "skipCRDs"}


def _camel(options: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in options.items():
        head, *rest = key.split("_")
        out[_KEYS.get(key, head + "".join(word.title() for word in rest))] = value
    return out


class HelmLib:
    """libgotkhelm.so (loading it again, in this or another instance, reuses the loaded library)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self._go = GoLibrary(path)
        self.path = self._go.path

    def call(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """The raw call: the request and response JSON of tools/helmlib/main.go, as dicts."""
        response = self._go.call(request)
        if response is None:
            raise HelmActionError(str(request.get("action", "")), "the Helm library returned no response")
        return response

    def _run(self, action: str, request: Mapping[str, Any]) -> dict[str, Any]:
        response = self.call({"action": action, **request})
        if not response.get("ok"):
            error = _ERRORS.get(str(response.get("code") or ""), HelmActionError)
            found = response.get("release")
            release = Release.from_json(found) if isinstance(found, Mapping) else None
            raise error(action, str(response.get("error", "unknown error")), release)
        return response

    def _release(self, action: str, target: Target, release_name: str, **fields: Any) -> Release:
        request = {**target.request(), "releaseName": release_name, **fields}
        return Release.from_json(self._run(action, request)["release"])

    def version(self) -> dict[str, str]:
        """The versions built in: `helm`, `clientGo`, `go`, and the `fieldManager`."""
        versions: dict[str, str] = self._run("version", {})["version"]
        return versions

    def template(
        self,
        chart: str | Path,
        values: Mapping[str, Any] | None = None,
        *,
        release_name: str = "release-name",
        namespace: str = "default",
        disable_hooks: bool = False,
        skip_crds: bool = False,
        skip_schema_validation: bool = False,
        post_rendering: Mapping[str, Any] | None = None,
        post_render_strategy: str = "",
    ) -> str:
        """Render the chart (a .tgz or a directory) offline, as `helm template` does (CRDs and hooks
        included unless skipped), post-rendered as a release would be; returns the manifest stream."""
        fields = {
            "chartPath": str(chart),
            "values": dict(values or {}),
            "disableHooks": disable_hooks,
            "skipCRDs": skip_crds,
            "skipSchemaValidation": skip_schema_validation,
            "postRendering": dict(post_rendering) if post_rendering is not None else None,
            "postRenderStrategy": post_render_strategy,
        }
        return self._release("template", Target(namespace), release_name, **fields).manifest

    def install(
        self,
        target: Target,
        release_name: str,
        chart: str | Path,
        values: Mapping[str, Any] | None = None,
        **options: Unpack[Options],
    ) -> Release:
        fields = {**_camel(options), "chartPath": str(chart), "values": dict(values or {})}
        return self._release("install", target, release_name, **fields)

    def upgrade(
        self,
        target: Target,
        release_name: str,
        chart: str | Path,
        values: Mapping[str, Any] | None = None,
        **options: Unpack[Options],
    ) -> Release:
        fields = {**_camel(options), "chartPath": str(chart), "values": dict(values or {})}
        return self._release("upgrade", target, release_name, **fields)

    def set_value(self, values: Mapping[str, Any], path: str, value: str, *, literal: bool = False) -> dict[str, Any]:
        """`values` with `value` written at `path` by Helm's --set parser (typed; quoted values are strings), or
        verbatim with `literal` (--set-literal), as Flux writes a valuesFrom entry with a targetPath. Raises
        HelmActionError with the parser's message."""
        response = self._run(
            "setValue", {"values": dict(values), "targetPath": path, "value": value, "literal": literal}
        )
        found: dict[str, Any] = response.get("values") or {}
        return found

    def rollback(self, target: Target, release_name: str, version: int = 0, **options: Unpack[Options]) -> Release:
        """Roll back to `version` (0: the previous one); returns the new revision."""
        return self._release("rollback", target, release_name, version=version, **_camel(options))

    def uninstall(self, target: Target, release_name: str, **options: Unpack[Options]) -> Release:
        """Uninstall; returns the release as uninstalled (its Secrets stay with keep_history=True)."""
        return self._release("uninstall", target, release_name, **_camel(options))

    def unlock(self, target: Target, release_name: str) -> Release:
        """Mark the latest revision failed if a dead process left it pending-*; returns it as stored now."""
        return self._release("unlock", target, release_name)

    def history(self, target: Target, release_name: str) -> list[Release]:
        """Every stored revision, oldest first."""
        response = self._run("history", {**target.request(), "releaseName": release_name})
        return [Release.from_json(r) for r in response.get("releases") or ()]

    def get(self, target: Target, release_name: str, version: int = 0) -> Release:
        """Revision `version` (0: the latest)."""
        return self._release("get", target, release_name, version=version)

    def test(self, target: Target, release_name: str, **options: Unpack[Options]) -> Release:
        """Run the release's test hooks (`helm test`); their phases are in `Release.hooks` (on a failure, in the
        error's `release`). `filters`: {"name": [...]} runs only those tests, {"!name": [...]} skips those."""
        return self._release("test", target, release_name, **_camel(options))
