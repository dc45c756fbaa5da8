# ruff: noqa: E501 - the test vectors are kept whole, as Flux digested them
"""The config digest against Flux's own: each expected digest was computed by fluxcd/pkg/chartutil v1.27.1's
DigestValues (the module helm-controller v1.6.2 builds with) over the same values, decoded as Flux decodes them
(spec.values from JSON, valuesFrom from YAML through sigs.k8s.io/yaml)."""

from __future__ import annotations

import json

import pytest
import yaml

from gotk.helm import values as hv

CASES = [
    ("{}", None, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ('{"greeting": "hi"}', None, "sha256:ae8839059c92351fe42afe04f9a0d8884b5bbe4ac4a75bb4bd64095d038d050a"),
    (
        '{"b": 1, "a": {"z": [1, 2.5, "x", {"d": true, "c": null}], "y": "long string with spaces that goes on and on well past the eighty column limit of the emitter"}}',
        None,
        "sha256:c0a1d1cc496b1ba698a197b47bd516b8b811c778d8b67d51b7c59d062887b889",
    ),
    (
        '{"num": 3.0, "big": 9007199254740993, "neg": -12, "f": 1e-06, "e": 1.5e+300, "u": "héllo ✓ 日本"}',
        None,
        "sha256:8c5dd25fbb212966bcdb17e3bb75ffc0ade4fd8b8fb1b7a0e3d624938b7efa4f",
    ),
    (
        '{"s1": "true", "s2": "1.0", "s3": "null", "s4": "", "s5": "yes", "s6": "0x1F", "s7": "~", "s8": "a: b", "s9": "- x", "s10": "multi\\nline\\n"}',
        None,
        "sha256:b5cdfc72d303f1e7ccc261096d99231b11421c9d1e593ac3c4793bce5b29a946",
    ),
    (
        '{"B": 1, "a": 2, "a10": 3, "a2": 4, "_x": 5, "1": 6}',
        None,
        "sha256:142bf49cd25880623041a42151841d606d752d5c77df0a5c99ad3f11ef69252b",
    ),
    (
        '{"list": [], "map": {}, "nested": {"empty": {}, "l": [[1, 2], []]}}',
        None,
        "sha256:a47ff58eabfcbe284864e5b0ce1bb8653fdd99828582ccd9b1bb9a1a75bc20a9",
    ),
    (
        None,
        "image:\n  repository: stefanprodan/podinfo\n  tag: 5.0.0\nreplicaCount: 2\nresources:\n  limits: {cpu: 100m, memory: 128Mi}\nenabled: true\nratio: 0.5\n",
        "sha256:7384fa768802e571c055118d4b3704585cf627179d1f998d8251746f770a7139",
    ),
    (
        '{"date": "2024-01-01", "time": "2024-01-01T10:00:00Z", "octal": "0755", "inf": ".inf", "tab": "a\\tb", "quote": "it\'s \\"q\\""}',
        None,
        "sha256:95239a6b201b8211e16ede957f3fa9ae74e5dba34ce6613c2b2c4feaa615b0f4",
    ),
]


@pytest.mark.parametrize(("as_json", "as_yaml", "expected"), CASES)
def test_config_digest_is_fluxs(as_json: str | None, as_yaml: str | None, expected: str) -> None:
    values = json.loads(as_json) if as_json is not None else yaml.safe_load(as_yaml or "")
    assert hv.digest(values) == expected
