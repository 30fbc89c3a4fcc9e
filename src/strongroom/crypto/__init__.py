"""Strongroom's crypto layer (see docs/architecture.md)."""
