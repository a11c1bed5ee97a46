"""The client agent: enrol, long-poll for tasks, train or evaluate locally, upload, report; resume after a crash.

Per task: skip it if the checkpoint says it is done; otherwise build (or restore) the federation's
session, run the task's handler, commit the checkpoint with the result in its outbox, deliver the
result, settle the outbox. Only what the algorithm's `fit` returns (a ClientUpdate) and evaluation
metrics ever leave this machine; never data, and weights only where the algorithm shares a model
(FML, FedKD, FedMRL: the shared model, never the client's own).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from fedloom.errors import FedLoomError, WireError
from fedloom.runtime import resolve_device
from fedloom.wire import ClientUpdate, GlobalPayload, decode, encode
from fedloom.wire.blobs import resolve
from fedloom.wire.control import MetricsReport, Task
from fedloom_agent.checkpoint import CheckpointStore, Outgoing, TaskRecord
from fedloom_agent.client import AggregatorClient
from fedloom_agent.dataspec import LocalData, load_client_data, parse_data_spec
from fedloom_agent.enrolment import obtain_credentials
from fedloom_agent.errors import AgentError, AgentInterrupted, CheckpointError
from fedloom_agent.modelspec import choose_architecture
from fedloom_agent.session import Session, open_session
from fedloom_agent.settings import AgentSettings
from fedloom_agent.signals import StopSignals

log = logging.getLogger("fedloom.agent")

TaskHandler = Callable[[Session, Task], Outgoing]
Sender = Callable[[Outgoing], None]


def _where(task: Task | Outgoing, client_id: int) -> str:
    return f"federation={task.federation_id} round={task.round} client={client_id}"


class Agent:
    """One client of one aggregator. `run` blocks until stopped; the agent is not reusable afterwards."""

    def __init__(
        self, settings: AgentSettings, client: AggregatorClient | None = None, local: LocalData | None = None
    ) -> None:
        self.settings = settings
        self.local = local if local is not None else load_client_data(parse_data_spec(settings.data))
        self.architecture = choose_architecture(settings.model, self.local.index)
        self.device = resolve_device(settings.device)
        self.client = client if client is not None else AggregatorClient.from_settings(settings)
        self.store = CheckpointStore(settings.state_dir)
        self.client_id = -1
        self.sessions: dict[str, Session] = {}
        self.handlers: dict[str, TaskHandler] = {"fit": self.fit, "evaluate": self.evaluate}
        self.senders: dict[str, Sender] = {"update": self.send_update, "metrics": self.send_metrics}

    def run(self, stop: threading.Event | None = None) -> None:
        """Serve tasks until `stop` is set or SIGTERM/SIGINT arrives (main thread); raise on fatal errors."""
        stop = stop if stop is not None else threading.Event()
        with self.client, self.store.locked(), StopSignals(stop) as signals:
            try:
                self.start()
                while not stop.is_set():
                    with signals.idle():
                        task = self.client.next_task(self.settings.poll_wait)
                    if task is not None:
                        self.handle_safely(task)
            except AgentInterrupted as interrupt:
                log.info("client=%d: interrupted by %s", self.client_id, interrupt)
        log.info("client=%d: stopped", self.client_id)

    def start(self) -> None:
        """Authenticate, tie the checkpoint to our id, deliver results a previous run left behind."""
        credentials = obtain_credentials(self.settings, self.client, self.architecture)
        self.client.authorize(credentials.api_token.get_secret_value())
        self.client_id = credentials.client_id
        self.store.bind(self.client_id)
        for outgoing in self.store.outbox():
            log.info("%s: delivering the %s a previous run left", _where(outgoing, self.client_id), outgoing.kind)
            self.deliver(outgoing)
        log.info("client=%d: ready (model %s, data index %d)", self.client_id, self.architecture, self.local.index)

    def handle_safely(self, task: Task) -> None:
        """Handle a task; a failure of this task alone is logged and its session rebuilt from the checkpoint."""
        try:
            self.handle(task)
        except CheckpointError:
            raise
        except FedLoomError as exc:
            if isinstance(exc, AgentError) and exc.fatal:
                raise
            self.sessions.pop(task.federation_id, None)
            log.error("%s: %s task failed: %s", _where(task, self.client_id), task.kind, exc)

    def handle(self, task: Task) -> None:
        done = TaskRecord(federation_id=task.federation_id, round=task.round, kind=task.kind)
        if self.store.completed(done):
            log.info("%s: %s already done, skipped", _where(task, self.client_id), task.kind)
            return
        session = self.session(task)
        outgoing = self.handlers[task.kind](session, task)
        self.store.commit(session, done, outgoing)
        self.deliver(outgoing)
        if task.kind == "evaluate" and task.round + 1 >= task.config.rounds:
            self.sessions.pop(task.federation_id, None)  # the federation is over: free its model
            log.info("%s: federation finished", _where(task, self.client_id))

    def session(self, task: Task) -> Session:
        """The federation's session: built on its first task, joined, and restored from the checkpoint."""
        session = self.sessions.get(task.federation_id)
        if session is not None:
            return session
        fid = task.federation_id
        secret_noise = self.settings.privacy_noise == "secret"
        session = open_session(
            fid, task.config, self.client_id, self.local, self.architecture, self.device, secret_noise
        )
        session.algorithm.join(session.ctx, self.bootstrap(fid))
        if self.store.has(fid):
            self.store.restore(session)
            log.info("%s: restored from the checkpoint", _where(task, self.client_id))
        self.sessions[fid] = session
        return session

    def bootstrap(self, federation_id: str) -> GlobalPayload:
        """The one-time package: from the checkpoint folder if saved there, else fetched once and saved."""
        payload = self.store.load_bootstrap(federation_id)
        if payload is None:
            payload = self.resolved(federation_id, self.client.bootstrap(federation_id))
            self.store.save_bootstrap(federation_id, payload)
        return payload

    def resolved(self, federation_id: str, payload: GlobalPayload) -> GlobalPayload:
        """The package with the large tensors it references fetched from the aggregator (digests checked)."""
        return resolve(payload, lambda digest: self.client.blob(federation_id, digest))

    def package(self, federation_id: str, round_: int) -> GlobalPayload:
        payload = self.resolved(federation_id, self.client.package(federation_id, round_))
        if payload.round != round_:
            raise WireError(f"the package of round {round_} says it is of round {payload.round}")
        return payload

    def fit(self, session: Session, task: Task) -> Outgoing:
        """Train on round `r`'s package; the result is the algorithm's ClientUpdate, encoded."""
        payload = self.package(task.federation_id, task.round)
        started = time.perf_counter()
        update = session.algorithm.fit(session.ctx, payload)
        seconds = session.fit_seconds[task.round] = time.perf_counter() - started
        loss = update.values.get("loss", float("nan"))
        log.info("%s: trained in %.2f s, loss %.4f", _where(task, self.client_id), seconds, loss)
        return Outgoing(task.federation_id, task.round, "update", encode(update))

    def evaluate(self, session: Session, task: Task) -> Outgoing:
        """Evaluate with the package published after round `r` (what the simulator evaluates with)."""
        payload = self.package(task.federation_id, task.round + 1)
        report = session.algorithm.evaluate(session.ctx, payload)
        seconds = session.fit_seconds.get(task.round, 0.0)
        metrics = MetricsReport(
            correct=report.correct,
            total=report.total,
            loss=report.loss,
            train_seconds=seconds,
            other_correct=report.other_correct,
        )
        accuracy = report.correct / report.total if report.total else 0.0
        log.info("%s: test accuracy %.4f (%d/%d)", _where(task, self.client_id), accuracy, report.correct, report.total)
        return Outgoing(task.federation_id, task.round, "metrics", metrics.model_dump_json().encode())

    def deliver(self, outgoing: Outgoing) -> None:
        """Send a result; settle it unless the aggregator was unreachable (then it waits for the next start)."""
        try:
            self.senders[outgoing.kind](outgoing)
        except AgentError as exc:
            if exc.fatal:
                raise
            log.warning("%s: the aggregator refused the %s: %s", _where(outgoing, self.client_id), outgoing.kind, exc)
        self.store.settle(outgoing)

    def send_update(self, outgoing: Outgoing) -> None:
        update = decode(outgoing.body, ClientUpdate)
        duplicate = self.client.upload_update(outgoing.federation_id, outgoing.round, update)
        note = " (the aggregator already had it)" if duplicate else ""
        log.info("%s: update of %d bytes uploaded%s", _where(outgoing, self.client_id), len(outgoing.body), note)

    def send_metrics(self, outgoing: Outgoing) -> None:
        report = MetricsReport.model_validate_json(outgoing.body)
        self.client.post_metrics(outgoing.federation_id, outgoing.round, report)
