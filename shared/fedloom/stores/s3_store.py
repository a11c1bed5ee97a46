"""`ArtifactStore` on S3 or MinIO through the `minio` client; the bucket is created when missing.

`endpoint` is "host:port" or a URL ("http://minio:9000"), whose scheme then decides `secure`.
HTTP timeouts are short enough that `ping` answers False quickly when the server is gone.
"""

from __future__ import annotations

import builtins
import io
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio.error import S3Error

from fedloom.errors import ArtifactNotFound, ConfigError
from fedloom.stores._keys import check_key, check_prefix

_MISSING = {"NoSuchKey", "NoSuchObject", "NotFound", "ResourceNotFound"}
_BUCKET_EXISTS = {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}


def split_endpoint(endpoint: str, secure: bool) -> tuple[str, bool]:
    """("http://h:9000", _) -> ("h:9000", False); "h:9000" keeps the given `secure`."""
    if "://" not in endpoint:
        return endpoint.rstrip("/"), secure
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
        raise ConfigError(f"S3 endpoint must look like http(s)://host:port, got {endpoint!r}")
    return parts.netloc, parts.scheme == "https"


def _http_client() -> urllib3.PoolManager:
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=3.0, read=60.0),
        retries=urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
        maxsize=16,
    )


class S3ArtifactStore:
    def __init__(
        self,
        endpoint: str,
        access_key: str | None,
        secret_key: str | None,
        bucket: str,
        secure: bool = False,
        region: str | None = None,
    ) -> None:
        host, secure = split_endpoint(endpoint, secure)
        self._bucket = bucket
        self._client = Minio(
            host, access_key=access_key, secret_key=secret_key, secure=secure, region=region, http_client=_http_client()
        )
        self._region = region
        self._ensure_bucket()

    @property
    def bucket(self) -> str:
        return self._bucket

    def _ensure_bucket(self) -> None:
        if self._client.bucket_exists(self._bucket):
            return
        try:
            self._client.make_bucket(self._bucket, location=self._region)
        except S3Error as exc:
            if exc.code not in _BUCKET_EXISTS:
                raise

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        check_key(key)
        self._client.put_object(self._bucket, key, io.BytesIO(data), length=len(data), content_type=content_type)

    def get(self, key: str) -> bytes:
        check_key(key)
        try:
            response = self._client.get_object(self._bucket, key)
        except S3Error as exc:
            if exc.code in _MISSING:
                raise ArtifactNotFound(f"no artefact {key!r} in bucket {self._bucket!r}") from None
            raise
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def exists(self, key: str) -> bool:
        check_key(key)
        try:
            self._client.stat_object(self._bucket, key)
        except S3Error as exc:
            if exc.code in _MISSING:
                return False
            raise
        return True

    def list(self, prefix: str) -> builtins.list[str]:
        check_prefix(prefix)
        objects = self._client.list_objects(self._bucket, prefix=prefix or None, recursive=True)
        return sorted(obj.object_name for obj in objects if obj.object_name is not None)

    def delete(self, key: str) -> None:
        check_key(key)
        self._client.remove_object(self._bucket, key)

    def ping(self) -> bool:
        try:
            return bool(self._client.bucket_exists(self._bucket))
        except (S3Error, urllib3.exceptions.HTTPError, OSError):
            return False
