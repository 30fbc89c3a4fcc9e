"""A backend on S3 or an S3-compatible server; the only module that imports boto3/botocore.

Object ``n`` is the key ``<prefix>/n`` in the bucket. Create-only puts use conditional writes:
``PutObject`` and ``CompleteMultipartUpload`` carry ``If-None-Match: *``, which the server
answers with 412 Precondition Failed when the key exists (AWS since 2024, SeaweedFS, MinIO).
Objects larger than one part, or streams, go up in parts of :data:`PART_SIZE` bytes; a failed
multipart upload is aborted. boto3's own retries are off (the ``retry`` wrapper owns retrying)
and timeouts are short, so a dead endpoint fails within seconds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import io
import typing
from collections import abc
from typing import Any

import boto3
import botocore.config
import botocore.exceptions

from strongroom import clock
from strongroom.storage import base, errors, names, s3config, streams

if typing.TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

PART_SIZE = 8 * 1024 * 1024
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 30.0
_DENIED = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "AllAccessDisabled",
    "AccountProblem",
}
_TRANSIENT = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestTimeout",
    "ServiceUnavailable",
    "InternalError",
}
_CLIENT_ERRORS = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
_NO_CREDENTIALS = (
    botocore.exceptions.NoCredentialsError,
    botocore.exceptions.PartialCredentialsError,
)
_STREAM_ERRORS = (botocore.exceptions.HTTPClientError, botocore.exceptions.IncompleteReadError)


@dataclasses.dataclass(frozen=True)
class Credentials:
    """An explicit access key pair, for callers that do not use the standard AWS chain."""

    access_key: str
    secret_key: str = dataclasses.field(repr=False)
    session_token: str | None = dataclasses.field(default=None, repr=False)


def _client_error(exc: botocore.exceptions.ClientError, what: str) -> errors.StorageError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    if code == "NoSuchBucket":
        return errors.BucketNotFound(f"{what}: bucket not found")
    if code in ("NoSuchKey", "NotFound") or status == 404:
        return errors.ObjectNotFound(f"{what}: not found")
    if code == "PreconditionFailed" or status == 412:
        return errors.ObjectExists(f"{what}: the name is taken")
    if code in _DENIED or status == 403:
        return errors.StoragePermissionDenied(f"{what}: access denied ({code or status})")
    if code == "InvalidRange" or status == 416:
        return errors.ShortReadError(f"{what}: range not satisfiable")
    if code in _TRANSIENT or status >= 500 or status == 429:
        return errors.TransientStorageError(f"{what}: server answered {code or status}")
    return errors.StorageError(f"{what}: server answered {code or status}")


def translate(exc: Exception, what: str) -> errors.StorageError:
    """The storage error for a boto3/botocore exception; ``what`` names the call and target."""
    if isinstance(exc, botocore.exceptions.ClientError):
        return _client_error(exc, what)
    if isinstance(
        exc, botocore.exceptions.NoCredentialsError | botocore.exceptions.PartialCredentialsError
    ):
        return errors.StoragePermissionDenied(f"{what}: no usable S3 credentials found")
    if isinstance(exc, botocore.exceptions.ProfileNotFound):
        return errors.StorageUsageError(f"{what}: AWS profile not found")
    if isinstance(exc, botocore.exceptions.ConnectionError):
        return errors.StorageUnreachable(f"{what}: endpoint unreachable ({type(exc).__name__})")
    if isinstance(
        exc, botocore.exceptions.HTTPClientError | botocore.exceptions.IncompleteReadError
    ):
        return errors.TransientStorageError(f"{what}: connection failed ({type(exc).__name__})")
    return errors.StorageError(f"{what}: {type(exc).__name__}")


def _make_client(settings: s3config.S3Settings, credentials: Credentials | None) -> S3Client:
    try:
        session = boto3.session.Session(
            profile_name=settings.profile,
            aws_access_key_id=credentials.access_key if credentials else None,
            aws_secret_access_key=credentials.secret_key if credentials else None,
            aws_session_token=credentials.session_token if credentials else None,
        )
    except botocore.exceptions.ProfileNotFound as exc:
        raise errors.StorageUsageError(
            f"config key profile: AWS profile {settings.profile!r} not found"
        ) from exc
    config = botocore.config.Config(
        region_name=settings.region,
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"total_max_attempts": 1, "mode": "standard"},
        s3={"addressing_style": "path" if settings.path_style else "auto"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return session.client(
        "s3", endpoint_url=settings.endpoint_url, verify=settings.verify_tls, config=config
    )


class S3Backend:
    """Objects under ``settings.prefix`` in ``settings.bucket``; see the module docstring."""

    def __init__(
        self,
        settings: s3config.S3Settings,
        *,
        credentials: Credentials | None = None,
        part_size: int = PART_SIZE,
    ) -> None:
        self.settings = settings
        self.part_size = part_size
        self._client = _make_client(settings, credentials)
        self._root = f"{settings.prefix}/" if settings.prefix else ""
        self._versioning: bool | None = None

    @property
    def location(self) -> str:
        return self.settings.location

    def _key(self, name: str) -> str:
        return self._root + names.check(name)

    @contextlib.contextmanager
    def _translating(self, what: str) -> abc.Iterator[None]:
        try:
            yield
        except _CLIENT_ERRORS as exc:
            raise translate(exc, f"{what} in {self.location}") from exc

    def put(self, name: str, data: base.Data) -> None:
        key = self._key(name)
        if isinstance(data, bytes) and len(data) < self.part_size:
            self._put_single(name, key, data)
            return
        source: base.Readable = io.BytesIO(data) if isinstance(data, bytes) else data
        parts = _parts(source, self.part_size)
        first = next(parts)
        if len(first) < self.part_size:
            self._put_single(name, key, first)
            return
        if self._exists(name):
            raise errors.ObjectExists(f"put {name} in {self.location}: the name is taken")
        holder = [first]
        del first  # no reference may outlive its upload: one part in memory at a time
        self._put_multipart(name, key, _prepend(holder, parts))

    def _lock(self, name: str) -> dict[str, Any]:
        """Object-lock arguments for ``name`` when the location retains it, else none."""
        retention = self.settings.retention
        if retention is None or not retention.applies(name):
            return {}
        until = clock.SystemClock().now() + datetime.timedelta(days=retention.days)
        return {"ObjectLockMode": retention.mode, "ObjectLockRetainUntilDate": until}

    def _put_single(self, name: str, key: str, body: bytes | bytearray) -> None:
        with self._translating(f"put {name}"):
            self._client.put_object(
                Bucket=self.settings.bucket,
                Key=key,
                Body=_blob(body),
                IfNoneMatch="*",
                **self._lock(name),
            )

    def _exists(self, name: str) -> bool:
        try:
            self.stat(name)
        except errors.ObjectNotFound:
            return False
        return True

    def _put_multipart(self, name: str, key: str, parts: abc.Iterator[bytearray]) -> None:
        bucket = self.settings.bucket
        with self._translating(f"put {name}"):
            upload = self._client.create_multipart_upload(
                Bucket=bucket, Key=key, **self._lock(name)
            )["UploadId"]
            try:
                done = self._upload_parts(key, upload, parts)
                self._client.complete_multipart_upload(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload,
                    MultipartUpload={"Parts": done},
                    IfNoneMatch="*",
                )
            except BaseException:
                with contextlib.suppress(*_CLIENT_ERRORS):
                    self._client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload)
                raise

    def _upload_parts(
        self, key: str, upload: str, parts: abc.Iterator[bytearray]
    ) -> list[CompletedPartTypeDef]:
        done: list[CompletedPartTypeDef] = []
        # Not enumerate(): its cached result tuple would keep the previous part alive.
        for piece in parts:
            number = len(done) + 1
            answer = self._client.upload_part(
                Bucket=self.settings.bucket,
                Key=key,
                UploadId=upload,
                PartNumber=number,
                Body=_blob(piece),
            )
            done.append({"ETag": answer["ETag"], "PartNumber": number})
            del piece  # before the next part is read
        return done

    def get(self, name: str, offset: int = 0, length: int | None = None) -> streams.ObjectReader:
        key = self._key(name)
        streams.check_range(offset, length)
        if length == 0:
            streams.range_end(name, self.stat(name).size, offset, 0)
            return streams.empty(name)
        bucket = self.settings.bucket
        wanted = "" if length is None else str(offset + length - 1)
        try:
            with self._translating(f"get {name}"):
                if offset or length is not None:
                    answer = self._client.get_object(
                        Bucket=bucket, Key=key, Range=f"bytes={offset}-{wanted}"
                    )
                else:
                    answer = self._client.get_object(Bucket=bucket, Key=key)
        except errors.ShortReadError:
            # 416: the range starts at or past the end; only "from the end, to the end" is fine.
            streams.range_end(name, self.stat(name).size, offset, length)
            return streams.empty(name)
        body = answer["Body"]
        got = int(answer["ContentLength"])
        if length is not None and got < length:
            body.close()
            raise errors.ShortReadError(
                f"object {name} in {self.location} ends before byte {offset + length}"
            )
        what = f"get {name} in {self.location}"
        return streams.ObjectReader(
            name,
            got,
            body,
            translate=lambda exc: translate(exc, what),
            on_close=body.close,
        )

    def stat(self, name: str) -> base.ObjectInfo:
        key = self._key(name)
        with self._translating(f"stat {name}"):
            answer = self._client.head_object(Bucket=self.settings.bucket, Key=key)
        modified = answer.get("LastModified")
        return base.ObjectInfo(
            name, int(answer["ContentLength"]), modified.timestamp() if modified else None
        )

    def list(self, prefix: str = "", *, after: str = "") -> abc.Iterator[base.ObjectInfo]:
        names.check_prefix(prefix)
        names.check_after(after)
        params: dict[str, typing.Any] = {
            "Bucket": self.settings.bucket,
            "Prefix": self._root + prefix,
        }
        if after:
            # With no name character below "/", "after/" skips exactly the names up to "after"
            # in byte order; filer-backed servers (SeaweedFS) would also skip a folder "after".
            params["StartAfter"] = self._root + after + "/"
        with self._translating(f"list {prefix!r}"):
            pages = self._client.get_paginator("list_objects_v2").paginate(**params)
            for page in pages:
                for entry in page.get("Contents", []):
                    name = entry["Key"][len(self._root) :]
                    if name > after and names.is_valid(name):
                        modified = entry.get("LastModified")
                        yield base.ObjectInfo(
                            name, int(entry["Size"]), modified.timestamp() if modified else None
                        )

    def delete(self, name: str) -> None:
        """Remove ``name``; in a versioned bucket (object lock) every version of it too, so a
        deleted object is gone and not merely hidden behind a delete marker. A version under
        retention refuses with :class:`StoragePermissionDenied`."""
        key = self._key(name)
        bucket = self.settings.bucket
        with self._translating(f"delete {name}"):
            self._client.delete_object(Bucket=bucket, Key=key)
            if not self._versioned():
                return
            pages = self._client.get_paginator("list_object_versions").paginate(
                Bucket=bucket, Prefix=key
            )
            for page in pages:
                for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                    if entry["Key"] == key:
                        self._client.delete_object(
                            Bucket=bucket, Key=key, VersionId=entry["VersionId"]
                        )

    def purge(self, prefix: str) -> None:
        """Delete every object under ``prefix`` (every version, as :meth:`delete` does), then
        abort the multipart uploads a crashed put left there (their parts are billed but
        never listed)."""
        names.check_prefix(prefix)
        for info in list(self.list(prefix)):
            self.delete(info.name)
        with self._translating(f"purge {prefix!r}"):
            self._abort_uploads(prefix, None)

    def clear_unfinished(self, prefix: str, before: float) -> int:
        """Abort the multipart uploads under ``prefix`` initiated before ``before``."""
        names.check_prefix(prefix)
        with self._translating(f"clear unfinished puts in {prefix!r}"):
            return self._abort_uploads(prefix, before)

    def _abort_uploads(self, prefix: str, before: float | None) -> int:
        """Abort the multipart uploads under ``prefix`` (initiated before ``before``, if
        given); how many."""
        bucket = self.settings.bucket
        aborted = 0
        pages = self._client.get_paginator("list_multipart_uploads").paginate(
            Bucket=bucket, Prefix=self._root + prefix
        )
        for page in pages:
            for upload in page.get("Uploads", []):
                started = upload.get("Initiated")
                if before is not None and (started is None or started.timestamp() >= before):
                    continue
                self._client.abort_multipart_upload(
                    Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
                aborted += 1
        return aborted

    def _versioned(self) -> bool:
        if self._versioning is None:
            status = self._client.get_bucket_versioning(Bucket=self.settings.bucket).get("Status")
            self._versioning = status in ("Enabled", "Suspended")
        return self._versioning

    def probe(self) -> None:
        """HeadBucket, then a one-key ListObjectsV2 under the prefix; writes nothing.

        A missing bucket raises :class:`BucketNotFound`, refused credentials
        :class:`StoragePermissionDenied`, a dead endpoint :class:`StorageUnreachable`. Whether
        the credentials may write cannot be learnt without writing, so it is not checked.
        """
        bucket = self.settings.bucket
        try:
            self._client.head_bucket(Bucket=bucket)
        except botocore.exceptions.ClientError as exc:
            error = translate(exc, f"probe {self.location}")
            if isinstance(error, errors.ObjectNotFound):
                raise errors.BucketNotFound(f"bucket {bucket} not found ({self.location})") from exc
            raise error from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise translate(exc, f"probe {self.location}") from exc
        with self._translating("probe"):
            self._client.list_objects_v2(Bucket=bucket, Prefix=self._root, MaxKeys=1)


def _parts(source: base.Readable, size: int) -> abc.Iterator[bytearray]:
    """``source`` in parts of ``size`` bytes (the last may be shorter); at least one part."""
    part = streams.fill(source, size)
    yield part
    while len(part) == size:
        del part
        part = streams.fill(source, size)
        if not part:
            return
        yield part


def _prepend(holder: list[bytearray], rest: abc.Iterator[bytearray]) -> abc.Iterator[bytearray]:
    """The part in ``holder`` (taken out, so no reference remains), then ``rest``."""
    yield holder.pop()
    yield from rest


def _blob(data: bytes | bytearray) -> bytes:
    """``data`` as a request body without copying: botocore sends any bytes-like object, though
    its type stubs say bytes."""
    return typing.cast(bytes, data)
