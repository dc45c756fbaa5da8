"""gotk.api.schema: unwrapping Annotated/Optional, JSON names, required vs optional, object markers."""

from dataclasses import dataclass
from typing import Annotated, Literal

import pytest

from gotk.api import meta, schema


@schema.object_markers(schema.Validation("has(self.a)", "a is needed"))
@dataclass(frozen=True, kw_only=True)
class Sample:
    """A sample model."""

    last_update_time: Annotated[str, schema.Pattern("^x$")]
    match_oidc_identity: Annotated[list[str] | None, schema.JsonName("matchOIDCIdentity")] = None
    mode: Literal["a", "b"] | None = None
    nested: Annotated[meta.Interval | None, schema.Description("outer")] = None


@dataclass(frozen=True, kw_only=True)
class Undocumented:
    value: int


def test_unwrap_collects_markers_through_optional_and_nested_annotated() -> None:
    bare, optional, markers = schema.unwrap(Annotated[meta.Interval | None, schema.Description("d")])
    assert bare is str
    assert optional
    assert markers == (schema.Description("d"), schema.Pattern(meta.INTERVAL_PATTERN))


def test_unwrap_plain_type_is_required_without_markers() -> None:
    assert schema.unwrap(int) == (int, False, ())


@pytest.mark.parametrize(
    ("attr", "name"),
    [
        ("url", "url"),
        ("last_update_time", "lastUpdateTime"),
        ("source_ref", "sourceRef"),
        ("v", "v"),
        ("from_", "from"),
    ],
)
def test_json_name_is_camel_case(attr: str, name: str) -> None:
    assert schema.json_name(attr) == name


def test_fields_of_reports_names_required_and_markers() -> None:
    fields = {f.name: f for f in schema.fields_of(Sample)}
    assert list(fields) == ["lastUpdateTime", "matchOIDCIdentity", "mode", "nested"]
    assert fields["lastUpdateTime"].required
    assert fields["lastUpdateTime"].markers == (schema.Pattern("^x$"),)
    assert not fields["matchOIDCIdentity"].required
    assert fields["matchOIDCIdentity"].type == list[str]
    assert not fields["mode"].required


def test_fields_of_rejects_non_models() -> None:
    with pytest.raises(TypeError):
        schema.fields_of(int)


def test_object_markers_and_docstrings() -> None:
    assert schema.markers_of(Sample) == (schema.Validation("has(self.a)", "a is needed"),)
    assert schema.markers_of(Undocumented) == ()
    assert schema.doc_of(Sample) == "A sample model."
    assert schema.doc_of(Undocumented) is None


def test_to_json_drops_absent_fields_and_uses_json_names() -> None:
    sample = Sample(last_update_time="x", match_oidc_identity=["a"])
    assert schema.to_json(sample) == {"lastUpdateTime": "x", "matchOIDCIdentity": ["a"]}
    ref = meta.NamespacedObjectKindReference(kind="GitRepository", name="flux-system")
    assert schema.to_json([ref]) == [{"kind": "GitRepository", "name": "flux-system"}]
