"""Signature handling of gotk.runtime.git.signatures against the real gpg and ssh-keygen: detection,
tag splitting as git does it, PGP and SSH verification with Flux's error messages (no network,
no cluster; throwaway keys from gotk.testing.gitsign).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest

from gotk.local import gitrepos
from gotk.runtime.git import signatures
from gotk.runtime.git.signatures import SignedObject, VerificationFailed
from gotk.testing.gitsign import GpgKey, SshKey

PAYLOAD = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <a@b> 0 +0000\n\nmsg\n"


@pytest.fixture(scope="module")
def gpg_keys() -> Iterator[tuple[GpgKey, GpgKey]]:
    with GpgKey() as one, GpgKey() as two:
        yield one, two


@pytest.fixture(scope="module")
def ssh_keys() -> Iterator[tuple[SshKey, SshKey]]:
    with SshKey() as one, SshKey() as two:
        yield one, two


def test_signature_type() -> None:
    assert signatures.signature_type("") == "empty"
    assert signatures.signature_type("-----BEGIN PGP SIGNATURE-----\n...") == "openpgp"
    assert signatures.signature_type("\n-----BEGIN SSH SIGNATURE-----\n...") == "ssh"
    assert signatures.signature_type("-----BEGIN SIGNED MESSAGE-----") == "x509"
    assert signatures.signature_type("garbage") == "unknown"


def test_split_signed_tag_uses_the_last_signature_block() -> None:
    head = b"object abc\ntype commit\ntag v1\ntagger a <a@b> 0 +0000\n\n"
    body = b"release notes quoting\n-----BEGIN PGP SIGNATURE----- in the middle\nend\n"
    sig = b"-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n"
    assert signatures.split_signed_tag(head + body + sig) == (head + body, sig.decode())
    assert signatures.split_signed_tag(head + b"unsigned\n") == (head + b"unsigned\n", "")


def test_pgp_verification(gpg_keys: tuple[GpgKey, GpgKey]) -> None:
    one, two = gpg_keys
    signed = SignedObject("commit", one(PAYLOAD), PAYLOAD)
    assert signatures.verify(signed, [one.public_armor], []) == one.key_id
    assert signatures.verify(signed, ["not a key ring", two.public_armor, one.public_armor], []) == one.key_id
    with pytest.raises(VerificationFailed) as exc:
        signatures.verify(signed, [two.public_armor], [])
    assert str(exc.value) == (
        "unable to verify Git commit: unable to verify payload with any of the given key rings: no matching key"
    )
    with pytest.raises(VerificationFailed, match="no matching key"):
        signatures.verify(SignedObject("commit", signed.signature, PAYLOAD + b"tampered"), [one.public_armor], [])
    with pytest.raises(VerificationFailed) as exc:
        signatures.verify(signed, ["not a key ring"], [])
    assert (
        str(exc.value)
        == "unable to verify Git commit: unable to read armored key ring: no valid OpenPGP public key found"
    )
    with pytest.raises(VerificationFailed) as exc:
        signatures.verify(signed, [], [one.public_armor])
    assert str(exc.value) == "PGP signature detected but no PGP public keys found in secret (keys with .asc suffix)"


def test_ssh_verification(ssh_keys: tuple[SshKey, SshKey]) -> None:
    one, two = ssh_keys
    signed = SignedObject("tag", one(PAYLOAD), PAYLOAD)
    assert signatures.verify(signed, [], [one.public_line]) == one.fingerprint
    with_options = f'no-pty,command="/bin/false" {one.public_line}'
    assert signatures.verify(signed, [], [f"# comment\n{two.public_line}{with_options}"]) == one.fingerprint
    with pytest.raises(VerificationFailed) as exc:
        signatures.verify(signed, [], [two.public_line])
    assert str(exc.value) == (
        "unable to verify Git tag SSH signature: "
        "unable to verify payload with any of the given authorized keys: no matching key"
    )
    with pytest.raises(VerificationFailed, match="no matching key"):
        signatures.verify(SignedObject("tag", signed.signature, PAYLOAD + b"x"), [], [one.public_line])
    with pytest.raises(VerificationFailed, match="unable to parse authorized keys"):
        signatures.verify(signed, [], ["ssh-ed25519 !!!"])
    with pytest.raises(VerificationFailed, match="no SSH public keys found in secret"):
        signatures.verify(signed, ["ring"], [])


def test_ssh_signature_in_another_namespace_is_rejected(ssh_keys: tuple[SshKey, SshKey], tmp_path: Path) -> None:
    one, _ = ssh_keys
    args = ["ssh-keygen", "-Y", "sign", "-q", "-f", str(one.private_path), "-n", "file"]
    other_namespace = subprocess.run(args, input=PAYLOAD, capture_output=True, check=True).stdout.decode()
    with pytest.raises(VerificationFailed, match="no matching key"):
        signatures.verify(SignedObject("commit", other_namespace, PAYLOAD), [], [one.public_line])


def test_unsigned_and_unknown_signatures() -> None:
    with pytest.raises(VerificationFailed, match=r"^unsupported signature type: empty$"):
        signatures.verify(SignedObject("commit", "", PAYLOAD), ["ring"], ["key"])
    with pytest.raises(VerificationFailed, match=r"^unsupported signature type: x509$"):
        signatures.verify(SignedObject("commit", "-----BEGIN SIGNED MESSAGE-----\n", PAYLOAD), ["ring"], ["key"])


def test_signed_objects_built_by_gitrepos_verify_with_git(gpg_keys: tuple[GpgKey, GpgKey], tmp_path: Path) -> None:
    """The test fixtures sign exactly what git verifies (so the reconciler tests test the real thing)."""
    one, _ = gpg_keys
    repo = gitrepos.make_repo(tmp_path, "r.git", {"a": "1"})
    sha = gitrepos.commit(repo, {"a": "2"}, "signed", signer=one)
    gitrepos.tag(repo, "v1", sha, message="signed tag", signer=one)
    env = {"GNUPGHOME": str(one.home), "PATH": "/usr/bin:/bin"}
    for args in (["verify-commit", sha], ["verify-tag", "v1"]):
        subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)
    commit = pygit2.Repository(str(repo))[sha]
    assert isinstance(commit, pygit2.Commit)
    signature, payload = commit.gpg_signature
    assert signature is not None and payload is not None
    assert signatures.verify(SignedObject("commit", signature.decode(), payload), [one.public_armor], []) == one.key_id
