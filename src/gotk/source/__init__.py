"""gotk.source."""
