"""Server-side apply of arbitrary manifests: plan (pure), apply in stages, prune, and health waits."""
