"""GitRepository `spec.verify` end to end: commits and tags signed with real gpg and ssh-keygen keys,
served over smart HTTP, verified by the in-process source controller (SourceVerified, Flux's reasons
and messages, sourceVerificationMode), with the last good artifact kept when verification fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gotk.api import meta
from gotk.local import gitrepos
from gotk.runtime import conditions
from gotk.testing.gitsign import GpgKey, SshKey

pytestmark = pytest.mark.cluster

VERIFIED = "SourceVerified"


@pytest.fixture(scope="module")
def pgp() -> Iterator[tuple[GpgKey, GpgKey]]:
    with GpgKey("trusted <trusted@gotk.invalid>") as trusted, GpgKey("stranger <stranger@gotk.invalid>") as other:
        yield trusted, other


@pytest.fixture(scope="module")
def ssh_key() -> Iterator[SshKey]:
    with SshKey() as key:
        yield key


def verify(mode: str, secret: str = "signing-keys") -> dict[str, object]:
    return {"verify": {"mode": mode, "secretRef": {"name": secret}}}


async def test_pgp_head_verification(gitenv: Any, pgp: tuple[GpgKey, GpgKey]) -> None:
    trusted, stranger = pgp
    server = gitenv.http_server()
    repo = gitrepos.make_repo(server.root, "app.git", {"deploy/app.yaml": "kind: ConfigMap\n"})
    good = gitrepos.commit(repo, {"deploy/app.yaml": "kind: ConfigMap # signed\n"}, "signed", signer=trusted)
    await gitenv.secret("signing-keys", {"trusted.asc": trusted.public_armor})
    await gitenv.gitrepository("app", server.url_for("app.git"), **verify("HEAD"))

    obj = await gitenv.ready("app", f"main@sha1:{good}")
    condition = conditions.get(obj, VERIFIED)
    assert condition is not None and condition["status"] == "True" and condition["reason"] == meta.SUCCEEDED
    assert condition["message"] == f"verified signature of\n\t- commit '{good}' with key '{trusted.key_id}'"
    assert obj["status"]["sourceVerificationMode"] == "HEAD"
    kept = obj["status"]["artifact"]

    # an unsigned commit is refused: Ready=False, the last verified artifact stays served
    unsigned = gitrepos.commit(repo, {"deploy/app.yaml": "kind: ConfigMap # unsigned\n"}, "unsigned")
    token = await gitenv.request("app")
    obj = await gitenv.failed("app", reason="InvalidCommitSignature", after=token)
    message = f"signature verification of commit '{unsigned}' failed: unsupported signature type: empty"
    assert conditions.get_message(obj, VERIFIED) == message
    assert conditions.is_false(obj, VERIFIED) and conditions.get_message(obj, meta.READY) == message
    assert obj["status"]["artifact"] == kept
    assert (await gitenv.files(obj))["deploy/app.yaml"] == b"kind: ConfigMap # signed\n"

    # signed by a key the Secret does not hold: refused with Flux's "no matching key"
    forged = gitrepos.commit(repo, {"deploy/app.yaml": "kind: ConfigMap # forged\n"}, "forged", signer=stranger)
    token = await gitenv.request("app")
    obj = await gitenv.failed("app", reason="InvalidCommitSignature", after=token)
    assert conditions.get_message(obj, VERIFIED) == (
        f"signature verification of commit '{forged}' failed: unable to verify Git commit: "
        "unable to verify payload with any of the given key rings: no matching key"
    )
    assert obj["status"]["artifact"] == kept

    # once the Secret trusts that key too, the same commit verifies and becomes the artifact
    await gitenv.secret("signing-keys", {"trusted.asc": trusted.public_armor, "other.asc": stranger.public_armor})
    token = await gitenv.request("app")
    obj = await gitenv.ready("app", f"main@sha1:{forged}", after=token)
    assert conditions.get_message(obj, VERIFIED).endswith(f"with key '{stranger.key_id}'")

    # dropping spec.verify removes the condition and the observed mode, without a new clone
    await gitenv.patch_spec("app", {"verify": None})
    obj = await gitenv.ready("app", f"main@sha1:{forged}")
    assert conditions.get(obj, VERIFIED) is None
    assert "sourceVerificationMode" not in obj["status"]


async def test_ssh_tag_and_head_verification(gitenv: Any, ssh_key: SshKey, pgp: tuple[GpgKey, GpgKey]) -> None:
    trusted, _ = pgp
    server = gitenv.http_server()
    repo = gitrepos.make_repo(server.root, "rel.git", {"app.yaml": "v: 1\n"})
    head = gitrepos.commit(repo, {"app.yaml": "v: 2\n"}, "release 1.0", signer=ssh_key)
    tag = gitrepos.tag(repo, "v1.0.0", head, message="v1.0.0", signer=ssh_key)
    plain = gitrepos.tag(repo, "v1.0.1", head, message="not signed")
    # one Secret may hold both kinds of keys; each signature picks its own
    await gitenv.secret("signing-keys", {"dev.sshpub": ssh_key.public_line, "pgp.asc": trusted.public_armor})
    await gitenv.gitrepository("rel", server.url_for("rel.git"), ref={"tag": "v1.0.0"}, **verify("TagAndHEAD"))

    obj = await gitenv.ready("rel", f"v1.0.0@sha1:{head}")
    assert conditions.get_message(obj, VERIFIED) == (
        "verified signature of\n"
        f"\t- tag 'v1.0.0@{tag}' with key '{ssh_key.fingerprint}'\n"
        f"\t- commit '{head}' with key '{ssh_key.fingerprint}'"
    )
    assert obj["status"]["sourceVerificationMode"] == "TagAndHEAD"

    # an annotated tag without a signature cannot be verified (InvalidGitObject, retried)
    await gitenv.patch_spec("rel", {"ref": {"tag": "v1.0.1"}, **verify("Tag")})
    obj = await gitenv.failed("rel", reason="InvalidGitObject")
    assert (
        conditions.get_message(obj, VERIFIED)
        == f"cannot verify signature of tag 'v1.0.1@{plain}' since it is not signed"
    )

    # verifying a tag needs a tag reference: a branch stalls until the spec changes
    await gitenv.patch_spec("rel", {"ref": {"tag": None, "branch": "main"}})
    obj = await gitenv.failed("rel", reason="InvalidVerificationMode")
    assert conditions.is_stalled(obj)

    # lower-case `head` is HEAD; the keys Secret must exist (VerificationError otherwise)
    await gitenv.patch_spec("rel", verify("head", secret="missing"))
    obj = await gitenv.failed("rel", reason="VerificationError")
    assert conditions.get_message(obj, VERIFIED).startswith("public keys secret error: ")
    await gitenv.patch_spec("rel", verify("head"))
    obj = await gitenv.ready("rel", f"main@sha1:{head}")
    assert obj["status"]["sourceVerificationMode"] == "HEAD"
    assert conditions.get_message(obj, VERIFIED) == (
        f"verified signature of\n\t- commit '{head}' with key '{ssh_key.fingerprint}'"
    )
