"""Schemathesis helpers shared by the services' fuzz tests: operations from an app, bounded runs over HTTP.

CASES = fuzz_cases(app)                       # (operation, mode) pairs, for pytest.mark.parametrize
fuzz(operation, mode, base_url, headers=...)  # EXAMPLES generated requests; fails on any 5xx
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode

EXAMPLES = 25  # generated requests per operation and mode (operations without inputs have just one)
MODES = {"valid": GenerationMode.POSITIVE, "invalid": GenerationMode.NEGATIVE}

schemathesis.serializer.alias("application/msgpack", "application/octet-stream")


def operations(app: Any) -> list[schemathesis.APIOperation]:
    """Every operation of the app's OpenAPI document (built from the app object, no server needed)."""
    return [result.ok() for result in schemathesis.openapi.from_dict(app.openapi()).get_all_operations()]


def has_invalid_form(operation: schemathesis.APIOperation) -> bool:
    """Whether any input can be made invalid (a typed body, query or path parameter); free text and bytes cannot."""
    raw = operation.definition.raw
    typed = [p for p in raw.get("parameters", []) if p["in"] != "header" and p["schema"].get("type") != "string"]
    bodies = raw.get("requestBody", {}).get("content", {}).values()
    return bool(typed) or any(body["schema"].get("format") != "binary" for body in bodies)


def fuzz_cases(app: Any, modes: list[str]) -> list[tuple[schemathesis.APIOperation, str]]:
    """(operation, mode) pairs; 'invalid' only where an input can be invalid."""
    return [(op, m) for op in operations(app) for m in modes if not m.startswith("invalid") or has_invalid_form(op)]


def case_id(case: tuple[schemathesis.APIOperation, str]) -> str:
    return f"{case[0].label} {case[1]}"


def fuzz(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    base_url: str,
    headers: dict[str, str] | None = None,
    path_parameters: dict[str, Any] | None = None,
) -> None:
    """Send EXAMPLES generated requests for `operation` to the live service; any 5xx fails."""

    @given(case=operation.as_strategy(mode, path_parameters=path_parameters))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def call(case: schemathesis.Case) -> None:
        response = case.call_and_validate(base_url=base_url, headers=headers, checks=[not_a_server_error], timeout=60)
        assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])

    call()
