"""gotk's Go library, `libgotkhelm.so` (tools/helmlib, built by `make setup` into `<GOTK_CACHE or
~/.cache/gotk>/bin`): one C function takes a JSON request and returns a JSON response. `GoLibrary.call` is
that raw call; the helm controller (`gotk.helm.lib`) builds Helm's actions on it, and the image automation
renders Go commit message templates with it (`commit_message`).

Calls block (the GIL is released) and may run concurrently: from asyncio use `asyncio.to_thread`. Do not
call the library in a child made by `os.fork()` after loading it (the Go runtime does not survive a fork).
"""

from __future__ import annotations

import ctypes
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["GoLibrary", "GoLibraryError", "GoLibraryNotFoundError", "default_library_path"]


def default_library_path() -> Path:
    """`<GOTK_CACHE or ~/.cache/gotk>/bin/libgotkhelm.so`."""
    return Path(os.environ.get("GOTK_CACHE", Path.home() / ".cache" / "gotk")) / "bin" / "libgotkhelm.so"


class GoLibraryNotFoundError(FileNotFoundError):
    """libgotkhelm.so has not been built."""


class GoLibraryError(RuntimeError):
    """The library answered a call with an error; `code` classifies it (empty when unclassified)."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class GoLibrary:
    """libgotkhelm.so (loading it again, in this or another instance, reuses the loaded library)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_library_path()
        if not self.path.is_file():
            raise GoLibraryNotFoundError(
                f"the Helm library is not at {self.path}: run `make setup` (scripts/build-controlplane.sh) to build it"
            )
        self._lib = ctypes.CDLL(str(self.path))
        self._lib.GotkHelmCall.argtypes = [ctypes.c_char_p]
        self._lib.GotkHelmCall.restype = ctypes.c_void_p
        self._lib.GotkHelmFree.argtypes = [ctypes.c_void_p]
        self._lib.GotkHelmFree.restype = None

    def call(self, request: Mapping[str, Any]) -> dict[str, Any] | None:
        """The raw call: the request and response JSON of tools/helmlib/main.go, as dicts (None: no answer)."""
        ptr = self._lib.GotkHelmCall(json.dumps(request).encode())
        if not ptr:
            return None
        try:
            raw = ctypes.string_at(ptr)
        finally:
            self._lib.GotkHelmFree(ptr)
        response: dict[str, Any] = json.loads(raw)
        return response

    def commit_message(self, template: str, data: Mapping[str, Any]) -> str:
        """Render an image update's commit message (Go text/template and sprig, tools/helmlib/message.go);
        raises `GoLibraryError` (code `removedTemplateField` for a field Flux removed)."""
        response = self.call({"action": "commitMessage", "template": template, "data": data})
        if response is None:
            raise GoLibraryError("the Go library returned no response")
        if not response.get("ok"):
            raise GoLibraryError(str(response.get("error") or "unknown error"), str(response.get("code") or ""))
        return str(response.get("info") or "")
