"""Devices for training, evaluation and checkpoints: "auto" | "cpu" | "cuda" resolved with one-line errors, CPU
runs that stay on the CPU, checkpoints that load onto the device asked for; one run on a CUDA GPU where torch sees
one (skipped, with the reason, elsewhere)."""

import pytest
import torch

from ssr_neuro.data import load_dataset
from ssr_neuro.errors import UserError
from ssr_neuro.model import SSR, SSRConfig
from ssr_neuro.training import TrainConfig, evaluate_model, load_checkpoint, save_checkpoint, train, training_record
from ssr_neuro.training.device import model_device, resolve_device

HAS_CUDA = torch.cuda.is_available()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return load_dataset("synthetic", cache_dir=tmp_path_factory.mktemp("cache"))


def _model(ds, seed=0):
    torch.manual_seed(seed)
    return SSR(SSRConfig(n_items=ds.n_items, dim=16, n_blocks=1))


def test_auto_picks_cuda_exactly_when_torch_sees_a_gpu():
    assert resolve_device("auto").type == ("cuda" if HAS_CUDA else "cpu")
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("name", ["gpu", "tpu", "cuda:x", ""])
def test_unknown_devices_are_refused_in_one_line(name):
    with pytest.raises(UserError, match="not a device; use one of auto, cpu, cuda"):
        resolve_device(name)
    with pytest.raises(UserError, match="not a device"):
        TrainConfig(device=name)


@pytest.mark.skipif(HAS_CUDA, reason="this machine has a CUDA GPU; the refusal is for machines without one")
def test_cuda_without_a_gpu_is_refused_before_any_work():
    with pytest.raises(UserError, match="torch sees no CUDA GPU.*use --device cpu"):
        TrainConfig(device="cuda")


def test_cpu_training_records_its_device_and_keeps_the_model_there(synthetic, tmp_path):
    model = _model(synthetic)
    cfg = TrainConfig(epochs=1, compile=False, device="cpu")
    result = train(model, synthetic, cfg, show_progress=False)
    assert result.device == "cpu" and model_device(model) == torch.device("cpu")
    assert training_record(cfg, result)["device"] == "cpu"
    path = tmp_path / "model.pt"
    save_checkpoint(path, model, synthetic.describe(), training_record(cfg, result), {})
    loaded, _ = load_checkpoint(path, device="cpu")
    assert model_device(loaded) == torch.device("cpu")
    assert evaluate_model(loaded, synthetic.test) == evaluate_model(model, synthetic.test)


@pytest.mark.skipif(not HAS_CUDA, reason="torch sees no CUDA GPU here (torch.cuda.is_available() is False)")
def test_training_and_evaluation_on_cuda_match_the_cpu(synthetic, tmp_path):
    model = _model(synthetic)
    cfg = TrainConfig(epochs=1, device="cuda")  # compiled LIF kernels for the GPU (or eager if Triton fails)
    result = train(model, synthetic, cfg, show_progress=False)
    assert model_device(model).type == "cuda" and result.device.startswith("cuda:")
    on_gpu = evaluate_model(model, synthetic.test)
    path = tmp_path / "model.pt"
    save_checkpoint(path, model, synthetic.describe(), training_record(cfg, result), {})
    on_cpu = evaluate_model(load_checkpoint(path, device="cpu")[0], synthetic.test)
    back_on_gpu = load_checkpoint(path, device="cuda")[0]
    assert model_device(back_on_gpu).type == "cuda"
    for k in ("HR@10", "NDCG@10", "MRR@10"):  # same weights, other kernels: equal up to float ties
        assert on_cpu[k] == pytest.approx(on_gpu[k], abs=0.02), k
    assert on_gpu["HR@10"] > 0


def test_the_cli_refuses_a_device_torch_cannot_see(capsys, tmp_path):
    """--device on train (and the other commands that take it) is checked before any data is read."""
    import torch

    from ssr_neuro.app.cli import main

    if torch.cuda.is_available():
        pytest.skip("torch sees a CUDA GPU here: --device cuda is valid")
    rc = main(["train", "--device", "cuda", "--epochs", "1", "--out", str(tmp_path / "m.pt")])
    err = capsys.readouterr().err
    assert rc == 2 and err.strip().splitlines()[-1].startswith("error: --device cuda") and "Traceback" not in err
    assert not (tmp_path / "m.pt").exists()
    assert main(["train", "--device", "tpu", "--epochs", "1", "--out", str(tmp_path / "m.pt")]) == 2
