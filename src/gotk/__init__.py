"""gotk: the Flux GitOps Toolkit rebuilt in Python, API-compatible with Flux."""

__all__ = ["__version__"]

__version__ = "0.1.0"
