"""What every `flux create …` command shares (flux2 cmd/flux/create.go).

The persistent flags `--interval` (1m), `--export` and `--label`, and the SSH key flags of the `git`
commands; the name check (RFC 1123, 2 to 63 characters); label parsing with apimachinery's validation
messages; create-or-update of Flux objects and Secrets with flux's `created`/`updated` lines;
applying a source then waiting until it is Ready and reporting its artifact revision; and the
generate/export-or-apply/wait tail of the other kinds (HelmRelease, notification objects).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from gotk.cli import goflags, kubeclient, output, readiness
from gotk.cli.context import Globals
from gotk.cli.engines import gitsecret, manifest
from gotk.cli.engines.manifest import Obj
from gotk.cli.flags import timeout_seconds
from gotk.cli.kinds_cli import Noun, dig
from gotk.cli.output import CommandError, success
from gotk.kube.client import Client
from gotk.kube.resources import SECRETS, Resource

F = TypeVar("F", bound=Callable[..., Any])

_NAME = re.compile(r"^[a-z0-9]([a-z0-9\-]){0,61}[a-z0-9]$")
_QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QNAME = re.compile(f"^{_QNAME_FMT}$")
_LABEL_VALUE = re.compile(f"^({_QNAME_FMT})?$")
_DNS1123_FMT = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_DNS1123 = re.compile(f"^{_DNS1123_FMT}$")
POLL_INTERVAL = 0.5


@dataclass(frozen=True)
class CreateArgs:
    """The persistent `create` flags plus the object's name and namespace."""

    name: str
    namespace: str
    interval: int
    """Nanoseconds."""
    export: bool
    labels: tuple[str, ...]

    @property
    def interval_text(self) -> str:
        return goflags.format_duration(self.interval)


def create_options(f: F) -> F:
    """cobra's persistent flags of `flux create`."""
    f = click.option(
        "--label",
        "label",
        multiple=True,
        help="Set labels on the resource (can specify multiple labels with commas: label1=value1,label2=value2).",
    )(f)
    f = click.option("--export", is_flag=True, help="Export in YAML format to stdout.")(f)
    f = click.option("--interval", type=goflags.Duration(), default="1m", help="Source sync interval.")(f)
    return f


def fetch_timeout_option(f: F) -> F:
    """`flux create source`'s persistent --fetch-timeout (spec.timeout when positive)."""
    help_text = "Set a timeout for fetch operations performed by source-controller (e.g. 'git clone')."
    return click.option("--fetch-timeout", type=goflags.Duration(), default="0s", help=help_text)(f)


def key_algorithm_type() -> goflags.Checked:
    return goflags.Checked(
        "rsa|ecdsa|ed25519",
        goflags.one_of(
            gitsecret.ALGORITHMS,
            empty="no public key algorithm given, must be one of: {values}",
            unsupported="unsupported public key algorithm '{value}', must be one of: {values}",
        ),
    )


def _curve(value: str) -> str:
    if value not in gitsecret.CURVES:
        raise ValueError(f"unsupported curve '{value}', must be one of: {', '.join(sorted(gitsecret.CURVES))}")
    return value


def _rsa_bits(value: str) -> int:
    if not value.strip():
        return 2048
    try:
        bits = int(value, 10)
    except ValueError:
        raise ValueError(f'strconv.Atoi: parsing "{value}": invalid syntax') from None
    if bits < 1024:
        raise ValueError("RSA key bit size must be at least 1024")
    if bits % 8 != 0:
        raise ValueError("RSA key bit size must be a multiples of 8")
    return bits


def ssh_key_options(f: F) -> F:
    """--ssh-key-algorithm (ecdsa), --ssh-rsa-bits (2048), --ssh-ecdsa-curve (p384)."""
    f = click.option("--ssh-ecdsa-curve", type=goflags.Checked("p256|p384|p521", _curve), default="p384",
                     help="SSH ECDSA public key curve.")(f)  # fmt: skip
    f = click.option("--ssh-rsa-bits", type=goflags.Checked("rsaKeyBits", _rsa_bits), default="2048",
                     help="SSH RSA public key bit size (multiplies of 8, min 1024).")(f)  # fmt: skip
    f = click.option("--ssh-key-algorithm", type=key_algorithm_type(), default="ecdsa",
                     help="SSH public key algorithm.")(f)  # fmt: skip
    return f


def create_args(g: Globals, args: Sequence[str], interval: int, export: bool, label: Sequence[str]) -> CreateArgs:
    """flux's PersistentPreRunE: a name is required and must be a valid object name."""
    if not args:
        raise CommandError("name is required")
    name = args[0]
    if not _NAME.match(name):
        raise CommandError(
            f"name '{name}' is invalid, it should adhere to standard defined in RFC 1123, "
            "the name can only contain alphanumeric characters or '-'"
        )
    return CreateArgs(name, g.namespace, interval, export, tuple(label))


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    quoted = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {quoted}regex used for validation is '{fmt}')"


def qualified_name_errors(value: str) -> list[str]:
    """apimachinery's validation.IsQualifiedName."""
    qname_msg = (
        "must consist of alphanumeric characters, '-', '_' or '.', "
        "and must start and end with an alphanumeric character"
    )
    parts = value.split("/")
    if len(parts) > 2:
        return [
            "a qualified name "
            + _regex_error(qname_msg, _QNAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    errs: list[str] = []
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            if len(prefix) > 253:
                errs.append("prefix part must be no more than 253 characters")
            if not _DNS1123.match(prefix):
                dns_msg = (
                    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                    "and must start and end with an alphanumeric character"
                )
                errs.append("prefix part " + _regex_error(dns_msg, _DNS1123_FMT, "example.com"))
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    if not _QNAME.match(name):
        errs.append("name part " + _regex_error(qname_msg, _QNAME_FMT, "MyName", "my.name", "123-abc"))
    return errs


def label_value_errors(value: str) -> list[str]:
    """apimachinery's validation.IsValidLabelValue."""
    errs: list[str] = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _LABEL_VALUE.match(value):
        msg = (
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character"
        )
        errs.append(_regex_error(msg, f"({_QNAME_FMT})?", "MyValue", "my_value", "12345"))
    return errs


def parse_labels(values: Sequence[str]) -> dict[str, str]:
    """flux's parseLabels over the --label flags (comma separated, repeatable)."""
    labels: dict[str, str] = {}
    for label in goflags.string_slice(values):
        parts = label.split("=")
        if len(parts) != 2:
            raise CommandError(f"invalid label format '{label}', must be key=value")
        key, value = parts
        if errs := qualified_name_errors(key):
            raise CommandError(f"invalid label '{key}': [{' '.join(errs)}]")
        if errs := label_value_errors(value):
            raise CommandError(f"invalid label value '{value}': [{' '.join(errs)}]")
        labels[key] = value
    return labels


def new_object(kind: str, c: CreateArgs, labels: dict[str, str], spec: Obj) -> Obj:
    """The object as flux's typed struct would marshal it (empty labels dropped, spec shaped)."""
    metadata: Obj = {"name": c.name, "namespace": c.namespace}
    if labels:
        metadata["labels"] = labels
    raw = {"kind": kind, "metadata": metadata, "spec": spec}
    return manifest.export(raw)


def print_export(obj: Obj) -> None:
    """flux's printExport of an object built by `new_object`."""
    click.echo(manifest.render(obj), nl=False)


async def upsert(client: Client, res: Resource, obj: Obj, *, what: str) -> Obj:
    """Create the object, or replace the labels and spec of the existing one (flux's upsert<Kind>)."""
    name, namespace = obj["metadata"]["name"], obj["metadata"]["namespace"]
    existing = await client.get_or_none(res, name, namespace)
    if existing is None:
        created = await client.create(res, obj, namespace)
        success(f"{what} created")
        return created
    labels = obj["metadata"].get("labels")
    if labels:
        existing["metadata"]["labels"] = labels
    else:
        existing["metadata"].pop("labels", None)
    existing["spec"] = obj["spec"]
    updated = await client.replace(res, existing, namespace)
    success(f"{what} updated")
    return updated


async def upsert_secret(client: Client, secret: Obj) -> None:
    """flux's upsertSecret: create, or set stringData and merge labels and annotations into the existing one."""
    meta = secret["metadata"]
    existing = await client.get_or_none(SECRETS, meta["name"], meta["namespace"])
    if existing is None:
        await client.create(SECRETS, secret, meta["namespace"])
        return
    existing["stringData"] = secret.get("stringData") or {}
    for key in ("annotations", "labels"):
        if meta.get(key):
            existing["metadata"][key] = {**(existing["metadata"].get(key) or {}), **meta[key]}
    await client.replace(SECRETS, existing, meta["namespace"])


def is_ready(obj: Obj, *, static: bool = False) -> bool:
    """flux's isObjectReady: for dynamic objects Ready must be reported for the latest generation; static
    ones (no conditions, e.g. an OCI HelmRepository) only need a current kstatus. Stalled raises its message.

    A static object's `observedGeneration: -1` is the CRD default, not an observation: Flux's controller
    clears it when it lets the object go, ours leaves it, and neither will ever observe the generation.
    """
    if not static:
        return readiness.generation_ready(obj) and readiness.settled(obj)
    status = obj.get("status") or {}
    if status.get("observedGeneration") == -1:
        obj = {**obj, "status": {k: v for k, v in status.items() if k != "observedGeneration"}}
    return readiness.settled(obj)


async def wait_ready(
    client: Client, res: Resource, name: str, namespace: str, *, deadline: float, static: bool = False
) -> Obj:
    """Poll until the object is Ready for its latest generation; past `deadline` it is flux's timeout error."""
    while True:
        obj = await client.get(res, name, namespace)
        if is_ready(obj, static=static):
            return obj
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CommandError("context deadline exceeded")
        await asyncio.sleep(min(POLL_INTERVAL, remaining))


def artifact_revision(obj: Obj) -> str | None:
    revision = dig(obj, "status", "artifact", "revision")
    return None if dig(obj, "status", "artifact") is None else str(revision or "")


async def apply_and_wait(
    client: Client,
    res: Resource,
    obj: Obj,
    *,
    what: str,
    deadline: float,
    no_artifact: str | None,
    upserted: str | None = None,
    static: bool = False,
) -> None:
    """flux's create source tail: apply, wait for Ready, then report the fetched revision.

    `upserted` names the object in the created/updated line when flux words it differently (`source
    created`); without `no_artifact` (static objects have none) nothing is reported after Ready.
    """
    output.action(f"applying {what}")
    await upsert(client, res, obj, what=upserted or what)
    output.waiting(f"waiting for {what} reconciliation")
    name, namespace = obj["metadata"]["name"], obj["metadata"]["namespace"]
    ready = await wait_ready(client, res, name, namespace, deadline=deadline, static=static)
    output.success(f"{what} reconciliation completed")
    if no_artifact is None:
        return
    revision = artifact_revision(ready)
    if revision is None:
        raise CommandError(no_artifact)
    output.success(f"fetched revision: {revision}")


def create_or_export(
    g: Globals,
    c: CreateArgs,
    noun: Noun,
    spec: Obj | Callable[[], Obj],
    *,
    report: Callable[[Obj], None] | None = None,
) -> None:
    """flux's tail of the non-source commands: `generating <Kind>`, the spec (a callable is built after that
    line, so its errors follow it), then the YAML (--export), or apply, wait until ready (static kinds: a
    current kstatus) and `<Kind> NAME is ready`, then `report` the ready object."""
    labels = parse_labels(c.labels)
    if not c.export:
        output.generate(f"generating {noun.kind}")
    obj = new_object(noun.kind, c, labels, spec() if callable(spec) else spec)
    if c.export:
        print_export(obj)
        return
    deadline = time.monotonic() + timeout_seconds(g)
    res = noun.resource

    async def body(client: Client) -> None:
        output.action(f"applying {noun.kind}")
        await upsert(client, res, obj, what=noun.kind)
        output.waiting(f"waiting for {noun.kind} reconciliation")
        ready = await wait_ready(client, res, c.name, c.namespace, deadline=deadline, static=noun.static)
        output.success(f"{noun.kind} {c.name} is ready")
        if report is not None:
            report(ready)

    kubeclient.run(g, body)
