"""`fedloom federation run`: the operator's side of a deployed federation, as a program (compose, k8s Job).

Waits for the aggregator and for enough enrolled agents, creates the federation from a config file,
starts it, logs every finished round and exits with the federation's outcome.
"""

from fedloom.ops.launcher.launcher import launch, load_federation_config
from fedloom.ops.launcher.settings import LauncherSettings, load_launcher_settings

__all__ = ["LauncherSettings", "launch", "load_federation_config", "load_launcher_settings"]
