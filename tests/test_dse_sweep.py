"""Design points on a tiny SSR-shaped graph: derived chips, re-quantisation, recorded failures, resume, executors,
the Pareto front and its plots."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ssr_neuro.app.dse.evaluate import Base, derive_chip, evaluate_point, prepare, read_chip_doc
from ssr_neuro.app.dse.pareto import non_dominated, pareto_front, plot_pareto, plot_sensitivity
from ssr_neuro.app.dse.run import InProcess, LocalPool, RayPool, executor_for, run_sweep
from ssr_neuro.app.dse.space import BaseConfig, point_id
from ssr_neuro.app.dse.store import ResultStore, load_results
from ssr_neuro.data.types import Samples
from ssr_neuro.graph.quantize import quantize
from ssr_neuro.errors import UserError
from ssr_neuro.graph.ir import LIF
from support import front_by_hand, ssr_like

ROOT = Path(__file__).resolve().parents[1]
N_ITEMS, MAX_LEN = 60, 6


@pytest.fixture(scope="module")
def base() -> Base:
    graph = ssr_like(n_items=N_ITEMS, dim=8, blocks=2, max_len=MAX_LEN)
    for _, node in graph.nodes():
        if isinstance(node, LIF):
            node.threshold = 0.02  # so that the random weights make spikes
    rng = np.random.default_rng(0)
    length = rng.integers(1, MAX_LEN + 1, 64)
    history = rng.integers(1, N_ITEMS + 1, (64, MAX_LEN))
    history[np.arange(MAX_LEN)[None] >= length[:, None]] = 0
    doc, source = read_chip_doc("45nm")
    config = BaseConfig(graph=Path("tiny.graph"), samples=24, strategy="greedy")
    evaluation = Samples(history=history[:24], length=length[:24], target=rng.integers(1, N_ITEMS + 1, 24),
                         user=np.arange(24))
    return Base(config, quantize(graph, (history, length)), doc, source, (history, length),
                (history[:32], length[:32]), evaluation)


POINTS = [{"chip.neurons_per_core": n, "conversion.weight_bits": b} for n in (128, 1024) for b in (6, 8)]
TOO_SMALL = {"chip.neurons_per_core": 16, "chip.mesh_rows": 1, "chip.mesh_cols": 1, "chip.cores_per_router": 1,
             "conversion.weight_bits": 8}


def test_a_point_is_measured_and_requantised(base):
    r = evaluate_point(base, {"conversion.weight_bits": 6})
    assert r["status"] == "ok" and r["weight_bits"] == 6 and r["n_inferences"] == 24
    assert r["energy_uJ"] > 0 and r["latency_us"] > 0 and r["cores_used"] >= 1 and 0 <= r["HR@10"] <= 1
    assert r["used_area_mm2"] == pytest.approx(r["cores_used"] * r["core_area_mm2"])
    same = evaluate_point(base, {"conversion.weight_bits": 8})
    assert same["weight_bits"] == 8 and same["energy_uJ"] != r["energy_uJ"]
    ready = prepare(base, [{"conversion.weight_bits": 6}, {"chip.weight_bits": 80}])
    assert list(ready.prepared) == [(6, 8)]  # 80-bit weights cannot be quantised: that point reports it itself
    again = evaluate_point(ready, {"conversion.weight_bits": 6})
    assert {k: v for k, v in again.items() if k != "seconds"} == {k: v for k, v in r.items() if k != "seconds"}


def test_a_smaller_node_costs_less_energy_and_area_and_changes_nothing_else(base):
    at45 = evaluate_point(base, {"chip.process_nm": 45})
    at7 = evaluate_point(base, {"chip.process_nm": 7})
    assert at7["energy_uJ"] < 0.2 * at45["energy_uJ"] and at7["area_mm2"] < 0.1 * at45["area_mm2"]
    for key in ("HR@10", "latency_us", "cores_used"):
        assert at7[key] == at45[key]


def test_chip_weight_bits_set_the_models_weight_bits(base):
    assert evaluate_point(base, {"chip.weight_bits": 6})["weight_bits"] == 6


def test_derived_chip_follows_the_presets_derivations(base):
    old = derive_chip(base.chip_doc, base.chip_source, {}, 45, 0.9)
    new = derive_chip(base.chip_doc, base.chip_source, {"chip.synapse_memory_bytes": 4 * 131072, "chip.mesh_rows": 4,
                                                        "chip.mesh_cols": 4, "chip.process_nm": 14}, 45, 0.9)
    assert new.core.synapse_memory_bytes == 4 * 131072 and (new.mesh.rows, new.mesh.cols) == (4, 4)
    from hardware.area import energy_factor
    f = energy_factor(45, 14, 0.9)
    assert new.energy_pJ["weight_read_byte"] == pytest.approx(old.energy_pJ["weight_read_byte"] * 2 * f)
    assert new.energy_pJ["barrier_sync"] == pytest.approx(old.energy_pJ["barrier_sync"] / 4 * f)
    assert new.cycles["barrier_sync"] == pytest.approx(old.cycles["barrier_sync"] * 6 / 14)
    assert new.energy_pJ["mac"] == pytest.approx(old.energy_pJ["mac"] * f)


@pytest.mark.parametrize("point, reason", [(TOO_SMALL, "cannot map"),
                                           ({"chip.weight_bits": 80}, "core.weight_bits")])
def test_a_refused_point_is_a_failure_with_its_reason(base, point, reason):
    r = evaluate_point(base, point)
    assert r["status"] == "failed" and reason in r["reason"]


def test_an_interrupted_sweep_resumes_and_computes_only_the_rest(base, tmp_path):
    calls = []

    def stop_after(k):
        def evaluate(b, point):
            if len(calls) == k:
                raise KeyboardInterrupt
            calls.append(point_id(point))
            return evaluate_point(b, point)
        return evaluate

    points = POINTS + [TOO_SMALL]
    store = tmp_path / "r.sqlite"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(points, base, store, InProcess(), evaluate=stop_after(2), progress=False)
    assert len(load_results(store)) == 2
    first = list(calls)
    report = run_sweep(points, base, store, InProcess(), evaluate=stop_after(100), progress=False)
    assert (report.total, report.skipped, report.computed, report.failed) == (5, 2, 3, 1)
    assert len(calls) == 5 and set(calls[2:]).isdisjoint(first)
    df = load_results(store)
    assert sorted(df["id"]) == sorted(point_id(p) for p in points)
    failed = df[df["status"] == "failed"]
    assert len(failed) == 1 and "cannot map" in failed["reason"].iloc[0]
    again = run_sweep(points, base, store, InProcess(), evaluate=stop_after(100), progress=False)
    assert again.computed == 0 and len(calls) == 5


def _table(path: Path) -> pd.DataFrame:
    return load_results(path).drop(columns="seconds").sort_values("id").reset_index(drop=True)


def test_results_are_identical_with_one_and_two_workers(base, tmp_path):
    points = POINTS + [TOO_SMALL]
    run_sweep(points, base, tmp_path / "one.sqlite", InProcess(), progress=False)
    run_sweep(points, base, tmp_path / "two.sqlite", LocalPool(2), progress=False)
    pd.testing.assert_frame_equal(_table(tmp_path / "one.sqlite"), _table(tmp_path / "two.sqlite"))


def test_results_are_identical_on_a_local_ray_instance(base, tmp_path):
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'ssr-neuro[ray]')")
    points = POINTS + [TOO_SMALL]
    run_sweep(points, base, tmp_path / "local.sqlite", InProcess(), progress=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        report = run_sweep(points, base, tmp_path / "ray.sqlite", RayPool(), progress=False)
        assert ray.is_initialized()  # an instance the sweep did not start is left running
    finally:
        ray.shutdown()
    assert (report.computed, report.failed) == (5, 1)
    pd.testing.assert_frame_equal(_table(tmp_path / "local.sqlite"), _table(tmp_path / "ray.sqlite"))


def test_the_cli_refuses_a_bad_executor_in_one_line(tmp_path, capsys):
    from ssr_neuro.app.cli import main

    for args, message in ((["--executor", "dask"], "--executor must be one of local, ray"),
                          (["--address", "auto"], "--address is the Ray cluster's address")):
        assert main(["dse", str(tmp_path / "space.toml"), "-o", str(tmp_path / "r.sqlite"), *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "r.sqlite").exists()


def test_executor_choice_is_checked():
    assert isinstance(executor_for(1), InProcess) and isinstance(executor_for(3), LocalPool)
    assert executor_for(2, "ray", "auto") == RayPool(2, "auto")
    for args, message in (((2, "dask"), "one of local, ray"), ((2, "local", "auto"), "--executor ray"),
                          ((0, "ray"), "workers")):
        with pytest.raises(UserError, match=message):
            executor_for(*args)


def test_a_store_belongs_to_one_base(tmp_path):
    ResultStore(tmp_path / "r.sqlite", {"graph": "a"}).close()
    with pytest.raises(UserError, match="another base"):
        ResultStore(tmp_path / "r.sqlite", {"graph": "b"})
    (tmp_path / "junk.sqlite").write_text("not a database at all" * 100)
    with pytest.raises(UserError, match="not a results file"):
        ResultStore(tmp_path / "junk.sqlite", {})


def test_pareto_front_on_a_hand_made_set(tmp_path):
    df = pd.DataFrame({"id": list("abcdef"), "status": ["ok"] * 5 + ["failed"],
                       "energy_uJ": [1.0, 2.0, 3.0, 2.5, 1.0, 0.1],
                       "HR@10": [0.10, 0.20, 0.30, 0.15, 0.10, 0.9],
                       "neurons": [1, 2, 3, 2, 1, 1]})
    front = pareto_front(df, {"energy_uJ": "min", "HR@10": "max"})
    assert sorted(front["id"]) == ["a", "b", "c", "e"]  # d is beaten by b; a and e tie; f failed
    # reversed directions: d beats b (more energy, lower HR@10); a and e hold the lowest HR@10, c the most energy
    assert sorted(pareto_front(df, {"energy_uJ": "max", "HR@10": "min"})["id"]) == ["a", "c", "d", "e"]
    assert non_dominated(np.array([[1.0, 1.0], [0.0, 2.0], [2.0, 2.0]]), [False, False]).tolist() == [True, True, False]
    with pytest.raises(UserError, match="latency"):
        pareto_front(df, {"latency_us": "min"})
    with pytest.raises(UserError, match="direction"):
        pareto_front(df, {"energy_uJ": "lowest"})
    pytest.importorskip("matplotlib")
    three = {"energy_uJ": "min", "HR@10": "max", "neurons": "min"}  # more than the two drawn: a 2-D front too
    for path in (plot_pareto(df, "energy_uJ", "HR@10", tmp_path / "p.png"),
                 plot_pareto(df, "energy_uJ", "HR@10", tmp_path / "p3.png", objectives=three),
                 plot_sensitivity(df, ["neurons"], "energy_uJ", tmp_path / "s.png")):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_exploration_does_not_import_torch():
    code = ("import sys, ssr_neuro.app.dse.run, ssr_neuro.app.dse.pareto, ssr_neuro.app.dse.space, hardware.area; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_one_point_of_the_ml1m_example():
    space_file = ROOT / "examples" / "dse" / "space.toml"
    from ssr_neuro.app.dse.space import load_space

    space = load_space(space_file)
    if not space.base.graph.is_file():
        pytest.skip(f"{space.base.graph} is absent (ssr-neuro convert runs/ml-1m/model.pt -o runs/ml-1m/model.graph)")
    if not (space.base.data_dir / "ml-1m").is_dir():
        pytest.skip(f"MovieLens-1M is absent from {space.base.data_dir}")
    from ssr_neuro.app.dse.evaluate import load_base
    from ssr_neuro.graph.quantize import calibration_digest

    ml1m = load_base(space.base)
    # the calibration histories are the ones the graph was quantised on, so re-quantising reproduces it
    assert calibration_digest(*ml1m.calibration) == ml1m.graph.meta["quantization"]["calibration"]["sha256"]
    r = evaluate_point(ml1m, {"chip.neurons_per_core": 1024, "conversion.weight_bits": 8})
    assert r["status"] == "ok" and r["cores_used"] >= 10 and r["HR@10"] > 0.1 and r["n_inferences"] == 500


def test_nsga2_search_stores_its_points_and_resumes(base, tmp_path):
    pytest.importorskip("optuna", reason="Optuna is not installed (pip install 'ssr-neuro[optuna]')")
    from ssr_neuro.app.dse.search import search
    from ssr_neuro.app.dse.space import parse_space

    space = parse_space({"sampling": "nsga2", "n": 12, "population": 4, "seed": 1, "base": {"graph": "tiny.graph"},
                         "chip": {"neurons_per_core": {"values": [16, 64, 256, 1024]},
                                  "mac_units": {"values": [1, 16]}, "clock_MHz": {"range": [100.0, 1000.0]}}},
                        Path("."))
    objectives = {"energy_uJ": "min", "latency_us": "min"}
    store = tmp_path / "s.sqlite"
    report = search(space, base, store, objectives, InProcess(), progress=False)
    df = load_results(store)
    assert report.total == len(df) == report.computed and 4 < report.total <= 12
    assert df["chip.clock_MHz"].between(100.0, 1000.0).all()
    assert set(df["chip.neurons_per_core"]) <= {16, 64, 256, 1024}
    again = search(space, base, store, objectives, InProcess(), progress=False)  # same seed: same points, all stored
    assert (again.total, again.skipped, again.computed) == (report.total, report.total, 0)
    measured = df[df["status"] == "ok"].to_dict(orient="records")
    assert set(pareto_front(df, objectives)["id"]) == front_by_hand(measured, objectives)
    with pytest.raises(UserError, match="not a measured value"):
        search(space, base, store, {"joules": "min"}, InProcess(), progress=False)
    with pytest.raises(UserError, match="nsga2"):
        space.points()
