"""Helm sources: the HelmRepository (`repository_reconciler`) and HelmChart (`chart_reconciler`) reconcilers,
index handling (`index`), downloads (`http`, `oci`, `remote`) and chart packaging (`chart`).
"""
