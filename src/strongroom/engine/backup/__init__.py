"""Backups: what to collect, collecting it, and storing it in a repository."""
