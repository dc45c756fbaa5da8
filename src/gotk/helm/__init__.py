"""gotk.helm."""
