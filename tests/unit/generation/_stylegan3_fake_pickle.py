"""Write pickles in the layout of NVIDIA's StyleGAN3 network files, without any NVIDIA code.

Follows stylegan3.md sections 1.1-1.4: a top-level dict {G, D, G_ema, augment_pipe, training_set_kwargs};
every network object is REDUCE(torch_utils.persistence._reconstruct_persistent_obj, (meta,)) with
meta = {type, version, module_src, class_name, state}; state is a torch Module __dict__ (internals,
attributes, _init_args, _init_kwargs); tensors use torch's own reduce (`_rebuild_tensor_v2`,
`_rebuild_parameter`, `_load_from_bytes`), numpy values numpy's own (module names selectable).

Stand-in functions and classes are written under the real global names by a pickler whose
`save_global` emits the chosen (module, name) for them, so the opcode stream names exactly the globals
that real files name.
"""

from __future__ import annotations

import io
import pickle
import pickletools
import types
from collections import OrderedDict
from typing import Any

import numpy as np
import torch

from fedloom.generation.stylegan3.network import Generator
from fedloom.generation.stylegan3.schedule import LayerSpec

PLACEHOLDER_SRC = "# placeholder for training/networks_stylegan3.py (not NVIDIA's code)\n"
D_PLACEHOLDER_SRC = "# placeholder for training/networks_stylegan2.py (not NVIDIA's code)\n"


def _reconstruct_stand_in(meta: dict[str, Any]) -> None:  # never called: only its name is pickled
    raise AssertionError("stand-in")


class _EasyDictStandIn(dict):  # type: ignore[type-arg]
    """Pickled as dnnlib.util.EasyDict: GLOBAL, EMPTY_TUPLE, NEWOBJ, SETITEMS."""

    __slots__ = ()


class Persistent:
    """A persistent object as torch_utils.persistence pickles it."""

    def __init__(self, class_name: str, state: dict[str, Any], module_src: str = PLACEHOLDER_SRC) -> None:
        self.meta = {"type": "class", "version": 6, "module_src": module_src, "class_name": class_name}
        self.meta["state"] = state

    def __reduce__(self) -> tuple[Any, ...]:
        return (_reconstruct_stand_in, (self.meta,))


def _numpy_reducers() -> dict[str, Any]:
    return {
        "scalar": np.float64(1.0).__reduce__()[0],
        "_reconstruct": np.zeros(1).__reduce__()[0],
    }


class FakeNvidiaPickler(pickle._Pickler):  # type: ignore[name-defined,misc]
    """Pure-Python pickler that writes chosen (module, name) pairs for stand-ins."""

    def __init__(self, file: io.BytesIO, protocol: int, numpy_core: str) -> None:
        super().__init__(file, protocol)
        self.names: dict[int, tuple[str, str]] = {
            id(_reconstruct_stand_in): ("torch_utils.persistence", "_reconstruct_persistent_obj"),
            id(_EasyDictStandIn): ("dnnlib.util", "EasyDict"),
        }
        for name, func in _numpy_reducers().items():
            self.names[id(func)] = (f"{numpy_core}.multiarray", name)

    def save_global(self, obj: Any, name: str | None = None) -> None:
        target = self.names.get(id(obj))
        if target is None:
            super().save_global(obj, name)
            return
        module, qualname = target
        if self.proto >= 4:
            self.save(module)
            self.save(qualname)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + f"{module}\n{qualname}\n".encode())
        self.memoize(obj)

    dispatch = dict(pickle._Pickler.dispatch)  # type: ignore[attr-defined]
    dispatch[types.FunctionType] = save_global


def dumps(obj: Any, protocol: int = 4, numpy_core: str = "numpy._core") -> bytes:
    buf = io.BytesIO()
    FakeNvidiaPickler(buf, protocol, numpy_core).dump(obj)
    return buf.getvalue()


def globals_in(data: bytes) -> set[str]:
    """The 'module.name' globals a pickle refers to (GLOBAL, and STACK_GLOBAL with memoised strings)."""
    found: set[str] = set()
    recent: list[Any] = [None, None]
    memo: dict[int, Any] = {}
    for op, arg, _ in pickletools.genops(data):
        if op.name == "GLOBAL":
            found.add(arg.replace(" ", "."))
        elif op.name == "STACK_GLOBAL":
            found.add(f"{recent[-2]}.{recent[-1]}")
        if op.name == "MEMOIZE":
            memo[len(memo)] = recent[-1]
        elif op.name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = recent[-1]
        elif op.name in ("GET", "BINGET", "LONG_BINGET"):
            recent.append(memo.get(arg))
        elif op.name != "FRAME":
            recent.append(arg if isinstance(arg, str) and "UNICODE" in op.name else None)
    return found


def _module_state(module: torch.nn.Module, prefix: str, sd: dict[str, torch.Tensor]) -> dict[str, Any]:
    """torch 1.x-style Module internals, with parameters/buffers taken from `sd`."""
    params: OrderedDict[str, Any] = OrderedDict()
    for name, _ in module.named_parameters(recurse=False):
        params[name] = torch.nn.Parameter(sd[prefix + name].clone(), requires_grad=False)
    buffers: OrderedDict[str, Any] = OrderedDict()
    for name, buf in module._buffers.items():
        buffers[name] = None if buf is None else sd[prefix + name].clone()
    hooks = {k: OrderedDict() for k in ("_backward_hooks", "_forward_hooks", "_forward_pre_hooks")}
    return {
        "training": False,
        "_parameters": params,
        "_buffers": buffers,
        "_non_persistent_buffers_set": set(),
        **hooks,
        "_is_full_backward_hook": None,
        "_state_dict_hooks": OrderedDict(),
        "_load_state_dict_pre_hooks": OrderedDict(),
    }


def _layer_attrs(spec: LayerSpec, w_dim: int) -> dict[str, Any]:
    f64, size = np.float64, lambda s: np.array([s, s], dtype=np.int64)
    return {
        "w_dim": w_dim,
        "is_torgb": spec.is_torgb,
        "is_critically_sampled": spec.is_critically_sampled,
        "use_fp16": np.bool_(spec.use_fp16),
        "in_channels": spec.in_channels,
        "out_channels": spec.out_channels,
        "in_size": size(spec.in_size),
        "out_size": size(spec.out_size),
        "in_sampling_rate": spec.in_sampling_rate,
        "out_sampling_rate": spec.out_sampling_rate,
        "tmp_sampling_rate": spec.tmp_sampling_rate,
        "in_cutoff": f64(spec.in_cutoff),
        "out_cutoff": f64(spec.out_cutoff),
        "in_half_width": f64(spec.in_half_width),
        "out_half_width": f64(spec.out_half_width),
        "conv_kernel": spec.conv_kernel,
        "conv_clamp": 256,
        "up_factor": spec.up_factor,
        "up_taps": spec.up_taps,
        "down_factor": spec.down_factor,
        "down_taps": spec.down_taps,
        "down_radial": spec.down_radial,
        "padding": list(spec.padding),
    }


def _fc(module: Any, prefix: str, sd: dict[str, torch.Tensor]) -> Persistent:
    state = _module_state(module, prefix, sd)
    state.update(in_features=module.in_features, out_features=module.out_features, activation=module.activation)
    state.update(weight_gain=np.float64(module.weight_gain), bias_gain=module.bias_gain)
    state.update(_init_args=(module.in_features, module.out_features), _init_kwargs={})
    state["_modules"] = OrderedDict()
    return Persistent("FullyConnectedLayer", state)


def _with_children(state: dict[str, Any], children: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    state["_modules"] = OrderedDict(children)
    state.update(attrs)
    state.update(_init_args=(), _init_kwargs={})
    return state


def generator_object(init_kwargs: dict[str, Any], sd: dict[str, torch.Tensor]) -> Persistent:
    """A persistent Generator tree holding the weights `sd` (NVIDIA key names)."""
    g = Generator.from_init_kwargs(init_kwargs)
    syn, mapping = g.synthesis, g.mapping
    children: dict[str, Any] = {"input": _input_object(syn.input, sd)}
    for layer in syn.layers():
        name = layer.spec.name
        state = _module_state(layer, f"synthesis.{name}.", sd)
        kids = {"affine": _fc(layer.affine, f"synthesis.{name}.affine.", sd)}
        children[name] = Persistent("SynthesisLayer", _with_children(state, kids, _layer_attrs(layer.spec, g.w_dim)))
    syn_attrs = {"w_dim": g.w_dim, "num_ws": syn.num_ws, "layer_names": list(syn.layer_names)}
    syn_state = _with_children(_module_state(syn, "synthesis.", sd), children, syn_attrs)
    map_children = {f"fc{i}": _fc(getattr(mapping, f"fc{i}"), f"mapping.fc{i}.", sd) for i in range(mapping.num_layers)}
    if mapping.embed is not None:
        map_children = {"embed": _fc(mapping.embed, "mapping.embed.", sd), **map_children}
    map_attrs = {"z_dim": g.z_dim, "c_dim": g.c_dim, "w_dim": g.w_dim, "num_ws": g.num_ws, "w_avg_beta": 0.998}
    if mapping.embed is None:
        map_attrs["embed"] = None
    map_state = _with_children(_module_state(mapping, "mapping.", sd), map_children, map_attrs)
    top = {"synthesis": Persistent("SynthesisNetwork", syn_state), "mapping": Persistent("MappingNetwork", map_state)}
    attrs = {k: getattr(g, k) for k in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels", "num_ws")}
    state = _with_children(_module_state(g, "", sd), top, attrs)
    kwargs = dict(init_kwargs)
    kwargs["mapping_kwargs"] = _EasyDictStandIn(init_kwargs.get("mapping_kwargs", {}))
    state["_init_kwargs"] = kwargs
    return Persistent("Generator", state)


def _input_object(module: Any, sd: dict[str, torch.Tensor]) -> Persistent:
    state = _module_state(module, "synthesis.input.", sd)
    attrs = {"w_dim": module.w_dim, "channels": module.channels, "size": np.array([module.size] * 2)}
    attrs.update(sampling_rate=np.float64(module.sampling_rate), bandwidth=np.float64(module.bandwidth))
    kids = {"affine": _fc(module.affine, "synthesis.input.affine.", sd)}
    return Persistent("SynthesisInput", _with_children(state, kids, attrs))


def discriminator_object() -> Persistent:
    """A small stand-in D from another module_src, with its own 'FullyConnectedLayer'."""
    fc_state = _module_state(torch.nn.Linear(3, 2), "", {"weight": torch.ones(2, 3), "bias": torch.zeros(2)})
    fc = Persistent("FullyConnectedLayer", _with_children(fc_state, {}, {}), D_PLACEHOLDER_SRC)
    d_state = _with_children(_module_state(torch.nn.Module(), "", {}), {"out": fc}, {"c_dim": 0})
    d_state["_init_kwargs"] = {"block_kwargs": _EasyDictStandIn(), "c_dim": 0}
    return Persistent("Discriminator", d_state, D_PLACEHOLDER_SRC)


def network_pickle(
    init_kwargs: dict[str, Any],
    sd: dict[str, torch.Tensor],
    *,
    protocol: int = 4,
    numpy_core: str = "numpy._core",
    module_src: str | None = None,
) -> bytes:
    """The bytes of a complete network pickle whose G_ema holds `sd`; G holds different weights."""
    g_ema = generator_object(init_kwargs, sd)
    if module_src is not None:
        _replace_src(g_ema, module_src)
    g_train = generator_object(init_kwargs, {k: -v for k, v in sd.items()})
    top = {
        "G": g_train,
        "D": discriminator_object(),
        "G_ema": g_ema,
        "augment_pipe": None,
        "training_set_kwargs": {"class_name": "training.dataset.ImageFolderDataset", "resolution": 32},
    }
    return dumps(top, protocol, numpy_core)


def _replace_src(obj: Persistent, src: str) -> None:
    obj.meta["module_src"] = src
    for child in obj.meta["state"]["_modules"].values():
        if isinstance(child, Persistent):
            _replace_src(child, src)
