"""Helm repositories and charts for the source controller: index handling and downloads."""
