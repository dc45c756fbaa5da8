"""OCI artifacts for the source controller and the `flux push|pull|list|tag artifact` commands.

`refs` and `auth` are pure (references, tag selection, registry credentials); `client` speaks the
registry v2 HTTP API and blocks, so async callers run it through `asyncio.to_thread`; `artifacts`
builds, pushes and pulls Flux-style artifacts on top of it; `cosign` verifies key-based signatures.
The OCIRepository reconciler (`reconciler`) reaches a registry through `remote`; `verify` reports
cosign verification in SourceVerified for it and for HelmCharts from OCI HelmRepositories.
"""
