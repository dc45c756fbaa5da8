"""`flux uninstall` against a fake API (flux2's order, selectors and lines; dry run; failures; the prompt),
`flux envsubst` (flux2's testdata as golden files, strict mode, line handling) and `flux completion`
(the scripts, and click's completion protocol answering for `flux`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from click.testing import CliRunner

from gotk.cli import completion, prompt, uninstall
from gotk.cli.main import cli
from gotk.cli.output import CommandError
from gotk.kube.errors import ApiError, Unreachable
from gotk.kube.resources import Resource

GOLDEN = Path(__file__).parents[2] / "golden" / "cli" / "envsubst"
NS = "flux-system"

# -- uninstall -----------------------------------------------------------------------------------


def item(name: str, namespace: str | None = None, **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": labels}
    if namespace:
        meta["namespace"] = namespace
    return {"metadata": meta}


class FakeApi:
    """list() from a dict of kind -> items (a kind missing from it is not served: 404); DELETE and PATCH
    are recorded and fail with `errors[(verb, name)]` when given."""

    def __init__(self, items: dict[str, list[dict[str, Any]]], errors: dict[tuple[str, str], ApiError] | None = None):
        self.items = items
        self.errors = errors or {}
        self.calls: list[tuple[Any, ...]] = []
        self.crd: dict[str, Any] | None = None

    async def list(self, res: Resource, namespace: str | None = None, **kw: Any) -> dict[str, Any]:
        self.calls.append(("list", res.kind, namespace, kw.get("label_selector")))
        if res.kind not in self.items:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return {"items": self.items[res.kind]}

    async def request(self, method: str, path: str, *, body: Any = None, **kw: Any) -> Any:
        name = unquote(path.rsplit("/", 1)[1])
        self.calls.append((method, path, body.get("dryRun")))
        if (method, name) in self.errors:
            raise self.errors[(method, name)]
        return {}

    async def patch(self, res: Resource, name: str, patch: Any, namespace: str | None = None, **kw: Any) -> Any:
        self.calls.append(("PATCH", res.kind, namespace, name, patch, kw.get("dry_run")))
        if ("PATCH", name) in self.errors:
            raise self.errors[("PATCH", name)]
        return {}

    async def get_or_none(self, res: Resource, name: str, namespace: str | None = None) -> Any:
        self.calls.append(("get", res.kind, name))
        return self.crd


def installed() -> dict[str, list[dict[str, Any]]]:
    flux = {"app.kubernetes.io/part-of": "flux", "app.kubernetes.io/instance": NS}
    return {
        "Deployment": [item("helm-controller", NS, **flux), item("source-controller", NS, **flux)],
        "Service": [item("source-controller", NS, **flux)],
        "NetworkPolicy": [item("allow-egress", NS, **flux)],
        "ServiceAccount": [item("source-controller", NS, **flux)],
        "ClusterRole": [item("flux-view-flux-system", **flux)],
        "ClusterRoleBinding": [item("cluster-reconciler-flux-system", **flux)],
        "GitRepository": [item("repo", "apps")],
        "Kustomization": [item("apps", "apps"), item("infra", "flux-system")],
        "CustomResourceDefinition": [item("gitrepositories.source.toolkit.fluxcd.io", **flux)],
    }


def run(api: FakeApi, plan: uninstall.Plan, *, silent: bool = True) -> None:
    asyncio.run(uninstall.uninstall_flux(api, plan, silent=silent))  # type: ignore[arg-type]


def test_uninstall_order_and_lines(capsys: pytest.CaptureFixture[str]) -> None:
    api = FakeApi(installed())
    run(api, uninstall.Plan(namespace=NS))
    assert capsys.readouterr().err.splitlines() == [
        "► deleting components in flux-system namespace",
        "✔ Deployment/flux-system/helm-controller deleted ",
        "✔ Deployment/flux-system/source-controller deleted ",
        "✔ Service/flux-system/source-controller deleted ",
        "✔ NetworkPolicy/flux-system/allow-egress deleted ",
        "✔ ServiceAccount/flux-system/source-controller deleted ",
        "✔ ClusterRole/flux-view-flux-system deleted ",
        "✔ ClusterRoleBinding/cluster-reconciler-flux-system deleted ",
        "► deleting toolkit.fluxcd.io finalizers in all namespaces",
        "✔ GitRepository/apps/repo finalizers deleted ",
        "✔ Kustomization/apps/apps finalizers deleted ",
        "✔ Kustomization/flux-system/infra finalizers deleted ",
        "► deleting toolkit.fluxcd.io custom resource definitions",
        "✔ CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io deleted ",
        "✔ Namespace/flux-system deleted ",
        "✔ uninstall finished",
    ]


def test_uninstall_selectors_and_requests() -> None:
    api = FakeApi(installed())
    run(api, uninstall.Plan(namespace=NS))
    lists = [c[1:] for c in api.calls if c[0] == "list"]
    part_of = "app.kubernetes.io/part-of=flux"
    instance = f"{part_of},app.kubernetes.io/instance={NS}"
    assert lists[:6] == [
        ("Deployment", NS, part_of),
        ("Service", NS, part_of),
        ("NetworkPolicy", NS, part_of),
        ("ServiceAccount", NS, part_of),
        ("ClusterRole", None, instance),
        ("ClusterRoleBinding", None, instance),
    ]
    # every gotk kind, flux2's first, in all namespaces, then the CRDs by part-of only
    finalized = [kind for kind, namespace, selector in lists[6:-1] if namespace is None and selector is None]
    assert finalized[:7] == ["GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket",
                             "Kustomization", "HelmRelease"]  # fmt: skip
    assert set(finalized) == {r.kind for r in uninstall.finalizer_kinds()} and "ExternalArtifact" in finalized
    assert lists[-1] == ("CustomResourceDefinition", None, part_of)
    deletes = [c[1] for c in api.calls if c[0] == "DELETE"]
    assert deletes[0] == "/apis/apps/v1/namespaces/flux-system/deployments/helm-controller"
    assert "/apis/rbac.authorization.k8s.io/v1/clusterroles/flux-view-flux-system" in deletes
    assert deletes[-2:] == [
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gitrepositories.source.toolkit.fluxcd.io",
        "/api/v1/namespaces/flux-system",
    ]
    patches = [c for c in api.calls if c[0] == "PATCH"]
    assert patches[0] == ("PATCH", "GitRepository", "apps", "repo", {"metadata": {"finalizers": None}}, False)
    assert all(c[2] is None for c in api.calls if c[0] == "DELETE"), "no dry run"


def test_uninstall_dry_run_and_keep_namespace(capsys: pytest.CaptureFixture[str]) -> None:
    api = FakeApi(installed())
    run(api, uninstall.Plan(namespace=NS, dry_run=True, keep_namespace=True), silent=False)  # dry run: no prompt
    lines = capsys.readouterr().err.splitlines()
    assert "✔ Deployment/flux-system/helm-controller deleted (dry run)" in lines
    assert "✔ Kustomization/apps/apps finalizers deleted (dry run)" in lines
    assert lines[-2:] == [
        "✔ CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io deleted (dry run)",
        "✔ uninstall finished",
    ]
    assert all(c[2] == ["All"] for c in api.calls if c[0] == "DELETE")
    assert all(c[5] is True for c in api.calls if c[0] == "PATCH")
    assert not [c for c in api.calls if c[0] == "get"], "no cluster info read without a prompt"


def test_uninstall_failures_do_not_stop_it(capsys: pytest.CaptureFixture[str]) -> None:
    errors = {
        ("DELETE", "source-controller"): ApiError(
            403, "Forbidden", 'deployments.apps "source-controller" is forbidden'
        ),
        ("PATCH", "repo"): ApiError(409, "Conflict", "the object has been modified"),
        ("DELETE", NS): ApiError(404, "NotFound", 'namespaces "flux-system" not found'),
    }
    items = installed()
    del items["NetworkPolicy"]  # not served: skipped without a line, as flux2 does
    api = FakeApi(items, errors)
    run(api, uninstall.Plan(namespace=NS))
    lines = capsys.readouterr().err.splitlines()
    assert (
        "✗ Deployment/flux-system/source-controller deletion failed: "
        + ('deployments.apps "source-controller" is forbidden')
        in lines
    )
    assert "✗ GitRepository/apps/repo removing finalizers failed: the object has been modified" in lines
    assert not [line for line in lines if "NetworkPolicy" in line]
    assert lines[-2:] == ['✗ Namespace/flux-system deletion failed: namespaces "flux-system" not found',
                          "✔ uninstall finished"]  # fmt: skip


def test_uninstall_stops_when_the_server_is_unreachable() -> None:
    class Down(FakeApi):
        async def list(self, res: Resource, namespace: str | None = None, **kw: Any) -> dict[str, Any]:
            raise Unreachable("https://127.0.0.1:1", OSError("connection refused"))

    with pytest.raises(Unreachable):
        run(Down({}), uninstall.Plan(namespace=NS))


@pytest.mark.parametrize(
    ("labels", "label"),
    [
        (None, "Are you sure you want to delete Flux and its custom resource definitions"),
        ({"app.kubernetes.io/managed-by": "flux"}, uninstall.PROMPT),
        ({"app.kubernetes.io/managed-by": "Helm"},
         "Flux is managed by Helm! Are you sure you want to delete Flux and its CRDs using Flux CLI"),
    ],
)  # fmt: skip
def test_uninstall_prompt(
    labels: dict[str, str] | None, label: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[str] = []

    def refuse(text: str) -> bool:
        asked.append(text)
        return False

    monkeypatch.setattr(prompt, "confirm", refuse)
    api = FakeApi(installed())
    api.crd = None if labels is None else {"metadata": {"labels": labels}}
    with pytest.raises(CommandError, match=r"^aborting$"):
        run(api, uninstall.Plan(namespace=NS), silent=False)
    assert asked == [label]
    assert [c for c in api.calls if c[0] != "get"] == [], "nothing happens before the answer"
    assert capsys.readouterr().err == ""


def test_uninstall_cluster_info_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    class Forbidden(FakeApi):
        async def get_or_none(self, res: Resource, name: str, namespace: str | None = None) -> Any:
            raise ApiError(403, "Forbidden", "customresourcedefinitions is forbidden")

    monkeypatch.setattr(prompt, "confirm", lambda text: True)
    with pytest.raises(CommandError, match=r"^cluster info unavailable: customresourcedefinitions is forbidden$"):
        run(Forbidden(installed()), uninstall.Plan(namespace=NS), silent=False)


def test_uninstall_flags() -> None:
    result = CliRunner().invoke(cli, ["uninstall", "extra"])
    assert isinstance(result.exception, CommandError)
    assert str(result.exception) == 'unknown command "extra" for "flux uninstall"'
    help_text = CliRunner().invoke(cli, ["uninstall", "--help"]).output
    for flag in ("--keep-namespace", "--dry-run", "-s, --silent", "--namespace"):
        assert flag in help_text


# -- envsubst ------------------------------------------------------------------------------------


def envsubst(stdin: bytes, *args: str) -> Any:
    return CliRunner().invoke(cli, ["envsubst", *args], input=stdin)


def test_envsubst_flux2_testdata(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPO_NAME", "test")
    monkeypatch.delenv("REPO_NAMESPACE", raising=False)
    result = envsubst((GOLDEN / "file.yaml").read_bytes())
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == (GOLDEN / "file.gold").read_bytes()


def test_envsubst_strict_fails_on_an_unset_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPO_NAME", raising=False)
    monkeypatch.delenv("REPO_NAMESPACE", raising=False)
    result = envsubst((GOLDEN / "file.yaml").read_bytes(), "--strict")
    assert isinstance(result.exception, CommandError)
    assert str(result.exception) == 'variable not set (strict mode): "REPO_NAME"'
    # the lines before the failing one were written, as flux2 flushes each line
    assert result.stdout == "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n"


def test_envsubst_strict_accepts_defaults_and_empty_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPO_NAME", "")
    monkeypatch.delenv("REPO_NAMESPACE", raising=False)
    result = envsubst((GOLDEN / "file.yaml").read_bytes(), "--strict")
    assert result.exit_code == 0, result.output
    assert "  name: \n  namespace: flux-system\n" in result.stdout


def test_envsubst_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOTK_T_VAR", "x")
    monkeypatch.delenv("GOTK_T_UNSET", raising=False)
    stdin = b"a: ${GOTK_T_VAR}\r\nb: $GOTK_T_VAR $${GOTK_T_VAR}\n\nc: ${GOTK_T_UNSET}|${GOTK_T_VAR^^}\xff"
    result = envsubst(stdin)
    assert result.exit_code == 0, result.output
    # CRLF becomes LF, `$var` stays, `$${}` escapes, unset is empty, bytes pass, the last line gets a newline
    assert result.stdout_bytes == b"a: x\nb: $GOTK_T_VAR ${GOTK_T_VAR}\n\nc: |X\xff\n"
    assert envsubst(b"").stdout_bytes == b""


def test_envsubst_parse_error_and_arguments() -> None:
    result = envsubst(b"x: ${}\n")
    assert isinstance(result.exception, CommandError)
    assert str(result.exception) == "unable to parse variable name"
    result = envsubst(b"", "file.yaml")
    assert str(result.exception) == 'unknown command "file.yaml" for "flux envsubst"'
    assert envsubst(b"x\n", "--strict=true").stdout == "x\n"  # cobra's boolean spelling


# -- completion ----------------------------------------------------------------------------------


@pytest.mark.parametrize("shell", completion.SHELLS)
def test_completion_scripts(shell: str) -> None:
    result = CliRunner().invoke(cli, ["completion", shell], catch_exceptions=False)
    assert result.exit_code == 0
    assert "_FLUX_COMPLETE" in result.stdout and f"{shell}_complete" in result.stdout
    assert "_flux_completion" in result.stdout or shell == "powershell"
    assert result.stdout == completion.script(cli, shell)


def complete(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], shell: str, words: str) -> str:
    """What the `flux` executable answers to the script's completion request."""
    monkeypatch.setenv("_FLUX_COMPLETE", f"{shell}_complete")
    monkeypatch.setenv("COMP_WORDS", words)
    monkeypatch.setenv("COMP_CWORD", str(len(words.split(" ")) - 1))
    with pytest.raises(SystemExit) as exited:
        cli.main(args=[], prog_name="flux", standalone_mode=False)
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_completion_protocol(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert complete(monkeypatch, capsys, "bash", "flux unin").splitlines() == ["plain,uninstall"]
    assert complete(monkeypatch, capsys, "bash", "flux completion ").splitlines() == [
        "plain,bash",
        "plain,fish",
        "plain,powershell",
        "plain,zsh",
    ]
    assert "plain,--keep-namespace" in complete(monkeypatch, capsys, "bash", "flux uninstall --k").splitlines()
    zsh = complete(monkeypatch, capsys, "zsh", "flux envs").splitlines()
    assert zsh[:2] == ["plain", "envsubst"] and "substitutes the values" in zsh[2]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_script_completes_through_the_flux_executable() -> None:
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "flux").exists():
        pytest.skip("no flux console script beside the interpreter")
    session = """
source <(flux completion bash)
COMP_WORDS=(flux completion p); COMP_CWORD=2; _flux_completion flux; echo "${COMPREPLY[@]}"
complete -p flux
"""
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    out = subprocess.run(["bash", "--norc", "-c", session], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["powershell", "complete -o nosort -F _flux_completion flux"]
