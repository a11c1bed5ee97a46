"""Domain errors. Each carries a message meant for the person who made the mistake."""


class FedLoomError(Exception):
    """Base class of every error FedLoom raises on purpose."""


class ConfigError(FedLoomError, ValueError):
    """A setting, option or name that cannot be used (unknown algorithm, lr <= 0, ...)."""


class DataError(FedLoomError, ValueError):
    """A data set that cannot be read or split as asked (missing path, too few samples, ...)."""


class WireError(FedLoomError, ValueError):
    """Bytes that are not a valid FedLoom message, or a message over the protocol's limits."""


class ArtifactNotFound(FedLoomError):
    """An artefact key with no object behind it (never uploaded, or deleted)."""
