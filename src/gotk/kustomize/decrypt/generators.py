"""SOPS-encrypted files that kustomize's secretGenerator reads (`envs`, `files`), decrypted before the build
as Flux does: kustomize parses a dotenv file itself, so its values cannot be decrypted afterwards.

`decrypt_generator_sources(tree, identities)` works on the build's private copy of the artifact and never
writes through a hard link. Without identities, an encrypted generator file is an error, never applied.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from gotk.kustomize.build import BuildError, kustomization_files
from gotk.kustomize.decrypt import sops


def _generator_sources(kustomization: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, relative path) of every file a secretGenerator reads: kind `envs` or `files`."""
    for gen in kustomization.get("secretGenerator") or []:
        for env in gen.get("envs") or ([gen["env"]] if gen.get("env") else []):
            yield "envs", str(env)
        for entry in gen.get("files") or []:
            text = str(entry)
            yield "files", text.split("=", 1)[1] if "=" in text else text


def decrypt_generator_sources(tree: Path, identities: Sequence[str]) -> None:
    """Decrypt, in place in `tree`, every SOPS-encrypted file a secretGenerator reads (blocking)."""
    root = tree.resolve()
    for kfile, doc in kustomization_files(tree):
        if not isinstance(doc, dict):
            continue
        for kind, rel in _generator_sources(doc):
            path = (kfile.parent / rel).resolve()
            if not path.is_relative_to(root) or not path.is_file():
                continue  # kustomize itself reports missing or out-of-tree files
            data = path.read_bytes()
            if sops.detect_format(data) is None:
                continue
            shown = path.relative_to(root)
            if not identities:
                raise BuildError(
                    f"secretGenerator file '{shown}' is SOPS encrypted, "
                    "configuring decryption is required for it to be reconciled"
                )
            fmt = "dotenv" if kind == "envs" else sops.format_for_path(str(path))
            try:
                plain = sops.decrypt_file(data, list(identities), input_format=fmt, verify_mac=False)
            except sops.SopsError as exc:
                raise BuildError(f"failed to decrypt secretGenerator file '{shown}': {exc}") from None
            path.unlink()  # a new inode: the cached artifact behind the hard link stays encrypted
            path.write_bytes(plain)
