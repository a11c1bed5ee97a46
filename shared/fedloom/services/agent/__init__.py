"""The client agent: `fedloom agent --server URL --enrollment-token T --data SPEC --model ARCH`.

Enrols once, long-polls the aggregator for tasks, trains and evaluates locally with the same algorithm
code as the simulator, uploads only what the algorithm's `fit` returns, reports metrics, retries with
backoff, and resumes after a crash from its checkpoint in `--state-dir`.
"""

from fedloom.services.agent.agent import Agent, main
from fedloom.services.agent.checkpoint import CheckpointStore, Outgoing, TaskRecord
from fedloom.services.agent.client import AggregatorClient
from fedloom.services.agent.dataspec import DataSpec, LocalData, load_client_data, parse_data_spec
from fedloom.services.agent.errors import AgentError, CheckpointError, RetriesExhausted
from fedloom.services.agent.modelspec import choose_architecture
from fedloom.services.agent.retry import Backoff
from fedloom.services.agent.session import Session, open_session
from fedloom.services.agent.settings import AgentSettings, load_settings

__all__ = [
    "Agent",
    "AgentError",
    "AgentSettings",
    "AggregatorClient",
    "Backoff",
    "CheckpointError",
    "CheckpointStore",
    "DataSpec",
    "LocalData",
    "Outgoing",
    "RetriesExhausted",
    "Session",
    "TaskRecord",
    "choose_architecture",
    "load_client_data",
    "load_settings",
    "main",
    "open_session",
    "parse_data_spec",
]
