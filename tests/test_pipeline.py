"""The pipeline (ssr_neuro.app.pipeline): one sample plan and one walk for every command.

- the plan's sets are ``Samples.choose(n, seed)`` of their split: the same samples for the same count and seed,
  whichever stage asks; bad counts and splits are refused naming the option;
- ``simulate model.pt`` converts, maps and simulates exactly as ``convert`` + ``map`` + ``simulate model.graph``
  with the same options (same graph, same activity, same mapping, same figures): the defaults live in one place;
- ``run_on_chip`` returns the counting methods and the chip's quality inside the result, the same for both entry
  points of the stage (a graph file, or a model converted in memory as ``compare`` does).
"""

import json

import numpy as np
import pytest

from ssr_neuro.app.cli import main
from ssr_neuro.app.pipeline import SamplePlan, convert_model, load_source, map_source, record_activity, run_on_chip
from ssr_neuro.data import load_dataset
from ssr_neuro.errors import UserError
from ssr_neuro.metrics import metrics_of_scores
from test_cli import run_cli


pytestmark = pytest.mark.usefixtures("isolated_home")  # conftest.py: the data cache out of ~/.cache


@pytest.fixture(scope="module")
def model(tiny_model):
    return tiny_model  # conftest.py: one trained checkpoint for the session


def test_the_plan_picks_the_same_samples_for_every_stage():
    ds = load_dataset("synthetic", quiet=True)
    plan = SamplePlan(calibration=300, activity=50, evaluation=40, seed=3)
    hist, length = plan.activity_of(ds)
    again = ds.train.choose(50, 3)
    assert np.array_equal(hist, again.history) and np.array_equal(length, again.length)
    assert len(plan.calibration_of(ds)[0]) == 300
    chosen = plan.evaluation_of(ds)
    assert len(chosen) == 40 and np.array_equal(chosen.target, ds.test.choose(40, 3).target)
    valid = SamplePlan(evaluation=40, split="valid", seed=3).evaluation_of(ds)
    assert np.array_equal(valid.target, ds.valid.choose(40, 3).target)


@pytest.mark.parametrize("field, value, option", [("calibration", 0, "--calibration-samples"),
                                                  ("activity", -1, "--activity-samples"),
                                                  ("evaluation", 0, "--samples"), ("split", "train", "split")])
def test_a_bad_plan_is_refused_naming_the_option(field, value, option):
    with pytest.raises(UserError, match=option):
        SamplePlan(**{field: value})


def test_a_checkpoint_walks_the_same_path_as_convert_map_simulate(model, tmp_path, capsys):
    graph, mapping = tmp_path / "m.graph", tmp_path / "mapping.json"
    assert run_cli(capsys, "convert", str(model), "-o", str(graph), "--no-check")[0] == 0
    assert run_cli(capsys, "map", str(graph), "-o", str(mapping))[0] == 0
    rc, by_graph, _ = run_cli(capsys, "simulate", str(graph), "--mapping", str(mapping), "--samples", "60", "--json")
    assert rc == 0
    rc, by_model, _ = run_cli(capsys, "simulate", str(model), "--samples", "60", "--json")
    assert rc == 0
    a, b = json.loads(by_graph), json.loads(by_model)
    for key in ("energy_uj_per_inference", "latency_us_per_inference", "HR@10", "NDCG@10", "n_inferences"):
        assert a[key] == b[key], key
    assert a["breakdown"] == b["breakdown"]
    assert a["counting"] == b["counting"]


def test_run_on_chip_fills_counting_and_quality(model):
    from hardware.chip import load_chip
    from ssr_neuro.training import load_checkpoint

    plan = SamplePlan(calibration=256, evaluation=30)
    net, meta = load_checkpoint(model)
    src = load_source(model, plan)
    _, graph = convert_model(net, src.dataset, plan)  # in memory, as compare does
    chip = load_chip("45nm")
    mapping = map_source(src, chip, plan)
    assert mapping.chip == map_source(src, chip, plan).chip
    chosen = plan.evaluation_of(src.dataset)
    result = run_on_chip(graph, mapping, chip, chosen)
    assert set(result.counting["methods"]) >= {"snn_rule", "ann", "chip"}
    assert result.counting["methods"]["chip"]["total_pJ"] == pytest.approx(result.per_inference["energy_pJ"].mean())
    assert result.quality == metrics_of_scores(result.scores, chosen.target)
    same = run_on_chip(src.graph, mapping, chip, chosen)  # the graph converted by load_source: identical
    assert np.array_equal(same.scores, result.scores)
    assert record_activity(graph, None) is None
    with pytest.raises(UserError, match="backend"):
        run_on_chip(graph, mapping, chip, chosen, backend="gpu")


def test_simulate_event_timing_keeps_the_energy_and_adds_its_plots(model, tmp_path, capsys):
    graph = tmp_path / "m.graph"
    assert run_cli(capsys, "convert", str(model), "-o", str(graph), "--no-check")[0] == 0
    runs = {}
    for timing in ("analytic", "event"):
        plots = tmp_path / f"plots-{timing}"
        rc, out, _ = run_cli(capsys, "simulate", str(graph), "--samples", "40", "--timing", timing, "--json",
                             "--plot", str(plots))
        assert rc == 0
        runs[timing] = json.loads(out)
        assert runs[timing]["timing"] == timing
        assert (plots / "timeline.png").exists() == (timing == "event")
    assert runs["event"]["breakdown"]["by_kind"]["compute"] == runs["analytic"]["breakdown"]["by_kind"]["compute"]
    assert runs["event"]["latency_us_per_inference"] > 0
    rc, _, err = run_cli(capsys, "simulate", str(graph), "--timing-chunk", "0")
    assert rc == 2 and "--timing-chunk" in err


def test_a_synthetic_catalog_size_is_trained_recorded_and_rebuilt(tmp_path, capsys):
    """train --items/--users sets the generator; the checkpoint records it, so convert rebuilds the same items."""
    from test_cli import TINY

    model = tmp_path / "big.pt"
    rc, out, _ = run_cli(capsys, "train", "--items", "900", "--users", "150", "--out", str(model), "--json", *TINY)
    assert rc == 0
    rc, out, _ = run_cli(capsys, "convert", str(model), "-o", str(tmp_path / "big.graph"), "--no-check", "--json",
                         "--calibration-samples", "64")
    assert rc == 0
    from ssr_neuro.graph.io import load_graph

    desc = load_graph(tmp_path / "big.graph").meta["dataset"]
    assert desc["options"]["synthetic"]["n_items"] == 900 and desc["options"]["synthetic"]["n_users"] == 150
    from ssr_neuro.data.synthetic import SyntheticConfig

    same = load_dataset("synthetic", synthetic=SyntheticConfig(n_items=900, n_users=150), quiet=True)
    assert desc["item_ids"] == list(same.item_ids) != list(load_dataset("synthetic", quiet=True).item_ids)
    rc, _, err = run_cli(capsys, "train", "--dataset", "ml-100k", "--items", "10", "--out", str(tmp_path / "x.pt"))
    assert rc == 2 and "--items" in err
    rc, _, err = run_cli(capsys, "train", "--items", "1", "--out", str(tmp_path / "x.pt"))
    assert rc == 2 and "n_items" in err
