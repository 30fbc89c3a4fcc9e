"""Strongroom's engine layer (see docs/architecture.md)."""
