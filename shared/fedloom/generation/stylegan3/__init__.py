"""StyleGAN3 generator in our own PyTorch code, loading NVIDIA's network files safely.

Specification: `shared/reference/stylegan3.md`. Nothing from a network file is executed: pickles are
read with a restricted unpickler (section 2) and `module_src` is ignored.

- `load_network(path, device)` -> `Generator` with NVIDIA-compatible `mapping(z, c, truncation_psi,
  truncation_cutoff)` and `synthesis(ws, noise_mode)`; `path` is an NVIDIA `.pkl` or a folder with
  `G_ema.safetensors` + `init_kwargs.json`.
- `convert_pickle(src_pkl, out_dir)` writes that folder layout from a pickle.
- `StyleGAN3Generator` implements the `ImageGenerator` protocol (w latents, images in [0, 1]).
"""

from fedloom.generation.stylegan3.errors import NetworkFormatError, UnsafePickleError
from fedloom.generation.stylegan3.loading import convert_pickle, load_network, read_network
from fedloom.generation.stylegan3.network import Generator
from fedloom.generation.stylegan3.wrapper import StyleGAN3Generator

__all__ = [
    "Generator",
    "NetworkFormatError",
    "StyleGAN3Generator",
    "UnsafePickleError",
    "convert_pickle",
    "load_network",
    "read_network",
]
