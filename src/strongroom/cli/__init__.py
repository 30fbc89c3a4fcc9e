"""The command-line interface: one command per module."""
