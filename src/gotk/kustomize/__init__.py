"""The kustomize controller: Kustomization build, substitute, decrypt, staged apply, prune and health."""
