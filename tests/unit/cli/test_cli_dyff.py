"""The dyff port behind `flux diff kustomization`: what differs (maps, named and plain lists, scalars by
tag) and how dyff's human report prints it without colours at 80 columns (paths in dot style, details
side by side when they fit, neat-printed YAML, multi-line and whitespace-only string changes).
"""

from __future__ import annotations

from typing import Any

from gotk.cli.engines import dyff, dyff_report


def report(live: dict[str, Any], merged: dict[str, Any], width: int = 80) -> str:
    return dyff_report.render(dyff.compare(live, merged), width)


def cm(data: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", **meta}, "data": data}


def test_value_change() -> None:
    assert report(cm({"key": "old"}), cm({"key": "new"})) == "\ndata.key\n± value change\n- old\n+ new\n\n"


def test_integer_change_in_named_list() -> None:
    live = {"spec": {"ports": [{"name": "http", "port": 9899}, {"name": "grpc", "port": 9999}]}}
    merged = {"spec": {"ports": [{"name": "http", "port": 9898}, {"name": "grpc", "port": 9999}]}}
    assert report(live, merged) == "\nspec.ports.http.port\n± value change\n- 9899\n+ 9898\n\n"


def test_map_entries_added_are_indented_yaml() -> None:
    labels = {"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}
    expected = (
        "\nmetadata\n"
        "+ one map entry added:\n"
        "  labels:\n"
        "    kustomize.toolkit.fluxcd.io/name: apps\n"
        "    kustomize.toolkit.fluxcd.io/namespace: flux-system\n"
        "\n"
    )
    assert report(cm({}), cm({}, labels=labels)) == expected


def test_removed_and_added_entries_side_by_side() -> None:
    live = {"data": {"drift-key": "*****", "same": "1"}}
    merged = {"data": {"token": "*****", "same": "1"}}
    expected = (
        '\ndata\n- one map entry removed:   + one map entry added:\ndrift-key: "*****"           token: "*****"\n\n'
    )
    assert report(live, merged) == expected


def test_blocks_too_wide_for_the_terminal_are_stacked() -> None:
    live = {"data": {"a" * 40: "x"}}
    merged = {"data": {"b" * 40: "y"}}
    out = report(live, merged, width=60)
    assert out == (
        "\ndata\n- one map entry removed:\n" + "a" * 40 + ": x\n\n+ one map entry added:\n  " + "b" * 40 + ": y\n\n\n"
    )


def test_type_change_and_nulls() -> None:
    assert report({"a": 1}, {"a": "1"}) == '\na\n± type change from int to string\n- 1\n+ "1"\n\n'
    assert report({"a": None}, {"a": None}) == "\n"


def test_bools_compare_by_value() -> None:
    assert report({"a": True}, {"a": False}) == "\na\n± value change\n- true\n+ false\n\n"


def test_multiline_text() -> None:
    out = report({"s": "one\ntwo\nthree\n"}, {"s": "one\n2\nthree\n"})
    assert out == "\ns\n± value change in multiline text (one insert, one deletion)\n- two\n+ 2\n\n\n"


def test_whitespace_only_change() -> None:
    out = report({"s": "a b"}, {"s": "a b "})
    assert out == "\ns\n± whitespace only change\n- a·b   + a·b·\n\n"


def test_list_of_scalars_added_removed_and_reordered() -> None:
    assert report({"l": ["a", "b", "c"]}, {"l": ["a", "b", "d"]}) == (
        "\nl\n- one list entry removed:   + one list entry added:\n- c" + " " * 27 + "- d\n\n"
    )
    assert report({"l": ["a", "b"]}, {"l": ["b", "a"]}) == "\nl\n⇆ order changed\n- a, b\n+ b, a\n\n"


def test_single_entry_lists_compare_in_place() -> None:
    assert report({"l": ["a"]}, {"l": ["b"]}) == "\nl.0\n± value change\n- a\n+ b\n\n"


def test_named_entries_added_with_name_first() -> None:
    live = {"c": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}
    merged = {"c": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}, {"name": "c", "image": "z"}]}
    assert report(live, merged) == "\nc\n+ one list entry added:\n  - name: c\n    image: z\n\n"


def test_named_entries_reordered() -> None:
    live = {"c": [{"name": "a"}, {"name": "b"}]}
    merged = {"c": [{"name": "b"}, {"name": "a"}]}
    assert report(live, merged) == "\nc\n⇆ order changed\n- a, b\n+ b, a\n\n"


def test_root_level_additions() -> None:
    assert report({"a": 1}, {"a": 1, "b": {"c": [1, 2]}}) == (
        "\n(root level)\n+ one map entry added:\n  b:\n    c:\n    - 1\n    - 2\n\n"
    )


def test_nothing_differs() -> None:
    assert dyff.compare(cm({"a": "1"}), cm({"a": "1"})) == []


def test_neat_quotes_like_dyff() -> None:
    node = dyff.to_node({"a": "-x", "b": "1.5", "c": "a b", "d": "plain", "e": "true", "f": "multi\nline"})
    dyff_report.restructure(node)
    assert dyff_report.neat(node) == 'a: "-x"\nb: "1.5"\nc: "a b"\nd: plain\ne: "true"\nf: |\n  multi\n  line\n'


def test_plural_words() -> None:
    assert dyff_report.plural(0, "insert") == "no inserts"
    assert dyff_report.plural(2, "map entry", "map entries") == "two map entries"
    assert dyff_report.plural(13, "line") == "13 lines"
