"""GitRepository sources: the reconciler (`reconciler`) with its include (`include`) and signature
verification (`verify`) steps, over the shared Git client in `gotk.runtime.git`.
"""
