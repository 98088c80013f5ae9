"""Release files in S3-compatible object storage (``OPENDATA_STORAGE_URL=s3://bucket/prefix``).

Writes and small reads go through boto3; data is read by DuckDB's httpfs straight from the bucket
(``prepare_duckdb``: httpfs loaded from its wheel, an S3 secret scoped to the prefix).

Key layout: ``<prefix>/<dataset>/<number>-<run_id>/<file>``. The run id makes every run's key unique, so
a run that crashed, or lost a race for a release number, can never overwrite a published release's
objects; the catalog commit that follows the upload is the one point where a release becomes visible.
Within a folder the data goes up first and ``datapackage.json`` last. Objects are immutable once
recorded, so sizes and small files (reports) are cached per process.

Errors: a malformed URL, missing keys, keys the store refuses, a bucket that does not exist or an
endpoint that does not answer when the storage is opened are ConfigurationErrors naming the setting to
fix; an endpoint that stops answering later is a RemoteUnavailable (transient: a run retries, the API
answers 503); a file the catalog records but the bucket lacks is a CatalogError.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.response import StreamingBody

from catalog.models import Release
from catalog.release_storage import CHUNK_BYTES, OutsideStorage, ReleaseStorage, missing
from opendata.duckdb_extensions import load_httpfs
from opendata.errors import ConfigurationError, OpendataError, RemoteUnavailable
from opendata.settings import Settings
from opendata.sql_text import quote_literal

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
SEGMENT = re.compile(r"^[A-Za-z0-9._=+-]+$")
KEY_SETTINGS = "OPENDATA_S3_ACCESS_KEY_ID and OPENDATA_S3_SECRET_ACCESS_KEY"
CONTENT_TYPES = {".parquet": "application/vnd.apache.parquet", ".json": "application/json"}
SMALL_FILE_BYTES = 1 << 20
CACHED_SMALL_FILES = 256
CACHED_SIZES = 8192
TRANSFER = TransferConfig(multipart_threshold=64 << 20, multipart_chunksize=64 << 20)

T = TypeVar("T")

_clients: dict[tuple[str | None, str, str, str, str], S3Client] = {}
_verified: set[tuple[str | None, str, str, str, str, str]] = set()
_clients_lock = threading.Lock()


def _segments(text: str, what: str) -> list[str]:
    """``a/b/c`` as its segments; a leading or doubled slash, ``.`` or ``..`` is refused."""
    parts = text.split("/")
    for part in parts:
        if part in (".", "..") or not SEGMENT.fullmatch(part):
            raise OutsideStorage(f"{what} {text!r} is not a plain key path (letters, digits, . _ = + -)")
    return parts


class S3Storage(ReleaseStorage):
    kind = "s3"

    def __init__(self, *, bucket: str, prefix: str, endpoint: str | None, region: str, url_style: str,
                 access_key_id: str, secret_access_key: str) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint = endpoint
        self.region = region
        self.url_style = url_style
        self._key_id = access_key_id
        self._secret = secret_access_key
        self._sizes: OrderedDict[str, int] = OrderedDict()
        self._small: OrderedDict[str, bytes] = OrderedDict()
        self._cache_lock = threading.Lock()
        identity = (endpoint, region, url_style, access_key_id, secret_access_key)
        with _clients_lock:
            client = _clients.get(identity)
            if client is None:
                client = _clients[identity] = boto3.client(
                    "s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=access_key_id,
                    aws_secret_access_key=secret_access_key,
                    config=Config(s3={"addressing_style": "path" if url_style == "path" else "virtual"},
                                  retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5,
                                  read_timeout=60),
                )
        self._client: S3Client = client
        if (*identity, bucket) not in _verified:
            self.check()
            with _clients_lock:
                _verified.add((*identity, bucket))

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        url = (settings.storage_url or "").strip()
        parts = urlsplit(url)
        if parts.scheme.lower() != "s3" or not BUCKET.fullmatch(parts.netloc) or parts.query or parts.fragment:
            raise ConfigurationError(
                f"OPENDATA_STORAGE_URL={url!r} is not an object storage URL: write s3://bucket/prefix (a bucket "
                "name of 3-63 lowercase letters, digits, dots and hyphens, then an optional key prefix)"
            )
        try:
            path = parts.path.strip("/")
            prefix = "/".join(_segments(path, "the key prefix of OPENDATA_STORAGE_URL")) if path else ""
        except OutsideStorage as exc:
            raise ConfigurationError(f"OPENDATA_STORAGE_URL={url!r}: {exc}") from None
        key_id = settings.s3_access_key_id.get_secret_value() if settings.s3_access_key_id else ""
        secret = settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else ""
        if not key_id or not secret:
            raise ConfigurationError(
                f"OPENDATA_STORAGE_URL={url} needs the object storage's keys: set {KEY_SETTINGS} in the "
                "environment (read-only keys are enough for API replicas)"
            )
        endpoint = settings.s3_endpoint.strip().rstrip("/") if settings.s3_endpoint else None
        if endpoint is not None:
            where = urlsplit(endpoint)
            if where.scheme not in ("http", "https") or not where.netloc or where.path or where.query:
                raise ConfigurationError(
                    f"OPENDATA_S3_ENDPOINT={settings.s3_endpoint!r} is not an endpoint URL: write "
                    "http(s)://host:port, with no path (unset it for AWS S3)"
                )
        return cls(bucket=parts.netloc, prefix=prefix, endpoint=endpoint, region=settings.s3_region,
                   url_style=settings.s3_url_style, access_key_id=key_id, secret_access_key=secret)

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" + (f" at {self.endpoint}" if self.endpoint else "")

    def check(self) -> None:
        """Refuse to start on a bucket these settings cannot reach, with the setting that fixes it."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            status, code = _status(exc)
            if status in (401, 403) or code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"):
                raise ConfigurationError(
                    f"the object storage refused these keys for bucket '{self.bucket}' ({self.where}, {status} "
                    f"{code}): check {KEY_SETTINGS}, and that the keys may use this bucket"
                ) from None
            if status == 404 or code == "NoSuchBucket":
                raise ConfigurationError(
                    f"bucket '{self.bucket}' does not exist ({self.where}): create it, or fix the bucket in "
                    "OPENDATA_STORAGE_URL"
                ) from None
            raise ConfigurationError(
                f"the object storage answered {status} {code} for bucket '{self.bucket}' ({self.where}): check "
                "OPENDATA_S3_REGION and OPENDATA_S3_URL_STYLE"
            ) from None
        except BotoCoreError as exc:
            raise ConfigurationError(
                f"cannot reach the object storage ({self.where}): {exc}; check OPENDATA_S3_ENDPOINT, and that "
                "the store is running"
            ) from None

    def _key(self, folder: str, name: str = "") -> str:
        parts = _segments(folder, "release folder")
        if name:
            parts += _segments(name, "file name")
        return "/".join([self.prefix, *parts] if self.prefix else parts)

    def _release_key(self, release: Release, name: str) -> str:
        try:
            return self._key(release.folder, name)
        except OutsideStorage as exc:
            raise OutsideStorage(f"release {release.dataset}/{release.number} points outside the bucket: {exc}") \
                from None

    def _failed(self, exc: Exception, doing: str) -> OpendataError:
        if isinstance(exc, ClientError):
            status, code = _status(exc)
            if status in (401, 403):
                return ConfigurationError(
                    f"the object storage refused to let these keys {doing} ({self.where}, {status} {code}): "
                    f"check {KEY_SETTINGS}"
                )
            return RemoteUnavailable(f"the object storage could not {doing} ({self.where}): {status} {code}")
        return RemoteUnavailable(f"the object storage did not answer while trying to {doing} ({self.where}): {exc}; "
                                 "retry, or check OPENDATA_S3_ENDPOINT")

    def publish(self, build: Path, dataset: str, number: int, run_id: str) -> str:
        folder = f"{dataset}/{number}-{run_id}"
        self.put_folder(build, folder)
        return folder

    def put_folder(self, local: Path, folder: str) -> str:
        """Upload the files of ``local`` under ``folder`` (data first, the descriptor last); its s3:// URL."""
        self._key(folder)
        files = sorted((p for p in local.iterdir() if p.is_file()),
                       key=lambda p: (p.name == "datapackage.json", p.name != "data.parquet", p.name))
        for path in files:
            key = self._key(folder, path.name)
            try:
                self._client.upload_file(
                    str(path), self.bucket, key, Config=TRANSFER,
                    ExtraArgs={"ContentType": CONTENT_TYPES.get(path.suffix, "application/octet-stream")},
                )
            except (BotoCoreError, ClientError) as exc:
                raise self._failed(exc, f"upload {key}") from exc
        return f"s3://{self.bucket}/{self._key(folder)}/"

    def get_file(self, folder: str, name: str) -> bytes | None:
        """One file of a folder outside the catalog's releases (private run reports); None when absent."""
        key = self._key(folder, name)
        body = self._body(key)
        if body is None:
            return None
        try:
            return body.read()
        except BotoCoreError as exc:
            raise self._failed(exc, f"read {key}") from exc

    def _size(self, key: str) -> int | None:
        with self._cache_lock:
            if key in self._sizes:
                self._sizes.move_to_end(key)
                return self._sizes[key]
        head = self._unless_absent(key, lambda: self._client.head_object(Bucket=self.bucket, Key=key))
        if head is None:
            return None
        size = int(head["ContentLength"])
        with self._cache_lock:
            _keep(self._sizes, key, size, CACHED_SIZES)
        return size

    def exists(self, release: Release, name: str) -> bool:
        try:
            return self._size(self._release_key(release, name)) is not None
        except OutsideStorage:
            return False

    def duckdb_path(self, release: Release, name: str) -> str:
        key = self._release_key(release, name)
        if self._size(key) is None:
            raise missing(release, name)
        return f"s3://{self.bucket}/{key}"

    def _unless_absent(self, key: str, call: Callable[[], T]) -> T | None:
        """``call()``'s answer about ``key``; None when the object does not exist, a clear error otherwise."""
        try:
            return call()
        except ClientError as exc:
            if _status(exc)[0] == 404:
                return None
            raise self._failed(exc, f"read {key}") from exc
        except BotoCoreError as exc:
            raise self._failed(exc, f"read {key}") from exc

    def _body(self, key: str) -> StreamingBody | None:
        found = self._unless_absent(key, lambda: self._client.get_object(Bucket=self.bucket, Key=key))
        return None if found is None else found["Body"]

    def _get(self, release: Release, key: str, name: str) -> StreamingBody:
        body = self._body(key)
        if body is None:
            raise missing(release, name)
        return body

    def read_bytes(self, release: Release, name: str) -> bytes:
        key = self._release_key(release, name)
        with self._cache_lock:
            if key in self._small:
                self._small.move_to_end(key)
                return self._small[key]
        body = self._get(release, key, name)
        try:
            data = body.read()
        except BotoCoreError as exc:
            raise self._failed(exc, f"read {key}") from exc
        if len(data) <= SMALL_FILE_BYTES:
            with self._cache_lock:
                _keep(self._small, key, data, CACHED_SMALL_FILES)
        return data

    def size(self, release: Release, name: str) -> int:
        size = self._size(self._release_key(release, name))
        if size is None:
            raise missing(release, name)
        return size

    def stream(self, release: Release, name: str, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
        key = self._release_key(release, name)
        body = self._get(release, key, name)

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(chunk_bytes)
            finally:
                body.close()

        return chunks()

    def local_path(self, release: Release, name: str) -> None:
        return None

    def readable_prefix(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}/" if self.prefix else f"s3://{self.bucket}/"

    def _objects(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        try:
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"], item["LastModified"]
        except (BotoCoreError, ClientError) as exc:
            raise self._failed(exc, f"list {prefix or 'the bucket'}") from exc

    def folders(self) -> dict[str, datetime]:
        root = f"{self.prefix}/" if self.prefix else ""
        found: dict[str, datetime] = {}
        for key, modified in self._objects(root):
            parts = key[len(root):].split("/")
            if len(parts) < 3:
                continue  # not inside a <dataset>/<folder>/ (nothing of ours)
            folder = f"{parts[0]}/{parts[1]}"
            found[folder] = max(found.get(folder, modified), modified)
        return found

    def remove(self, folder: str) -> int:
        prefix = self._key(folder) + "/"
        keys = [key for key, _ in self._objects(prefix)]
        for start in range(0, len(keys), 1000):
            batch: list[ObjectIdentifierTypeDef] = [{"Key": key} for key in keys[start:start + 1000]]
            try:
                self._client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            except (BotoCoreError, ClientError) as exc:
                raise self._failed(exc, f"delete {prefix}") from exc
        return len(keys)

    def prepare_duckdb(self) -> list[str]:
        options = [
            "TYPE s3", f"KEY_ID {quote_literal(self._key_id)}", f"SECRET {quote_literal(self._secret)}",
            f"REGION {quote_literal(self.region)}", f"URL_STYLE {quote_literal(self.url_style)}",
            f"SCOPE {quote_literal(self.readable_prefix())}",
        ]
        if self.endpoint:
            where = urlsplit(self.endpoint)
            options += [f"ENDPOINT {quote_literal(where.netloc)}", f"USE_SSL {str(where.scheme == 'https').lower()}"]
        return [
            *load_httpfs(),
            f"CREATE SECRET opendata_release_storage ({', '.join(options)})",
            # Objects under a recorded release never change: HEADs may be cached across queries.
            "SET enable_http_metadata_cache = true",
        ]


def _keep(cache: OrderedDict[str, Any], key: str, value: Any, limit: int) -> None:
    """Remember ``value`` in a bounded LRU cache (the caller holds its lock)."""
    cache[key] = value
    while len(cache) > limit:
        cache.popitem(last=False)


def _status(exc: ClientError) -> tuple[int, str]:
    response = exc.response
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return status, str(response.get("Error", {}).get("Code", ""))
