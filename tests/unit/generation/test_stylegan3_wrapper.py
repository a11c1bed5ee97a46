"""`StyleGAN3Generator`: the `ImageGenerator` protocol on top of a loaded StyleGAN3 network."""

from __future__ import annotations

from pathlib import Path

import _stylegan3_fake_pickle as fake
import pytest
import torch
from _stylegan3_data import Reference

from fedloom.errors import ConfigError
from fedloom.generation import ImageGenerator
from fedloom.generation.stylegan3 import StyleGAN3Generator


@pytest.fixture
def wrapped_t(tiny_t: Reference) -> StyleGAN3Generator:
    return StyleGAN3Generator(tiny_t.generator, batch_size=4)


def test_protocol_and_sizes(wrapped_t: StyleGAN3Generator) -> None:
    assert isinstance(wrapped_t, ImageGenerator)
    assert (wrapped_t.z_dim, wrapped_t.w_dim, wrapped_t.num_ws, wrapped_t.resolution) == (64, 64, 16, 32)


def test_sample_latents_is_seeded(wrapped_t: StyleGAN3Generator) -> None:
    w1 = wrapped_t.sample_latents(5, torch.Generator().manual_seed(3))
    w2 = wrapped_t.sample_latents(5, torch.Generator().manual_seed(3))
    w3 = wrapped_t.sample_latents(5, torch.Generator().manual_seed(4))
    assert w1.shape == (5, 64) and w1.dtype == torch.float32
    assert torch.equal(w1, w2) and not torch.allclose(w1, w3)
    assert wrapped_t.sample_latents(0, torch.Generator()).shape == (0, 64)


def test_sample_latents_is_mapping_of_gaussian_z(tiny_t: Reference) -> None:
    wrapped = StyleGAN3Generator(tiny_t.generator, truncation_psi=0.7)
    w = wrapped.sample_latents(4, torch.Generator().manual_seed(0))
    z = torch.randn(4, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = tiny_t.generator.mapping(z, torch.zeros(4, 0), truncation_psi=0.7)[:, 0]
    assert torch.equal(w, expected)


def test_synthesize_matches_reference_in_unit_range(wrapped_t: StyleGAN3Generator, tiny_t: Reference) -> None:
    v = tiny_t.vectors
    img = wrapped_t.synthesize(v["ws_psi1"][:, 0])  # all 16 rows of ws_psi1 are the same w
    assert img.shape == (4, 3, 32, 32) and img.dtype == torch.float32
    assert float(img.min()) >= 0.0 and float(img.max()) <= 1.0
    expected = (v["img_psi1"] * 127.5 + 128).clamp(0, 255) / 255
    torch.testing.assert_close(img, expected, atol=1e-5, rtol=1e-5)
    assert not img.requires_grad


def test_synthesize_is_deterministic_and_chunking_is_harmless(tiny_t: Reference) -> None:
    w = StyleGAN3Generator(tiny_t.generator).sample_latents(3, torch.Generator().manual_seed(7))
    whole = StyleGAN3Generator(tiny_t.generator, batch_size=3).synthesize(w)
    again = StyleGAN3Generator(tiny_t.generator, batch_size=3).synthesize(w)
    chunked = StyleGAN3Generator(tiny_t.generator, batch_size=2).synthesize(w)
    assert torch.equal(whole, again)
    torch.testing.assert_close(chunked, whole, atol=1e-5, rtol=0)  # style RMS is per batch (section 4)
    assert StyleGAN3Generator(tiny_t.generator).synthesize(w[:0]).shape == (0, 3, 32, 32)
    with pytest.raises(ValueError, match="w must have shape"):
        StyleGAN3Generator(tiny_t.generator).synthesize(torch.zeros(2, 16, 64))


def test_conditional_labels(tiny_r: Reference) -> None:
    wrapped = StyleGAN3Generator(tiny_r.generator, class_index=3)
    w = wrapped.sample_latents(2, torch.Generator().manual_seed(1))
    z = torch.randn(2, 64, generator=torch.Generator().manual_seed(1))
    c = torch.zeros(2, 10)
    c[:, 3] = 1
    with torch.no_grad():
        assert torch.equal(w, tiny_r.generator.mapping(z, c)[:, 0])
        unlabeled = StyleGAN3Generator(tiny_r.generator).sample_latents(2, torch.Generator().manual_seed(1))
        assert torch.equal(unlabeled, tiny_r.generator.mapping(z, torch.zeros(2, 10))[:, 0])
    with pytest.raises(ConfigError, match="class_index"):
        StyleGAN3Generator(tiny_r.generator, class_index=10)
    with pytest.raises(ConfigError, match="batch_size"):
        StyleGAN3Generator(tiny_r.generator, batch_size=0)


def test_from_path_folder_and_pickle(tiny_t: Reference, tmp_path: Path) -> None:
    pkl = tmp_path / "network.pkl"
    pkl.write_bytes(fake.network_pickle(tiny_t.init_kwargs, tiny_t.state_dict))
    w = tiny_t.vectors["ws_psi1"][:2, 0]
    from_dir = StyleGAN3Generator.from_path(tiny_t.path, "cpu", batch_size=2)
    from_pkl = StyleGAN3Generator.from_path(pkl, batch_size=2)
    assert from_dir.device == torch.device("cpu")
    assert torch.equal(from_dir.synthesize(w), from_pkl.synthesize(w))
