"""The `--data` spec: `NAME[,key=value...]` -> which data set, how it is split, and which client we are.

Examples: `synthetic,clients=3,index=0,samples=800`, `fmnist,clients=20,partition=dir:0.1,index=4`,
`pfl:/path/to/dir,index=2`. Keys are `index` (required), `clients` and every `DatasetSpec` field
(`partition`, `seed`, `samples`, `image_shape=3x32x32`, ...). Values are plain text that pydantic
converts; a path must not contain a comma. The whole data set is partitioned exactly as the simulator
does it, and only our split is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from fedloom.data import ClientData, DatasetSpec, load_federated_dataset
from fedloom.errors import ConfigError

_RENAMED = {"clients": "num_clients"}
_KNOWN = sorted({"index", *_RENAMED, *DatasetSpec.model_fields} - {"name", "num_clients"})
_HELP = "write NAME[,key=value...], e.g. synthetic,clients=3,index=0 or pfl:/path/to/dir,index=2"


@dataclass(frozen=True)
class DataSpec:
    """A parsed `--data`: the federated data set and this client's index in it."""

    dataset: DatasetSpec
    index: int


@dataclass(frozen=True)
class LocalData:
    """This client's private split plus what a model needs to know about the data."""

    data: ClientData
    index: int
    num_classes: int
    input_shape: tuple[int, int, int]

    def for_client(self, client_id: int) -> ClientData:
        """Our split, labelled with the id the aggregator gave us."""
        return replace(self.data, client_id=client_id)


def _pair(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    key = key.strip().lower().replace("-", "_")
    if not sep or not key:
        raise ConfigError(f"data spec item {item!r} is not key=value; {_HELP}")
    if key not in _KNOWN:
        raise ConfigError(f"unknown data spec key {key!r}; known keys: {', '.join(_KNOWN)}")
    return key, value.strip()


def _value(key: str, text: str) -> Any:
    return text.lower().split("x") if key == "image_shape" else text


def _index(fields: dict[str, Any]) -> int:
    text = fields.pop("index", None)
    if text is None:
        raise ConfigError(f"the data spec needs index=I (which client of the data set we are); {_HELP}")
    try:
        index = int(text)
    except ValueError:
        raise ConfigError(f"data spec index={text!r} is not a whole number") from None
    if index < 0:
        raise ConfigError(f"data spec index must be >= 0, got {index}")
    return index


def parse_data_spec(text: str) -> DataSpec:
    """Parse `NAME[,key=value...]`; raise ConfigError saying what is wrong and what is accepted."""
    name, *items = [part.strip() for part in text.split(",")]
    if not name or "=" in name:
        raise ConfigError(f"data spec {text!r} must start with a data set name; {_HELP}")
    fields: dict[str, Any] = {}
    for item in filter(None, items):
        key, value = _pair(item)
        fields[_RENAMED.get(key, key)] = _value(key, value)
    index = _index(fields)
    try:
        dataset = DatasetSpec.model_validate({"name": name, **fields})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False))
        raise ConfigError(f"invalid data spec {text!r}: {problems}") from exc
    return DataSpec(dataset, index)


def load_client_data(spec: DataSpec) -> LocalData:
    """Load and partition the data set, keep client `spec.index`'s split and drop the rest."""
    federated = load_federated_dataset(spec.dataset)
    count = len(federated.clients)
    if spec.index >= count:
        raise ConfigError(
            f"data spec index={spec.index} is out of range: {spec.dataset.name} has {count} clients (0..{count - 1})"
        )
    return LocalData(federated.clients[spec.index], spec.index, federated.num_classes, federated.input_shape)
