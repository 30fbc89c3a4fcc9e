"""Strongroom's archive layer (see docs/architecture.md)."""
