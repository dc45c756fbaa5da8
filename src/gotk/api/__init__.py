"""Typed models of every Flux kind gotk serves; the CRD YAML is generated from them."""
