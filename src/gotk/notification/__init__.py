"""gotk.notification."""
