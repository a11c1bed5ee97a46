"""Operator routes (admin bearer token): enrolment tokens, clients, federations."""

from __future__ import annotations

from fastapi import APIRouter, Response

from fedloom.wire import routes
from fedloom.wire.control import (
    ClientInfo,
    ClientRoundMetrics,
    EnrollmentToken,
    EnrollmentTokenRequest,
    Federation,
    FederationConfig,
    FederationState,
)
from fedloom_aggregator.deps import AdminDep, CoordinatorDep, RegistryDep, ResultsDep

router = APIRouter(dependencies=[AdminDep], tags=["admin"])


@router.post(routes.ENROLLMENT_TOKENS, status_code=201)
def create_enrollment_token(body: EnrollmentTokenRequest, registry: RegistryDep) -> EnrollmentToken:
    return registry.create_enrollment_token(body.ttl_seconds)


@router.get(routes.CLIENTS)
def list_clients(registry: RegistryDep) -> list[ClientInfo]:
    return registry.clients()


@router.delete(routes.CLIENT, status_code=204)
def remove_client(client_id: int, registry: RegistryDep) -> Response:
    registry.remove(client_id)
    return Response(status_code=204)


@router.post(routes.FEDERATIONS, status_code=201)
def create_federation(config: FederationConfig, coordinator: CoordinatorDep) -> Federation:
    return Federation(federation_id=coordinator.create(config))


@router.get(routes.FEDERATIONS)
def list_federations(coordinator: CoordinatorDep) -> list[FederationState]:
    return coordinator.federations()


@router.post(routes.FEDERATION_START)
def start_federation(federation_id: str, coordinator: CoordinatorDep) -> FederationState:
    return coordinator.start(federation_id)


@router.get(routes.FEDERATION)
def get_federation(federation_id: str, coordinator: CoordinatorDep) -> FederationState:
    return coordinator.state(federation_id)


@router.get(routes.FEDERATION_CLIENT_METRICS)
def get_client_metrics(federation_id: str, results: ResultsDep) -> list[ClientRoundMetrics]:
    return results.client_metrics(federation_id)
