"""The Git client every controller shares: credentials from a Secret (`auth`), host-key and CA checks
(`trust`), pygit2's callbacks (`callbacks`), Flux ref resolution (`refs`), commit signatures
(`signatures`), and blocking ls-remote, checkout and push over pygit2 (`fetcher`). Used by the
GitRepository reconciler and the image automation controller.
"""
