"""The `fedloom` command takes each service's sub-command from the package that brings it."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from fedloom.cli import SERVICE_PACKAGES, build_parser, check_service_installed
from fedloom.errors import ConfigError


def test_installed_services_register_their_sub_commands() -> None:
    registered = {point.name: point.value for point in entry_points(group="fedloom.commands")}
    assert registered == {
        "aggregator": "fedloom_aggregator.command:add_aggregator",
        "generator": "fedloom_generator.command:add_generator",
        "agent": "fedloom_agent.command:add_agent",
    }
    args = build_parser().parse_args(["aggregator", "--port", "9000"])
    assert args.command == "aggregator" and args.port == 9000


@pytest.mark.parametrize("name", sorted(SERVICE_PACKAGES))
def test_a_missing_service_names_the_package_that_brings_it(name: str) -> None:
    with pytest.raises(ConfigError, match=f"pip install {SERVICE_PACKAGES[name]}"):
        check_service_installed([name, "--port", "1"], installed=set(SERVICE_PACKAGES) - {name})
    check_service_installed([name, "--port", "1"], installed=set(SERVICE_PACKAGES))  # installed: no error
    check_service_installed(["simulate"], installed=set())  # core sub-commands need no service
