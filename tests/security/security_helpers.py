"""Helpers of the security tests: an aggregator on real Redis, enrolment, self-signed certificates."""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fedloom_aggregator.app import create_app
from fedloom_aggregator.settings import AggregatorSettings
from servers import serving

ADMIN = "security-admin-token-0123456789"
SECURITY_DB = 5  # a Redis database of its own, flushed per test


def fresh_redis(redis_url: str) -> str:
    """The session's Redis server, database SECURITY_DB, emptied."""
    url = redis_url.rsplit("/", 1)[0] + f"/{SECURITY_DB}"
    redis.Redis.from_url(url).flushdb()
    return url


def settings_for(redis_url: str, tmp_path: Path, **overrides: object) -> AggregatorSettings:
    values: dict[str, object] = {
        "admin_token": ADMIN,
        "redis_url": redis_url,
        "artifact_dir": tmp_path / "artifacts",
        "audit_log": tmp_path / "audit.jsonl",
        "max_body_bytes": 64 * 1024,
    }
    return AggregatorSettings(**(values | overrides))  # type: ignore[arg-type]


@contextmanager
def aggregator(settings: AggregatorSettings) -> Iterator[str]:
    with serving(create_app(settings)) as url:
        yield url


def admin_client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)


def enroll(url: str, name: str = "edge") -> tuple[int, str]:
    """Enrol a client through the REST API; returns (client id, API token)."""
    with admin_client(url) as admin:
        token = admin.post("/v1/admin/enrollment-tokens", json={"ttl_seconds": 60}).json()["token"]
    enrolled = httpx.post(f"{url}/v1/clients", json={"enrollment_token": token, "name": name}).json()
    return int(enrolled["client_id"]), str(enrolled["api_token"])


def as_client(url: str, api_token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {api_token}"}, timeout=30)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A fresh EC key and a self-signed certificate for 127.0.0.1 / localhost; returns (cert, key) paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fedloom-test")])
    now = datetime.datetime.now(datetime.UTC)
    alt_names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_path.write_bytes(key_bytes)
    return cert_path, key_path
