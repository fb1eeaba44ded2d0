"""Model axes of the design-space exploration: each model setting is trained once (cached), converted like the base
graph, and its chip points are measured on it; a setting that cannot be built fails its points with the reason."""

from __future__ import annotations

import json
import os

import pytest

from ssr_neuro.app.dse.store import load_results
from ssr_neuro.app.cli import main
from ssr_neuro.graph.io import load_graph
from test_cli import TINY, run_cli

SPACE = """
[base]
graph = "{graph}"
samples = 40
strategy = "greedy"

[chip.neurons_per_core]
values = [256, 1024]

[model.T]
values = [1, 2]

[model.tau]
values = [{tau}]

[training]
epochs = 1
compile = false
models = "variants"
"""


pytestmark = pytest.mark.usefixtures("isolated_home")  # conftest.py: the data cache out of ~/.cache


@pytest.fixture(scope="module")
def graph_file(tmp_path_factory):
    os.environ["SSR_NEURO_HOME"] = str(tmp_path_factory.getbasetemp() / "ssr-home")
    folder = tmp_path_factory.mktemp("variants")
    assert main(["train", "--out", str(folder / "model.pt"), *TINY]) == 0
    assert main(["convert", str(folder / "model.pt"), "-o", str(folder / "model.graph"), "--no-check",
                 "--calibration-samples", "256"]) == 0
    return folder / "model.graph"


def _space(graph_file, name: str, tau: float) -> str:
    path = graph_file.parent / name
    path.write_text(SPACE.format(graph=graph_file.name, tau=tau))
    return str(path)


def test_each_model_setting_is_trained_once_and_measured(graph_file, capsys):
    space = _space(graph_file, "models.toml", 2.0)
    out = graph_file.parent / "models.sqlite"
    rc, stdout, err = run_cli(capsys, "dse", space, "-o", str(out), "--workers", "1", "--json")
    assert rc == 0, err
    report = json.loads(stdout)
    assert (report["points"], report["computed"], report["failed"]) == (4, 4, 0)
    assert err.count(": training ") == 2 and err.count("model variant saved") == 2  # once per model setting
    df = load_results(out)
    assert set(df["model.time_steps"]) == {1, 2} and (df["status"] == "ok").all()
    graphs = sorted((graph_file.parent / "variants").glob("*.graph"))
    assert len(graphs) == 2 and len(list((graph_file.parent / "variants").glob("*.pt"))) == 2
    assert sorted(load_graph(g).meta["model_config"]["time_steps"] for g in graphs) == [1, 2]
    base = load_graph(graph_file)
    for g in graphs:
        variant = load_graph(g)
        assert variant.quantized and variant.meta["quantization"]["weight_bits"] == base.meta["quantization"][
            "weight_bits"] and variant.meta["quantization"]["calibration"]["n_samples"] == 256
        assert variant.meta["model_config"]["dim"] == base.meta["model_config"]["dim"]
    # T changes the spiking work of the same chip: more steps, more energy and latency
    by_t = df[df["chip.neurons_per_core"] == 1024].set_index("model.time_steps")
    assert by_t.loc[2, "latency_us"] > by_t.loc[1, "latency_us"]

    # the results store is gone, the variants are not: measured again without training
    out.unlink()
    rc, stdout, err = run_cli(capsys, "dse", space, "-o", str(out), "--workers", "1", "--json")
    assert rc == 0 and json.loads(stdout)["computed"] == 4 and ": training " not in err
    again = load_results(out)
    cols = ["id", "energy_uJ", "latency_us", "HR@10", "cores_used"]
    assert again.sort_values("id")[cols].reset_index(drop=True).equals(df.sort_values("id")[cols]
                                                                        .reset_index(drop=True))
    # and a rerun over the store computes nothing
    rc, stdout, err = run_cli(capsys, "dse", space, "-o", str(out), "--workers", "1", "--json")
    assert rc == 0 and json.loads(stdout)["computed"] == 0 and ": training " not in err


def test_a_model_setting_that_cannot_be_built_fails_its_points_with_the_reason(graph_file, capsys):
    out = graph_file.parent / "bad.sqlite"
    rc, stdout, err = run_cli(capsys, "dse", _space(graph_file, "bad.toml", 1.0), "-o", str(out), "--workers", "1",
                              "--json")
    assert rc == 0, err
    assert json.loads(stdout)["failed"] == 4
    df = load_results(out)
    assert df["reason"].str.contains("tau must be > 1").all() and "Traceback" not in err
