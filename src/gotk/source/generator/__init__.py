"""ArtifactGenerators (source.extensions.fluxcd.io/v1beta1, Flux's source-watcher): the reconciler
(`reconciler`), the copy operations that build an artifact's content (`build`) and `pathPattern` expansion
(`pattern`, pure). Generated artifacts are stored and served by the source controller like every other."""
