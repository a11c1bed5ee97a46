"""The `--model` choice: a model group (client index picks the member), `GROUP:INDEX`, or an architecture."""

from __future__ import annotations

from fedloom.errors import ConfigError
from fedloom.models import ARCHITECTURES, client_architecture, group_architectures, group_names

_HELP = "write a group (hcnn8), a group member (hcnn8:2) or an architecture (cnn4)"


def _member(group: str, index_text: str) -> str:
    try:
        index = int(index_text)
    except ValueError:
        raise ConfigError(f"model {group}:{index_text}: the index must be a whole number; {_HELP}") from None
    if index < 0:
        raise ConfigError(f"model {group}:{index_text}: the index must be >= 0")
    return client_architecture(group, index)


def _is_group(name: str) -> bool:
    try:
        group_architectures(name)
    except ConfigError:
        return False
    return True


def choose_architecture(text: str, client_index: int) -> str:
    """The architecture name `text` means for the client at `client_index` of its data set.

    A bare group gives member `client_index mod len(group)` (`client_architecture`, as in the simulator).
    """
    name, sep, index_text = text.strip().partition(":")
    if sep:
        return _member(name, index_text)
    if _is_group(name):
        return _member(name, str(client_index))
    if name in ARCHITECTURES:
        return name
    raise ConfigError(
        f"unknown model {text!r}; groups: {', '.join(group_names())}; architectures: {', '.join(sorted(ARCHITECTURES))}"
    )
