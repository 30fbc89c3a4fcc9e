"""The volume store (docs/format.md §10): packs, indexes, sessions and collection."""
