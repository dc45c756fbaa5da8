"""`flux build kustomization --dry-run` without a cluster: the generated kustomization.yaml (input order,
.sourceignore and --ignore-paths, nested kustomizations), the spec's build fields, inline postBuild
substitution, owner labels and flux's SOPS masking, compared with a golden file; plus the flag errors
and the pure helpers the build and diff share (Kustomization file lookup, masking, normalisation,
drift and Secret sanitising, inventory ids, the tree printer).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gotk.cli import tree
from gotk.cli.engines import kdiff, localbuild
from gotk.cli.main import cli
from gotk.cli.output import CommandError
from gotk.testing.golden import assert_golden

GOLDEN = Path(__file__).parents[2] / "golden" / "cli" / "build"
ENC = "ENC[AES256_GCM,data:cGxhaW4=,iv:aXY=,tag:dGFn,type:str]"
SOPS_META = f"""sops:
    age:
        - recipient: age1qqqq
          enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
            -----END AGE ENCRYPTED FILE-----
    lastmodified: "2026-01-01T00:00:00Z"
    mac: {ENC}
    version: 3.9.0
"""
FILES = {
    "deployment.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {region: "${region}", tier: "${tier:=frontend}"}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.0
        ports: [{containerPort: 8080, name: http}]
""",
    "a-service.yaml": """apiVersion: v1
kind: Service
metadata: {name: web, labels: {owner: "${owner}"}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
""",
    "secrets/basic-auth.yaml": f"""apiVersion: v1
kind: Secret
metadata: {{name: basic-auth}}
type: kubernetes.io/basic-auth
stringData:
    username: {ENC}
    password: {ENC}
{SOPS_META}""",
    "secrets/registry.yaml": f"""apiVersion: v1
kind: Secret
metadata: {{name: registry}}
type: kubernetes.io/dockerconfigjson
data:
    .dockerconfigjson: {ENC}
{SOPS_META}""",
    "secrets/plain.yaml": """apiVersion: v1
kind: Secret
metadata: {name: plain}
data:
  user: YWRtaW4=
""",
    "nested/kustomization.yaml": """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
configMapGenerator:
- name: settings
  literals:
  - mode=${mode}
  options: {labels: {kustomize.toolkit.fluxcd.io/substitute: disabled}}
secretGenerator:
- name: token
  files: [token=token.enc.json]
""",
    "nested/token.enc.json": json.dumps({"data": ENC, "sops": {"mac": ENC, "version": "3.9.0"}}, indent=4),
    "skipped/.sourceignore": "*.yaml\n",
    "skipped/excluded.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: excluded}\n",
    "README.md": "not a manifest\n",
    "z-flux.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: last}\ndata: {note: ignored by --ignore-paths}\n",
}
KUSTOMIZATION = """---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: other, namespace: flux-system}
spec: {interval: 1m, path: ./, prune: true, sourceRef: {kind: GitRepository, name: repo}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef: {kind: GitRepository, name: repo}
  targetNamespace: apps
  commonMetadata: {labels: {team: web}}
  images: [{name: nginx, newTag: "1.27"}]
  patches:
  - target: {kind: Service}
    patch: |
      - op: add
        path: /metadata/annotations
        value: {patched: "true"}
  postBuild:
    substitute: {region: eu-west-1}
    substituteFrom: [{kind: ConfigMap, name: cluster-vars}]
"""


@pytest.fixture
def app(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        path = tmp_path / "apps" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "ks.yaml").write_text(KUSTOMIZATION)
    return tmp_path


def flux(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_dry_run_build_matches_golden(app: Path) -> None:
    before = sorted(p.relative_to(app).as_posix() for p in app.rglob("*"))
    result = flux(
        "build", "ks", "apps", "--path", str(app / "apps"), "--kustomization-file", str(app / "ks.yaml"),
        "--dry-run", "--ignore-paths", "z-*.yaml",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert_golden(GOLDEN, "dry_run.golden", result.stdout)
    assert sorted(p.relative_to(app).as_posix() for p in app.rglob("*")) == before  # nothing written


def test_strict_substitution_fails_on_unset_variables(app: Path) -> None:
    message = "var substitution failed for 'web': envsubst error: variable substitution failed: variable not set"
    with pytest.raises(CommandError, match=message):
        flux(
            "build", "ks", "apps", "--path", str(app / "apps"), "--kustomization-file", str(app / "ks.yaml"),
            "--dry-run", "--strict-substitute", "--ignore-paths", "z-*.yaml",
        )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], 'invalid resource path ""'),
        (["--path", "/does/not/exist"], 'invalid resource path "/does/not/exist"'),
        (["--path", "."], "dry-run mode requires a kustomization file"),
        (["--path", ".", "--kustomization-file", "./nowhere/"], 'invalid kustomization file "./nowhere/"'),
    ],
)
def test_flag_errors(args: list[str], message: str) -> None:
    extra = ["--dry-run"] if "--path" in args and "--kustomization-file" not in args else []
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(".", r"\.")):
        flux("build", "kustomization", "apps", *args, *extra)


def test_kustomization_file_lookup(app: Path) -> None:
    found = localbuild.from_file(app / "ks.yaml", "apps", "flux-system")
    assert found["spec"]["targetNamespace"] == "apps"
    with pytest.raises(CommandError, match="failed find kustomization with name 'apps' and namespace 'other'"):
        localbuild.from_file(app / "ks.yaml", "apps", "other")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_masking_of_partially_encrypted_secrets() -> None:
    secret: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"enc": b64(f'{{"sops": 1, "data": "{ENC}"}}'), "plain": b64("hello")},
        "stringData": {"enc": f"sops {ENC}", "plain": "x"},
    }
    localbuild.mask_sops(secret)
    assert secret["data"] == {"enc": b64("**SOPS**"), "plain": b64("hello")}
    assert secret["stringData"] == {"enc": b64("**SOPS**"), "plain": "x"}


def test_normalize_folds_string_data_and_defaults_protocols() -> None:
    secret = {"kind": "Secret", "stringData": {"a": "b"}, "data": {"c": "ZA=="}, "status": {}}
    assert kdiff.normalize(secret) == {"kind": "Secret", "data": {"c": "ZA==", "a": "Yg=="}}
    svc = {"kind": "Service", "spec": {"ports": [{"port": 80}]}}
    assert kdiff.normalize(svc)["spec"]["ports"] == [{"port": 80, "protocol": "TCP"}]


def test_drift_ignores_bookkeeping_but_not_labels() -> None:
    live = {"metadata": {"resourceVersion": "1", "uid": "u", "labels": {}}, "data": {"a": "1"}, "status": {"x": 1}}
    dry = {"metadata": {"resourceVersion": "1", "uid": "u"}, "data": {"a": "1"}, "status": {"x": 2}}
    assert not kdiff.drifted(live, dry)
    assert kdiff.drifted(live, {**dry, "metadata": {"resourceVersion": "1", "labels": {"k": "v"}}})
    assert kdiff.drifted(live, {**dry, "data": {"a": "2"}})


def test_sanitize_masks_every_secret_value() -> None:
    live = {"data": {"same": "YQ==", "changed": "YQ==", "gone": "YQ=="}}
    dry = {"data": {"same": "YQ==", "changed": "Yg==", "new": "Yw=="}}
    kdiff.sanitize(live, dry)
    assert live["data"] == {"same": "***", "changed": "*** (before)", "gone": "***"}
    assert dry["data"] == {"same": "***", "changed": "*** (after)", "new": "***"}


def test_inventory_ids() -> None:
    assert kdiff.parse_id("apps_web_apps_Deployment") == ("apps", "web", "apps", "Deployment")
    assert kdiff.parse_id("_system__aggregate_rbac.authorization.k8s.io_ClusterRole")[1] == "system:aggregate"
    with pytest.raises(ValueError, match="unable to parse stored object metadata: web"):
        kdiff.parse_id("apps_web_Deployment")
    metas = [("", "a", "", "Namespace"), ("a", "z", "apps", "Deployment"), ("a", "b", "", "ConfigMap")]
    assert [m[1] for m in sorted(metas, key=kdiff.sort_key)] == ["a", "b", "z"]


def test_tree_printer() -> None:
    root = tree.Tree(("flux-system", "root", "kustomize.toolkit.fluxcd.io", "Kustomization"))
    child = root.add(("flux-system", "apps", "kustomize.toolkit.fluxcd.io", "Kustomization"))
    child.add(("", "apps", "", "Namespace"))
    child.add(("apps", "web", "apps", "Deployment"))
    root.add(("flux-system", "repo", "source.toolkit.fluxcd.io", "GitRepository"))
    assert root.render() == (
        "Kustomization/flux-system/root\n"
        "├── Kustomization/flux-system/apps\n"
        "│   ├── Namespace/apps\n"
        "│   └── Deployment/apps/web\n"
        "└── GitRepository/flux-system/repo\n"
    )
    assert root.to_dict()["resources"][1] == {
        "resource": {
            "Namespace": "flux-system",
            "Name": "repo",
            "GroupKind": {"Group": "source.toolkit.fluxcd.io", "Kind": "GitRepository"},
        }
    }
