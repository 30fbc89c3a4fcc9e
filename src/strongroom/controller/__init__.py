"""Strongroom's controller layer: planned (the in-cluster mode); empty for now, so that the
layer contract in pyproject.toml already holds a place for it (docs/architecture.md)."""
