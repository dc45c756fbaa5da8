"""Kustomize builds may load files anywhere inside the artifact (as Flux allows) but nothing outside it."""

from pathlib import Path

import pytest

from gotk.kustomize import build


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: b\n"
PATCH = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: patched\n"


def test_patch_from_a_sibling_directory_builds(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "apps/prod/kustomization.yaml": "resources:\n- cm.yaml\npatches:\n- path: ../../patches/cm.yaml\n",
            "apps/prod/cm.yaml": CM,
            "patches/cm.yaml": PATCH,
        },
    )
    objects = build.build_sync(tmp_path, "./apps/prod", {}, no_remote_bases=False)
    assert objects[0]["data"] == {"a": "patched"}


@pytest.mark.parametrize("ref", ["/etc/hostname", "../../../../../../etc/hostname"])
def test_files_outside_the_artifact_are_refused(tmp_path: Path, ref: str) -> None:
    root = tmp_path / "artifact"
    write(
        root,
        {
            "app/kustomization.yaml": f"resources:\n- cm.yaml\nconfigMapGenerator:\n- name: x\n  files:\n  - {ref}\n",
            "app/cm.yaml": CM,
        },
    )
    with pytest.raises(build.BuildError, match="outside the source artifact"):
        build.build_sync(root, "./app", {}, no_remote_bases=False)


def test_inline_patches_are_not_paths(tmp_path: Path) -> None:
    patch = (
        "patches:\n- patch: |\n    - op: replace\n      path: /data/a\n      value: z\n  target:\n    kind: ConfigMap\n"
    )
    write(tmp_path, {"app/kustomization.yaml": "resources:\n- cm.yaml\n" + patch, "app/cm.yaml": CM})
    objects = build.build_sync(tmp_path, "./app", {}, no_remote_bases=False)
    assert objects[0]["data"] == {"a": "z"}
