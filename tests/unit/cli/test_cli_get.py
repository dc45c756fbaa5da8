"""get/reconcile/suspend wiring without a cluster: the status selector parser, `get … all` skipping
kinds the server does not serve, flux's aliases (ks, hr, source, image) and per-command flags.
"""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from gotk.cli import get, kinds_cli
from gotk.cli.main import cli
from gotk.cli.output import CommandError
from gotk.kube.errors import ApiError
from gotk.kube.resources import Resource


class FakeClient:
    """Answers list() from a dict of kind -> items; kinds not in it are not served (404)."""

    def __init__(self, items: dict[str, list[dict[str, Any]]]) -> None:
        self.items = items
        self.calls: list[tuple[str, str | None, str | None]] = []

    async def list(self, res: Resource, namespace: str | None = None, **kw: Any) -> dict[str, Any]:
        self.calls.append((res.kind, namespace, kw.get("field_selector")))
        if res.kind not in self.items:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return {"items": self.items[res.kind]}


def obj(name: str, ready: str) -> dict[str, Any]:
    cond = {"type": "Ready", "status": ready, "message": f"{name} is {ready}"}
    return {"metadata": {"name": name, "namespace": "ns"}, "spec": {}, "status": {"conditions": [cond]}}


def test_status_selector_parsing() -> None:
    keep = get.selector_filter(kinds_cli.SOURCE_GIT, "ready!=true")
    assert keep(obj("a", "False")) and not keep(obj("b", "True"))
    with pytest.raises(CommandError, match="expected status selector in type=status or type!=status format"):
        get.selector_filter(kinds_cli.SOURCE_GIT, "ready")


async def test_get_all_skips_unserved_and_empty_kinds() -> None:
    client = FakeClient({"GitRepository": [obj("a", "True")], "Kustomization": []})
    text = await get.get_many(client, kinds_cli.ALL, get.Query(namespace="ns"))  # type: ignore[arg-type]
    assert text.splitlines() == [
        "NAME           \tREVISION\tSUSPENDED\tREADY\tMESSAGE   ",
        "gitrepository/a\t        \tFalse    \tTrue \ta is True\t",
        "",
    ]
    assert ("Alert", "ns", None) in client.calls


async def test_get_one_by_name_uses_a_field_selector() -> None:
    client = FakeClient({"Kustomization": []})
    query = get.Query(namespace="ns", name="apps", all_namespaces=True)
    with pytest.raises(CommandError, match="Kustomization object 'apps' not found in any namespace"):
        await get.get_one(client, kinds_cli.KUSTOMIZATION, query)  # type: ignore[arg-type]
    assert client.calls == [("Kustomization", None, "metadata.name=apps")]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["get", "ks", "--help"], "--show-source"),
        (["get", "source", "git", "--help"], "--status-selector"),
        (["get", "image", "policy", "--help"], "Get ImagePolicy statuses"),
        (["reconcile", "hr", "--help"], "--reset"),
        (["reconcile", "source", "chart", "--help"], "--with-source"),
        (["suspend", "alert-provider", "--help"], "--all"),
        (["resume", "image", "update", "--help"], "--wait / --no-wait"),
        (["install", "--help"], "--components-extra"),
        (["check", "--help"], "--pre"),
    ],
)
def test_commands_and_aliases(args: list[str], expected: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert expected in result.output


def test_name_is_required() -> None:
    result = CliRunner().invoke(cli, ["suspend", "source", "git"])
    assert isinstance(result.exception, CommandError)
    assert str(result.exception) == "source git name is required"
    result = CliRunner().invoke(cli, ["reconcile", "ks"])
    assert str(result.exception) == "Kustomization name is required"
