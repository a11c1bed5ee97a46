"""Which aggregator replica runs a federation's round loop: the holder of its lease in the state store.

Any replica serves any request; exactly one runs each federation's loop. The holder renews its lease every
third of the lease's length; a replica that finds a running federation whose lease has lapsed (its holder
died or lost Redis for longer than a lease) takes it and resumes the loop from the checkpoint, as a restarted
aggregator does. The loop checks its lease before every write of the federation's progress (the round's
summary, the checkpoint): a holder that lost its lease stops there and writes nothing more.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field

from fedloom.errors import FedLoomError
from fedloom.stores.errors import StoreUnavailable
from fedloom.stores.protocol import StateStore
from fedloom.wire.routes import key

log = logging.getLogger("fedloom.aggregator")
LEASE_SECONDS = 6.0
"""A lapsed holder's federations are taken over within about this long (plus a third of it for the watch)."""


class LeaseLost(FedLoomError):
    """This replica no longer holds the federation's lease: another one carries the loop on."""


def lease_key(fid: str) -> str:
    return key("lease", fid)


@dataclass
class Lease:
    store: StateStore
    fid: str
    owner: str
    seconds: float
    lost: threading.Event = field(default_factory=threading.Event)
    renewed_at: float = 0.0

    def acquire(self) -> bool:
        taken = self.store.swap(lease_key(self.fid), None, self.owner.encode(), ttl_seconds=self.seconds)
        self.renewed_at = time.monotonic() if taken else self.renewed_at
        return taken

    def renew(self) -> bool:
        """Extend the lease. Found taken or lapsed, it is lost for good (`lost` is set); while the state store is
        away it counts as held until it would have lapsed."""
        me = self.owner.encode()
        try:
            held = self.store.swap(lease_key(self.fid), me, me, ttl_seconds=self.seconds)
        except StoreUnavailable:
            if time.monotonic() - self.renewed_at < self.seconds:
                return True
            held = False
        if held:
            self.renewed_at = time.monotonic()
        else:
            self.lost.set()
        return held

    def release(self) -> None:
        """Give the lease up (a finished loop, a replica shutting down) so that no one waits for it to lapse."""
        with contextlib.suppress(StoreUnavailable):  # else it lapses by itself
            self.store.swap(lease_key(self.fid), self.owner.encode(), None)

    def check(self) -> None:
        """Raise LeaseLost when the lease is gone, as the store says now (a keeper starved of CPU may not have
        noticed yet): the loop must write and send nothing more."""
        if not self.lost.is_set():
            with contextlib.suppress(StoreUnavailable):  # the store away: held until the keeper says otherwise
                if self.store.get(lease_key(self.fid)) != self.owner.encode():
                    self.lost.set()
        if self.lost.is_set():
            raise LeaseLost(f"federation {self.fid}: replica {self.owner} lost its lease")


class LeaseKeeper:
    """Renews one lease every third of its length until stopped or lost (a daemon thread)."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, name=f"lease-{lease.fid}", daemon=True)

    def run(self) -> None:
        while not self.stopped.wait(self.lease.seconds / 3):
            if not self.lease.renew():
                log.warning("federation %s: lease lost by replica %s", self.lease.fid, self.lease.owner)
                return

    def start(self) -> LeaseKeeper:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
