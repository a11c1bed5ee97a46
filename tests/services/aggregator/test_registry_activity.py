"""Client records are updated in batches when a round closes: counters add up, removed clients stay removed."""

from fedloom.stores.memory_store import MemoryStateStore
from fedloom.wire.control import EnrollRequest
from fedloom_aggregator.registry import ClientRegistry


def enrolled(registry: ClientRegistry, name: str) -> int:
    token = registry.create_enrollment_token(60).token
    return registry.enroll(EnrollRequest(enrollment_token=token, name=name, architecture="cnn4")).client_id


def test_rounds_bytes_and_accuracy_accumulate_per_client() -> None:
    registry = ClientRegistry(MemoryStateStore())
    a, b = enrolled(registry, "a"), enrolled(registry, "b")
    registry.record_uploads({a: 100, b: 7})
    registry.record_uploads({a: 50})
    registry.record_reports({a: 0.5, b: None})
    first, second = registry.get(a), registry.get(b)
    assert (first.rounds_joined, first.bytes_sent, first.last_accuracy) == (2, 150, 0.5)
    assert (second.rounds_joined, second.bytes_sent, second.last_accuracy) == (1, 7, None)
    assert first.last_seen is not None and second.last_seen is not None


def test_a_removed_client_is_not_brought_back_by_a_late_round() -> None:
    registry = ClientRegistry(MemoryStateStore())
    a, b = enrolled(registry, "a"), enrolled(registry, "b")
    registry.remove(a)
    registry.record_uploads({a: 10, b: 10})
    assert [c.client_id for c in registry.clients()] == [b]
