"""gotk.image."""
