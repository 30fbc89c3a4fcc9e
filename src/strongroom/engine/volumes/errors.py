"""The errors of volume trees, walks and restores, rooted in :mod:`strongroom.errors`.

::

    VolumeError (StrongroomError, exit 1)
    ├── RootError                            the folder to walk or restore into is not usable
    ├── EntryTooLarge                        an entry whose tree line would pass MAX_LINE
    ├── IncludeError (UsageError, 2)         an include path that is not a relative path
    └── TreeError (IntegrityError, 4)        a tree (§10.4) that is malformed, out of order,
                                             truncated, or asks to write outside the target

A tree is read after the age layer authenticated it, so a malformed one is a bug or a hostile
writer holding the snapshot's key: an integrity error, with a traceback under ``-v``. Its
messages name the line and the field concerned, never the field's value.

Problems with one file (unreadable, vanished, changed while read, not restorable as this user)
are not raised: they go to a :data:`Warn` callback, ``warn(path, message)`` with the entry's
relative path (``b""`` for the whole run), and the run ends PartiallyFailed.
"""

from __future__ import annotations

import collections.abc

from strongroom import errors

#: ``warn(relative path, message)``: one file or folder that is skipped or only partly handled.
Warn = collections.abc.Callable[[bytes, str], None]


class VolumeError(errors.StrongroomError):
    """Base of every error raised by :mod:`strongroom.engine.volumes`."""


class RootError(VolumeError):
    """The folder to walk, or to restore into, is missing, unreadable or not a folder."""


class EntryTooLarge(VolumeError):
    """An entry whose tree line would exceed the longest line a reader accepts."""


class IncludeError(VolumeError, errors.UsageError):
    """An include path that is empty, absolute, or has ``.``/``..``/empty components."""


class TreeError(VolumeError, errors.IntegrityError):
    """A tree that is malformed, out of order, truncated, or would escape the restore target."""
