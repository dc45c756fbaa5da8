"""Unit-test helpers shared across packages: a client that answers get() from a dict of objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gotk.kube.errors import ApiError
from gotk.kube.resources import Resource

Objects = dict[tuple[str, str, str], dict[str, Any]]


class GetClient:
    """Answers get() from a dict keyed by (kind, namespace, name), 404 otherwise, or always with `error`;
    counts the reads."""

    def __init__(self, objects: Objects, *, error: ApiError | None = None) -> None:
        self.objects, self.error, self.reads = objects, error, 0

    async def get(self, resource: Resource, name: str, namespace: str) -> dict[str, Any]:
        self.reads += 1
        if self.error is not None:
            raise self.error
        found = self.objects.get((resource.kind, namespace, name))
        if found is None:
            raise ApiError(404, "NotFound", f'{resource.plural} "{name}" not found')
        return found


@pytest.fixture
def get_client() -> Callable[..., GetClient]:
    """GetClient(objects, error=None), for code that reads Secrets and ConfigMaps."""
    return GetClient
