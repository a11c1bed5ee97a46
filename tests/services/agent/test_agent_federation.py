"""The agent against a real HTTP aggregator: same uploads and metrics as the simulator, through crashes."""

import json
import stat
import threading
from pathlib import Path

import torch
from agent_helpers import CLIENT_ID, ROUNDS, RecordingTransport, agent_settings, run_in_thread
from agent_mini_server import MiniAggregator

from fedloom.algorithms.prototypes import unpack
from fedloom_agent import Agent, CheckpointStore, RetriesExhausted


def assert_like_the_simulator(aggregator: MiniAggregator, reference: RecordingTransport) -> None:
    for round_ in range(ROUNDS):
        update, expected = aggregator.uploads[round_], reference.updates[round_]
        classes, prototypes = unpack(update.tensors, 10, 32)  # a valid prototype message
        assert set(update.tensors) == {"classes", "prototypes"}  # prototypes only: no data, no weights
        assert (update.round, update.client_id, update.num_samples) == (round_, CLIENT_ID, expected.num_samples)
        assert torch.equal(classes, expected.tensors["classes"])
        assert torch.equal(prototypes, expected.tensors["prototypes"])
        assert update.values == expected.values
        metrics, report = aggregator.metrics[round_], reference.reports[round_]
        assert (metrics.correct, metrics.total, metrics.loss) == (report.correct, report.total, report.loss)


def run_to_the_end(agent: Agent, aggregator: MiniAggregator) -> None:
    stop = threading.Event()
    thread, errors = run_in_thread(agent, stop)
    assert aggregator.done.wait(60), "the federation did not finish"
    stop.set()
    thread.join(10)
    assert not thread.is_alive() and errors == []


def test_a_fedtgp_federation_through_the_agent_equals_the_simulation(
    aggregator: MiniAggregator, server_url: str, reference: RecordingTransport, tmp_path: Path
) -> None:
    aggregator.failures = {"package": 1}  # one transient 503, retried
    aggregator.queue.insert(2, (0, "fit"))  # the aggregator re-delivers a task already done
    run_to_the_end(Agent(agent_settings(server_url, tmp_path)), aggregator)

    assert_like_the_simulator(aggregator, reference)
    assert aggregator.refused == 1 and aggregator.upload_calls == ROUNDS and aggregator.queue == []
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["last_completed"] == {"federation_id": "fed-test", "round": ROUNDS - 1, "kind": "evaluate"}
    assert manifest["joined"] == ["fed-test"] and manifest["pending"] == []
    credentials = tmp_path / "credentials.json"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert json.loads(credentials.read_text())["client_id"] == CLIENT_ID


def test_stopped_and_crashed_agents_resume_from_their_checkpoint(
    aggregator: MiniAggregator, server_url: str, reference: RecordingTransport, tmp_path: Path
) -> None:
    settings = agent_settings(server_url, tmp_path)
    stop = threading.Event()
    aggregator.on_upload = lambda round_: stop.set()  # stop once round 0's update is in
    thread, errors = run_in_thread(Agent(settings), stop)
    thread.join(30)
    assert not thread.is_alive() and errors == [] and set(aggregator.uploads) == {0} and aggregator.metrics == {}

    aggregator.on_upload = None
    aggregator.failures = {"update": 100}  # round 1's upload meets an aggregator that stays down
    thread, errors = run_in_thread(Agent(settings), threading.Event())
    thread.join(30)
    assert [type(e) for e in errors] == [RetriesExhausted]
    assert set(aggregator.metrics) == {0} and set(aggregator.uploads) == {0}
    assert [(o.round, o.kind) for o in CheckpointStore(tmp_path).outbox()] == [(1, "update")]

    aggregator.failures = {}
    run_to_the_end(Agent(settings), aggregator)  # delivers the outbox first, then goes on
    assert_like_the_simulator(aggregator, reference)
    assert aggregator.enrollment_tokens == set() and len(aggregator.tokens) == 1  # enrolled once, token reused
