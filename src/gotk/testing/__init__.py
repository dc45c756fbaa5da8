"""Test and local-mode support: the real local control plane supervisor and test servers."""
