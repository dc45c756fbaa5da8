"""OCI artifacts for the source controller and the `flux push|pull|list|tag artifact` commands.

`artifacts` builds, pushes and pulls Flux-style artifacts over the shared registry client
(`gotk.runtime.oci`); `cosign` verifies key-based signatures. The OCIRepository reconciler (`reconciler`)
reaches a registry through `gotk.runtime.oci.remote`; `verify` reports cosign verification in
SourceVerified for it and for HelmCharts from OCI HelmRepositories.
"""
