"""Re-export of `gotk.runtime.secrets` for the source reconcilers."""

from gotk.runtime.secrets import SecretError, optional_secret, secret_data

__all__ = ["SecretError", "optional_secret", "secret_data"]
