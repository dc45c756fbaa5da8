"""`flux create helmrelease|hr NAME`: a helm.toolkit.fluxcd.io/v2 HelmRelease, printed (--export) or
applied and waited for, with flux2's flags, checks, order of lines and errors
(cmd/flux/create_helmrelease.go, internal/flags/helm_chart_source.go and crds.go).

The chart comes either from a template (`--chart` with `--source Kind/name[.namespace]`, a
HelmRepository, GitRepository or Bucket, and `--chart-version`) or from `--chart-ref`, an existing
OCIRepository or HelmChart. `--values` files are read as go-yaml v2 does, taken through JSON as Go's
encoding/json takes them (every number a float64) and deep merged in order; `--values-from` names
Secrets or ConfigMaps. Once Ready, flux reports the chart version of the latest release.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import yaml

from gotk.cli import create_common, goflags, kinds_cli, output
from gotk.cli.context import Globals
from gotk.cli.create_common import CreateArgs, create_options
from gotk.cli.create_kustomization import depends_on
from gotk.cli.create_notification import kind_name
from gotk.cli.engines import gitsecret
from gotk.cli.engines.manifest import Obj
from gotk.cli.flags import with_globals
from gotk.cli.output import CommandError
from gotk.gocompat import yaml as goyaml
from gotk.runtime import helmvalues

SOURCE_KINDS = ("HelmRepository", "GitRepository", "Bucket")
CHART_REF_KINDS = ("OCIRepository", "HelmChart")
VALUES_FROM_KINDS = ("Secret", "ConfigMap")
CRDS_POLICIES = ("Skip", "Create", "CreateReplace")
STRATEGIES = ("Revision", "ChartVersion")
SOURCE_HELP = (
    "source that contains the chart in the format '<kind>/<name>.<namespace>', "
    f"where kind must be one of: ({', '.join(SOURCE_KINDS)})"
)
_INT64_MIN, _UINT64_END = -(1 << 63), 1 << 64


def kind_name_namespace(value: str) -> tuple[str, str, str]:
    """utils.ParseObjectKindNameNamespace: `<kind>/<name>.<namespace>`, the last dot splitting off the namespace."""
    kind, name = kind_name(value)
    namespace = ""
    if len(dotted := name.split(".")) > 1:
        name, namespace = ".".join(dotted[:-1]), dotted[-1]
    return kind, name, namespace


def parse_source(value: str) -> tuple[str, str, str]:
    """flags.HelmChartSource.Set: (kind, name, namespace), the kind matched case-insensitively."""
    if not value.strip():
        raise ValueError(f"no helm chart source given, please specify {SOURCE_HELP}")
    kind, name, namespace = kind_name_namespace(value)
    if not kind or not name:
        raise ValueError(f"invalid helm chart source '{value}', must be in format <kind>/<name>")
    for known in SOURCE_KINDS:
        if known.lower() == kind.lower():
            return known, name, namespace
    raise ValueError(f"source kind '{kind}' is not supported, must be one of: {', '.join(SOURCE_KINDS)}")


CRDS_POLICY = goflags.Checked(
    "|".join(CRDS_POLICIES),
    goflags.one_of(
        CRDS_POLICIES,
        empty=f"no upgrade CRDs policy given, must be one of: {', '.join(CRDS_POLICIES)}",
        unsupported="unsupported upgrade CRDs policy '{value}', must be one of: {values}",
    ),
)


# -- values ----------------------------------------------------------------------------------------


def _json_number(value: int | float) -> int | float:
    """A YAML number after Go's json.Unmarshal into interface{} (a float64), json.Marshal and go-yaml's
    reading of that text: integral values under 1e21 print as digits, read back as integers when they fit."""
    real = float(value)
    if real != real or real in (float("inf"), float("-inf")):
        raise ValueError(f"json: unsupported value: {'NaN' if real != real else f'{real:+}'.title()}")
    if real.is_integer() and abs(real) < 1e21:
        digits = int(Decimal(repr(real)))
        if _INT64_MIN <= digits < _UINT64_END:
            return digits
    return real


def _json_key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float):
        return goyaml.go_float(key)
    return "null" if key is None else str(key)


def json_values(value: Any) -> Any:
    """sigs.k8s.io/yaml's YAMLToJSON, then encoding/json into interface{}: string keys, float64 numbers."""
    if isinstance(value, dict):
        return {_json_key(key): json_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_values(item) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _json_number(value)
    return value


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    return "array" if isinstance(value, list) else "string" if isinstance(value, str) else "number"


def read_values(paths: Sequence[str]) -> Obj:
    """The --values files merged in order (transform.MergeMaps), with flux's error for each step."""
    merged: Obj = {}
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"reading values from {path} failed: {gitsecret.go_open_error(path, exc)}") from None
        try:
            doc = json_values(goyaml.load(data))
        except yaml.YAMLError as exc:
            why = f"error converting YAML to JSON: {goyaml.error_message(exc)}"
            raise CommandError(f"converting values to JSON from {path} failed: {why}") from None
        except ValueError as exc:
            why = f"error marshaling into JSON: {exc}"
            raise CommandError(f"converting values to JSON from {path} failed: {why}") from None
        if doc is None:
            continue
        if not isinstance(doc, dict):
            why = f"json: cannot unmarshal {_json_type(doc)} into Go value of type map[string]interface {{}}"
            raise CommandError(f"unmarshaling values from {path} failed: {why}")
        merged = helmvalues.merge(merged, doc)
    return merged


def values_from(values: Sequence[str]) -> list[Obj]:
    """--values-from `<kind>/<name>` references, kinds Secret or ConfigMap (any case)."""
    refs: list[Obj] = []
    for value in values:
        kind, name = kind_name(value)
        if not kind:
            raise CommandError(f"invalid Kubernetes object reference '{value}', must be in format <kind>/<name>")
        known = next((k for k in VALUES_FROM_KINDS if k.lower() == kind.lower()), None)
        if known is None:
            supported = ", ".join(VALUES_FROM_KINDS)
            raise CommandError(f"reference kind '{kind}' is not supported, must be one of: {supported}")
        refs.append({"kind": known, "name": name})
    return refs


# -- spec ------------------------------------------------------------------------------------------


def _without_empty(ref: Obj, *keep: str) -> Obj:
    return {k: v for k, v in ref.items() if v or k in keep}


def chart_spec(flags: dict[str, Any]) -> Obj:
    """spec.chart.spec: the chart template (sourceRef.name is always marshalled, kind only when set)."""
    kind, name, namespace = flags["source"] or ("", "", "")
    spec: Obj = {
        "chart": flags["chart"],
        "version": flags["chart_version"],
        "sourceRef": _without_empty({"kind": kind, "name": name, "namespace": namespace}, "name"),
        "reconcileStrategy": flags["reconcile_strategy"],
    }
    if flags["chart_interval"] != 0:
        spec["interval"] = goflags.format_duration(flags["chart_interval"])
    return _without_empty(spec, "chart", "sourceRef")


def chart_ref(value: str) -> Obj:
    kind, name, namespace = kind_name_namespace(value)
    if kind not in CHART_REF_KINDS:
        supported = ", ".join(CHART_REF_KINDS)
        raise CommandError(f"chart reference kind '{kind}' is not supported, must be one of: {supported}")
    return _without_empty({"kind": kind, "name": name, "namespace": namespace}, "kind", "name")


def helmrelease_spec(c: CreateArgs, flags: dict[str, Any]) -> Obj:
    """The spec in flux's order of checks: strategy, chart reference, values files, values references."""
    if flags["reconcile_strategy"] not in STRATEGIES:
        raise CommandError(
            f"'{flags['reconcile_strategy']}' is an invalid reconcile strategy(valid: Revision, ChartVersion)"
        )
    spec: Obj = {
        "releaseName": flags["release_name"],
        "interval": c.interval_text,
        "targetNamespace": flags["target_namespace"],
        "storageNamespace": flags["storage_namespace"] or flags["target_namespace"],
    }
    if deps := goflags.string_slice(flags["depends_on"]):
        spec["dependsOn"] = depends_on(deps)
    if flags["chart"]:
        spec["chart"] = {"spec": chart_spec(flags)}
    else:
        spec["chartRef"] = chart_ref(flags["chart_ref"])
    if flags["kubeconfig_secret_ref"]:
        spec["kubeConfig"] = {"secretRef": {"name": flags["kubeconfig_secret_ref"]}}
    install: Obj = {}
    if flags["create_target_namespace"]:
        install["createNamespace"] = True
    spec["serviceAccountName"] = flags["service_account"]
    if flags["crds"]:
        install["crds"] = "Create"
        spec["upgrade"] = {"crds": flags["crds"]}
    if install:
        spec["install"] = install
    if files := goflags.string_slice(flags["values"]):
        spec["values"] = read_values(files)
    if refs := goflags.string_slice(flags["values_from"]):
        spec["valuesFrom"] = values_from(refs)
    return spec


@click.command("helmrelease", cls=goflags.FluxCommand, help="Create or update a HelmRelease resource.")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option("--release-name", default="",
              help="Name of the Helm release, by default '[<target-namespace>-]<HelmRelease-name>'.")  # fmt: skip
@click.option("--source", type=goflags.Checked("string", parse_source), default=None,
              help=SOURCE_HELP[:1].upper() + SOURCE_HELP[1:] + ".")  # fmt: skip
@click.option("--chart", default="", help="Helm chart name or path.")
@click.option("--chart-version", default="",
              help="Helm chart version, a semver range (ignored for charts from GitRepository sources).")  # fmt: skip
@click.option("--depends-on", multiple=True, help="HelmReleases that must be ready first: '<name>', '<ns>/<name>'.")
@click.option("--target-namespace", default="", help="Namespace to install the release in (default: its own).")
@click.option("--storage-namespace", default="", help="Namespace of the Helm release storage (default: target).")
@click.option("--create-target-namespace", is_flag=True, help="Create the target namespace if it does not exist.")
@click.option("--service-account", default="", help="The service account to impersonate when reconciling.")
@click.option("--reconcile-strategy", default="ChartVersion",
              help="Reconcile strategy of the chart made for the release (Revision or ChartVersion).")  # fmt: skip
@click.option(
    "--chart-interval", type=goflags.Duration(), default="0s", help="How often to look for new chart versions."
)
@click.option("--values", multiple=True, help="Local values.yaml files, merged in order (comma separated or repeated).")
@click.option("--values-from", multiple=True,
              help="Objects with a values.yaml key, '<kind>/<name>' with kind Secret or ConfigMap.")  # fmt: skip
@click.option("--crds", type=CRDS_POLICY, default=None, help="Upgrade CRDs policy.")
@click.option("--kubeconfig-secret-ref", default="", help="The Secret with the kubeconfig of a remote cluster.")
@click.option("--chart-ref", default="",
              help="Chart source '<kind>/<name>.<namespace>', kind OCIRepository or HelmChart.")  # fmt: skip
@create_options
@with_globals
def helmrelease(
    g: Globals, args: tuple[str, ...], interval: int, export: bool, label: tuple[str, ...], **flags: Any
) -> None:
    c = create_common.create_args(g, args, interval, export, label)
    if not flags["chart"] and not flags["chart_ref"]:
        raise CommandError("chart or chart-ref is required")
    if flags["chart"] and flags["chart_ref"]:
        raise CommandError("cannot use --chart in combination with --chart-ref")
    create_common.create_or_export(
        g,
        c,
        kinds_cli.HELMRELEASE,
        lambda: helmrelease_spec(c, flags),
        report=lambda ready: output.success(kinds_cli.HELMRELEASE.success(ready)),
    )
