"""`flux create image repository|policy|update` without a cluster.

--export against golden files: `image_update_flux2_*` are flux2's cmd/flux/testdata/create_image_update/
{no-signing,signing-default-gpg,signing-ssh}.yaml byte for byte (the cases of create_image_update_test.go),
the other `image_*` files are this project's, several from the commands of flux2's image_test.go and of
the commands' examples. The apply path runs against an in-memory client playing the API server and the
controller: its lines are flux2's testdata/image/create_image_{repository,policy}.golden. The validation
errors (one ✗ line, exit code 1 each) are collected in one golden file, as the other `create` tests do.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
import yaml

from gotk.cli import create_image
from gotk.cli.main import main
from gotk.testing.golden import assert_golden, export_output

GOLDEN = Path(__file__).parents[2] / "golden" / "cli" / "create"
REPO = ["create", "image", "repository", "podinfo", "--image=ghcr.io/stefanprodan/podinfo"]
POLICY = ["create", "image", "policy", "podinfo", "--image-ref=podinfo"]
UPDATE_FLUX2 = [
    "create",
    "image",
    "update",
    "flux-system",
    "--git-repo-ref=flux-system",
    "--checkout-branch=main",
    "--author-name=flux",
    "--author-email=flux@example.com",
]
UPDATE = [
    "create",
    "image",
    "update",
    "apps",
    "--git-repo-ref=flux-system",
    "--checkout-branch=main",
    "--author-name=flux",
    "--author-email=flux@example.com",
]
FLUX_NS = ["--namespace=flux-system"]

EXPORTS: dict[str, list[str]] = {
    # flux2 create_image_update_test.go
    "image_update_flux2_no_signing": [*UPDATE_FLUX2, "--interval=1m0s", *FLUX_NS],
    "image_update_flux2_signing_default_gpg": [
        *UPDATE_FLUX2,
        "--signing-key-secret=my-key",
        "--interval=1m0s",
        *FLUX_NS,
    ],
    "image_update_flux2_signing_ssh": [
        *UPDATE_FLUX2,
        "--signing-key-secret=my-deploy-key",
        "--signing-key-type=ssh",
        "--interval=1m0s",
        *FLUX_NS,
    ],
    # repository
    "image_repository_basic": [*REPO, "--interval=10m"],  # flux2 image_test.go
    "image_repository_docker_hub": [
        "create",
        "image",
        "repository",
        "alpine-repo",
        "--image",
        "alpine",
        "--interval",
        "20m",
    ],
    "image_repository_everything": [
        "create",
        "image",
        "repository",
        "app-repo",
        "--image=localhost:5000/private/app",
        "--secret-ref=image-pull",
        "--cert-ref=local-registry-cert",
        "--scan-timeout=90s",
        "--interval=5m",
        "--label=team=a,tier=ops",
        "-n",
        "apps",
    ],
    # policy
    "image_policy_semver_always": [
        *POLICY[:3],
        "podinfo-semver",
        *POLICY[4:],
        "--interval=10m",
        "--reflect-digest=Always",
        "--select-semver=5.0.x",
    ],
    "image_policy_semver_regex": [
        *POLICY[:3],
        "podinfo-regex",
        *POLICY[4:],
        "--select-semver=>4.0.0",
        "--filter-regex=5\\.0\\.0",
    ],
    "image_policy_numeric_extract": [
        *POLICY,
        "--select-numeric=asc",
        "--filter-regex=^main-[a-f0-9]+-(?P<ts>[0-9]+)",
        "--filter-extract=$ts",
    ],
    "image_policy_alpha_desc": [
        *POLICY,
        "--select-alpha=desc",
        "--filter-regex=^rc-(?<n>\\d+)",
        "--filter-extract=${n}$$",
        "--reflect-digest=IfNotPresent",
        "--label=app=podinfo",
    ],
    "image_policy_semver_and_alpha": [*POLICY, "--select-semver=1.x", "--select-alpha=bogus"],
    "image_policy_semver_and_numeric": [*POLICY, "--select-semver=1.x", "--select-numeric=asc"],
    # update
    "image_update_everything": [
        *UPDATE,
        "--namespace=apps",
        "--git-repo-namespace=flux-system",
        "--git-repo-path=./clusters/my-cluster",
        "--push-branch=image-updates",
        "--commit-template={{range .Updated.Images}}{{println .}}{{end}}",
        "--signing-key-secret=signing",
        "--signing-key-type=gpg",
        "--interval=30m",
        "--label=team=a",
    ],
}


@pytest.mark.parametrize("case", sorted(EXPORTS))
def test_export_golden(case: str) -> None:
    assert_golden(GOLDEN, f"{case}.golden", export_output(EXPORTS[case]))


def test_exports_read_back_as_the_objects() -> None:
    doc = yaml.safe_load(export_output(EXPORTS["image_policy_semver_regex"]))
    assert doc["spec"]["filterTags"] == {"pattern": "5\\.0\\.0", "extract": ""}  # both fields are required
    assert doc["spec"]["policy"] == {"semver": {"range": ">4.0.0"}}
    doc = yaml.safe_load(export_output(EXPORTS["image_policy_semver_and_alpha"]))
    assert doc["spec"]["policy"] == {}  # flux2's empty switch case
    doc = yaml.safe_load(export_output(EXPORTS["image_update_everything"]))
    assert doc["spec"]["update"] == {"path": "./clusters/my-cluster", "strategy": "Setters"}
    assert doc["spec"]["sourceRef"] == {"kind": "GitRepository", "name": "flux-system", "namespace": "flux-system"}
    assert doc["spec"]["git"]["push"] == {"branch": "image-updates"}
    doc = yaml.safe_load(export_output([*REPO, "--scan-timeout=-1s"]))
    assert doc["spec"]["timeout"] == "-1s"  # flux sets it whenever it is not zero


@pytest.mark.parametrize(
    "image",
    ["alpine", "library/alpine", "ghcr.io/org/app", "localhost:5000/app", "[::1]:5000/app", "my_registry.io:/a-b"],
)
def test_image_names_flux_accepts(image: str) -> None:
    assert create_image.repository_error(image) is None


@pytest.mark.parametrize(
    ("image", "error"),
    [
        ("a", "repository must be between 2 and 255 characters in length: a"),
        ("ghcr.io/a", "repository must be between 2 and 255 characters in length: a"),
        ("ghcr.io/", "repository must be between 2 and 255 characters in length: "),
        ("x" * 256, f"repository must be between 2 and 255 characters in length: {'x' * 256}"),
        (
            "alpine:3.20",
            "repository can only contain the characters `abcdefghijklmnopqrstuvwxyz0123456789_-./`: alpine:3.20",
        ),
        (
            "ghcr.io/Org/app",
            "repository can only contain the characters `abcdefghijklmnopqrstuvwxyz0123456789_-./`: Org/app",
        ),
        ("host:port/app", "registries must be valid RFC 3986 URI authorities: host:port"),
        ("user@ghcr.io/app", "registries must be valid RFC 3986 URI authorities: user@ghcr.io"),
        ("a%41.io/app", "registries must be valid RFC 3986 URI authorities: a%41.io"),
        ("a b.io/app", "registries must be valid RFC 3986 URI authorities: a b.io"),
        ("[::1/app", "registries must be valid RFC 3986 URI authorities: [::1"),
    ],
)
def test_image_names_flux_refuses(image: str, error: str) -> None:
    assert create_image.repository_error(image) == error


@pytest.mark.parametrize(
    ("pattern", "names"),
    [
        ("^main-[a-f0-9]+-(?P<ts>[0-9]+)", {"ts"}),
        ("(?<major>\\d+)\\.(?P<minor>\\d+)", {"major", "minor"}),
        ("[[:digit:]]+(?:x)", set()),
        ("[(?=]\\\\1", set()),  # inside a class, and an escaped backslash: literals
    ],
)
def test_capture_names(pattern: str, names: set[str]) -> None:
    assert create_image.capture_names(pattern) == names


@pytest.mark.parametrize(
    "pattern",
    ["(", "a**", "(?=x)", "(?!x)", "(?<=x)y", "(?<!x)y", "(?>x)", "(a)\\1", "a\\Z", "(?P<n>a)(?P=n)", "(?#comment)"],
)
def test_patterns_go_refuses(pattern: str) -> None:
    assert create_image.capture_names(pattern) is None


# -- validation errors -------------------------------------------------------------------------------

ERRORS: list[list[str]] = [
    ["create", "image", "repository"],
    ["create", "image", "repository", "Podinfo", "--image=alpine"],
    ["create", "image", "repository", "podinfo"],
    ["create", "image", "repository", "podinfo", "--image="],
    ["create", "image", "repository", "podinfo", "--image=ghcr.io/Org/app"],
    ["create", "image", "repository", "podinfo", "--image=alpine:3.20"],
    ["create", "image", "repository", "podinfo", "--image=host:port/app"],
    [*REPO, "--scan-timeout=soon"],
    [*REPO, "--interval=5"],
    [*REPO, "--label=team"],
    [*REPO, "--provider=aws"],
    ["create", "image", "policy"],
    ["create", "image", "policy", "podinfo"],
    ["create", "image", "policy", "podinfo", "--select-semver=1.x"],
    [*POLICY],
    [*POLICY, "--label=Bad Key=v"],  # labels are parsed before the policy
    [*POLICY, "--select-alpha=asc", "--select-numeric=asc"],
    [*POLICY, "--select-semver=1.x", "--select-alpha=asc", "--select-numeric=asc", "--filter-extract=$x"],
    [*POLICY, "--select-alpha=ascending"],
    [*POLICY, "--select-numeric=DESC"],
    [*POLICY, "--select-semver=1.x", "--filter-regex=(unclosed"],
    [*POLICY, "--select-semver=1.x", "--filter-regex=(?=lookahead)"],
    [*POLICY, "--select-semver=1.x", "--filter-regex=^(?P<ts>[0-9]+)", "--filter-extract=$"],
    [*POLICY, "--select-semver=1.x", "--filter-regex=^(?P<ts>[0-9]+)", "--filter-extract=${ts"],
    [*POLICY, "--select-semver=1.x", "--filter-regex=^(?P<ts>[0-9]+)", "--filter-extract=$time"],
    [*POLICY, "--select-semver=1.x", "--filter-regex=^(?P<ts>[0-9]+)", "--filter-extract=${01}"],
    [*POLICY, "--select-semver=1.x", "--filter-extract=$ts"],
    [*POLICY, "--select-semver=1.x", "--reflect-digest=always"],
    [*POLICY, "--select-semver=1.x", "--interval=10m"],
    [*POLICY, "--select-semver=1.x", "--interval=10m", "--reflect-digest=IfNotPresent"],
    [*POLICY, "--select-semver=1.x", "--interval=ten"],
    ["create", "image", "update"],
    ["create", "image", "update", "flux-system"],
    ["create", "image", "update", "flux-system", "--git-repo-ref=flux-system"],
    ["create", "image", "update", "flux-system", "--git-repo-ref=flux-system", "--checkout-branch=main"],
    [*UPDATE_FLUX2[:7]],
    # flux2 create_image_update_test.go
    [*UPDATE_FLUX2, "--signing-key-type=ssh", *FLUX_NS],
    [*UPDATE_FLUX2, "--signing-key-secret=k", "--signing-key-type=pgp", *FLUX_NS],
    [*UPDATE_FLUX2, "--label=a=b=c"],
    [*UPDATE_FLUX2, "--export=maybe"],
]


def flux_main(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    """`flux ARGS` through `main()`, as the installed command runs: (exit code, stdout, stderr)."""
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "argv", ["flux", *args])
        mp.setenv("KUBECONFIG", "/nonexistent")
        mp.setattr(sys, "stdin", io.StringIO(""))
        try:
            main()
            code = 0
        except SystemExit as exited:
            code = int(exited.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_validation_errors_golden(capsys: pytest.CaptureFixture[str]) -> None:
    report = []
    for args in ERRORS:
        code, out, err = flux_main(capsys, [*args, "--export"])
        assert (code, out) == (1, ""), args
        assert err.startswith("✗ ") and err.count("\n") == 1, args
        report.append(f"$ flux {' '.join(args)} --export\n{err}exit {code}\n")
    assert_golden(GOLDEN, "validation_errors_image.golden", "\n".join(report))
