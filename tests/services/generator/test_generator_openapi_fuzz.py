"""Schemathesis against the live generator service (real HTTP, tiny generator): never a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from _generator_server import tiny_settings

from fedloom_generator import create_app
from openapi_fuzz import MODES, case_id, fuzz, fuzz_cases

CASES = fuzz_cases(create_app(tiny_settings()), list(MODES))


def test_both_tensor_routes_are_in_the_fuzzed_document() -> None:
    labels = {op.label for op, _ in CASES}
    assert {"POST /v1/latents", "POST /v1/images", "GET /v1/info"} <= labels


@pytest.mark.parametrize(("operation", "mode"), CASES, ids=[case_id(c) for c in CASES])
def test_no_generated_request_gets_a_server_error(
    operation: schemathesis.APIOperation, mode: str, base_url: str
) -> None:
    fuzz(operation, MODES[mode], base_url)
