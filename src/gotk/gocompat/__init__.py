"""Go-compatible formats: what Flux's Go code reads and writes, reproduced exactly (durations, and more).

The bottom of the layer order: it imports nothing from gotk, and every other part may use it.
"""
