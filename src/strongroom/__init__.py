"""Strongroom: backup and migration of Kubernetes applications, encrypted on the client."""

__version__ = "0.1.0"
