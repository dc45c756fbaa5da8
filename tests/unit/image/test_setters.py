"""The Setters strategy (gotk.image.setters): only the marked values change, every other byte stays; kyaml's
markers (`:tag`, `:name`, `:digest`), quoting, anchors, multi-document files, kustomization `images:` and
HelmRelease values; markers naming no policy; files that are not YAML."""

from __future__ import annotations

import difflib
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gotk.image import setters
from gotk.image.setters import ObjectId

POLICY = {
    "metadata": {"name": "app", "namespace": "apps"},
    "status": {"latestRef": {"name": "ghcr.io/org/app", "tag": "1.2.4", "digest": "sha256:" + "a" * 64}},
}
VALUES = setters.setter_values([POLICY])

ODD = """\
# Deployment of the app; keep the comments!
apiVersion:   apps/v1
kind: Deployment
metadata:
    name: "app"     # quoted name
    namespace: apps
    labels: &labels
        tier:  'web'
spec:
    template:
        metadata: {labels: *labels}
        spec:
            containers:
                -   name: app
                    image: ghcr.io/org/app:1.2.3 # {"$imagepolicy": "apps:app"}
                -   name: sidecar
                    image: "ghcr.io/org/sidecar:0.1"   # not a marker
                    args: ["--tag", "1.2.3"]
            initContainers:
              - name: init
                image: 'ghcr.io/org/app:1.0.0'  # {"$imagepolicy": "apps:app:tag"}
"""


def test_only_the_marked_values_change() -> None:
    update = setters.update_text(ODD, VALUES)
    diff = [line for line in difflib.ndiff(ODD.splitlines(), update.text.splitlines()) if line[:1] in "+-"]
    assert diff == [
        '-                     image: ghcr.io/org/app:1.2.3 # {"$imagepolicy": "apps:app"}',
        f'+                     image: ghcr.io/org/app:1.2.4@sha256:{"a" * 64} # {{"$imagepolicy": "apps:app"}}',
        '-                 image: \'ghcr.io/org/app:1.0.0\'  # {"$imagepolicy": "apps:app:tag"}',
        '+                 image: \'1.2.4\'  # {"$imagepolicy": "apps:app:tag"}',
    ]
    oid = ObjectId("apps/v1", "Deployment", "app", "apps")
    assert [(c.old_value, c.new_value, c.setter) for c in update.changes[oid]] == [
        ("ghcr.io/org/app:1.2.3", f"ghcr.io/org/app:1.2.4@sha256:{'a' * 64}", "apps:app"),
        ("ghcr.io/org/app:1.0.0", "1.2.4", "apps:app:tag"),
    ]


def test_kustomization_images_and_helm_values() -> None:
    text = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
images:
  - name: app
    newName: ghcr.io/org/app # {"$imagepolicy": "apps:app:name"}
    newTag: 1.2.3 # {"$imagepolicy": "apps:app:tag"}
    digest: sha256:old # {"$imagepolicy": "apps:app:digest"}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: app, namespace: apps}
spec:
  values:
    image:
      repository: ghcr.io/org/app # {"$imagepolicy": "apps:app:name"}
      tag: "1.2" # {"$imagepolicy": "apps:app:tag"}
"""
    update = setters.update_text(text, VALUES)
    docs = list(yaml.safe_load_all(update.text))
    assert docs[0]["images"][0] == {
        "name": "app",
        "newName": "ghcr.io/org/app",
        "newTag": "1.2.4",
        "digest": "sha256:" + "a" * 64,
    }
    assert docs[1]["spec"]["values"]["image"]["tag"] == "1.2.4"
    assert '    newTag: 1.2.4 # {"$imagepolicy": "apps:app:tag"}' in update.text
    assert '      tag: "1.2.4" # {' in update.text  # the quotes it had are kept
    kinds = sorted(oid.kind for oid in update.changes)
    assert kinds == ["HelmRelease", "Kustomization"]


def test_plain_value_that_would_read_as_a_number_is_quoted() -> None:
    policy = {"metadata": {"name": "n", "namespace": "apps"}, "status": {"latestRef": {"name": "x", "tag": "20"}}}
    values = setters.setter_values([policy])
    update = setters.update_text('tag: v19 # {"$imagepolicy": "apps:n:tag"}\n', values)
    assert update.text == 'tag: "20" # {"$imagepolicy": "apps:n:tag"}\n'
    assert yaml.safe_load(update.text) == {"tag": "20"}


def test_missing_policy_changes_nothing_and_is_listed() -> None:
    text = 'image: ghcr.io/org/app:1.0 # {"$imagepolicy": "apps:gone"}\n'
    update = setters.update_text(text, VALUES)
    assert update.text == text and not update.changes and update.missing == ["apps:gone"]


def test_comment_that_is_not_only_the_marker_is_ignored() -> None:
    text = 'image: ghcr.io/org/app:1.0 # {"$imagepolicy": "apps:app"} and more\n'
    assert setters.update_text(text, VALUES).text == text


def test_crlf_and_unicode_are_kept() -> None:
    text = 'a: "héllo" # ✓\r\nimage: x:1 # {"$imagepolicy": "apps:app:tag"}\r\nb: ü\r\n'
    update = setters.update_text(text, VALUES)
    assert update.text == 'a: "héllo" # ✓\r\nimage: 1.2.4 # {"$imagepolicy": "apps:app:tag"}\r\nb: ü\r\n'


def test_update_tree_reads_yaml_files_under_path(tmp_path: Path) -> None:
    (tmp_path / "apps" / "deep" / "er").mkdir(parents=True)
    (tmp_path / "other").mkdir()
    marked = 'image: ghcr.io/org/app:1.0 # {"$imagepolicy": "apps:app"}\n'
    (tmp_path / "apps" / "deep" / "er" / "deploy.yaml").write_text(marked)
    (tmp_path / "apps" / "notes.txt").write_text(marked)
    (tmp_path / "apps" / "broken.yml").write_text('image: [x # {"$imagepolicy": "apps:app"}\n')
    (tmp_path / "other" / "deploy.yaml").write_text(marked)
    result = setters.update_tree(tmp_path, "./apps", VALUES)
    assert list(result.file_changes) == ["deep/er/deploy.yaml"]
    assert result.problem_files == ["broken.yml"]
    assert "1.2.4" in (tmp_path / "apps" / "deep" / "er" / "deploy.yaml").read_text()
    assert (tmp_path / "apps" / "notes.txt").read_text() == marked
    assert (tmp_path / "other" / "deploy.yaml").read_text() == marked


def test_update_path_may_not_leave_the_repository(tmp_path: Path) -> None:
    import pytest

    with pytest.raises(ValueError, match="outside the repository"):
        setters.update_tree(tmp_path, "../..", VALUES)


SCALAR = st.from_regex(r"[a-z][a-z0-9./:-]{0,15}", fullmatch=True).filter(
    lambda s: ": " not in s and not s.endswith(":")
)


@settings(max_examples=60)
@given(st.lists(st.tuples(SCALAR, st.booleans(), st.sampled_from(["", "'", '"'])), min_size=1, max_size=8))
def test_property_unmarked_lines_never_change(entries: list[tuple[str, bool, str]]) -> None:
    lines = []
    for i, (value, marked, quote) in enumerate(entries):
        comment = ' # {"$imagepolicy": "apps:app:tag"}' if marked else "  # plain comment"
        lines.append(f"k{i}:  {quote}{value}{quote}{comment}")
    text = "\n".join(lines) + "\n"
    update = setters.update_text(text, VALUES)
    before, after = text.splitlines(), update.text.splitlines()
    assert len(before) == len(after)
    data = yaml.safe_load(update.text)
    for i, ((_, marked, _), old, new) in enumerate(zip(entries, before, after, strict=True)):
        if not marked:
            assert old == new
        else:
            assert data[f"k{i}"] == "1.2.4"
            assert new.endswith(' # {"$imagepolicy": "apps:app:tag"}')


def test_every_document_of_a_long_file_is_read() -> None:
    docs = [f'kind: K{i}\nspec:\n  image: "a/b:0" # {{"$imagepolicy": "apps:app"}}\n' for i in range(30)]
    update = setters.update_text("---\n".join(docs), VALUES)
    assert len(update.changes) == 30  # node ids of a freed document are not mistaken for seen ones


FLUX_ORIGINAL = {
    "marked.yaml": """\
apiVersion: batch/v1beta1
kind: CronJob
metadata:
  name: foo
  namespace: bar
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: c
            image: image:v1.0.0 # {"$imagepolicy": "automation-ns:policy"}
          - name: d
            image: image:v1.0.0 # {"$imagepolicy": "automation-ns:unchanged"}
""",
    "kustomization.yml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
images:
  - name: container
    newName: replaced # {"$imagepolicy": "automation-ns:policy:name"}
    newTag: v1 # {"$imagepolicy": "automation-ns:policy:tag"}
    newDigest: sha256:1234567890abcdef # {"$imagepolicy": "automation-ns:policy-with-digest:digest"}
patches:
  - patch: |
      - op: replace
        value: x
    target:
      image: image # {"$imagepolicy": "automation-ns:policy-with-digest"}
""",
    "Kustomization": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
images:
  - name: container
    newName: replaced # {"$imagepolicy": "automation-ns:policy:name"}
""",
    "otherns.yaml": 'kind: Deployment\nimage: user:v1.0.0 # {"$imagepolicy": "other-namespace:policy"}\n',
    "unmarked.yaml": "kind: Deployment\nimage: image:v1.0.0\n",
}


def test_flux_setters_scenario(tmp_path: Path) -> None:
    """The scenario of Flux's own TestUpdateWithSetters: the same files change, with the same Result."""
    digest = "sha256:6745aaad46d795c9836632e1fb62f24b7e7f4c843144da8e47a5465c411a14be"

    def policy(name: str, image: str, tag: str, digest: str = "") -> dict[str, object]:
        ref = {"name": image, "tag": tag, **({"digest": digest} if digest else {})}
        return {"metadata": {"namespace": "automation-ns", "name": name}, "status": {"latestRef": ref}}

    values = setters.setter_values(
        [
            policy("policy", "index.repo.fake/updated", "v1.0.1"),
            policy("unchanged", "image", "v1.0.0"),
            policy("policy-with-digest", "image", "v1.0.0", digest),
        ]
    )
    for name, text in FLUX_ORIGINAL.items():
        (tmp_path / name).write_text(text)
    result = setters.update_tree(tmp_path, "", values)
    kustomization = ObjectId("kustomize.config.k8s.io/v1beta1", "Kustomization")
    changes = {
        f: {o: [(c.old_value, c.new_value, c.setter) for c in cs] for o, cs in objs.items()}
        for f, objs in result.file_changes.items()
    }
    assert changes == {
        "Kustomization": {kustomization: [("replaced", "index.repo.fake/updated", "automation-ns:policy:name")]},
        "kustomization.yml": {
            kustomization: [
                ("replaced", "index.repo.fake/updated", "automation-ns:policy:name"),
                ("v1", "v1.0.1", "automation-ns:policy:tag"),
                ("sha256:1234567890abcdef", digest, "automation-ns:policy-with-digest:digest"),
                ("image", f"image:v1.0.0@{digest}", "automation-ns:policy-with-digest"),
            ]
        },
        "marked.yaml": {
            ObjectId("batch/v1beta1", "CronJob", "foo", "bar"): [
                ("image:v1.0.0", "index.repo.fake/updated:v1.0.1", "automation-ns:policy")
            ]
        },
    }
    assert result.missing == ["otherns.yaml: other-namespace:policy"]
    assert (tmp_path / "unmarked.yaml").read_text() == FLUX_ORIGINAL["unmarked.yaml"]
    assert (tmp_path / "marked.yaml").read_text() == FLUX_ORIGINAL["marked.yaml"].replace(
        'image:v1.0.0 # {"$imagepolicy": "automation-ns:policy"}',
        'index.repo.fake/updated:v1.0.1 # {"$imagepolicy": "automation-ns:policy"}',
    )
