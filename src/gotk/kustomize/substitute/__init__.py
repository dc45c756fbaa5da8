"""postBuild variable substitution, as Flux does it: the variables from `spec.postBuild` and its
`substituteFrom` ConfigMaps and Secrets (`variables`), substituted into each built object (`varsub`) with
drone/envsubst's `${var}` semantics (`envsubst`).
"""
