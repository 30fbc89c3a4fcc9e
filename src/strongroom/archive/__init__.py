"""Strongroom's archive layer: Kubernetes objects to a padded, compressed tar stream and back.

It knows nothing of encryption, storage or Kubernetes clients (docs/format.md §8):

- :mod:`~strongroom.archive.layout`: Velero's paths, ``resources/<gr>/...``, parsed strictly;
- :mod:`~strongroom.archive.padding`: Padmé lengths reached with zstd skippable frames;
- :mod:`~strongroom.archive.compress`: zstd documents and streams, strict bounded decoding;
- :mod:`~strongroom.archive.writer`: :class:`~strongroom.archive.writer.ArchiveWriter`, pull-based;
- :mod:`~strongroom.archive.reader`: :func:`~strongroom.archive.reader.iter_items`, streaming;
- :mod:`~strongroom.archive.errors`: the layer's exception tree.
"""
