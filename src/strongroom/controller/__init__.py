"""Strongroom's controller layer (see docs/architecture.md)."""
