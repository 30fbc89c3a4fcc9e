"""The patch formats the sandbox API server accepts, behind one import.

- ``application/merge-patch+json``: :func:`apply_merge_patch` (RFC 7386);
- ``application/json-patch+json``: :func:`apply_json_patch` (RFC 6902);
- ``application/strategic-merge-patch+json``: :func:`apply_strategic_merge_patch`, for
  built-in kinds only (:func:`supports_strategic`; custom resources answer 415);
- ``application/apply-patch+yaml``: :func:`server_side_apply`, and
  :func:`update_managed_fields` to record the writers of other requests.

Errors: :class:`PatchError` (a ``ValueError``; the server answers 422, or 400 for an unreadable
body) and its subclass :class:`ApplyConflict` (409 Conflict). No function mutates its inputs.
"""

from __future__ import annotations

from strongroom.sandbox import apply, jsonpatch, mergekeys, strategic

PatchError = jsonpatch.PatchError
ApplyConflict = jsonpatch.ApplyConflict
apply_merge_patch = jsonpatch.apply_merge_patch
create_merge_patch = jsonpatch.create_merge_patch
apply_json_patch = jsonpatch.apply_json_patch
apply_strategic_merge_patch = strategic.apply_strategic_merge_patch
supports_strategic = mergekeys.supports_strategic
server_side_apply = apply.server_side_apply
update_managed_fields = apply.update_managed_fields

__all__ = [
    "ApplyConflict",
    "PatchError",
    "apply_json_patch",
    "apply_merge_patch",
    "apply_strategic_merge_patch",
    "create_merge_patch",
    "server_side_apply",
    "supports_strategic",
    "update_managed_fields",
]
