"""The client agent: `fedloom agent --server URL --enrollment-token T --data SPEC --model ARCH`.

Enrols once, long-polls the aggregator for tasks, trains and evaluates locally with the same algorithm
code as the simulator, uploads only what the algorithm's `fit` returns, reports metrics, retries with
backoff, and resumes after a crash from its checkpoint in `--state-dir`.
"""

from fedloom_agent.agent import Agent
from fedloom_agent.checkpoint import CheckpointStore, Outgoing, TaskRecord
from fedloom_agent.client import AggregatorClient
from fedloom_agent.dataspec import DataSpec, LocalData, load_client_data, parse_data_spec
from fedloom_agent.errors import AgentError, CheckpointError, RetriesExhausted
from fedloom_agent.modelspec import choose_architecture
from fedloom_agent.retry import Backoff
from fedloom_agent.session import Session, open_session
from fedloom_agent.settings import AgentSettings, load_settings

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
    "open_session",
    "parse_data_spec",
]
