"""The storage layer: object storage backends behind five verbs."""
