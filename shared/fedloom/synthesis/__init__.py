"""`fedloom synthesize`: a labelled synthetic image dataset from a finished generator-assisted federation.

FedKTL's server ends every round with one latent per class of the generator's latent space (the centroids its
feature transformer maps the clients' prototypes to). Perturbing those latents with the generator's own prior
and synthesising gives N images per class. Being computed from the server's state only, the dataset is
post-processing of the clients' uploads: with differentially private uploads it carries their epsilon.
"""

from fedloom.synthesis.dataset import SyntheticOptions, write_synthetic_dataset
from fedloom.synthesis.latents import perturbed_latents
from fedloom.synthesis.source import SynthesisSource, source_from_federation, source_from_run

__all__ = [
    "SynthesisSource",
    "SyntheticOptions",
    "perturbed_latents",
    "source_from_federation",
    "source_from_run",
    "write_synthetic_dataset",
]
