"""Errors raised by the API client: a status code, the server's reason and its message."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A non-2xx answer from the API server (or a transport failure, with status 0)."""

    def __init__(self, status: int, reason: str, message: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.body = body or {}

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def conflict(self) -> bool:
        return self.status == 409

    @property
    def gone(self) -> bool:
        return self.status == 410

    @property
    def invalid(self) -> bool:
        return self.status == 422

    def __str__(self) -> str:
        return self.message or f"{self.status} {self.reason}"


class Unreachable(ApiError):
    """The API server could not be reached at all."""

    def __init__(self, server: str, cause: BaseException) -> None:
        super().__init__(0, "Unreachable", f"cannot reach the API server at {server}: {cause}")
        self.cause = cause


class ResourceNotFound(ApiError):
    """Discovery knows no resource for this apiVersion and kind (e.g. a CRD is not installed)."""

    def __init__(self, api_version: str, kind: str) -> None:
        super().__init__(404, "NoKindMatch", f'no matches for kind "{kind}" in version "{api_version}"')
