"""Restore item actions: one module per kind, registered by group-resource (see ``base``)."""
