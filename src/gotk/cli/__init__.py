"""The `flux` command line, with Flux's syntax and output."""
