"""A HelmRelease's names and values, as Flux computes them — pure functions over plain data.

- `release_name`: `spec.releaseName`, else `[<targetNamespace>-]<name>`; longer than 53 characters, it becomes
  its first 40 characters, `-` and 12 hex digits of its sha256 (Helm's limit).
- `chart_object_name`: the HelmChart a `spec.chart` template creates, `<namespace>-<name>`.
- `compose`: `valuesFrom` entries merged in order (a whole YAML document deep-merged, or one value written
  at a `targetPath` such as `a.b[0].c` or `a\\.b`, by Helm's --set parser in the controller), then the inline
  `values` on top.
- `digest`: the `sha256:` digest of values exactly as Flux computes it (fluxcd/pkg/chartutil DigestValues: the
  values as go-yaml v2 YAML, numbers as JSON decoding leaves them, every map's keys in plain string order; empty
  values digest nothing), for `lastAttemptedConfigDigest` and the history's `configDigest`, so that each of
  gotk and Flux finds the other's last release in sync.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from gotk.gocompat import yaml as goyaml
from gotk.helm.lib import HelmActionError, HelmLib
from gotk.kube.client import Client
from gotk.runtime import secrets
from gotk.runtime.helmvalues import merge

Obj = dict[str, Any]
MAX_RELEASE_NAME = 53
DEFAULT_VALUES_KEY = "values.yaml"
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_INDEX = re.compile(r"^(.*)\[(\d+)\]$")


class UnsupportedKindError(ValueError):
    """A `valuesFrom` entry of a kind other than ConfigMap or Secret: a spec error, retrying cannot help."""


class ValuesError(ValueError):
    """A values reference cannot be used (the message names the reference, never the values)."""


def release_name(obj: Mapping[str, Any]) -> str:
    spec = obj.get("spec") or {}
    name = str(spec.get("releaseName") or "")
    if not name:
        meta = obj.get("metadata") or {}
        target = spec.get("targetNamespace")
        name = f"{target}-{meta.get('name')}" if target else str(meta.get("name"))
    return shorten(name)


def shorten(name: str) -> str:
    if len(name) <= MAX_RELEASE_NAME:
        return name
    return f"{name[:40]}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"


def chart_object_name(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace')}-{meta.get('name')}"


def split_path(path: str) -> list[str | int]:
    """`a.b[0].c\\.d` -> ['a', 'b', 0, 'c.d']."""
    parts: list[str] = []
    current = ""
    escaped = False
    for ch in path:
        if escaped:
            current += ch
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ".":
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    out: list[str | int] = []
    for part in parts:
        indexes: list[int] = []
        while (m := _INDEX.match(part)) is not None:
            part, index = m.group(1), int(m.group(2))
            indexes.insert(0, index)
        if not part:
            raise ValuesError(f"invalid target path '{path}': empty key")
        out.append(part)
        out.extend(indexes)
    return out


def set_path(values: Obj, path: str, value: Any) -> None:
    """Write `value` at `path` in `values`, creating maps and growing lists (with nulls) on the way."""
    keys = split_path(path)
    node: Any = values
    for key, nxt in zip(keys, [*keys[1:], None], strict=True):
        last = nxt is None
        fresh: Any = value if last else ([] if isinstance(nxt, int) else {})
        if isinstance(key, int):
            if not isinstance(node, list):
                raise ValuesError(f"invalid target path '{path}': index into a non-list")
            node.extend([None] * (key + 1 - len(node)))
            if last or not isinstance(node[key], (dict, list)):
                node[key] = fresh
        else:
            if not isinstance(node, dict):
                raise ValuesError(f"invalid target path '{path}': key into a non-map")
            if last or not isinstance(node.get(key), (dict, list)):
                node[key] = fresh
        node = node[key]


@dataclass(frozen=True)
class ValuesRef:
    """One `valuesFrom` entry: `kind` ConfigMap or Secret, `name`, `valuesKey`, `targetPath`, `optional`."""

    kind: str
    name: str
    values_key: str = DEFAULT_VALUES_KEY
    target_path: str = ""
    optional: bool = False
    literal: bool = False  # the targetPath value verbatim (helm --set-literal)

    @classmethod
    def from_spec(cls, ref: Mapping[str, Any]) -> ValuesRef:
        return cls(
            kind=str(ref.get("kind") or ""),
            name=str(ref.get("name") or ""),
            values_key=str(ref.get("valuesKey") or DEFAULT_VALUES_KEY),
            target_path=str(ref.get("targetPath") or ""),
            optional=bool(ref.get("optional")),
            literal=bool(ref.get("literal")),
        )

    def describe(self) -> str:
        return f"{self.kind} '{self.name}' key '{self.values_key}'"


SetValue = Callable[[Obj, "ValuesRef", str], Obj]  # (values, the entry with its targetPath, value) -> values


def helm_setter(lib: HelmLib) -> SetValue:
    """A targetPath entry written by Helm's --set parser (in libgotkhelm; no cluster call). The parser's message
    quotes parts of the value, so it is shown for a ConfigMap only, never for a Secret."""

    def set_value(values: Obj, ref: ValuesRef, value: str) -> Obj:
        try:
            return lib.set_value(values, ref.target_path, value, literal=ref.literal)
        except HelmActionError as exc:
            why = exc.message if ref.kind == "ConfigMap" else "the value is not valid --set syntax"
            raise ValuesError(f"unable to merge value from {ref.describe()} at '{ref.target_path}': {why}") from None

    return set_value


def _set_string(values: Obj, ref: ValuesRef, value: str) -> Obj:
    set_path(values, ref.target_path, value)
    return values


def compose(
    refs: Iterable[tuple[ValuesRef, Mapping[str, str] | None]],
    inline: Mapping[str, Any] | None,
    set_value: SetValue = _set_string,
) -> Obj:
    """Merge the `valuesFrom` data (each ref with its object's data: str values, None when the object is
    missing) and the inline values, in Flux's order. `set_value` writes a targetPath entry: the controller's is
    Helm's --set parser (typed values, `{a,b}` lists); the default writes the string as it is."""
    result: Obj = {}
    for ref, data in refs:
        if data is None or ref.values_key not in data:
            if ref.optional:
                continue
            what = "could not find" if data is None else "missing key in"
            raise ValuesError(f"{what} {ref.describe()}")
        text = data[ref.values_key]
        if ref.target_path:
            result = set_value(result, ref, text)
            continue
        try:
            parsed = yaml.load(text, Loader=_Loader)
        except yaml.YAMLError:
            raise ValuesError(f"unable to read values from {ref.describe()}: invalid YAML") from None
        if parsed is None:
            continue
        if not isinstance(parsed, dict):
            raise ValuesError(f"unable to read values from {ref.describe()}: not a YAML map")
        result = merge(result, parsed)
    return merge(result, inline or {})


async def resolve(client: Client, namespace: str, spec: Mapping[str, Any], set_value: SetValue = _set_string) -> Obj:
    """The values of a HelmRelease spec: its `valuesFrom` ConfigMaps and Secrets read from `namespace`, in
    order, then `values` (`compose`). Raises UnsupportedKindError or ValuesError, which never quote a Secret."""
    loaded = []
    for entry in spec.get("valuesFrom") or []:
        ref = ValuesRef.from_spec(entry)
        field = f"spec.valuesFrom[{ref.kind}/{ref.name}]"
        try:
            if ref.kind == "Secret":
                data = await secrets.secret_text(client, namespace, ref.name, field=field, optional=True)
            elif ref.kind == "ConfigMap":
                data = await secrets.configmap_data(client, namespace, ref.name, field=field, optional=True)
            else:
                raise UnsupportedKindError(f"unsupported valuesFrom kind '{ref.kind}'")
        except secrets.SecretError as exc:
            raise ValuesError(str(exc)) from None
        loaded.append((ref, data))
    return compose(loaded, spec.get("values"), set_value)


def digest(values: Mapping[str, Any]) -> str:
    """Flux's config digest of `values` (see the module docstring)."""
    text = goyaml.dump(_as_go(dict(values)), byte_order=True).encode() if values else b""
    return "sha256:" + hashlib.sha256(text).hexdigest()


def _as_go(value: Any) -> Any:
    """A value as Go holds it after JSON decoding (every number a float64) and sigs.k8s.io/yaml's
    JSONObjectToYAMLObject (a float64 that is a whole number within int64 or uint64 becomes an integer)."""
    if isinstance(value, dict):
        return {str(k): _as_go(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_go(v) for v in value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    number = float(value)
    if number.is_integer() and -(2**63) <= number < 2**64:
        return int(number)
    return number
