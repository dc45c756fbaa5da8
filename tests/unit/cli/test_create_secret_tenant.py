"""`flux create secret tls|oci|proxy|receiver|githubapp` and `flux create tenant` without a cluster.

The --export goldens under tests/golden/cli/create_secret_tenant/ are flux2's cmd/flux/testdata/
create_secret/{tls,oci,proxy,receiver,githubapp}/* and testdata/create_tenant/* byte for byte (input
PEM files included), run with the arguments of create_secret_*_test.go and create_tenant_test.go; the
errors are those tests' assertError messages. The apply path runs against an in-memory client.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import io
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import yaml

from gotk.cli import kubeclient
from gotk.cli.context import Globals
from gotk.cli.engines import fluxsecrets
from gotk.cli.engines.gitsecret import SecretError
from gotk.cli.main import main
from gotk.kube.resources import Resource
from gotk.testing.golden import export_output

GOLDEN = Path(__file__).parents[2] / "golden" / "cli" / "create_secret_tenant"
TLS = GOLDEN / "tls"
APP_KEY = str(GOLDEN / "githubapp" / "test-private-key.pem")
RECEIVER = ["--token=test-token", "--hostname=flux.example.com", "--namespace=my-namespace"]
GCR = ["--type=gcr", *RECEIVER, "--email-claim=sa@project.iam.gserviceaccount.com"]
TENANT = ["create", "tenant", "dev-team", "--with-namespace=apps"]

# (golden file, arguments without --export), from flux2's create_secret_*_test.go and create_tenant_test.go
EXPORTS: list[tuple[str, list[str]]] = [
    (
        "tls/secret-tls.yaml",
        [
            *["create", "secret", "tls", "certs", "--namespace=my-namespace"],
            f"--tls-crt-file={TLS / 'test-cert.pem'}",
            f"--tls-key-file={TLS / 'test-key.pem'}",
            f"--ca-crt-file={TLS / 'test-ca.pem'}",
        ],
    ),
    (
        "oci/create-secret.yaml",
        [
            *["create", "secret", "oci", "ghcr", "--namespace=my-namespace", "--url", "ghcr.io"],
            *["--username", "stefanprodan", "--password=password"],
        ],
    ),
    (
        "proxy/secret-proxy.yaml",
        [
            *["create", "secret", "proxy", "proxy-secret", "--address=https://my-proxy.com"],
            *["--username=my-username", "--password=my-password", "--namespace=my-namespace"],
        ],
    ),
    ("receiver/secret-receiver.yaml", ["create", "secret", "receiver", "receiver-secret", "--type=github", *RECEIVER]),
    ("receiver/secret-receiver-gcr.yaml", ["create", "secret", "receiver", "gcr-secret", *GCR]),
    (
        "receiver/secret-receiver-gcr-audience.yaml",
        ["create", "secret", "receiver", "gcr-secret", *GCR, "--audience-claim=https://custom.audience.example.com"],
    ),
    (
        "githubapp/secret.yaml",
        [
            *["create", "secret", "githubapp", "appinfo", "--namespace", "my-namespace", "--app-id", "1"],
            *["--app-installation-owner", "my-org", "--app-private-key", APP_KEY],
        ],
    ),
    (
        "githubapp/secret-with-baseurl.yaml",
        [
            *["create", "secret", "githubapp", "appinfo", "--namespace", "my-namespace", "--app-id", "1"],
            *["--app-installation-id", "2", "--app-private-key", APP_KEY, "--app-base-url", "www.example.com/api/v3"],
        ],
    ),
    ("tenant/tenant-basic.yaml", [*TENANT, "--cluster-role=cluster-admin"]),
    (
        "tenant/tenant-with-service-account.yaml",
        [*TENANT, "--cluster-role=cluster-admin", "--with-service-account=flux-tenant"],
    ),
    ("tenant/tenant-with-cluster-role.yaml", [*TENANT, "--cluster-role=custom-role"]),
    ("tenant/tenant-with-skip-namespace.yaml", [*TENANT, "--cluster-role=cluster-admin", "--skip-namespace"]),
]


@pytest.mark.parametrize(("golden", "args"), EXPORTS, ids=[g for g, _ in EXPORTS])
def test_export_matches_flux2_testdata(golden: str, args: list[str]) -> None:
    assert export_output(args) == (GOLDEN / golden).read_text(encoding="utf-8")


def flux_main(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    """`flux ARGS` through `main()`: (exit code, stdout, stderr)."""
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "argv", ["flux", *args])
        mp.setenv("KUBECONFIG", "/nonexistent")
        mp.setattr(sys, "stdin", io.StringIO(""))
        try:
            main()
            code = 0
        except SystemExit as exited:
            code = int(exited.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


RECEIVER_TYPES = "generic, generic-hmac, github, gitlab, bitbucket, harbor, dockerhub, quay, gcr, nexus, acr, cdevents"
ERRORS: list[tuple[list[str], str]] = [
    # flux2's tests
    (["create", "secret", "tls"], "name is required"),
    (["create", "secret", "oci"], "name is required"),
    (["create", "secret", "oci", "ghcr"], "--url is required"),
    (["create", "secret", "proxy", "proxy-secret"], "address is required"),
    (["create", "secret", "receiver", "test-secret", "--token=t", "--hostname=h"], "--type is required"),
    (
        ["create", "secret", "receiver", "test-secret", "--type=invalid", "--token=t", "--hostname=h"],
        f'invalid argument "invalid" for "--type" flag: receiver type \'invalid\' is not supported, must be one of: '
        f"{RECEIVER_TYPES}",
    ),
    (["create", "secret", "receiver", "test-secret", "--type=github", "--token=t"], "--hostname is required"),
    (
        ["create", "secret", "receiver", "test-secret", "--type=gcr", "--token=t", "--hostname=h"],
        "--email-claim is required for gcr receiver type",
    ),
    (["create", "secret", "githubapp"], "name is required"),
    (
        [
            *["create", "secret", "githubapp", "appinfo", "--app-id", "1", "--app-installation-id", "2"],
            *["--app-private-key", "pk.pem"],
        ],
        "unable to read private key file: open pk.pem: no such file or directory",
    ),
    (["create", "tenant"], "name is required"),
    (["create", "tenant", "dev-team", "--cluster-role=cluster-admin"], "with-namespace is required"),
    # the other checks of the Go code
    (["create", "secret", "oci", "ghcr", "--url=ghcr.io"], "--username is required"),
    (["create", "secret", "oci", "ghcr", "--url=ghcr.io", "-u", "me"], "--password is required"),
    (
        ["create", "secret", "oci", "ghcr", "--url=ghcr.io/Org", "-u", "me", "-p", "pw"],
        "error parsing url: 'could not parse reference: ghcr.io/Org'",
    ),
    (["create", "secret", "tls", "certs"], "no CA certificate or client certificate pair found"),
    (
        ["create", "secret", "tls", "certs", f"--tls-crt-file={TLS / 'test-cert.pem'}"],
        "found certificate but missing private key",
    ),
    (
        ["create", "secret", "tls", "certs", f"--tls-key-file={TLS / 'test-key.pem'}"],
        "found private key but missing certificate",
    ),
    (
        [
            *["create", "secret", "tls", "certs"],
            *[f"--tls-crt-file={TLS / 'test-ca.pem'}", f"--tls-key-file={TLS / 'test-key.pem'}"],
        ],
        "invalid TLS certificate and key pair: tls: private key type does not match public key type",
    ),
    (
        ["create", "secret", "tls", "certs", "--ca-crt-file=nope.pem"],
        "unable to read TLS CA file: open nope.pem: no such file or directory",
    ),
    (["create", "secret", "proxy", "px", "--address=x", "--label=a"], "invalid label format 'a', must be key=value"),
    (
        ["create", "secret", "githubapp", "app", "--app-id=1", f"--app-private-key={APP_KEY}"],
        "exactly one of githubAppInstallationOwner or githubAppInstallationID must be provided",
    ),
    (
        ["create", "secret", "githubapp", "app", f"--app-private-key={APP_KEY}", "--app-installation-id=2"],
        "githubAppID is required",
    ),
    (["create", "secret", "githubapp", "app"], "unable to read private key file: open : no such file or directory"),
    (["create", "tenant", "dev-team", "--with-namespace=apps", "--cluster-role="], "cluster-role is required"),
    (
        [*TENANT, "--with-service-account=a/b/c"],
        "invalid service-account name 'a/b/c': [a qualified name must consist of alphanumeric characters, '-', '_' "
        "or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
        "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
        "subdomain prefix and '/' (e.g. 'example.com/MyName')]",
    ),
    (
        ["create", "tenant", "Dev"],
        "name 'Dev' is invalid, it should adhere to standard defined in RFC 1123, the "
        "name can only contain alphanumeric characters or '-'",
    ),
]


@pytest.mark.parametrize(("args", "message"), ERRORS, ids=[" ".join(a[1:4]) for a, _ in ERRORS])
def test_validation_errors(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert flux_main(capsys, [*args, "--export"]) == (1, "", f"✗ {message}\n")


def test_tenant_with_several_namespaces_and_labels() -> None:
    out = export_output([*TENANT, "--with-namespace=web,db", "--label=env=dev"])
    docs = list(yaml.safe_load_all(out))
    assert [(d["kind"], d["metadata"].get("namespace", d["metadata"]["name"])) for d in docs] == [
        (kind, ns) for ns in ("apps", "web", "db") for kind in ("Namespace", "ServiceAccount", "RoleBinding")
    ]
    assert all(d["metadata"]["labels"] == {"env": "dev", "toolkit.fluxcd.io/tenant": "dev-team"} for d in docs)
    assert export_output(["create", "tenant", "dev-team", "--with-namespace="]) == ""  # pflag: empty, not nil


def test_receiver_token_is_generated_and_hashed() -> None:
    doc = yaml.safe_load(export_output(["create", "secret", "receiver", "rc", "--type=github", "--hostname=h.io"]))
    token = doc["stringData"]["token"]
    assert len(token) == 64 and int(token, 16) >= 0
    digest = hashlib.sha256(f"{token}rcflux-system".encode()).hexdigest()
    assert doc["metadata"]["annotations"] == {fluxsecrets.WEBHOOK_ANNOTATION: f"https://h.io/hook/{digest}"}
    assert "type" not in doc


def test_generators_refuse_what_fluxcd_pkg_refuses() -> None:
    with pytest.raises(SecretError, match=r"^server is required$"):
        fluxsecrets.generate_oci("a", "b", {}, server="", username="u", password="p")
    with pytest.raises(SecretError, match=r"^hostname is required$"):
        fluxsecrets.generate_receiver("a", "b", {}, receiver_type="github", hostname="")
    with pytest.raises(SecretError, match=r"^email-claim is required for gcr receiver type$"):
        fluxsecrets.generate_receiver("a", "b", {}, receiver_type="gcr", hostname="h")
    assert fluxsecrets.generate_tls("a", "b", {}, ca_crt="CA")["type"] == "Opaque"


def test_oci_json_is_go_escaped() -> None:
    secret = fluxsecrets.generate_oci("a", "b", {}, server="r.io", username="u<", password="p&>")
    assert '"username": "u\\u003c"' in secret["stringData"][".dockerconfigjson"]
    assert '"password": "p\\u0026\\u003e"' in secret["stringData"][".dockerconfigjson"]


def test_derives_is_semantic_deep_derivative() -> None:
    assert fluxsecrets.derives({}, {"a": "b"})
    assert fluxsecrets.derives({"a": "b"}, {"a": "b", "c": "d"})
    assert not fluxsecrets.derives({"a": "b", "c": "d"}, {"a": "b"})
    assert fluxsecrets.derives([{"kind": "User", "apiGroup": ""}], [{"kind": "User", "apiGroup": "x"}, {}])
    assert not fluxsecrets.derives([{"kind": "User"}], [{"kind": "Group"}])


# -- apply -------------------------------------------------------------------------------------------


class FakeClient:
    """Objects per (plural, namespace, name); records every write."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.calls: list[str] = []

    def _key(self, res: Resource, name: str, namespace: str | None) -> tuple[str, str, str]:
        return (res.plural, namespace or "", name)

    async def get_or_none(self, res: Resource, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        found = self.objects.get(self._key(res, name, namespace))
        return copy.deepcopy(found) if found is not None else None

    async def create(self, res: Resource, body: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
        self.calls.append(f"create {res.plural}/{body['metadata']['name']}")
        self.objects[self._key(res, body["metadata"]["name"], namespace)] = copy.deepcopy(body)
        return body

    async def replace(self, res: Resource, body: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
        self.calls.append(f"replace {res.plural}/{body['metadata']['name']}")
        self.objects[self._key(res, body["metadata"]["name"], namespace)] = copy.deepcopy(body)
        return body

    async def delete(self, res: Resource, name: str, namespace: str | None = None) -> None:
        self.calls.append(f"delete {res.plural}/{name}")
        self.objects.pop(self._key(res, name, namespace), None)


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> FakeClient:
    fake = FakeClient()

    def run(g: Globals, body: Callable[[Any], Coroutine[Any, Any, Any]], **_: Any) -> Any:
        return asyncio.run(body(fake))

    monkeypatch.setattr(kubeclient, "run", run)
    return fake


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["tls", "certs", f"--ca-crt-file={TLS / 'test-ca.pem'}"], "tls secret 'certs'"),
        (["oci", "ghcr", "--url=ghcr.io", "-u=me", "-p=pw"], "oci secret 'ghcr'"),
        (["proxy", "px", "--address=http://p"], "proxy secret 'px'"),
        (["receiver", "rc", "--type=github", "--hostname=h"], "receiver secret 'rc'"),
        (
            ["githubapp", "gh", "--app-id=1", "--app-installation-id=2", f"--app-private-key={APP_KEY}"],
            "githubapp secret 'gh'",
        ),
    ],
)
def test_apply_secret(capsys: pytest.CaptureFixture[str], client: FakeClient, args: list[str], line: str) -> None:
    code, out, err = flux_main(capsys, ["create", "secret", *args, "-n", "apps"])
    assert (code, out, err) == (0, "", f"► {line} created in 'apps' namespace\n")
    assert ("secrets", "apps", args[1]) in client.objects


def test_apply_tenant(capsys: pytest.CaptureFixture[str], client: FakeClient) -> None:
    code, out, err = flux_main(capsys, [*TENANT, "--label=env=dev"])
    assert (code, out) == (0, "")
    assert err == (
        "► applying namespace apps\n"
        "► applying service account dev-team\n"
        "► applying role binding dev-team-reconciler\n"
        "✔ tenant setup completed\n"
    )
    assert client.calls == [
        "create namespaces/apps",
        "create serviceaccounts/dev-team",
        "create rolebindings/dev-team-reconciler",
    ]
    client.calls.clear()
    assert flux_main(capsys, [*TENANT])[0] == 0  # labels are a subset of the stored ones: nothing to do
    assert client.calls == []
    assert flux_main(capsys, [*TENANT, "--cluster-role=view", "--label=tier=web", "--skip-namespace"])[0] == 0
    assert client.calls == [
        "replace serviceaccounts/dev-team",
        "delete rolebindings/dev-team-reconciler",
        "create rolebindings/dev-team-reconciler",
    ]
    stored = client.objects[("rolebindings", "apps", "dev-team-reconciler")]
    assert stored["roleRef"]["name"] == "view"
    assert stored["metadata"]["labels"] == {"tier": "web", "toolkit.fluxcd.io/tenant": "dev-team"}
