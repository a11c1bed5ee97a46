"""Algorithm plug-ins (client and server halves) and the registry that finds them by name."""

from fedloom.algorithms.registry import algorithm_names, get_algorithm, make_config

__all__ = ["algorithm_names", "get_algorithm", "make_config"]
