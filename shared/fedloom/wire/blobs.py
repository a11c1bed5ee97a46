"""Large tensors apart from their package: the package names them by content digest (`GlobalPayload.refs`).

The services keep each large tensor as its own object in the artifact store (MinIO), under its SHA-256, so
a tensor published again (the same model in two packages) is stored once; the package stays small. A
receiver fetches each referenced blob, checks its digest, and decodes it with the codec's limits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from fedloom.errors import WireError
from fedloom.wire.codec import DEFAULT_LIMITS, CodecLimits, decode, encode
from fedloom.wire.messages import GlobalPayload, TensorBlob


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def split_large(payload: GlobalPayload, inline_bytes: int) -> tuple[GlobalPayload, dict[str, bytes]]:
    """The package with every tensor over `inline_bytes` replaced by a reference, and those blobs by digest."""
    inline, refs, blobs = {}, dict(payload.refs), {}
    for name, tensor in payload.tensors.items():
        if tensor.numel() * tensor.element_size() <= inline_bytes:
            inline[name] = tensor
            continue
        blob = encode(TensorBlob(tensor=tensor))
        refs[name] = digest_of(blob)
        blobs[refs[name]] = blob
    package = GlobalPayload(round=payload.round, tensors=inline, values=payload.values, refs=refs)
    return package, blobs


def resolve(
    payload: GlobalPayload, fetch: Callable[[str], bytes], limits: CodecLimits = DEFAULT_LIMITS
) -> GlobalPayload:
    """The package with every reference replaced by its tensor; WireError on a wrong digest or a clash of names."""
    if not payload.refs:
        return payload
    tensors = dict(payload.tensors)
    for name, digest in payload.refs.items():
        if name in tensors:
            raise WireError(f"{name!r} is both inline and referenced")
        data = fetch(digest)
        if digest_of(data) != digest:
            raise WireError(f"the blob of {name!r} does not match its digest {digest[:12]}...")
        tensors[name] = decode(data, TensorBlob, limits).tensor
    return GlobalPayload(round=payload.round, tensors=tensors, values=payload.values)
