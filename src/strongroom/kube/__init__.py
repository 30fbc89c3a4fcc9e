"""Kubernetes access: the only layer that talks to an API server."""
