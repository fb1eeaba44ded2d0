"""The simulator's report (hardware.report) on a hand-made SimResult: the terminal table shows every section with the
right numbers, the CSV round-trips through pandas, the PNGs are written, and a refused or failed write leaves
nothing behind."""

import numpy as np
import pandas as pd
import pytest

from hardware import report
from ssr_neuro.counting import count_methods
from hardware.report import PLOT_FILES, format_table, mesh_load, write_csv, write_plots
from hardware.result import KINDS, PER_INFERENCE_KEYS, SimResult
from ssr_neuro.errors import UserError
from test_hardware_counting import RATES, tiny_graph


@pytest.fixture
def result() -> SimResult:
    rng = np.random.default_rng(0)
    n = 5
    per = {k: rng.uniform(1.0, 1e4, n) for k in PER_INFERENCE_KEYS}
    parts = np.stack([per[f"energy_pJ_{k}"] for k in KINDS])
    per["energy_pJ"] = parts.sum(0)
    total = float(per["energy_pJ"].mean())
    by_kind = {k: float(v) for k, v in zip(KINDS, parts.mean(1))}
    layer_share = rng.dirichlet(np.ones(12))
    cores = [{"name": f"core{i}", "mesh": [i // 3, i % 3], "energy_pJ": total * s, "busy_cycles": 100.0 * (i + 1),
              "events": {"synaptic_op": 10.0 * i}} for i, s in enumerate([0.3, 0.2, 0.1, 0.1, 0.2])]
    cores += [{"name": "host", "mesh": [0, 0], "kind": "host", "energy_pJ": total * 0.1, "busy_cycles": 5e4,
               "events": {}}]
    res = SimResult(
        chip="toy", n_inferences=n, scores=rng.normal(size=(n, 4)), per_inference=per,
        breakdown={"by_kind": by_kind, "by_layer": {f"layer{i}": total * s for i, s in enumerate(layer_share)},
                   "by_core": {c["name"]: c["energy_pJ"] for c in cores}, "by_action": {"synaptic_op": total}},
        steps=[{"name": "embedding", "cycles": 40.0, "core_cycles_max": 30.0, "slowest_core": "core0",
                "network_cycles": 6.0, "barrier_cycles": 4.0},
               {"name": "block0.t0", "cycles": 75.0, "core_cycles_max": 60.0, "slowest_core": "core3",
                "network_cycles": 11.0, "barrier_cycles": 4.0}],
        cores=cores, raster={"lif1": rng.integers(0, 2, (4, 6)).astype(float), "lif2": np.zeros((4, 4))},
        links=[{"from": [0, 0], "to": [0, 1], "packets": 3.0}, {"from": [1, 2], "to": [2, 2], "packets": 1.0}])
    res.counting = count_methods(tiny_graph(), RATES, res)
    return res


QUALITY = {"chip (fixed point)": {"HR@10": 0.2345, "NDCG@10": 0.1234, "MRR@10": 0.0987},
           "float model": {"HR@10": 0.2351, "NDCG@10": 0.1240, "MRR@10": 0.0991}}


def test_table_shows_every_section_with_its_numbers(result):
    s = result.summary()
    text = format_table(s, QUALITY)
    total_uj = s["energy_uj_per_inference"]
    assert f"{total_uj:.4g} uJ per inference" in text
    for kind in KINDS:
        line = next(row for row in text.splitlines() if row.strip().startswith(kind))
        assert f"{s['breakdown']['by_kind'][kind]:.4g}" in line
        assert f"{100 * s['breakdown']['by_kind'][kind] / total_uj:.1f}%" in line
    top = max(s["breakdown"]["by_layer"], key=s["breakdown"]["by_layer"].get)
    assert top in text and "(4 others)" in text  # 12 layers, 8 shown
    assert "core0" in text and "host" in text
    assert "block0.t0" in text and "core3" in text and "115.0" in text  # steps and their total cycles
    methods = s["counting"]["methods"]
    for key in ("snn_rule", "ann", "chip"):
        assert f"{methods[key]['total_pJ'] * 1e-6:.4g}" in text
    assert "SNN-paper rule" in text and "float32 ANN" in text and "4.6 pJ x MACs" in text
    for label, metrics in QUALITY.items():
        line = next(row for row in text.splitlines() if row.strip().startswith(label))
        assert all(f"{v:.4f}" in line for v in metrics.values())


def test_table_leaves_out_empty_sections(result):
    result.counting = {}
    text = format_table(result.summary(), {})
    assert "counting method" not in text and "quality" not in text and "energy by kind" in text


def test_csv_round_trips_one_record_per_inference(result, tmp_path):
    path = tmp_path / "out" / "per_inference.csv"
    write_csv(result, path)
    df = pd.read_csv(path)
    assert list(df["inference"]) == list(range(result.n_inferences))
    assert list(df.columns[1:]) == list(PER_INFERENCE_KEYS)
    for key in PER_INFERENCE_KEYS:
        np.testing.assert_array_equal(df[key].to_numpy(), result.per_inference[key])


def test_csv_refuses_to_overwrite_unless_asked(result, tmp_path):
    path = tmp_path / "per_inference.csv"
    path.write_text("mine\n")
    with pytest.raises(UserError, match="--force"):
        write_csv(result, path)
    assert path.read_text() == "mine\n"
    write_csv(result, path, overwrite=True)
    assert len(pd.read_csv(path)) == result.n_inferences
    with pytest.raises(UserError, match="folder"):
        write_csv(result, tmp_path)


def test_plots_are_png_files(result, tmp_path):
    paths = write_plots(result, tmp_path / "plots")
    assert [p.name for p in paths] == list(PLOT_FILES)
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 1000


def test_plots_refuse_an_existing_file_and_write_none(result, tmp_path):
    (tmp_path / "raster.png").write_bytes(b"mine")
    with pytest.raises(UserError, match="raster.png"):
        write_plots(result, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raster.png"]
    assert (tmp_path / "raster.png").read_bytes() == b"mine"
    a_file = tmp_path / "raster.png"
    with pytest.raises(UserError, match="is a file"):
        write_plots(result, a_file)


def test_a_failing_plot_writes_nothing(result, tmp_path, monkeypatch):
    def broken(plt, res):
        raise RuntimeError("render failed")

    monkeypatch.setattr(report, "_load_figure", broken)
    with pytest.raises(RuntimeError):
        write_plots(result, tmp_path / "plots")
    assert not (tmp_path / "plots").exists() or not any((tmp_path / "plots").iterdir())


def test_mesh_load_sums_cores_per_router_and_keeps_the_host_apart(result):
    result.cores.append({**result.cores[0], "name": "core5", "busy_cycles": 1000.0})  # a second core on router (0, 0)
    result.cores.append({**result.cores[0], "name": "io", "mesh": [2, 0], "busy_cycles": 0.0})  # no "kind": on mesh
    energy, busy, host_uj = mesh_load(result)
    assert energy.shape == (3, 3)  # routers up to (1, 1) from the cores, (2, 2) from a link
    assert energy[0, 0] == pytest.approx(2 * result.cores[0]["energy_pJ"] * 1e-6)
    assert busy[0, 0] == 1000.0 and busy[1, 1] == result.cores[4]["busy_cycles"]  # the host's 5e4 is apart
    assert energy[2, 0] == pytest.approx(result.cores[0]["energy_pJ"] * 1e-6)
    assert host_uj == pytest.approx(result.cores[5]["energy_pJ"] * 1e-6)
