"""Volume data: walking a folder into a tree of entries, and placing a tree back on disk."""
