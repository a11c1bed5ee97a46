import pytest
import torch

from fedloom.errors import WireError
from fedloom.wire import GlobalPayload, decode, encode
from fedloom.wire.blobs import digest_of, resolve, split_large


def payload() -> GlobalPayload:
    tensors = {"small": torch.ones(4), "large": torch.arange(1000.0).reshape(10, 100)}
    return GlobalPayload(round=2, tensors=tensors, values={"energy": 0.5})


def test_large_tensors_leave_the_package_and_come_back_exactly() -> None:
    package, blobs = split_large(payload(), inline_bytes=1024)
    assert set(package.tensors) == {"small"} and set(package.refs) == {"large"}
    assert list(blobs) == [package.refs["large"]] and digest_of(blobs[package.refs["large"]]) == package.refs["large"]
    received = decode(encode(package), GlobalPayload)
    whole = resolve(received, blobs.__getitem__)
    assert whole.refs == {} and whole.values == {"energy": 0.5} and whole.round == 2
    assert torch.equal(whole.tensors["large"], payload().tensors["large"])


def test_a_blob_that_does_not_match_its_digest_is_refused() -> None:
    package, blobs = split_large(payload(), inline_bytes=1024)
    other = split_large(GlobalPayload(round=0, tensors={"x": torch.zeros(500)}), 1024)[1]
    with pytest.raises(WireError, match="digest"):
        resolve(package, lambda digest: next(iter(other.values())))


def test_references_must_be_digests_and_must_not_shadow_inline_tensors() -> None:
    with pytest.raises(WireError):
        decode(encode(GlobalPayload(round=0)).replace(b"refs\x80", b"refs\x81\xa1a\xa3bad"), GlobalPayload)
    package, blobs = split_large(payload(), inline_bytes=1024)
    clash = GlobalPayload(round=2, tensors={"large": torch.ones(1)}, refs=package.refs)
    with pytest.raises(WireError, match="both"):
        resolve(clash, blobs.__getitem__)
