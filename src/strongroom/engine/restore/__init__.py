"""The restore engine: a backup's archive into a cluster, in Velero's order and manner.

``spec`` (what to restore) → ``planner`` (pure: which items, in which order) →
``restorer`` (creates them, handles existing objects, records results) with ``sanitize``
and the per-kind ``actions`` preparing each object.
"""
