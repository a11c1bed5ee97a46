"""FedLoom: heterogeneous federated learning with prototypes (FedKTL, FedTGP and baselines)."""

__version__ = "0.1.0"
