"""The CLI's engines: pure logic behind the commands, with no click in it.

Manifest generation (`manifest`, `install_manifests`, the Secret generators `gitsecret` and `helmsecret`),
local builds (`localbuild`, what `flux build|diff kustomization` render) and the diff renderers (`kdiff`, `dyff`,
`dyff_report`). The click commands stay flat in `gotk.cli`, one module per verb, as Flux's `cmd/flux` is.
"""
