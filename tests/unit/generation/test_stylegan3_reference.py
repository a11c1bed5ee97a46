"""Our StyleGAN3 network against NVIDIA's reference vectors (tests/data/stylegan3)."""

from __future__ import annotations

import copy

import pytest
import torch
from _stylegan3_data import Reference

from fedloom.generation.stylegan3 import Generator
from fedloom.generation.stylegan3 import layers as sg3_layers
from fedloom.generation.stylegan3.schedule import SynthesisConfig, layer_specs

CASES = {"psi1": (1.0, None), "psi0p7": (0.7, None), "psi0p5_cut8": (0.5, 8)}


def _close(actual: torch.Tensor, expected: torch.Tensor, tol: float) -> None:
    torch.testing.assert_close(actual, expected.to(actual.dtype), atol=tol, rtol=tol)


@pytest.mark.parametrize("case", CASES)
def test_mapping_matches_reference(reference: Reference, case: str) -> None:
    psi, cutoff = CASES[case]
    v = reference.vectors
    with torch.no_grad():
        ws = reference.generator.mapping(v["z"], v["c"], truncation_psi=psi, truncation_cutoff=cutoff)
    _close(ws, v[f"ws_{case}"], 1e-6)


def test_truncation_cutoff_only_touches_first_layers(tiny_t: Reference) -> None:
    v = tiny_t.vectors
    with torch.no_grad():
        ws = tiny_t.generator.mapping(v["z"], v["c"], truncation_psi=0.5, truncation_cutoff=8)
        full = tiny_t.generator.mapping(v["z"], v["c"])
    assert torch.equal(ws[:, 8:], full[:, 8:])
    assert not torch.allclose(ws[:, :8], full[:, :8])


@pytest.mark.parametrize("case", CASES)
def test_synthesis_matches_reference(reference: Reference, case: str) -> None:
    v = reference.vectors
    with torch.no_grad():
        img = reference.generator.synthesis(v[f"ws_{case}"], noise_mode="const")
    assert img.dtype == torch.float32 and img.shape == v[f"img_{case}"].shape
    _close(img, v[f"img_{case}"], 1e-5)


def test_synthesis_with_input_transform(reference: Reference) -> None:
    v = reference.vectors
    g = copy.deepcopy(reference.generator)
    g.synthesis.input.transform.copy_(v["transform"])
    with torch.no_grad():
        img = g.synthesis(v["ws_psi1"])
    _close(img, v["img_psi1_transform"], 1e-5)
    assert (img - v["img_psi1"]).abs().max() > 1e-2  # the transform really changes the picture


def _activations(g: Generator, ws: torch.Tensor) -> dict[str, torch.Tensor]:
    outputs: dict[str, torch.Tensor] = {}
    modules = {"input": g.synthesis.input, **{n: getattr(g.synthesis, n) for n in g.synthesis.layer_names}}
    handles = [
        m.register_forward_hook(lambda _m, _i, out, name=name: outputs.__setitem__(name, out))
        for name, m in modules.items()
    ]
    try:
        with torch.no_grad():
            g.synthesis(ws)
    finally:
        for h in handles:
            h.remove()
    return outputs


def test_per_module_activations(reference: Reference) -> None:
    """Batch of 1 (sample 0 of ws_psi1): per-channel mean/RMS of every module, full maps where stored."""
    v = reference.vectors
    outputs = _activations(reference.generator, v["ws_psi1"][0:1])
    assert list(outputs) == ["input", *reference.generator.synthesis.layer_names]
    for name, out in outputs.items():
        scale = max(1.0, float(v[f"act/{name}/chan_rms"].max()))  # L13 of tiny_t runs near the clamp (256)
        out64 = out.double()
        _close(out64.mean(dim=[0, 2, 3]), v[f"act/{name}/chan_mean"], 1e-5 * scale)
        _close(out64.square().mean(dim=[0, 2, 3]).sqrt(), v[f"act/{name}/chan_rms"], 1e-5 * scale)
        if f"act/{name}/full" in v:
            _close(out, v[f"act/{name}/full"], 1e-5 * max(1.0, float(v[f"act/{name}/full"].abs().max())))


def test_layer0_styles(reference: Reference) -> None:
    v = reference.vectors
    layer = reference.generator.synthesis.layers()[0]
    with torch.no_grad():
        styles = layer.affine(v["ws_psi1"][0:1, 1])
    _close(styles, v["act/L0_styles"], 1e-6)


def test_stored_filters_match_our_design(reference: Reference) -> None:
    """Filters designed from the schedule (section 3.4) equal the stored buffers to float32 precision."""
    fresh = Generator.from_init_kwargs(reference.init_kwargs).state_dict()
    filters = [k for k in reference.state_dict if k.endswith("_filter")]
    assert filters and set(filters) == {k for k in fresh if k.endswith("_filter")}
    for key in filters:
        torch.testing.assert_close(fresh[key], reference.state_dict[key], atol=1e-7, rtol=0)
    radial = [k for k in filters if reference.state_dict[k].ndim == 2]
    assert bool(radial) == bool(reference.init_kwargs.get("use_radial_filters", False))


def test_schedule_full_size_t512() -> None:
    """The T-512 table of stylegan3.md section 3.6, and its parameter count (24.87 M)."""
    specs = layer_specs(SynthesisConfig(w_dim=512, img_resolution=512, img_channels=3))
    names = [s.name for s in specs]
    assert names[6:9] == ["L6_148_512", "L7_148_483", "L8_276_323"] and names[-2:] == ["L13_512_64", "L14_512_3"]
    assert specs[0].padding == (9, 8, 9, 8) and specs[2].padding == (-6, -9, -6, -9)
    assert specs[13].padding == (-11, -12, -11, -12) and specs[14].padding == (0, 0, 0, 0)
    assert [s.use_fp16 for s in specs].index(True) == 4
    with torch.device("meta"):
        g = Generator(z_dim=512, c_dim=0, w_dim=512, img_resolution=512, img_channels=3)
    assert round(sum(p.numel() for p in g.parameters()) / 1e6, 2) == 24.87


def test_schedule_full_size_r256_sampling_rate_tie() -> None:
    """R-256 (section 3.6): layer 9 sits exactly on a sampling-rate boundary and must be L9_148_362."""
    kwargs = {"channel_base": 32768, "channel_max": 1024, "conv_kernel": 1, "use_radial_filters": True}
    with torch.device("meta"):
        g = Generator(z_dim=512, c_dim=0, w_dim=512, img_resolution=256, img_channels=3, **kwargs)
    sizes = [36, 36, 36, 52, 52, 84, 84, 148, 148, 148, 276, 276, 276, 256, 256]
    channels = [1024] * 7 + [724, 512, 362, 256, 181, 128, 128, 3]
    expected = [f"L{i}_{s}_{c}" for i, (s, c) in enumerate(zip(sizes, channels, strict=True))]
    assert g.synthesis.layer_names == expected
    assert round(sum(p.numel() for p in g.parameters()) / 1e6, 2) == 15.78
    specs = [layer.spec for layer in g.synthesis.layers()]
    assert [s.down_radial for s in specs] == [True] * 12 + [False] * 3
    assert specs[0].padding == (11, 10, 11, 10) and specs[3].padding == (-2, -5, -2, -5)


def test_fp16_layers_when_allowed(tiny_t: Reference, monkeypatch: pytest.MonkeyPatch) -> None:
    """The float16 path (CUDA only in production) exercised on CPU: same picture to about 1e-2."""
    monkeypatch.setattr(sg3_layers, "fp16_available", lambda device: True)
    v = tiny_t.vectors
    dtypes: list[torch.dtype] = []
    handles = [
        m.register_forward_hook(lambda _m, _i, out: dtypes.append(out.dtype))
        for m in tiny_t.generator.synthesis.layers()
    ]
    try:
        with torch.no_grad():
            img16 = tiny_t.generator.synthesis(v["ws_psi1"][:1], force_fp32=False)
            img32 = tiny_t.generator.synthesis(v["ws_psi1"][:1], force_fp32=True)
    finally:
        for h in handles:
            h.remove()
    assert torch.float16 in dtypes[:15] and dtypes[15:] == [torch.float32] * 15
    assert img16.dtype == torch.float32 and bool(torch.isfinite(img16).all())
    _close(img16, v["img_psi1"][:1], 3e-2)
    _close(img32, v["img_psi1"][:1], 1e-5)


def test_update_emas_moves_running_averages(tiny_t: Reference) -> None:
    g = copy.deepcopy(tiny_t.generator)
    v = tiny_t.vectors
    w_avg, mag = g.mapping.w_avg.clone(), g.synthesis.layers()[0].magnitude_ema.clone()
    with torch.no_grad():
        g(v["z"][:1], v["c"][:1], update_emas=True)
    assert not torch.equal(g.mapping.w_avg, w_avg)
    assert not torch.equal(g.synthesis.layers()[0].magnitude_ema, mag)


def test_input_validation(tiny_t: Reference, tiny_r: Reference) -> None:
    g = tiny_t.generator
    with pytest.raises(ValueError, match="noise_mode"):
        g.synthesis(tiny_t.vectors["ws_psi1"], noise_mode="loud")
    with pytest.raises(ValueError, match="ws must have shape"):
        g.synthesis(torch.zeros(1, 15, 64))
    with pytest.raises(ValueError, match="z must have shape"):
        g.mapping(torch.zeros(1, 63), None)
    with pytest.raises(ValueError, match="c must have shape"):
        tiny_r.generator.mapping(torch.zeros(2, 64), None)
