"""gotk.helm.postrender: the post-rendering request, and Flux's digests of spec.postRenderers and
spec.commonMetadata. The expected digests were computed by encoding the same specs with Flux's own API types
(github.com/fluxcd/helm-controller/api v1.5.0) through Go's json.Encoder, as Flux's postrender.Digest does."""

from __future__ import annotations

from typing import Any

import pytest

from gotk.helm import postrender

FULL = {
    "postRenderers": [
        {
            "kustomize": {
                "patches": [
                    {
                        "patch": "- op: add\n  path: /spec/x\n  value: <a&b>",
                        "target": {"kind": "Deployment", "name": "app", "labelSelector": "x=y"},
                    }
                ],
                "images": [{"name": "nginx", "newTag": "1.2"}],
            }
        },
        {},
    ],
    "commonMetadata": {"labels": {"z": "1", "a": "2"}, "annotations": {"k": "v"}},
}
EMPTY_CM = "sha256:ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356"


@pytest.mark.parametrize(
    ("spec", "renderers", "common"),
    [
        (
            FULL,
            "sha256:f7f8f6f55e9d8328021e299775736d3dceafbad8c70f3d16b5b18ca4cca5c61a",
            "sha256:09a3e267c6b9e928f7eb2444b90e192a02784e8d7e20b7121711b8cc3042d7b8",
        ),
        (
            {"postRenderers": [], "commonMetadata": {}},
            "sha256:37517e5f3dc66819f61f5a7bb8ace1921282415f10551d2defa5c3eb0985b570",
            EMPTY_CM,
        ),
        (
            {"postRenderers": [{"kustomize": {}}], "commonMetadata": {"labels": {}}},
            "sha256:5efa0f3e99e15014d7dfb8469991b7d3ff11944a42b32fcbee97b5bea2c314df",
            EMPTY_CM,
        ),
        (
            {
                "postRenderers": [
                    {
                        "kustomize": {
                            "patches": [{"patch": "", "target": {}}],
                            "images": [{"name": "a", "newName": "b", "digest": "sha256:1"}],
                        }
                    }
                ]
            },
            "sha256:9d6489ae9b8104d531d433a97de1157e46486fa1ea8e12d51cf4b3b558f77f9c",
            "",
        ),
        ({}, "", ""),
    ],
)
def test_digests_match_fluxs(spec: dict[str, Any], renderers: str, common: str) -> None:
    obj = {"spec": spec}
    assert postrender.renderers_digest(obj) == renderers
    assert postrender.common_metadata_digest(obj) == common


def test_request_always_carries_the_origin_labels() -> None:
    obj = {"metadata": {"name": "app", "namespace": "apps"}, "spec": {"commonMetadata": {"labels": {"team": "a"}}}}
    assert postrender.request(obj) == {
        "postRenderers": [],
        "commonMetadata": {"labels": {"team": "a"}},
        "originLabels": {"helm.toolkit.fluxcd.io/name": "app", "helm.toolkit.fluxcd.io/namespace": "apps"},
    }
