"""THE protocol: typed messages and the msgpack codec that every byte between processes goes through."""

from fedloom.wire.codec import CodecLimits, decode, encode
from fedloom.wire.generation import (
    GenerationJob,
    GenerationResult,
    GeneratorInfo,
    ImageRequest,
    ImageResponse,
    LatentRequest,
    LatentResponse,
    Readiness,
)
from fedloom.wire.messages import SCHEMA_VERSION, ClientUpdate, EvalReport, GlobalPayload, RoundTask, TensorBlob

__all__ = [
    "SCHEMA_VERSION",
    "ClientUpdate",
    "CodecLimits",
    "EvalReport",
    "GenerationJob",
    "GenerationResult",
    "GeneratorInfo",
    "GlobalPayload",
    "ImageRequest",
    "ImageResponse",
    "LatentRequest",
    "LatentResponse",
    "Readiness",
    "RoundTask",
    "TensorBlob",
    "decode",
    "encode",
]
