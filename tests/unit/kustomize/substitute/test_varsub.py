"""gotk.kustomize.substitute.varsub: merging substitute and substituteFrom, name validation, the disabled label and
annotation, the WithVariables and Always strategies, strict mode, Flux's error messages, and the YAML
round trip (numbers and booleans after substitution, go-yaml scalar rules, literal blocks, keys).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gotk.kustomize.substitute import varsub
from gotk.kustomize.substitute.varsub import InvalidVariableNameError, ObjectSubstitutionError, SubstitutionError


def configmap(data: dict[str, Any], *, name: str = "app-vars", **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "apps", **metadata},
        "data": data,
    }


def substituted(value: str, variables: dict[str, str], *, strict: bool = True) -> Any:
    """The value of ``data.v`` after substituting into ``v: <value>``."""
    return varsub.substitute_objects([configmap({"v": value})], variables, strict=strict)[0]["data"]["v"]


# --- merge_variables and validate_names ----------------------------------------------------------------


def test_inline_substitute_wins_and_later_sources_override_earlier_ones() -> None:
    merged = varsub.merge_variables(
        {"a": "inline"},
        [{"a": "cm1", "b": "cm1", "c": "cm1"}, {"b": "secret", "d": "secret"}],
    )
    assert merged == {"a": "inline", "b": "secret", "c": "cm1", "d": "secret"}


def test_merge_removes_newlines_and_accepts_named_sources() -> None:
    merged = varsub.merge_variables(None, [("ConfigMap/vars", {"x": "line1\nline2\n", "y": "a\r\nb"})])
    assert merged == {"x": "line1line2", "y": "a\rb"}


def test_merge_of_nothing_is_empty() -> None:
    assert varsub.merge_variables({}, []) == {}


@pytest.mark.parametrize("name", ["a", "_", "_a1", "CLUSTER_ENV", "x9"])
def test_valid_names(name: str) -> None:
    varsub.validate_names({name: "v"})


@pytest.mark.parametrize("name", ["", "1a", "my-var", "a.b", "é", "a b", "a\n", "$a"])
def test_invalid_names_name_the_key_and_where_it_came_from(name: str) -> None:
    with pytest.raises(InvalidVariableNameError) as caught:
        varsub.validate_names({"ok": "", name: "v"}, origin="ConfigMap/cluster-vars")
    assert caught.value.variable == name
    assert str(caught.value) == (
        f"'{name}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$' (from ConfigMap/cluster-vars)"
    )
    assert isinstance(caught.value, SubstitutionError)


# --- substitute_objects ---------------------------------------------------------------------------------


def test_flux_testdata_deployment_and_disabled_configmap() -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "app",
            "namespace": "apps",
            "labels": {"environment": "${cluster_env:=dev}", "region": "${cluster_region}"},
        },
        "spec": {"template": {"metadata": {"annotations": {"prometheus.io/port": "${prometheus_port:=9797}"}}}},
    }
    disabled = configmap(
        {"image": "${image}", "prometheus_scrape": "${prometheus_scrape:=false}"},
        labels={"environment": "${cluster_env:=dev}", varsub.SUBSTITUTE_ANNOTATION: "disabled"},
    )
    variables = varsub.merge_variables({"cluster_env": "prod", "cluster_region": "eu-central-1"}, [{"image": "x"}])
    out = varsub.substitute_objects([deployment, disabled], variables, strict=True)
    assert out[0]["metadata"]["labels"] == {"environment": "prod", "region": "eu-central-1"}
    assert out[0]["spec"]["template"]["metadata"]["annotations"] == {"prometheus.io/port": 9797}
    assert out[1] is disabled


@pytest.mark.parametrize(
    ("value", "variables", "expected"),
    [
        ("${r}", {"r": "3"}, 3),
        ("${r}", {"r": "-3"}, -3),
        ("${r}", {"r": "1.5"}, 1.5),
        ("${r}", {"r": "1.0"}, 1),  # Go prints 1.0 as 1 in JSON, which decodes as an integer
        ("${r}", {"r": "1e3"}, 1000),
        ("${r}", {"r": "0x1F"}, 31),
        ("${r}", {"r": "0o17"}, 15),
        ("${r}", {"r": "017"}, 15),
        ("${r}", {"r": "08"}, 8),
        ("${r}", {"r": "1_000"}, 1000),
        ("${r}", {"r": "9223372036854775808"}, 9223372036854775808.0),
        ("${b}", {"b": "true"}, True),
        ("${b}", {"b": "False"}, False),
        ("${b}", {"b": "y"}, True),
        ("${b}", {"b": "off"}, False),
        ("${b}", {"b": "null"}, None),
        ("${b}", {"b": "~"}, None),
        ("${e}", {"e": ""}, None),
        ("${t}", {"t": "1:20"}, "1:20"),
        ("${t}", {"t": "2024-01-01"}, "2024-01-01"),
        ("${t}", {"t": "1e400"}, "1e400"),
        ("${t}", {"t": "=="}, "=="),
        ("${quote}${id}${quote}", {"quote": '"', "id": "123"}, "123"),
        ("'${r}'", {"r": "3"}, "'3'"),
        ("image:${tag}", {"tag": "1.21"}, "image:1.21"),
        ("${missing:=5}", {"x": "1"}, 5),
        ("cost $$5 and $${HOME}", {"x": "1"}, "cost $5 and ${HOME}"),
        ("${x^^} ${#x}", {"x": "héllo"}, "HÉLLO 6"),
        ("x: ${x}", {"x": "y"}, "x: y"),
    ],
)
def test_values_are_read_back_as_flux_reads_them(value: str, variables: dict[str, str], expected: Any) -> None:
    result = substituted(value, variables)
    assert result == expected
    assert type(result) is type(expected)


def test_multiline_values_are_substituted_in_literal_blocks() -> None:
    script = "#!/bin/sh\necho \"${greeting}\" '${name}'\necho $$HOME $${literal}\n"
    expected = "#!/bin/sh\necho \"hi: \\there\" 'it's'\necho $HOME ${literal}\n"
    assert substituted(script, {"greeting": "hi: \\there", "name": "it's"}) == expected


def test_keys_are_substituted_too() -> None:
    out = varsub.substitute_objects([configmap({"${key}": "v", "${n}": "w"})], {"key": "k", "n": "5"}, strict=True)
    assert out[0]["data"] == {"k": "v", "5": "w"}


def test_unchanged_objects_are_returned_as_is_and_inputs_are_not_mutated() -> None:
    plain = configmap({"a": "b"}, name="plain")
    dollar = configmap({"a": "$x and $5"}, name="dollar")
    templated = configmap({"a": "${x}"}, name="templated")
    before = copy.deepcopy([plain, dollar, templated])
    out = varsub.substitute_objects([plain, dollar, templated], {"x": "1"}, strict=True)
    assert out[0] is plain and out[1] is dollar
    assert out[2] == configmap({"a": 1}, name="templated")
    assert [plain, dollar, templated] == before


@pytest.mark.parametrize("where", ["labels", "annotations"])
def test_disabled_label_or_annotation_skips_the_object(where: str) -> None:
    obj = configmap({"a": "${missing}"})
    obj["metadata"][where] = {varsub.SUBSTITUTE_ANNOTATION: "disabled"}
    assert varsub.substitute_objects([obj], {"x": "1"}, strict=True) == [obj]


@pytest.mark.parametrize("value", ["Disabled", "DISABLED", "disabled ", "true"])
def test_only_the_exact_value_disabled_counts(value: str) -> None:
    obj = configmap({"a": "${x}"}, annotations={varsub.SUBSTITUTE_ANNOTATION: value})
    assert varsub.substitute_objects([obj], {"x": "1"}, strict=True)[0]["data"] == {"a": 1}


def test_with_variables_strategy_does_nothing_without_variables() -> None:
    obj = configmap({"a": "${x:=dev}", "b": "${missing}", "c": "$${y}"})
    assert varsub.substitute_objects([obj], {}, strict=True) == [obj]
    assert varsub.substitute_objects([obj], {}, strict=True, strategy="WithVariables")[0] is obj


def test_always_strategy_substitutes_without_variables() -> None:
    obj = configmap({"a": "${x:=dev}", "b": "${y:=eu-central-1}"})
    out = varsub.substitute_objects([obj], {}, strict=True, strategy="Always")
    assert out[0]["data"] == {"a": "dev", "b": "eu-central-1"}


def test_a_variable_set_to_empty_enables_substitution() -> None:
    out = varsub.substitute_objects([configmap({"a": "${x:=dev}"})], {"unused": ""}, strict=True)
    assert out[0]["data"] == {"a": "dev"}


def test_strict_mode_error_is_flux_build_failed_message() -> None:
    obj = configmap({"missing": "${missing}", "env": "${cluster_env:=dev}"}, name="app-vars-strict")
    with pytest.raises(ObjectSubstitutionError) as caught:
        varsub.substitute_objects([obj], {"cluster_region": "eu"}, strict=True)
    assert str(caught.value) == (
        "post build failed for 'ConfigMap.v1.[noGrp]/app-vars-strict': "
        'envsubst error: variable substitution failed: variable not set (strict mode): "missing"'
    )
    assert caught.value.object_ref == "ConfigMap/apps/app-vars-strict"
    assert caught.value.variable == "missing"


def test_non_strict_mode_reads_unset_variables_as_empty() -> None:
    obj = configmap({"missing": "${missing}", "text": "a${missing}b"})
    out = varsub.substitute_objects([obj], {"x": "1"}, strict=False)
    assert out[0]["data"] == {"missing": None, "text": "ab"}


def test_parse_errors_name_the_object_with_its_group() -> None:
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"a": "${x"}}
    with pytest.raises(ObjectSubstitutionError, match=r"^post build failed for 'Deployment\.v1\.apps/web': "):
        varsub.substitute_objects([obj], {"x": "1"}, strict=False)


def test_invalid_names_fail_on_the_first_object_that_is_substituted() -> None:
    disabled = configmap({}, name="skipped", labels={varsub.SUBSTITUTE_ANNOTATION: "disabled"})
    first = configmap({"a": "no variables here"}, name="first")
    with pytest.raises(ObjectSubstitutionError) as caught:
        varsub.substitute_objects([disabled, first], {"ok": "1", "my-var": "2"}, strict=True)
    assert str(caught.value) == (
        "post build failed for 'ConfigMap.v1.[noGrp]/first': envsubst error: "
        "'my-var' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'"
    )
    assert varsub.substitute_objects([disabled], {"my-var": "2"}, strict=True) == [disabled]


@pytest.mark.parametrize(
    ("value", "variables", "detail"),
    [
        ("'${x}'", {"x": "it's"}, "envsubst error: YAMLToJSON: yaml: line "),
        ("${x}", {"x": ".inf"}, "envsubst error: YAMLToJSON: json: unsupported value: +Inf"),
        ("${x}", {"x": "[a, b"}, "envsubst error: YAMLToJSON: yaml: line "),
    ],
)
def test_text_that_no_longer_parses_is_an_error(value: str, variables: dict[str, str], detail: str) -> None:
    with pytest.raises(ObjectSubstitutionError) as caught:
        substituted(value, variables)
    assert caught.value.detail.startswith(detail)


def test_values_can_inject_yaml_structure_as_in_flux() -> None:
    assert substituted("${x}", {"x": "[a, {b: 1}]"}) == ["a", {"b": 1}]


def test_unknown_tags_are_ignored_like_go_yaml() -> None:
    assert substituted("${x}", {"x": "!custom value"}) == "value"


# --- properties -----------------------------------------------------------------------------------------

SAFE_TEXT = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_characters="$\x85\u2028\u2029\ufeff", exclude_categories=["Cc", "Co", "Cn"]
    )
    | st.sampled_from("\n\t :#-'\"{}[]&*!|>%@`,?"),
    max_size=30,
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
    SAFE_TEXT,
)
OBJECTS = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(SAFE_TEXT, children, max_size=4),
    max_leaves=20,
)


@given(spec=OBJECTS)
def test_objects_without_dollar_come_back_unchanged(spec: Any) -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "spec": spec}
    assert varsub.substitute_objects([obj], {"v": "x"}, strict=True)[0] is obj


@given(spec=OBJECTS, word=st.from_regex(r"[a-z]{1,8}", fullmatch=True))
def test_yaml_round_trip_keeps_everything_but_the_substituted_value(spec: Any, word: str) -> None:
    value = "value-" + word  # a plain word that go-yaml reads as a string
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "spec": spec, "data": {"v": "${v}"}}
    out = varsub.substitute_objects([obj], {"v": value}, strict=True)[0]
    assert out == {**obj, "data": {"v": value}}
