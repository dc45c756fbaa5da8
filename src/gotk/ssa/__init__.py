"""gotk.ssa."""
