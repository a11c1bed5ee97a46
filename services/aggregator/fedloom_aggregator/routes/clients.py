"""Client routes: enrolment (enrolment token), then everything else with the client's API token."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from fedloom.serving.openapi import MSGPACK_REPLY, MSGPACK_REQUEST
from fedloom.wire import routes
from fedloom.wire.control import Enrollment, EnrollRequest, MetricsReport, Task
from fedloom_aggregator.audit import token_ref
from fedloom_aggregator.deps import (
    AuditDep,
    ClientIdDep,
    CoordinatorDep,
    MetricsDep,
    MsgpackBody,
    PackagesDep,
    ReaderDep,
    RegistryDep,
    SettingsDep,
)

router = APIRouter(tags=["clients"])


def msgpack(data: bytes) -> Response:
    return Response(content=data, media_type=routes.MSGPACK)


@router.post(routes.CLIENTS, status_code=201)
def enroll(body: EnrollRequest, registry: RegistryDep, audit: AuditDep) -> Enrollment:
    token = token_ref(body.enrollment_token)
    try:
        enrolled = registry.enroll(body)
    except Exception as exc:
        audit.record("enrol", token, "refused", name=body.name, reason=str(exc)[:200])
        raise
    audit.record("enrol", token, "ok", client_id=enrolled.client_id, name=body.name)
    return enrolled


@router.get(routes.NEXT_TASK, response_model=Task, responses={204: {"description": "no task within `wait`"}})
async def next_task(
    client_id: ClientIdDep, coordinator: CoordinatorDep, settings: SettingsDep, wait: float = Query(0.0, ge=0)
) -> Task | Response:
    task = await coordinator.next_task(client_id, min(wait, settings.max_poll_seconds))
    return task if task is not None else Response(status_code=204)


@router.get(routes.BOOTSTRAP, response_class=Response, openapi_extra=MSGPACK_REPLY)
def bootstrap(federation_id: str, client_id: ReaderDep, packages: PackagesDep) -> Response:
    return msgpack(packages.bootstrap(federation_id, client_id))


@router.get(routes.ROUND_PACKAGE, response_class=Response, openapi_extra=MSGPACK_REPLY)
def package(federation_id: str, round: int, client_id: ReaderDep, packages: PackagesDep) -> Response:
    return msgpack(packages.package(federation_id, round, client_id))


@router.get(routes.BLOB, response_class=Response)
def blob(federation_id: str, digest: str, client_id: ReaderDep, packages: PackagesDep) -> Response:
    return msgpack(packages.blob(federation_id, digest, client_id))


@router.put(routes.ROUND_UPDATE, openapi_extra=MSGPACK_REQUEST)
async def upload(
    federation_id: str,
    round: int,
    client_id: ClientIdDep,
    body: MsgpackBody,
    coordinator: CoordinatorDep,
    metrics: MetricsDep,
) -> dict[str, bool]:
    """Accept (or recognise as a repeat) one upload; the client's record is updated when the round closes."""
    accepted = await coordinator.uploads.accept(federation_id, round, client_id, body)
    if accepted:
        metrics.inc("uploads")
        metrics.inc("upload_bytes", len(body))
    return {"accepted": True, "duplicate": not accepted}


@router.post(routes.ROUND_METRICS, status_code=204)
def report_metrics(
    federation_id: str,
    round: int,
    body: MetricsReport,
    client_id: ClientIdDep,
    coordinator: CoordinatorDep,
) -> Response:
    """A client's evaluation of a round; its record's accuracy is updated when the round's evaluation ends."""
    coordinator.accept_metrics(federation_id, round, client_id, body)
    return Response(status_code=204)
