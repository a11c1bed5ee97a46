from pathlib import Path

import pytest
import torch

from fedloom.data import DatasetSpec, load_federated_dataset
from fedloom.errors import ConfigError
from fedloom_agent import load_client_data, parse_data_spec


def test_synthetic_spec_sets_the_dataset_fields_and_the_index() -> None:
    spec = parse_data_spec("synthetic,clients=3,index=0,samples=800")
    assert spec.index == 0
    assert spec.dataset.name == "synthetic" and spec.dataset.num_clients == 3 and spec.dataset.samples == 800
    assert spec.dataset.partition == DatasetSpec(name="x").partition  # untouched fields keep their defaults


def test_partition_paths_and_shapes_are_read_as_written() -> None:
    spec = parse_data_spec("fmnist, clients=20, partition=dir:0.1, index=4, data_dir=/tmp/fm")
    assert (spec.dataset.partition, spec.dataset.num_clients, spec.index) == ("dir:0.1", 20, 4)
    assert spec.dataset.data_dir == Path("/tmp/fm")
    pfl = parse_data_spec("pfl:/path/to/dir,index=2")
    assert pfl.dataset.name == "pfl:/path/to/dir" and pfl.index == 2
    shaped = parse_data_spec("synthetic,index=1,image_shape=3x32x32,num_classes=4")
    assert shaped.dataset.image_shape == (3, 32, 32) and shaped.dataset.num_classes == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("synthetic,clients=3", "needs index=I"),
        ("synthetic,index=-1", "must be >= 0"),
        ("synthetic,index=one", "not a whole number"),
        ("synthetic,index=0,colour=red", "unknown data spec key 'colour'"),
        ("synthetic,index=0,samples", "not key=value"),
        ("synthetic,index=0,samples=many", "samples"),
        ("synthetic,index=0,partition=dir:-1", "partition"),
        (",index=0", "must start with a data set name"),
        ("index=0", "must start with a data set name"),
    ],
)
def test_bad_specs_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_data_spec(text)


def test_loading_keeps_exactly_our_clients_split() -> None:
    spec = parse_data_spec("synthetic,clients=3,index=2,samples=300,partition=iid,seed=5")
    local = load_client_data(spec)
    expected = load_federated_dataset(spec.dataset).clients[2]
    assert local.index == 2 and local.num_classes == 10 and local.input_shape == (1, 28, 28)
    for name in ("train_x", "train_y", "test_x", "test_y"):
        assert torch.equal(getattr(local.data, name), getattr(expected, name))
    assert local.for_client(17).client_id == 17 and local.for_client(17).train_x is local.data.train_x


def test_an_index_past_the_last_client_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"index=3 is out of range: synthetic has 3 clients \(0..2\)"):
        load_client_data(parse_data_spec("synthetic,clients=3,index=3,samples=300,partition=iid"))
