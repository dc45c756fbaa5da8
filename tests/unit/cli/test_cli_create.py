"""`flux create … --export` without a cluster: every source, secret and kustomization variant against
golden files (the cases of flux2's create_*_test.go plus the flags they skip), the validation errors
(run as real processes: one ✗ line, exit code 1, collected in one golden file), SSH secrets with a
real sshd for the host key scan, and the key-pair helpers.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from gotk.cli.engines import gitsecret
from gotk.cli.main import main
from gotk.testing.gitserver import SshGitServer
from gotk.testing.golden import assert_golden, export_output

GOLDEN = Path(__file__).parents[2] / "golden" / "cli" / "create"
GIT = ["create", "source", "git", "podinfo", "--url=https://github.com/stefanprodan/podinfo"]
OCI = ["create", "source", "oci", "podinfo", "--url=oci://ghcr.io/stefanprodan/manifests/podinfo", "--tag=6.3.5"]
BUCKET = ["create", "source", "bucket", "podinfo", "--bucket-name=podinfo", "--endpoint=minio.minio:9000"]
KS = ["create", "kustomization", "podinfo", "--source=GitRepository/podinfo"]
HELM = ["create", "source", "helm", "podinfo", "--interval", "5m", "-n", "flux-system"]
CHART = ["create", "source", "chart", "podinfo", "--source", "helmrepository/podinfo", "--chart", "podinfo"]
CHART_FLUX2 = [*CHART, "--interval=0s", "-n", "flux-system"]  # flux2's tests run with a zero interval
HELM_SECRET = ["create", "secret", "helm", "helm-secret", "--namespace=my-namespace"]

EXPORTS: dict[str, list[str]] = {
    "source_git_branch": [*GIT, "--branch=test", "-n", "flux-system"],
    "source_git_commit": [*GIT, "--commit=c88a2f41"],
    "source_git_branch_commit": [*GIT, "--branch=main", "--commit=c88a2f41"],
    "source_git_refname": [*GIT, "--ref-name=refs/heads/main", "--tag=ignored"],
    "source_git_semver": [*GIT, "--tag-semver=>=3.2.0 <3.3.0", "--tag=ignored"],
    "source_git_tag": [*GIT, "--tag=6.3.5"],
    "source_git_provider_github": [*GIT, "--branch=test", "--provider", "github", "--secret-ref", "appinfo"],
    "source_git_everything": [
        *GIT,
        "--branch=main",
        "--interval=90s",
        "--fetch-timeout=2m",
        "--recurse-submodules=true",
        "--ignore-paths=.cosign,non-existent-dir/",
        "--sparse-checkout-paths=deploy",
        "--sparse-checkout-paths=charts",
        "--proxy-secret-ref=proxy",
        "--label=app=podinfo,tier=frontend",
        "--label",
        "example.com/owner=team-a",
        "--namespace=default",
    ],
    "source_oci": [*OCI, "--interval", "10m"],
    "source_oci_everything": [
        *OCI,
        "--tag-semver=6.x",
        "--digest=sha256:abc",
        "--provider=aws",
        "--secret-ref=creds",
        "--cert-ref=certs",
        "--service-account=puller",
        "--insecure",
        "--ignore-paths=*.md",
        "--fetch-timeout=30s",
        "--layer-selector=application/vnd.cncf.helm.chart.content.v1.tar+gzip:copy",
        "--verify-provider=cosign",
        "--verify-secret-ref=cosign-pub",
        "--verify-subject=^https://github.com/stefanprodan/podinfo.*$",
    ],
    "source_oci_issuer": [*OCI, "--verify-issuer=github", "--verify-provider=cosign"],
    "source_bucket": [*BUCKET, "--insecure=true", "--access-key=ak", "--secret-key=sk", "--interval=10m"],
    "source_bucket_aws": [*BUCKET, "--provider=aws", "--region=us-east-1", "--secret-ref=creds", "--label=a=b"],
    "source_helm_https": [*HELM, "--url=https://stefanprodan.github.io/charts/podinfo"],
    "source_helm_oci": [*HELM, "--url=oci://ghcr.io/stefanprodan/charts/podinfo"],
    "source_helm_oci_secret": [*HELM, "--url=oci://ghcr.io/stefanprodan/charts/podinfo", "--secret-ref=creds"],
    "source_helm_oci_provider": [*HELM, "--url=oci://ghcr.io/x/charts", "--oci-provider=aws", "--pass-credentials"],
    "source_helm_everything": [
        *HELM,
        "--url=https://charts.example.com/",
        "--secret-ref=helm-auth",
        "--pass-credentials=true",
        "--oci-provider=azure",
        "-u",
        "ignored",
        "--ca-file=/not/read/on/export",
        "--fetch-timeout=90s",
        "--label=app=podinfo",
    ],
    "source_chart_basic": CHART_FLUX2,
    "source_chart_verify_basic": [*CHART_FLUX2, "--verify-provider", "cosign"],
    "source_chart_verify_complete": [
        *CHART_FLUX2,
        "--verify-provider=cosign",
        "--verify-issuer=foo",
        "--verify-subject=bar",
    ],
    "source_chart_subject_only": [*CHART, "--verify-subject=bar"],  # flux2 drops it without complaint
    "source_chart_everything": [
        "create",
        "source",
        "chart",
        "podinfo",
        "--source=GitRepository/podinfo",
        "--chart=./charts/podinfo",
        "--chart-version=6.x",
        "--reconcile-strategy=Revision",
        "--verify-provider=cosign",
        "--verify-secret-ref=cosign-pub",
        "--fetch-timeout=1m",
        "--interval=10m",
        "--label=tier=backend",
    ],
    "secret_helm_basic": [*HELM_SECRET, "--username=my-username", "--password=my-password"],
    "secret_helm_empty": [*HELM_SECRET, "--label=team=a"],
    "kustomization": [*KS, "--path=./deploy", "--prune=true", "--interval=10m"],
    "kustomization_everything": [
        "create",
        "ks",
        "apps",
        "--source=OCIRepository/podinfo.flux-system",
        "--path=deploy/../../overlays/prod/",
        "--target-namespace=apps",
        "--depends-on=infra,flux-system/crds@dep.status.ready",
        "--health-check=Deployment/podinfo.apps",
        "--health-check=HelmRelease/redis.apps",
        "--health-check-timeout=3m",
        "--service-account=deployer",
        "--decryption-provider=sops",
        "--decryption-secret=sops-age",
        "--kubeconfig-secret-ref=remote",
        "--retry-interval=1m",
        "--label=tenant=a",
        "-n",
        "apps",
    ],
    "kustomization_wait": [*KS, "--wait", "--health-check=Deployment/ignored.apps", "--prune"],
    "kustomization_default_kind": ["create", "kustomization", "podinfo", "--source=podinfo"],
    "secret_git_basic": [
        "create",
        "secret",
        "git",
        "podinfo-auth",
        "--url=https://github.com/stefanprodan/podinfo",
        "--username=my-username",
        "--password=my-password",
        "--namespace=my-namespace",
    ],
    "secret_git_bearer": [
        "create",
        "secret",
        "git",
        "bearer-token-auth",
        "--url=https://github.com/x/y",
        "--bearer-token=ghp_baR2qnFF0O41",
        "--label=team=a",
    ],
}


run = export_output


@pytest.mark.parametrize("case", sorted(EXPORTS))
def test_export_golden(case: str) -> None:
    assert_golden(GOLDEN, f"{case}.golden", run(EXPORTS[case]))


def test_export_secret_git_ca(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    args = ["create", "secret", "git", "ca-crt", "--url=https://git.example.com/x", "-u", "u", "-p", "p"]
    assert_golden(GOLDEN, "secret_git_ca.golden", run([*args, f"--ca-crt-file={ca}"]))


def test_exports_are_the_objects_flux_builds() -> None:
    """The YAML reads back as the object; --export prints it before touching any cluster."""
    doc = yaml.safe_load(run([*GIT, "--branch=main", "--username=u", "--password=p"]))
    assert doc["spec"] == {"interval": "1m0s", "ref": {"branch": "main"}, "url": GIT[4].split("=", 1)[1]}
    assert "secretRef" not in doc["spec"]  # the credentials Secret is only made when applying


# -- validation errors -------------------------------------------------------------------------------

ERRORS: list[list[str]] = [
    ["create", "source", "git"],
    ["create", "source", "git", "Podinfo"],
    ["create", "source", "git", "p"],
    ["create", "source", "git", "podinfo"],
    ["create", "source", "git", "podinfo", "--url=git@github.com:org/repo", "--branch=main"],
    ["create", "source", "git", "podinfo", "--url=ftp://example.com/repo", "--branch=main"],
    [*GIT],
    ["create", "source", "git", "podinfo", "--url=ssh://git@github.com/org/repo", "--branch=main", "--ca-file=x"],
    [*GIT, "--branch=main", "--label=novalue"],
    [*GIT, "--branch=main", "--label=Bad/Key=v"],
    [*GIT, "--branch=main", "--label=key=bad value"],
    [*GIT, "--branch=main", "--interval=5"],
    [*GIT, "--branch=main", "--interval=1x"],
    [*GIT, "--branch=main", "--provider=dummy"],
    [*GIT, "--branch=main", "--provider="],
    [*GIT, "--branch=main", "--provider"],
    [*GIT, "--branch=main", "--recurse-submodules=maybe"],
    [*GIT, "--branch=main", "--ssh-key-algorithm=dsa"],
    [*GIT, "--branch=main", "--ssh-ecdsa-curve=p999"],
    [*GIT, "--branch=main", "--ssh-rsa-bits=1000"],
    [*GIT, "--branch=main", "--ssh-rsa-bits=1028"],
    [*GIT, "--branch=main", "--no-such-flag"],
    ["create", "source", "oci", "podinfo"],
    ["create", "source", "oci", "podinfo", "--url=oci://x/y"],
    [*OCI, "--verify-secret-ref=cosign-pub"],
    [*OCI, "--verify-subject=developer"],
    [*OCI, "--verify-provider=notation"],
    [*OCI, "--provider=azure2"],
    [*OCI, "--layer-selector=application/vnd.cncf.helm.chart.content.v1.tar+gzip"],
    [*OCI, "--layer-selector=application/vnd.cncf.helm.chart.content.v1.tar+gzip:move"],
    ["create", "source", "bucket", "podinfo"],
    ["create", "source", "bucket", "podinfo", "--bucket-name=b"],
    [*BUCKET, "--provider=minio"],
    ["create", "source", "helm"],
    ["create", "source", "helm", "podinfo"],
    ["create", "source", "helm", "podinfo", "--url=git://example.com/charts"],
    ["create", "source", "helm", "podinfo", "--url=https:///charts"],
    ["create", "source", "helm", "podinfo", "--url=:8080/charts"],
    ["create", "source", "helm", "podinfo", "--url=https://example.com", "--label=a=b=c"],
    ["create", "source", "chart", "--export"],
    ["create", "source", "chart", "podinfo"],
    ["create", "source", "chart", "podinfo", "--source", "helmrepository/podinfo"],
    ["create", "source", "chart", "podinfo", "--source", "foobar/podinfo"],
    ["create", "source", "chart", "podinfo", "--source", "podinfo"],
    ["create", "source", "chart", "podinfo", "--source="],
    [*CHART, "--verify-provider", "foobar"],
    [*CHART, "--verify-secret-ref=cosign-pub"],
    [*CHART, "--verify-issuer=foo"],
    [*CHART, "--label=Bad Key=v"],
    ["create", "kustomization", "podinfo", "--path=./deploy"],
    [*KS, "--source="],
    [*KS, "--source=HelmRepository/podinfo"],
    [*KS, "--source=GitRepository/"],
    [*KS, "--source=Bucket"],
    [*KS, "--health-check=Deployment"],
    [*KS, "--health-check=Service/podinfo.apps"],
    [*KS, "--health-check=Deployment/podinfo"],
    [*KS, "--decryption-provider=age"],
    [*KS, "--retry-interval=soon"],
    ["create", "secret", "git"],
    ["create", "secret", "git", "auth"],
    ["create", "secret", "git", "auth", "--url=https://github.com/x/y", "--username=u"],
    ["create", "secret", "git", "auth", "--url=https://github.com/x/y", "-u", "a", "-p", "z", "--bearer-token=t"],
    ["create", "secret", "git", "auth", "--url=https://github.com/x/y", "--bearer-token=t", "--ca-crt-file=/nope"],
    ["create", "secret", "git", "auth", "--url=file:///tmp/repo"],
    ["create", "secret", "git", "auth", "--url=ssh://git@github.com/x/y", "--private-key-file=/nope"],
    ["create", "secret", "helm"],
    ["create", "secret", "helm", "auth", "--username=u"],
    ["create", "secret", "helm", "auth", "--password=p"],
    ["create", "secret", "helm", "auth", "--ca-crt-file=/nope"],
    ["create", "secret", "helm", "auth", "--tls-crt-file=/nope"],
    ["create", "secret", "helm", "auth", "--tls-key-file=/nope"],
    ["create", "secret", "helm", "auth", "--cert-file=cert.pem"],
]


def flux(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "gotk.cli.main", *args]
    env = {**os.environ, "KUBECONFIG": "/nonexistent"}
    return subprocess.run(argv, input=stdin or "", capture_output=True, text=True, timeout=120, env=env, check=False)


def flux_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`main()` in this process, exactly as `python -m gotk.cli.main` runs it: (exit code, stdout, stderr)."""
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "argv", ["flux", *args])
        mp.setenv("KUBECONFIG", "/nonexistent")
        mp.setattr(sys, "stdin", io.StringIO(""))
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_validation_errors_golden(capsys: pytest.CaptureFixture[str]) -> None:
    report = []
    for args in ERRORS:
        code, out, err = flux_main(capsys, *args)
        assert out == "", args
        report.append(f"$ flux {' '.join(args)}\n{err}exit {code}\n")
    assert_golden(GOLDEN, "validation_errors.golden", "\n".join(report))


def test_a_real_process_prints_one_line() -> None:
    result = flux(*ERRORS[4])
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        '✗ git URL parse failed: parse "git@github.com:org/repo": first path segment in URL cannot contain colon\n'
    )


# -- SSH secrets ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshGitServer]:
    with SshGitServer(tmp_path_factory.mktemp("repos")) as server:
        yield server


def pkcs8(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey, password: str = "") -> bytes:
    """PKCS#8 PEM, or with a password the legacy encrypted PEM that Go's ssh package also reads."""
    encryption = serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    fmt = serialization.PrivateFormat.TraditionalOpenSSL if password else serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, fmt, encryption)


def test_export_secret_git_ssh_with_key_file(sshd: SshGitServer, tmp_path: Path) -> None:
    key = ec.derive_private_key(1234567890123, ec.SECP256R1())
    path = tmp_path / "identity"
    path.write_bytes(pkcs8(key))
    url = f"--url=ssh://git@127.0.0.1:{sshd.port}/org/repo"
    out = run(["create", "secret", "git", "podinfo-auth", url, f"--private-key-file={path}", "-n", "my-namespace"])
    host_line = f"'{sshd.known_hosts_line()}'"
    assert host_line in out
    assert_golden(GOLDEN, "secret_git_ssh.golden", out.replace(host_line, "'[127.0.0.1]:PORT ssh-ed25519 HOSTKEY'"))


def test_export_secret_git_ssh_generated_keys(sshd: SshGitServer, tmp_path: Path) -> None:
    url = f"--url=ssh://git@127.0.0.1:{sshd.port}/org/repo"
    for algorithm, prefix in (("ecdsa", "ecdsa-sha2-nistp384 "), ("ed25519", "ssh-ed25519 "), ("rsa", "ssh-rsa ")):
        doc = yaml.safe_load(run(["create", "secret", "git", "auth", url, f"--ssh-key-algorithm={algorithm}"]))
        data = doc["stringData"]
        assert sorted(data) == ["identity", "identity.pub", "known_hosts"]
        assert data["identity"].startswith("-----BEGIN PRIVATE KEY-----\n")
        assert data["identity.pub"].startswith(prefix) and data["identity.pub"].endswith("\n")
        assert data["known_hosts"] == sshd.known_hosts_line()
    doc = yaml.safe_load(run(["create", "secret", "git", "auth", url, "--ssh-ecdsa-curve=p521"]))
    assert doc["stringData"]["identity.pub"].startswith("ecdsa-sha2-nistp521 ")


def test_encrypted_key_needs_its_password(sshd: SshGitServer, tmp_path: Path) -> None:
    path = tmp_path / "identity"
    path.write_bytes(pkcs8(ec.generate_private_key(ec.SECP256R1()), password="s3cret"))
    url = f"--url=ssh://git@127.0.0.1:{sshd.port}/org/repo"
    result = flux("create", "secret", "git", "auth", url, f"--private-key-file={path}", "--export")
    assert (result.returncode, result.stderr) == (1, "✗ ssh: this private key is passphrase protected\n")
    doc = yaml.safe_load(run(["create", "secret", "git", "auth", url, f"--private-key-file={path}", "-p", "s3cret"]))
    assert doc["stringData"]["password"] == "s3cret"
    assert doc["stringData"]["identity"] == path.read_text()
    result = flux("create", "secret", "git", "auth", url, f"--private-key-file={path}", "-p", "wrong", "--export")
    assert (result.returncode, result.stderr) == (1, "✗ x509: decryption password incorrect\n")


def test_host_key_preference(monkeypatch: pytest.MonkeyPatch) -> None:
    """Of the keys a server offers, the one Go's SSH client negotiates: ECDSA, then RSA, then Ed25519."""
    offered = "h ssh-ed25519 ED\nh ssh-rsa RSA\nh ecdsa-sha2-nistp384 EC384\n"
    monkeypatch.setattr(gitsecret.socket, "create_connection", lambda *a, **k: _Closable())
    monkeypatch.setattr(
        gitsecret.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, stdout=offered, stderr="")
    )
    assert gitsecret.scan_host_key("github.com") == "github.com ecdsa-sha2-nistp384 EC384"
    assert gitsecret.scan_host_key("example.com:2222") == "[example.com]:2222 ecdsa-sha2-nistp384 EC384"


class _Closable:
    def close(self) -> None:
        pass


def test_unreachable_ssh_host_is_flux_error() -> None:
    result = flux("create", "secret", "git", "auth", "--url=ssh://git@127.0.0.1:1/x", "--export")
    assert result.returncode == 1
    assert re.fullmatch(
        r"✗ SSH key scan for host 127\.0\.0\.1:1 failed, error: dial tcp 127\.0\.0\.1:1: connect: .+\n",
        result.stderr,
    )
