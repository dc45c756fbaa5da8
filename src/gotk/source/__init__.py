"""gotk.source: the source controller. Each kind's package holds its reconciler and what only it uses
(`git`, `oci`, `bucket`, `helm`); shared parts (the reconciler base, artifact storage and its HTTP server,
ignore rules, the controller registration) stay at this level.
"""
