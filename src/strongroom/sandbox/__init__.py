"""An emulated Kubernetes API server for tests and demos (docs/sandbox.md)."""
