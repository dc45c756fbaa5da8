"""Errors raised by `gotk.runtime.git`: every message is safe to put in a condition or a log
(URLs carry no userinfo, secret values are scrubbed). The reconciler maps `auth_failed` to the
AuthenticationFailed reason and everything else to GitOperationFailed.
"""

from __future__ import annotations

CHECKOUT_FAILED = "failed to checkout and determine revision"


class GitError(Exception):
    """A Git operation failed; `auth_failed` marks rejected or missing credentials (401/403,
    SSH public key refused, untrusted host key or certificate)."""

    def __init__(self, message: str, *, auth_failed: bool = False, timed_out: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.auth_failed = auth_failed
        self.timed_out = timed_out

    def __str__(self) -> str:
        return self.message


class AuthConfigError(GitError):
    """The Secret's data does not make a valid credential for the URL (Flux's
    `failed to configure authentication options: ...`)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, auth_failed=True)


class RefNotFoundError(GitError):
    """The requested branch, tag, ref name, commit or semver range has no match on the remote."""

    def __init__(self, message: str, *, ref: str) -> None:
        super().__init__(message)
        self.ref = ref
