"""Reading artifacts as a consumer would in tests: download one over HTTP and list the files of a tar.gz."""

from __future__ import annotations

import io
import tarfile

import aiohttp


async def download(url: str) -> bytes:
    """The bytes served at `url` (raises on an HTTP error)."""
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        resp.raise_for_status()
        return await resp.read()


def tar_members(data: bytes) -> dict[str, bytes]:
    """The regular files of a tar.gz, by path."""
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            extracted = tar.extractfile(member) if member.isfile() else None
            if extracted is not None:
                out[member.name] = extracted.read()
    return out
