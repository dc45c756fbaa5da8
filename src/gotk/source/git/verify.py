"""GitRepository `spec.verify`: which Git objects to verify (mode HEAD/head, Tag, TagAndHEAD),
the trusted keys from the referenced Secret (`*.asc` PGP key rings, `*.sshpub` SSH keys; other
keys count as PGP key rings, as in Flux), and the SourceVerified condition with Flux's reasons
and messages. Called by `gotk.source.git.reconciler` after a checkout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from gotk.api import meta
from gotk.api import source_conditions as sc
from gotk.runtime import conditions
from gotk.runtime.git import signatures
from gotk.runtime.git.fetcher import CommitInfo
from gotk.runtime.reconciler import Request
from gotk.runtime.results import GenericError, StallingError
from gotk.runtime.secrets import SecretError, secret_data

__all__ = [
    "MODE_HEAD",
    "MODE_TAG",
    "MODE_TAG_AND_HEAD",
    "clear",
    "mode_of",
    "requires_verification",
    "split_keys",
    "verify_commit",
]

Obj = dict[str, Any]
MODE_HEAD = "HEAD"
MODE_TAG = "Tag"
MODE_TAG_AND_HEAD = "TagAndHEAD"
PGP_SUFFIX = ".asc"
SSH_SUFFIX = ".sshpub"


def mode_of(spec: Mapping[str, Any]) -> str | None:
    """The effective verification mode (`head` and unknown values mean HEAD), None without verify."""
    verify = spec.get("verify")
    if not verify or not verify.get("mode"):
        return None
    mode = str(verify["mode"])
    return mode if mode in (MODE_HEAD, MODE_TAG, MODE_TAG_AND_HEAD) else MODE_HEAD


def requires_verification(obj: Obj) -> bool:
    """Flux's rule: verification is configured and the stored artifact was not verified in a mode
    covering the objects the current mode asks for (so a no-change reconcile must check out)."""
    mode = mode_of(obj.get("spec") or {})
    if mode is None:
        return False
    observed = (obj.get("status") or {}).get("sourceVerificationMode")
    if observed is None:
        return True
    wants_head = mode in (MODE_HEAD, MODE_TAG_AND_HEAD)
    wants_tag = mode in (MODE_TAG, MODE_TAG_AND_HEAD)
    return (observed == MODE_TAG and wants_head) or (observed == MODE_HEAD and wants_tag)


def clear(req: Request[Any]) -> None:
    """No verification configured: drop the condition and the observed mode."""
    req.status.pop("sourceVerificationMode", None)
    conditions.delete(req.obj, sc.SOURCE_VERIFIED)


def split_keys(data: Mapping[str, bytes]) -> tuple[list[str], list[str]]:
    """(PGP key rings, SSH authorized keys) of a verification Secret, in key order."""
    keyrings: list[str] = []
    authorized: list[str] = []
    for key in sorted(data):
        text = data[key].decode("utf-8", "replace")
        (authorized if key.endswith(SSH_SUFFIX) else keyrings).append(text)
    return keyrings, authorized


def _fail(req: Request[Any], reason: str, message: str, *, stalling: bool = False) -> GenericError | StallingError:
    conditions.mark_false(req.obj, sc.SOURCE_VERIFIED, reason, message)
    return StallingError(reason, message) if stalling else GenericError(reason, message)


async def verify_commit(req: Request[Any], commit: CommitInfo) -> None:
    """Verify the checked-out commit and/or its tag as `spec.verify` asks; mark SourceVerified.

    Raises a `GenericError` (retry with backoff) when the keys cannot be read or a signature does
    not verify, a `StallingError` when a tag must be verified but the ref is not a tag.
    """
    mode = mode_of(req.spec)
    if mode is None:
        clear(req)
        return
    ref = (req.spec.get("verify") or {}).get("secretRef") or {}
    try:
        data = await secret_data(req.client, req.namespace, str(ref.get("name") or ""), field="spec.verify.secretRef")
    except SecretError as exc:
        raise _fail(req, sc.VERIFICATION_ERROR, f"public keys secret error: {exc}") from None
    keyrings, authorized = split_keys(data)
    lines: list[str] = []
    if mode in (MODE_TAG, MODE_TAG_AND_HEAD):
        tag = commit.tag
        if tag is None:
            message = "cannot verify tag object's signature if a tag reference is not specified"
            raise _fail(req, "InvalidVerificationMode", message, stalling=True)
        if not tag.signed.signature:
            message = f"cannot verify signature of tag '{tag}' since it is not signed"
            raise _fail(req, "InvalidGitObject", message)
        try:
            key = await asyncio.to_thread(signatures.verify, tag.signed, keyrings, authorized)
        except signatures.VerificationFailed as exc:
            message = f"signature verification of tag '{tag}' failed: {exc}"
            raise _fail(req, "InvalidTagSignature", message) from None
        lines.append(f"tag '{tag}' with key '{key}'")
    if mode in (MODE_HEAD, MODE_TAG_AND_HEAD):
        try:
            key = await asyncio.to_thread(signatures.verify, commit.signed, keyrings, authorized)
        except signatures.VerificationFailed as exc:
            message = f"signature verification of commit '{commit.sha}' failed: {exc}"
            raise _fail(req, "InvalidCommitSignature", message) from None
        lines.append(f"commit '{commit.sha}' with key '{key}'")
    message = "verified signature of" + "".join(f"\n\t- {line}" for line in lines)
    req.status["sourceVerificationMode"] = mode
    conditions.mark_true(req.obj, sc.SOURCE_VERIFIED, meta.SUCCEEDED, message)
    req.log.info("%s", message.replace("\n\t", " "))
