"""Image generators behind one small protocol: StyleGAN3 (NVIDIA pickles), built-in, tiny (tests)."""

from fedloom.generation.protocol import ImageGenerator

__all__ = ["ImageGenerator"]
