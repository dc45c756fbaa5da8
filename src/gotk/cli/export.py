"""`flux export source git|oci|bucket|helm|chart|external|all NAME|--all`, `flux export kustomization`,
`flux export helmrelease`, `flux export image repository|policy|update`, `flux export alert|alert-provider|receiver`
and `flux export artifact generator`.

Each object is printed as flux2's export adapters do (cmd/flux/export*.go): `---`, then apiVersion,
kind, metadata (name, namespace, labels, annotations) and the spec in Go's form; no status and no
server-set metadata (see `manifest`). `--with-credentials` adds the Secret named by spec.secretRef
(its data and type). `export source all` is a gotk addition: every source kind, in `get sources all` order.
The image, notification and ArtifactGenerator kinds' specs are re-marshalled through their Go types down to
nested fields (`GoType`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import click

from gotk.cli import goflags, kinds_cli, kubeclient, readiness
from gotk.cli.context import Globals
from gotk.cli.engines import manifest
from gotk.cli.flags import AliasGroup, with_globals
from gotk.cli.kinds_cli import Noun, Obj, dig, text
from gotk.cli.output import CommandError
from gotk.kube.client import Client
from gotk.kube.errors import ApiError, ResourceNotFound
from gotk.kube.resources import SECRETS

SOURCE_NOUNS = (
    kinds_cli.SOURCE_GIT,
    kinds_cli.SOURCE_OCI,
    kinds_cli.SOURCE_BUCKET,
    kinds_cli.SOURCE_HELM,
    kinds_cli.SOURCE_CHART,
    kinds_cli.SOURCE_EXTERNAL,
)
_WITH_SECRET = frozenset({"GitRepository", "OCIRepository", "Bucket", "HelmRepository"})


@dataclass(frozen=True)
class GoType:
    """How a spec's Go type (all nested structs) marshals: JSON omitempty everywhere except `required`.

    Struct pointers set to `{}` are printed; Go maps (`maps`, by field name) are dropped when empty and
    kept verbatim otherwise; every other zero value (`""`, false, 0, `[]`) is dropped unless its dotted
    path is in `required`, which also fills it in with that zero value when the parent is present."""

    required: Mapping[str, Any] = field(default_factory=dict)
    maps: frozenset[str] = frozenset()
    durations: tuple[str, ...] = ("interval", "timeout")
    """Top-level metav1.Duration fields, re-printed by Duration.String."""

    def marshal(self, spec: Mapping[str, Any]) -> Obj:
        shaped = dict(spec)
        for key in self.durations:
            if key in shaped:
                shaped[key] = goflags.normalize_duration(shaped[key])
        return self._struct(shaped, "")

    def _struct(self, value: Mapping[str, Any], path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in value.items():
            sub = f"{path}.{key}" if path else key
            if key in self.maps:
                if item:
                    out[key] = item
                continue
            item = self._value(item, sub)
            if sub in self.required or not (item is None or item in ("", False, 0) or item == []):
                out[key] = item
        for sub, zero in self.required.items():
            parent, _, key = sub.rpartition(".")
            if parent == path and out.get(key) is None:
                out[key] = self._value(zero, sub)
        return out

    def _value(self, value: Any, path: str) -> Any:
        if isinstance(value, Mapping):
            return self._struct(value, path)
        if isinstance(value, list):
            return [self._value(item, path) for item in value]
        return value


# image-reflector-controller and image-automation-controller api/v1 (structs without omitempty are `{}`)
IMAGE_TYPES: dict[str, GoType] = {
    "ImageRepository": GoType(
        required={
            "interval": "0s",
            "secretRef.name": "",
            "proxySecretRef.name": "",
            "certSecretRef.name": "",
            "accessFrom.namespaceSelectors": [],
        },
        maps=frozenset({"matchLabels"}),
    ),
    "ImagePolicy": GoType(
        required={
            "imageRepositoryRef": {},
            "imageRepositoryRef.name": "",
            "policy": {},
            "policy.semver.range": "",
            "filterTags.pattern": "",
            "filterTags.extract": "",
        },
        durations=("interval",),
    ),
    "ImageUpdateAutomation": GoType(
        required={
            "sourceRef": {},
            "sourceRef.kind": "",
            "sourceRef.name": "",
            "interval": "0s",
            "git.checkout.ref": {},
            "git.commit": {},
            "git.commit.author": {},
            "git.commit.author.email": "",
            "git.commit.signingKey.secretRef": {},
            "git.commit.signingKey.secretRef.name": "",
            "policySelector.matchExpressions.key": "",
            "policySelector.matchExpressions.operator": "",
        },
        maps=frozenset({"matchLabels", "messageTemplateValues", "options"}),
        durations=("interval",),
    ),
}


# source-watcher api/v1beta1 (slices without omitempty are `null` when unset)
ARTIFACT_GENERATOR_TYPE = GoType(
    required={
        "sources": None,
        "sources.alias": "",
        "sources.name": "",
        "sources.kind": "",
        "artifacts": None,
        "artifacts.name": "",
        "artifacts.copy": None,
        "artifacts.copy.from": "",
        "artifacts.copy.to": "",
    },
    maps=frozenset({"annotations", "labels"}),
    durations=(),
)
# notification-controller api v1beta3 (Alert, Provider) and v1 (Receiver), as flux2's go.mod pins them (v1.9.3)
_CROSS_NAMESPACE_REF = frozenset({"matchLabels"})
NOTIFICATION_TYPES: dict[str, GoType] = {
    "Alert": GoType(
        required={
            "providerRef": {},
            "providerRef.name": "",
            "eventSources": None,
            "eventSources.kind": "",
            "eventSources.name": "",
        },
        maps=_CROSS_NAMESPACE_REF | {"eventMetadata"},
        durations=(),
    ),
    "Provider": GoType(
        required={
            "type": "",
            "proxySecretRef.name": "",
            "secretRef.name": "",
            "certSecretRef.name": "",
        },
    ),
    "Receiver": GoType(
        required={
            "type": "",
            "resources": None,
            "resources.kind": "",
            "resources.name": "",
            "secretRef.name": "",
            "oidcProviders.issuerURL": "",
            "oidcProviders.validations": None,
            "oidcProviders.validations.expression": "",
            "oidcProviders.validations.message": "",
            "oidcProviders.variables.name": "",
            "oidcProviders.variables.expression": "",
        },
        maps=_CROSS_NAMESPACE_REF,
        durations=("interval",),
    ),
}
GO_TYPES: dict[str, GoType] = {**IMAGE_TYPES, **NOTIFICATION_TYPES, "ArtifactGenerator": ARTIFACT_GENERATOR_TYPE}


def render(obj: Obj) -> str:
    exported = manifest.export(obj)
    go_type = GO_TYPES.get(text(obj.get("kind")))
    if go_type is not None:
        exported["spec"] = go_type.marshal(obj.get("spec") or {})
    return manifest.render(exported)


async def credentials(client: Client, obj: Obj) -> str:
    """printSecretCredentials: the Secret of spec.secretRef with its data and type only ('' without one)."""
    name = text(dig(obj, "spec", "secretRef", "name"))
    if obj.get("kind") not in _WITH_SECRET or not name:
        return ""
    namespace = text(dig(obj, "metadata", "namespace"))
    try:
        found = await client.get(SECRETS, name, namespace)
    except ApiError as exc:
        raise CommandError(f"failed to retrieve secret {name}, error: {exc}") from None
    secret = manifest.secret(name, namespace, data=found.get("data"), type=found.get("type"))
    return manifest.render(secret)


async def export_objects(
    client: Client, nouns: Sequence[Noun], name: str | None, namespace: str, *, with_credentials: bool = False
) -> str:
    """The YAML of one named object or (name None) of all objects of the kinds, in namespace order."""
    items: list[Obj] = []
    for noun in nouns:
        if name is not None and len(nouns) == 1:
            items.append(await readiness.fetch(client, noun.resource, name, namespace))
            continue
        try:
            items += await readiness.list_objects(client, noun.resource, namespace, name=name)
        except ResourceNotFound:
            if len(nouns) == 1:
                raise
    if not items:
        raise CommandError(f"no objects found in {namespace} namespace")
    out = []
    for obj in items:
        out.append(render(obj))
        if with_credentials:
            out.append(await credentials(client, obj))
    return "".join(out)


def _leaf(nouns: Sequence[Noun], command_name: str, *, source: bool, help_text: str = "") -> click.Command:
    help_text = help_text or f"Export {command_name} objects in YAML format."

    @click.command(command_name, cls=goflags.FluxCommand, help=help_text)
    @click.argument("args", nargs=-1, metavar="NAME")
    @click.option("--all", "all_", is_flag=True, help="Select all resources.")
    @with_globals
    def command(g: Globals, args: tuple[str, ...], all_: bool, with_credentials: bool = False) -> None:
        if not all_ and not args:
            raise CommandError("name is required")
        name = None if all_ else args[0]

        async def body(client: Client) -> None:
            click.echo(
                await export_objects(client, nouns, name, g.namespace, with_credentials=with_credentials), nl=False
            )

        kubeclient.run(g, body)

    if source:
        command = click.option("--with-credentials", is_flag=True, help="Include credential secrets.")(command)
    return command


export = AliasGroup("export", help="Export resources in YAML format.")
source = AliasGroup("source", help="Export sources.")
for _noun in SOURCE_NOUNS:
    source.add_command(_leaf((_noun,), _noun.name, source=True))
source.add_command(_leaf(SOURCE_NOUNS, "all", source=True))
export.add_command(source)
export.add_aliased(_leaf((kinds_cli.KUSTOMIZATION,), "kustomization", source=False), kinds_cli.KUSTOMIZATION.aliases)
export.add_aliased(_leaf((kinds_cli.HELMRELEASE,), "helmrelease", source=False), kinds_cli.HELMRELEASE.aliases)
image = AliasGroup("image", help="Export image automation objects.")
for _noun in kinds_cli.IMAGES:
    image.add_command(_leaf((_noun,), _noun.name, source=False))
export.add_command(image)
artifact = AliasGroup("artifact", help="Export artifact objects.")
for _noun in kinds_cli.ARTIFACTS:
    artifact.add_command(
        _leaf((_noun,), _noun.name, source=False, help_text=f"Export {_noun.kind} resources in YAML format.")
    )
export.add_command(artifact)
for _noun in (kinds_cli.ALERT, kinds_cli.ALERT_PROVIDER, kinds_cli.RECEIVER):
    export.add_command(
        _leaf((_noun,), _noun.name, source=False, help_text=f"Export {_noun.kind} resources in YAML format.")
    )
