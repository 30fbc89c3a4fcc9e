"""Builders for archive tests: Kubernetes-like items, and an independent zstd frame splitter."""

from __future__ import annotations

import collections.abc
import datetime
import io
import json
import struct
import tarfile

import zstandard

from strongroom.archive import compress, writer

SKIPPABLE = range(0x184D2A50, 0x184D2A60)


def configmap(namespace: str, name: str, size: int = 1500) -> bytes:
    """A ConfigMap as an API server returns it, compact JSON of about ``size`` + 200 bytes."""
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": "0b5e2c4e-8f7a-4d0c-9a47-3a1f2d6c9e10",
            "resourceVersion": "123456",
            "creationTimestamp": "2026-11-29T12:00:00Z",
        },
        "data": {"config.yaml": "x" * size},
    }
    return json.dumps(body, separators=(",", ":")).encode()


def secret(namespace: str, name: str) -> bytes:
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque",
        "data": {"password": "c2VjcmV0LXZhbHVlLWZvci10ZXN0cw=="},
    }
    return json.dumps(body, separators=(",", ":")).encode()


def shop_items(count: int, *, every_secret: int = 10) -> collections.abc.Iterator[writer.Item]:
    """``count`` items lazily: ConfigMaps in 50 namespaces, every ``every_secret``-th a Secret."""
    for i in range(count):
        namespace = f"ns-{i % 50}"
        if every_secret and i % every_secret == 0:
            yield writer.Item("secrets", namespace, f"s-{i}", secret(namespace, f"s-{i}"), True)
        else:
            yield writer.Item("configmaps", namespace, f"cm-{i}", configmap(namespace, f"cm-{i}"))


def write(
    items: collections.abc.Iterable[writer.Item],
    *,
    frame_size: int = 1 << 20,
    mtime: datetime.datetime | int = 0,
) -> bytes:
    archive_writer = writer.ArchiveWriter(frame_size=frame_size, mtime=mtime)
    return b"".join(archive_writer.iter_bytes(items))


def split_frames(data: bytes) -> list[tuple[str, bytes]]:
    """The frames of ``data`` as ("zstd", content) or ("skippable", raw frame), using only
    libzstd's own notion of where a frame ends (not the code under test)."""
    dctx = zstandard.ZstdDecompressor()
    out: list[tuple[str, bytes]] = []
    while data:
        (magic,) = struct.unpack_from("<I", data)
        if magic in SKIPPABLE:
            (size,) = struct.unpack_from("<I", data, 4)
            out.append(("skippable", data[: 8 + size]))
            data = data[8 + size :]
            continue
        dobj = dctx.decompressobj()
        content = dobj.decompress(data)
        assert dobj.eof
        out.append(("zstd", content))
        data = dobj.unused_data
    return out


def tar_bytes(build: collections.abc.Callable[[tarfile.TarFile], None]) -> bytes:
    """A pax tar made by the standard library; ``build`` adds the members."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        build(tar)
    return buf.getvalue()


def add_file(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def compressed_tar(build: collections.abc.Callable[[tarfile.TarFile], None]) -> bytes:
    return compress.compress_document(tar_bytes(build))


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]
