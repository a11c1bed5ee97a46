"""What can go wrong in the agent, as exceptions the person running it can act on."""

from __future__ import annotations

from fedloom.errors import FedLoomError

FATAL_STATUSES = frozenset({401, 403})
"""Answers that no retry or later task can fix: the agent stops instead of polling on."""


class AgentError(FedLoomError):
    """A call to the aggregator that failed for good: a 4xx answer, or every retry used up."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def fatal(self) -> bool:
        """True when the agent cannot go on (bad credentials, aggregator unreachable after retries)."""
        return self.status in FATAL_STATUSES


class RetriesExhausted(AgentError):
    """The aggregator stayed unreachable or overloaded through every attempt; a supervisor should restart us."""

    @property
    def fatal(self) -> bool:
        return True


class CheckpointError(FedLoomError):
    """The local checkpoint cannot be written or does not fit the federation it is restored into."""


class AgentInterrupted(BaseException):
    """Raised by the signal handler to abort an idle long-poll; BaseException so no library swallows it."""
