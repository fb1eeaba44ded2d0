"""``ssr-neuro convert`` and ``ssr-neuro map`` end to end on a tiny trained model: the graph file, the mapping file,
the JSON keys the issue names, and each bad input (corrupt or foreign checkpoint, bad chip file, a model too big
for the chip): one line, exit code 2, nothing written."""

import json

import pytest
import torch

from mapping import load_mapping
from ssr_neuro.app.cli import main
from ssr_neuro.app.dse.store import load_results
from ssr_neuro.graph.io import load_graph
from support import front_by_hand
from test_cli import _assert_clean_error, run_cli


pytestmark = pytest.mark.usefixtures("isolated_home")  # conftest.py: the data cache out of ~/.cache


@pytest.fixture(scope="module")
def model(tiny_model):
    return tiny_model  # conftest.py: one trained checkpoint for the session


@pytest.fixture(scope="module")
def graph_file(model):
    out = model.parent / "model.graph"
    assert main(["convert", str(model), "-o", str(out), "--no-check", "--calibration-samples", "256"]) == 0
    return out


def test_convert_writes_a_fixed_point_graph_and_reports_quality(model, tmp_path, capsys):
    out = tmp_path / "m.graph"
    rc, stdout, _ = run_cli(capsys, "convert", str(model), "-o", str(out), "--json", "--calibration-samples", "256")
    assert rc == 0
    obj = json.loads(stdout)
    assert obj["quantized"] is True
    q = obj["quality"]
    # the float graph is the torch model (same ranking metrics), the fixed-point one is close to it
    assert q["float graph test"]["HR@10"] == pytest.approx(q["torch test"]["HR@10"], abs=2e-3)
    assert abs(q["fixed graph test"]["HR@10"] - q["float graph test"]["HR@10"]) < 0.1
    graph = load_graph(out)
    assert graph.quantized
    assert graph.meta["dataset"]["name"] == "synthetic"


def test_convert_float_keeps_float_weights(model, tmp_path, capsys):
    out = tmp_path / "f.graph"
    rc, _, _ = run_cli(capsys, "convert", str(model), "-o", str(out), "--float", "--no-check")
    assert rc == 0
    assert not load_graph(out).quantized


@pytest.mark.parametrize("strategy", ["greedy", "anneal"])
def test_map_json_mapping_file_and_plot(graph_file, tmp_path, capsys, strategy):
    out, png = tmp_path / "mapping.json", tmp_path / "mesh.png"
    rc, stdout, _ = run_cli(capsys, "map", str(graph_file), "--chip", "45nm", "--strategy", strategy,
                            "-o", str(out), "--plot", str(png), "--json", "--activity-samples", "64")
    assert rc == 0
    obj = json.loads(stdout)
    for key in ("cores_used", "utilisation", "hop_weighted_traffic"):
        assert key in obj
    assert 1 <= obj["cores_used"] <= 128
    assert obj["time_steps_per_inference"] == 4  # TINY: one block of T = 4 steps
    assert obj["hop_weighted_traffic_per_step"] == pytest.approx(obj["hop_weighted_traffic"] / 4)
    assert all(0.0 <= v["max"] <= 1.0 for v in obj["utilisation"].values())
    saved = json.loads(out.read_text())
    assert saved["format"] == "ssr-neuro/mapping"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_map_a_checkpoint_directly_on_loihi(model, tmp_path, capsys):
    out = tmp_path / "mapping.json"
    rc, stdout, _ = run_cli(capsys, "map", str(model), "--chip", "loihi", "-o", str(out), "--json",
                            "--activity-samples", "64")
    assert rc == 0
    assert json.loads(stdout)["cores_used"] >= 1 and out.exists()


def test_map_corrupt_and_foreign_checkpoints(tmp_path, capsys):
    foreign = tmp_path / "resnet.pt"
    torch.save({"conv1.weight": torch.zeros(2, 2)}, foreign)
    corrupt = tmp_path / "cut.pt"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    out = tmp_path / "mapping.json"
    for bad in (foreign, corrupt):
        _assert_clean_error(*run_cli(capsys, "map", str(bad), "-o", str(out)), bad.name)
        _assert_clean_error(*run_cli(capsys, "convert", str(bad), "-o", str(tmp_path / "g.graph")), bad.name)
    assert not out.exists() and not (tmp_path / "g.graph").exists()


def test_map_bad_chip_file(graph_file, tmp_path, capsys):
    chip = tmp_path / "my.toml"
    chip.write_text((__import__("hardware.chip", fromlist=["PRESETS_DIR"]).PRESETS_DIR / "45nm.toml").read_text()
                    .replace("neurons = 1024", "neurons = -3"))
    out = tmp_path / "mapping.json"
    _assert_clean_error(*run_cli(capsys, "map", str(graph_file), "--chip", str(chip), "-o", str(out)),
                        "core.neurons")
    _assert_clean_error(*run_cli(capsys, "map", str(graph_file), "--chip", "truenorth", "-o", str(out)), "45nm")
    assert not out.exists()


def test_model_too_big_for_the_chip(graph_file, tmp_path, capsys):
    chip = tmp_path / "tiny.toml"
    text = (__import__("hardware.chip", fromlist=["PRESETS_DIR"]).PRESETS_DIR / "45nm.toml").read_text()
    chip.write_text(text.replace("rows = 8", "rows = 1").replace("cols = 8", "cols = 1")
                    .replace("cores_per_router = 2", "cores_per_router = 1").replace("neurons = 1024", "neurons = 64"))
    out, png = tmp_path / "mapping.json", tmp_path / "mesh.png"
    rc, stdout, err = run_cli(capsys, "map", str(graph_file), "--chip", str(chip), "-o", str(out), "--plot", str(png))
    _assert_clean_error(rc, stdout, err, "cannot map", "core")
    assert not out.exists() and not png.exists()


def test_map_does_not_overwrite(graph_file, tmp_path, capsys):
    out = tmp_path / "mapping.json"
    out.write_text("precious")
    _assert_clean_error(*run_cli(capsys, "map", str(graph_file), "-o", str(out)), "--force")
    assert out.read_text() == "precious"


# ------------------------------------------------------------------------------------------------ simulate

@pytest.fixture(scope="module")
def mapping_file(graph_file):
    out = graph_file.parent / "mapping-45nm.json"
    assert main(["map", str(graph_file), "--chip", "45nm", "-o", str(out), "--activity-samples", "64"]) == 0
    return out


def test_simulate_json_csv_and_plots(graph_file, mapping_file, tmp_path, capsys):
    csv, plots = tmp_path / "per_inference.csv", tmp_path / "plots"
    rc, stdout, _ = run_cli(capsys, "simulate", str(graph_file), "--chip", "45nm", "--mapping", str(mapping_file),
                            "--samples", "200", "--json", "--csv", str(csv), "--plot", str(plots))
    assert rc == 0
    obj = json.loads(stdout)
    for key in ("energy_uj_per_inference", "latency_us_per_inference", "breakdown", "HR@10", "n_inferences"):
        assert key in obj
    assert obj["n_inferences"] == 200
    assert obj["energy_uj_per_inference"] > 0 and obj["latency_us_per_inference"] > 0
    by_kind = obj["breakdown"]["by_kind"]
    assert sum(by_kind.values()) == pytest.approx(obj["energy_uj_per_inference"], rel=1e-9)
    assert set(obj["counting"]["methods"]) >= {"snn_rule", "ann", "chip"}
    # the chip's recommendations are the fixed-point graph's: quality close to the float graph's
    q = obj["quality"]
    assert abs(q["chip (fixed point)"]["HR@10"] - q["float graph"]["HR@10"]) < 0.1
    import pandas as pd
    assert len(pd.read_csv(csv)) == 200
    assert sorted(p.suffix for p in plots.iterdir()) == [".png"] * 3


def test_simulate_a_checkpoint_on_loihi_maps_it_first(model, capsys):
    rc, stdout, _ = run_cli(capsys, "simulate", str(model), "--chip", "loihi", "--samples", "50", "--json")
    assert rc == 0
    obj = json.loads(stdout)
    assert obj["chip"] == "loihi" and obj["n_inferences"] == 50
    assert "float model (torch)" in obj["quality"]


def test_simulate_bad_inputs(model, graph_file, mapping_file, tmp_path, capsys):
    csv = tmp_path / "out.csv"
    # a mapping made for another chip, and one made for another model
    _assert_clean_error(*run_cli(capsys, "simulate", str(graph_file), "--chip", "loihi", "--mapping",
                                 str(mapping_file), "--csv", str(csv)), "chip")
    other = tmp_path / "other.graph"
    assert main(["convert", str(model), "-o", str(other), "--no-check", "--bits", "6"]) == 0
    capsys.readouterr()
    _assert_clean_error(*run_cli(capsys, "simulate", str(other), "--mapping", str(mapping_file), "--csv", str(csv)),
                        "another graph")
    # zero inferences; items unknown to the model (a dataset with other item ids)
    _assert_clean_error(*run_cli(capsys, "simulate", str(graph_file), "--samples", "0", "--csv", str(csv)),
                        "nothing to simulate")
    data = tmp_path / "u.data"
    data.write_text("".join(f"{u}\t{i}\t5\t{100 * u + i}\n" for u in range(1, 40) for i in range(900, 912)))
    _assert_clean_error(*run_cli(capsys, "simulate", str(graph_file), "--dataset", str(data), "--csv", str(csv)),
                        "differs from the one", "model.graph was trained on")
    # a chip whose limits the mapping breaks
    chip = tmp_path / "small.toml"
    text = (__import__("hardware.chip", fromlist=["PRESETS_DIR"]).PRESETS_DIR / "45nm.toml").read_text()
    chip.write_text(text.replace("synapse_memory_bytes = 131072", "synapse_memory_bytes = 64"))
    _assert_clean_error(*run_cli(capsys, "simulate", str(graph_file), "--chip", str(chip), "--mapping",
                                 str(mapping_file), "--csv", str(csv)), "synapse_memory_bytes")
    # a mapping on cores of 256 neurons whose pieces were all moved onto its first core, the resources it states
    # left as they were
    chip.write_text(text.replace("neurons = 1024", "neurons = 256"))
    spread = tmp_path / "spread.json"
    assert main(["map", str(graph_file), "--chip", str(chip), "-o", str(spread), "--strategy", "greedy"]) == 0
    capsys.readouterr()
    doc = json.loads(spread.read_text())
    assert len(doc["cores"]) > 1
    for piece in doc["pieces"]:
        if piece["core"] is not None:
            piece["core"], piece["mesh"] = 0, doc["cores"][0]["mesh"]
    piled = tmp_path / "piled.json"
    piled.write_text(json.dumps(doc))
    neurons = sum(p.neurons for p in load_mapping(spread).pieces if p.core is not None)  # the readout's grow with N
    _assert_clean_error(*run_cli(capsys, "simulate", str(graph_file), "--chip", str(chip), "--mapping", str(piled),
                                 "--csv", str(csv)), f"core 0 of the mapping needs {neurons:,} neurons",
                        "has 256 (core.neurons)")
    assert not csv.exists()


def test_doctor_reports_lava_and_datasets(capsys):
    rc, stdout, _ = run_cli(capsys, "doctor", "--json")
    assert rc == 0
    obj = json.loads(stdout)
    assert isinstance(obj["lava_backend"], bool) and obj["lava_message"].startswith("Lava backend")
    assert obj["torch"] == torch.__version__


def test_simulate_lava_backend_equals_fast(graph_file, mapping_file, capsys):
    from hardware.lava_backend import lava_status

    usable, message = lava_status()
    if not usable:
        pytest.skip(message)
    objs = {}
    for backend in ("fast", "lava"):
        rc, stdout, _ = run_cli(capsys, "simulate", str(graph_file), "--mapping", str(mapping_file), "--samples", "6",
                                "--backend", backend, "--json")
        assert rc == 0
        objs[backend] = json.loads(stdout)
    for key in ("energy_uj_per_inference", "latency_us_per_inference", "HR@10", "breakdown", "per_inference_mean"):
        assert objs["lava"][key] == objs["fast"][key]


def test_dse_sweeps_resumes_and_plots(graph_file, tmp_path, capsys):
    space = tmp_path / "space.toml"
    space.write_text(f'''sampling = "grid"
[base]
graph = "{graph_file}"
chip = "45nm"
samples = 40
[chip.neurons_per_core]
values = [256, 1024]
[conversion.weight_bits]
values = [4, 8]
''')
    out, plots = tmp_path / "dse.sqlite", tmp_path / "plots"
    rc, stdout, _ = run_cli(capsys, "dse", str(space), "-o", str(out), "--workers", "1", "--plot", str(plots),
                            "--objectives", "energy_uJ:min,HR@10:max", "--json")
    assert rc == 0
    obj = json.loads(stdout)
    assert obj["points"] == 4 and obj["computed"] == 4 and obj["skipped"] == 0
    measured = load_results(out).to_dict(orient="records")
    assert len(measured) == 4 and all(r["status"] == "ok" for r in measured)
    assert {p["id"] for p in obj["pareto"]} == front_by_hand(measured, {"energy_uJ": "min", "HR@10": "max"})
    assert sorted(p.name for p in plots.iterdir()) == ["pareto.png", "sensitivity.png"]
    rc, stdout, _ = run_cli(capsys, "dse", str(space), "-o", str(out), "--workers", "1", "--json")
    assert rc == 0 and json.loads(stdout)["skipped"] == 4 and json.loads(stdout)["computed"] == 0
    _assert_clean_error(*run_cli(capsys, "dse", str(space), "-o", str(out), "--objectives", "energy"), "NAME:min")
