"""Every REST path, content type, Redis key and object-store key FedLoom uses: one place, no string drift."""

from __future__ import annotations

MSGPACK = "application/msgpack"
JSON = "application/json"

# Aggregator: admin
ENROLLMENT_TOKENS = "/v1/admin/enrollment-tokens"
CLIENTS = "/v1/clients"
CLIENT = "/v1/clients/{client_id}"
FEDERATIONS = "/v1/federations"
FEDERATION = "/v1/federations/{federation_id}"
FEDERATION_START = "/v1/federations/{federation_id}/start"
FEDERATION_CLIENT_METRICS = "/v1/federations/{federation_id}/client-metrics"
# Aggregator: clients (bearer API token)
NEXT_TASK = "/v1/tasks/next"
BOOTSTRAP = "/v1/federations/{federation_id}/bootstrap"
ROUND_PACKAGE = "/v1/federations/{federation_id}/rounds/{round}/package"
ROUND_UPDATE = "/v1/federations/{federation_id}/rounds/{round}/update"
ROUND_METRICS = "/v1/federations/{federation_id}/rounds/{round}/metrics"
BLOB = "/v1/federations/{federation_id}/blobs/{digest}"  # a large tensor a package references (msgpack)
# Every service
HEALTHZ = "/healthz"
READYZ = "/readyz"
PROMETHEUS = "/metrics"
# Aggregator: the operators' web dashboard (admin login, session cookie)
UI = "/ui"
# Generator
GENERATOR_INFO = "/v1/info"
GENERATOR_LATENTS = "/v1/latents"
GENERATOR_IMAGES = "/v1/images"

# Redis keys (prefix configurable per deployment)
PREFIX = "fedloom"


def key(*parts: object) -> str:
    """A namespaced Redis key, e.g. key("fed", fid, "round", 3) -> "fedloom:fed:<fid>:round:3"."""
    return ":".join([PREFIX, *(str(p) for p in parts)])


UPLOAD_STREAM = "uploads"  # key("fed", fid, UPLOAD_STREAM): accepted uploads for the round worker
GENERATION_STREAM = "generation-jobs"  # key(GENERATION_STREAM): jobs for the generator worker


def artifact_key(federation_id: str, round_: int, name: str) -> str:
    """Object-store key of a round artefact, e.g. federations/<id>/rounds/3/package.msgpack."""
    return f"federations/{federation_id}/rounds/{round_}/{name}"


def blob_key(federation_id: str, digest: str) -> str:
    """Object-store key of a large tensor referenced by packages, by its content digest."""
    return f"federations/{federation_id}/blobs/{digest}.msgpack"
