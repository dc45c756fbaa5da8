"""gotk.kustomize."""
