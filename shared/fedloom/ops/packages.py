"""Download a round package over the aggregator's REST API with the large tensors it references resolved
(for operators' tools: the demo's report, end-to-end checks; agents do the same with retries)."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from fedloom.wire import GlobalPayload, decode, routes
from fedloom.wire.blobs import resolve


def download_package(http: httpx.Client, federation_id: str, round_: int) -> GlobalPayload | None:
    """Round `round_`'s package of a federation, complete; None when it is not published (404)."""
    fid = quote(federation_id, safe="")
    response = http.get(routes.ROUND_PACKAGE.format(federation_id=fid, round=round_))
    if response.status_code == 404:
        return None
    response.raise_for_status()

    def fetch(digest: str) -> bytes:
        blob = http.get(routes.BLOB.format(federation_id=fid, digest=digest))
        blob.raise_for_status()
        return blob.content

    return resolve(decode(response.content, GlobalPayload), fetch)
