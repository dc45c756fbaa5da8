"""GitRepository sources: the reconciler (`reconciler`) with its include (`include`) and signature
verification (`verify`) steps; credentials from a Secret (`auth`), host-key and CA checks (`trust`),
Flux ref resolution (`refs`), and blocking ls-remote/checkout over pygit2 (`fetcher`).
"""
