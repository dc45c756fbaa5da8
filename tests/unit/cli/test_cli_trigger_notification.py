"""The notification nouns without a cluster, `flux trigger receiver` and `flux check --pre`.

`flux export alert|alert-provider|receiver` against flux2's testdata/export/{alert,provider,receiver}.yaml
(the objects of its export test, as the API server stores them with the CRD defaults), the Go shape of their
specs, `flux delete alert|alert-provider|receiver`; `flux trigger receiver` as flux2's
trigger_receiver_test.go checks it (the flag validation table, then requests against a local HTTP server:
path, method, headers, body, HMAC signature, OIDC bearer, retries); `flux check --pre` against flux2's
testdata/check/check_pre.golden with a fake API server version.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import http.server
import io
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from gotk.cli import check, delete, export, kinds_cli, kubeclient
from gotk.cli.engines import receiverhook
from gotk.cli.engines.receiverhook import Options
from gotk.cli.main import cli
from gotk.cli.output import CommandError
from gotk.kube.errors import ApiError
from gotk.kube.resources import Resource
from gotk.notification import receivers
from gotk.testing.golden import assert_golden

GOLDEN = Path(__file__).parents[2] / "golden" / "cli" / "trigger_notification"
FLUX2 = GOLDEN / "flux2"
NS = "flux-system-abc"


class FakeClient:
    """Objects by (kind, name); every kind is served."""

    def __init__(self, *objects: dict[str, Any], version: str = "v1.34.1") -> None:
        self.objects = {(o["kind"], o["metadata"]["name"]): copy.deepcopy(o) for o in objects}
        self.deleted: list[tuple[str, str, str | None]] = []
        self.version = version

    def _find(self, res: Resource, name: str) -> dict[str, Any]:
        found = self.objects.get((res.kind, name))
        if found is None:
            details = {"name": name, "kind": res.plural}
            raise ApiError(404, "NotFound", f'{res.plural} "{name}" not found', body={"details": details})
        return found

    async def get(self, res: Resource, name: str, namespace: str | None = None) -> dict[str, Any]:
        return copy.deepcopy(self._find(res, name))

    async def list(self, res: Resource, namespace: str | None = None, **kw: Any) -> dict[str, Any]:
        items = [o for (kind, _), o in self.objects.items() if kind == res.kind]
        if kw.get("field_selector"):
            name = kw["field_selector"].removeprefix("metadata.name=")
            items = [o for o in items if o["metadata"]["name"] == name]
        return {"items": copy.deepcopy(items)}

    async def delete(self, res: Resource, name: str, namespace: str | None = None, **kw: Any) -> None:
        self._find(res, name)
        self.deleted.append((res.kind, name, namespace))
        del self.objects[(res.kind, name)]

    async def get_raw(self, path: str) -> Any:
        assert path == "/version"
        return {"major": "1", "minor": "34", "gitVersion": self.version}


@pytest.fixture
def fake_cluster(monkeypatch: pytest.MonkeyPatch) -> Callable[[FakeClient], None]:
    """Make the commands talk to a FakeClient instead of loading a kubeconfig."""

    def use(client: FakeClient) -> None:
        def run(g: Any, body: Callable[[Any], Awaitable[Any]], **kw: Any) -> Any:
            return asyncio.run(body(client))

        monkeypatch.setattr(kubeclient, "run", run)
        monkeypatch.setattr(kubeclient, "load_config", lambda g: None)

    return use


# -- export ------------------------------------------------------------------------------------------

CRD_DEFAULTS: dict[str, dict[str, Any]] = {
    "Alert": {"eventSeverity": "info"},
    "Provider": {},
    "Receiver": {"interval": "10m"},
}
EXPORT_GOLDEN = {"Alert": "export-alert.yaml", "Provider": "export-provider.yaml", "Receiver": "export-receiver.yaml"}


def flux2_objects(namespace: str) -> list[dict[str, Any]]:
    """The Provider, Alert and Receiver of flux2's testdata/export/objects.yaml, `{{ .fluxns }}` rendered."""
    text = (FLUX2 / "export-objects-notification.yaml").read_text().replace("{{ .fluxns }}", namespace)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def as_stored(doc: dict[str, Any]) -> dict[str, Any]:
    """The object as the API server returns it: CRD defaults, server-set metadata, a status."""
    obj = copy.deepcopy(doc)
    obj["spec"] = {**CRD_DEFAULTS[doc["kind"]], **doc["spec"]}
    obj["metadata"].update(
        uid="2d1f0f36-0000-4000-8000-000000000001",
        resourceVersion="4242",
        generation=1,
        creationTimestamp="2026-01-02T03:04:05Z",
        managedFields=[{"manager": "kubectl", "operation": "Apply"}],
    )
    obj["status"] = {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True"}]}
    return obj


def as_template(text: str, namespace: str) -> str:
    return text.replace(f"namespace: {namespace}\n", "namespace: {{ .fluxns }}\n")


@pytest.mark.parametrize("kind", sorted(EXPORT_GOLDEN))
def test_export_matches_flux2(kind: str) -> None:
    (doc,) = [d for d in flux2_objects(NS) if d["kind"] == kind]
    assert_golden(FLUX2, EXPORT_GOLDEN[kind], as_template(export.render(as_stored(doc)), NS))


@pytest.mark.parametrize(
    ("args", "golden"),
    [
        (["export", "alert-provider", "slack"], "export-provider.yaml"),
        (["export", "alert", "flux-system"], "export-alert.yaml"),
        (["export", "receiver", "flux-system"], "export-receiver.yaml"),
    ],
)
def test_export_commands_match_flux2(fake_cluster: Callable[[FakeClient], None], args: list[str], golden: str) -> None:
    fake_cluster(FakeClient(*(as_stored(d) for d in flux2_objects(NS))))
    result = CliRunner().invoke(cli, [*args, "-n", NS], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert_golden(FLUX2, golden, as_template(result.stdout, NS))


async def test_export_all_and_missing() -> None:
    objects = [as_stored(d) for d in flux2_objects(NS)]
    alert = next(o for o in objects if o["kind"] == "Alert")
    second = copy.deepcopy(alert)
    second["metadata"]["name"] = "second"
    client = FakeClient(*objects, second)
    both = await export.export_objects(client, (kinds_cli.ALERT,), None, NS)  # type: ignore[arg-type]
    assert both == export.render(alert) + export.render(second)
    with pytest.raises(CommandError, match=f"no objects found in {NS} namespace"):
        await export.export_objects(FakeClient(), (kinds_cli.RECEIVER,), None, NS)  # type: ignore[arg-type]
    with pytest.raises(ApiError, match='providers "gone" not found'):
        await export.export_objects(client, (kinds_cli.ALERT_PROVIDER,), "gone", NS)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "spec", "expected"),
    [
        # providerRef and eventSources have no omitempty: printed when unset (a nil slice is null)
        ("Alert", {"suspend": False, "summary": ""}, {"providerRef": {"name": ""}, "eventSources": None}),
        (
            "Alert",
            {
                "providerRef": {"name": "p"},
                "eventSources": [{"kind": "Kustomization", "name": "*", "matchLabels": {"a": ""}, "namespace": ""}],
                "eventMetadata": {"env": ""},
                "inclusionList": [],
            },
            {
                "providerRef": {"name": "p"},
                "eventSources": [{"kind": "Kustomization", "name": "*", "matchLabels": {"a": ""}}],
                "eventMetadata": {"env": ""},
            },
        ),
        # durations in Go's form, secret references with their required name
        (
            "Provider",
            {"type": "slack", "timeout": "90s", "interval": "1h", "secretRef": {}, "suspend": True},
            {"type": "slack", "timeout": "1m30s", "interval": "1h0m0s", "secretRef": {"name": ""}, "suspend": True},
        ),
        ("Provider", {}, {"type": ""}),
        (
            "Receiver",
            {
                "type": "generic-oidc",
                "interval": "10m",
                "resources": [{"kind": "GitRepository", "name": "x", "filter": ""}],
                "oidcProviders": [{"issuerURL": "https://token.actions.githubusercontent.com"}],
                "events": [],
            },
            {
                "type": "generic-oidc",
                "interval": "10m0s",
                "resources": [{"kind": "GitRepository", "name": "x"}],
                "oidcProviders": [{"issuerURL": "https://token.actions.githubusercontent.com", "validations": None}],
            },
        ),
        ("Receiver", {"type": "github"}, {"type": "github", "resources": None}),
    ],
)
def test_export_spec_has_the_go_shape(kind: str, spec: dict[str, Any], expected: dict[str, Any]) -> None:
    doc = {"apiVersion": "x", "kind": kind, "metadata": {"name": "x", "namespace": NS}, "spec": {}}
    exported = yaml.safe_load(export.render({**as_stored(doc), "spec": spec}))
    assert exported["spec"] == expected
    assert exported["apiVersion"] == (
        "notification.toolkit.fluxcd.io/v1" if kind == "Receiver" else "notification.toolkit.fluxcd.io/v1beta3"
    )
    assert exported["metadata"] == {"name": "x", "namespace": NS}
    assert "status" not in exported


# -- delete --------------------------------------------------------------------------------------------


async def test_delete_notification_objects(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeClient(*(as_stored(d) for d in flux2_objects(NS)))
    await delete.delete_object(client, kinds_cli.ALERT, "flux-system", NS, silent=True)  # type: ignore[arg-type]
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    await delete.delete_object(client, kinds_cli.ALERT_PROVIDER, "slack", NS, silent=False)  # type: ignore[arg-type]
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match=r"^aborting$"):
        await delete.delete_object(client, kinds_cli.RECEIVER, "flux-system", NS, silent=False)  # type: ignore[arg-type]
    with pytest.raises(ApiError, match='receivers "gone" not found'):
        await delete.delete_object(client, kinds_cli.RECEIVER, "gone", NS, silent=True)  # type: ignore[arg-type]
    await delete.delete_object(client, kinds_cli.RECEIVER, "flux-system", NS, silent=True)  # type: ignore[arg-type]
    assert client.deleted == [("Alert", "flux-system", NS), ("Provider", "slack", NS), ("Receiver", "flux-system", NS)]
    assert capsys.readouterr().err.splitlines() == [
        f"► deleting alert flux-system in {NS} namespace",
        "✔ alert deleted",
        f"► deleting alert provider slack in {NS} namespace",
        "✔ alert provider deleted",
        f"► deleting receiver flux-system in {NS} namespace",
        "✔ receiver deleted",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["delete", "alert"], "alert name is required"),
        (["delete", "alert-provider"], "alert provider name is required"),
        (["delete", "receiver"], "receiver name is required"),
        (["export", "alert"], "name is required"),
        (["export", "alert-provider"], "name is required"),
        (["export", "receiver"], "name is required"),
        (["trigger", "receiver"], "accepts 1 arg(s), received 0"),
        (["trigger", "receiver", "a", "b"], "accepts 1 arg(s), received 2"),
        (["trigger", "receiver", "a", "--token=t"], "--url is required"),
        (
            ["trigger", "receiver", "a", "--retries=x"],
            'invalid argument "x" for "--retries" flag: strconv.ParseInt: parsing "x": invalid syntax',
        ),
        (
            ["trigger", "receiver", "a", "--retry-delay=x"],
            'invalid argument "x" for "--retry-delay" flag: time: invalid duration "x"',
        ),
    ],
)
def test_argument_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert isinstance(result.exception, CommandError)
    assert str(result.exception) == message


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["delete", "alert", "--help"], "Delete a Alert resource."),
        (["delete", "alert-provider", "--help"], "Delete a Provider resource."),
        (["delete", "receiver", "--help"], "--silent"),
        (["export", "alert", "--help"], "Export Alert resources in YAML format."),
        (["export", "alert-provider", "--help"], "--all"),
        (["export", "receiver", "--help"], "Export Receiver resources in YAML format."),
        (["trigger", "receiver", "--help"], "--retry-delay"),
        (["check", "--help"], "--poll-interval"),
    ],
)
def test_commands(args: list[str], expected: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert expected in result.output


# -- trigger receiver ----------------------------------------------------------------------------------

NAME = "my-receiver"
TOKEN = "my-token"


@pytest.mark.parametrize(
    ("opts", "error"),
    [
        (Options(), "--token is required"),
        (Options(token="t"), ""),
        (Options(token="t", oidc_provider="github"), "can only be set for --type=generic-oidc"),
        (Options(receiver_type="generic-hmac", token="t"), ""),
        (Options(receiver_type="bogus", token="t"), "invalid --type"),
        (Options(receiver_type="generic-oidc", token="t"), "--token must not be set"),
        (Options(receiver_type="generic-oidc", oidc_provider="github", oidc_token="x"), "mutually exclusive"),
        (Options(receiver_type="generic-oidc", oidc_provider="gitlab"), "invalid --oidc-provider"),
        (
            Options(receiver_type="generic-oidc", oidc_token="x", oidc_audience="aud"),
            "--oidc-audience can only be set together with --oidc-provider",
        ),
        (Options(receiver_type="generic-oidc", oidc_provider="forgejo", oidc_audience="aud"), ""),
        (Options(receiver_type="generic-oidc", oidc_token="x"), ""),
        (Options(receiver_type="generic-oidc"), ""),  # the token comes from the environment
    ],
)
def test_validate_trigger_receiver_args(opts: Options, error: str) -> None:
    if not error:
        receiverhook.validate(opts)
        return
    with pytest.raises(receiverhook.TriggerError) as info:
        receiverhook.validate(opts)
    assert error in str(info.value)


def test_validation_messages() -> None:
    """flux2's wording, in full."""
    cases = {
        Options(receiver_type="bogus", token="t"): 'invalid --type "bogus", must be one of: generic, generic-hmac, '
        "generic-oidc",
        Options(receiver_type="generic-hmac"): "--token is required for --type=generic-hmac",
        Options(token="t", oidc_audience="a"): "--oidc-provider, --oidc-token and --oidc-audience can only be set "
        "for --type=generic-oidc",
        Options(receiver_type="generic-oidc", token="t"): "--token must not be set for --type=generic-oidc, the "
        "Receiver of this type has no secret",
        Options(receiver_type="generic-oidc", oidc_provider="gitlab"): 'invalid --oidc-provider "gitlab", must be '
        "one of: github, forgejo",
    }
    for opts, message in cases.items():
        with pytest.raises(receiverhook.TriggerError) as info:
            receiverhook.validate(opts)
        assert str(info.value) == message


def test_webhook_path_is_the_controllers() -> None:
    expected = "/hook/" + hashlib.sha256(f"{TOKEN}{NAME}default".encode()).hexdigest()
    assert receiverhook.webhook_path(TOKEN, NAME, "default") == expected
    assert receiverhook.webhook_path(TOKEN, NAME, "default") == receivers.webhook_path(TOKEN, NAME, "default")


@dataclass
class Hook:
    """A local webhook: records the requests, answers with the next of `statuses` (then the last one)."""

    statuses: list[tuple[int, str]] = field(default_factory=lambda: [(200, "")])
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    oidc: str = "the-fetched-token"

    def answer(self) -> tuple[int, str]:
        index = min(len(self.requests) - 1, len(self.statuses) - 1)
        return self.statuses[index]


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # the Actions OIDC token endpoint
            if self.headers.get("Authorization") != "bearer request-token":
                self._reply(401, b"bad request token")
                return
            audience = self.path.partition("audience=")[2]
            self._reply(200, json.dumps({"value": f"{state.oidc}:{audience}"}).encode())

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.requests.append({"method": "POST", "path": self.path, "headers": dict(self.headers), "body": body})
            status, text = state.answer()
            self._reply(status, text.encode())

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def trigger(opts: Options, namespace: str = "default") -> None:
    asyncio.run(
        receiverhook.trigger(opts, NAME, namespace, timeout=60, user_agent="flux/v0.1.0", waiting=lambda msg: None)
    )


def test_generic_sends_payload_with_default_headers(hook: Hook) -> None:
    trigger(Options(url=hook.url, token=TOKEN, payload='{"hello":"world"}'))
    (req,) = hook.requests
    assert req["path"] == receiverhook.webhook_path(TOKEN, NAME, "default")
    assert req["method"] == "POST"
    assert req["headers"]["Content-Type"] == "application/json"
    assert req["headers"]["User-Agent"].startswith("flux/v")
    assert req["body"] == b'{"hello":"world"}'
    assert "X-Signature" not in req["headers"] and "Authorization" not in req["headers"]


def test_base_url_with_path_and_trailing_slash(hook: Hook) -> None:
    trigger(Options(url=hook.url + "/flux/", token=TOKEN), namespace="apps")
    assert hook.requests[0]["path"] == "/flux" + receiverhook.webhook_path(TOKEN, NAME, "apps")


def test_generic_hmac_sets_x_signature(hook: Hook) -> None:
    payload = '{"a":1}'
    trigger(Options(url=hook.url, token=TOKEN, receiver_type="generic-hmac", payload=payload))
    want = "sha256=" + hmac.new(TOKEN.encode(), payload.encode(), hashlib.sha256).hexdigest()
    assert hook.requests[0]["headers"]["X-Signature"] == want


def test_generic_oidc_with_token_sets_bearer_and_empty_token_path(hook: Hook) -> None:
    trigger(Options(url=hook.url, receiver_type="generic-oidc", oidc_token="the-oidc-token"))
    (req,) = hook.requests
    assert req["headers"]["Authorization"] == "Bearer the-oidc-token"
    assert req["path"] == receiverhook.webhook_path("", NAME, "default")


def test_generic_oidc_reads_default_env_var(hook: Hook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(receiverhook.DEFAULT_OIDC_TOKEN_ENV, "env-oidc-token")
    trigger(Options(url=hook.url, receiver_type="generic-oidc"))
    assert hook.requests[0]["headers"]["Authorization"] == "Bearer env-oidc-token"


def test_generic_oidc_without_any_token(hook: Hook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(receiverhook.DEFAULT_OIDC_TOKEN_ENV, raising=False)
    with pytest.raises(receiverhook.TriggerError, match="no OIDC token provided: set --oidc-provider, --oidc-token"):
        trigger(Options(url=hook.url, receiver_type="generic-oidc"))
    assert hook.requests == []


def test_generic_oidc_fetches_the_actions_token(hook: Hook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(receiverhook.ENV_REQUEST_URL, hook.url + "/token?api-version=2.0")
    monkeypatch.setenv(receiverhook.ENV_REQUEST_TOKEN, "request-token")
    trigger(Options(url=hook.url, receiver_type="generic-oidc", oidc_provider="github"))
    assert hook.requests[0]["headers"]["Authorization"] == "Bearer the-fetched-token:notification-controller"
    opts = Options(url=hook.url, receiver_type="generic-oidc", oidc_provider="forgejo", oidc_audience="mine")
    trigger(opts)
    assert hook.requests[1]["headers"]["Authorization"] == "Bearer the-fetched-token:mine"
    monkeypatch.setenv(receiverhook.ENV_REQUEST_TOKEN, "wrong")
    with pytest.raises(receiverhook.TriggerError, match=r"^OIDC token request failed with status 401 Unauthorized"):
        trigger(opts)
    monkeypatch.delenv(receiverhook.ENV_REQUEST_URL)
    with pytest.raises(receiverhook.TriggerError, match="ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_"):
        trigger(opts)


def test_non_2xx_response_is_an_error(hook: Hook) -> None:
    hook.statuses = [(400, "nope\n")]
    with pytest.raises(receiverhook.TriggerError) as info:
        trigger(Options(url=hook.url, token=TOKEN))
    url = hook.url + receiverhook.webhook_path(TOKEN, NAME, "default")
    assert str(info.value) == f"request to {url} failed with status 400 Bad Request: nope"


def test_retries_on_retryable_status_then_succeeds(hook: Hook) -> None:
    hook.statuses = [(404, ""), (404, ""), (200, "")]
    trigger(Options(url=hook.url, token=TOKEN, retries=5, retry_delay_ns=1_000_000))
    assert len(hook.requests) == 3


def test_does_not_retry_non_retryable_status(hook: Hook) -> None:
    hook.statuses = [(403, "")]
    with pytest.raises(receiverhook.TriggerError, match=r"failed with status 403 Forbidden$"):
        trigger(Options(url=hook.url, token=TOKEN, retries=5, retry_delay_ns=1_000_000))
    assert len(hook.requests) == 1


def test_returns_error_after_exhausting_retries(hook: Hook) -> None:
    hook.statuses = [(503, "")]
    with pytest.raises(receiverhook.TriggerError, match=r"failed with status 503 Service Unavailable$"):
        trigger(Options(url=hook.url, token=TOKEN, retries=2, retry_delay_ns=1_000_000))
    assert len(hook.requests) == 3


def test_connection_errors_are_retried() -> None:
    lines: list[str] = []
    opts = Options(url="http://127.0.0.1:1", token=TOKEN, retries=1, retry_delay_ns=1_000_000)
    with pytest.raises(receiverhook.TriggerError) as info:
        asyncio.run(receiverhook.trigger(opts, NAME, "ns", timeout=30, user_agent="flux/v0", waiting=lines.append))
    url = "http://127.0.0.1:1" + receiverhook.webhook_path(TOKEN, NAME, "ns")
    error = f'request to {url} failed: Post "{url}": dial tcp 127.0.0.1:1: connect: connection refused'
    assert str(info.value) == error
    assert lines == [f"{error}; retrying in 1ms (1/1)"]


def test_deadline_stops_the_retries(hook: Hook) -> None:
    hook.statuses = [(503, "")]
    opts = Options(url=hook.url, token=TOKEN, retries=5, retry_delay_ns=10_000_000_000)
    with pytest.raises(receiverhook.TriggerError, match=r"^context deadline exceeded$"):
        asyncio.run(receiverhook.trigger(opts, NAME, "ns", timeout=0.2, user_agent="flux/v0", waiting=lambda m: None))
    assert len(hook.requests) == 1


def test_trigger_command_output(hook: Hook) -> None:
    hook.statuses = [(404, "not found"), (200, "")]
    args = ["trigger", "receiver", NAME, "-n", "apps", f"--url={hook.url}", "--token", TOKEN]
    result = CliRunner().invoke(cli, [*args, "--type=generic-hmac", "--retry-delay=1ms", "--payload={}"])
    assert result.exit_code == 0, result.output
    path = receiverhook.webhook_path(TOKEN, NAME, "apps")
    assert result.stderr.replace(hook.url, "URL").replace(path, "/hook/PATH") == (
        (GOLDEN / "trigger_receiver_retry.golden").read_text()
    )
    assert hook.requests[1]["headers"]["X-Signature"] == receiverhook.signature(TOKEN, b"{}")


# -- check --pre ---------------------------------------------------------------------------------------


def test_check_pre_matches_flux2(fake_cluster: Callable[[FakeClient], None]) -> None:
    fake_cluster(FakeClient(version="v1.34.1+k3s1"))
    result = CliRunner().invoke(cli, ["check", "--pre"])
    assert result.exit_code == 0, result.output
    assert_golden(FLUX2, "check_pre.golden", result.stderr.replace("1.34.1+k3s1", "{{ .serverVersion }}"))


def test_check_pre_too_old(fake_cluster: Callable[[FakeClient], None]) -> None:
    fake_cluster(FakeClient(version="v1.32.4-eks-1"))
    result = CliRunner().invoke(cli, ["check", "--pre", "--poll-interval=1s", "--components=source-controller"])
    assert result.exit_code == 1
    assert result.stderr == "► checking prerequisites\n✗ Kubernetes version v1.32.4-eks-1 does not match >=1.33.0-0\n"


def test_check_pre_without_kubeconfig(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--kubeconfig", str(tmp_path / "none"), "check", "--pre"])
    assert isinstance(result.exception, CommandError)
    assert str(result.exception).startswith("Kubernetes client initialization failed: ")
    assert result.stderr == "► checking prerequisites\n"


def test_check_pre_unparsable_version(fake_cluster: Callable[[FakeClient], None]) -> None:
    fake_cluster(FakeClient(version="weird"))
    result = CliRunner().invoke(cli, ["check", "--pre"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "✗ Kubernetes version can't be determined"
    assert check.parse_kubernetes_version("weird") is None


def test_options_are_frozen() -> None:
    assert replace(Options(), token="x").token == "x"
