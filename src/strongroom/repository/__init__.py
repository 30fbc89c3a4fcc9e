"""Strongroom's repository layer (see docs/architecture.md)."""
