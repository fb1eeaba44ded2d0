"""The design-space file: parsing, errors naming the key, grid and random points, point ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssr_neuro.app.dse.space import grid_space, load_space, parse_space, point_id
from ssr_neuro.errors import UserError


def doc(**extra):
    out = {"base": {"graph": "m.graph"}, "chip": {"neurons_per_core": {"values": [256, 512]}},
           "conversion": {"weight_bits": {"range": [4, 8], "steps": 3}}}
    out.update(extra)
    return out


def test_grid_is_the_product_of_the_axes_in_order():
    space = parse_space(doc(), Path("/spaces"))
    assert space.base.graph == Path("/spaces/m.graph") and space.base.chip == "45nm" and space.base.samples == 500
    pts = space.points()
    assert pts == [{"chip.neurons_per_core": n, "conversion.weight_bits": b} for n in (256, 512) for b in (4, 6, 8)]


def test_random_sampling_is_deterministic_per_seed_and_stays_in_range():
    d = doc(sampling="random", n=30, seed=3, chip={"clock_MHz": {"range": [100, 800], "log": True},
                                                   "neurons_per_core": {"values": [256, 512]}})
    a, b = parse_space(d, Path(".")).points(), parse_space(d, Path(".")).points()
    assert a == b
    c = parse_space({**d, "seed": 4}, Path(".")).points()
    assert a != c
    assert all(100 <= p["chip.clock_MHz"] <= 800 and p["conversion.weight_bits"] in (4, 6, 8) for p in a)
    assert len({point_id(p) for p in a}) == len(a)


def test_model_axes_take_short_names_and_need_a_training_table():
    space = parse_space(doc(model={"T": {"values": [2, 4]}, "blocks": {"values": [1]}},
                            training={"epochs": 3, "lr": 0.002, "models": "variants"}), Path("/spaces"))
    assert space.has_model_axes() and len(space.points()) == 2 * 1 * 2 * 3
    assert {p["model.time_steps"] for p in space.points()} == {2, 4}
    assert all(p["model.n_blocks"] == 1 for p in space.points())
    t = space.training
    assert (t.epochs, t.lr, t.batch_size, t.models) == (3, 0.002, 128, Path("/spaces/variants"))
    assert "models" not in t.key() and t.key()["epochs"] == 3
    assert parse_space(doc(), Path(".")).training is None and not parse_space(doc(), Path(".")).has_model_axes()


def test_point_id_is_canonical():
    assert point_id({"a": 1, "b": 2.5}) == point_id({"b": 2.5, "a": 1})
    assert point_id({"a": 1}) != point_id({"a": 2})
    assert len(point_id({"a": 1})) == 16


def test_integer_ranges_are_rounded_and_deduplicated():
    space = parse_space(doc(conversion={"weight_bits": {"range": [4, 5], "steps": 4}}), Path("."))
    assert [p["conversion.weight_bits"] for p in space.points()[:2]] == [4, 5]


@pytest.mark.parametrize("bad, key", [
    ({"sampling": "sobol"}, "sampling"),
    ({"sampling": "random"}, "n"),
    ({"n": 5}, "n"),
    ({"chip": {"nuerons": {"values": [1]}}}, "chip.nuerons"),
    ({"chip": {"neurons_per_core": {"values": [0]}}}, "chip.neurons_per_core.values"),
    ({"chip": {"neurons_per_core": {"values": [1.5]}}}, "chip.neurons_per_core.values"),
    ({"chip": {"neurons_per_core": {"range": [1, 8]}}}, "chip.neurons_per_core.steps"),
    ({"chip": {"neurons_per_core": {"range": [8, 1], "steps": 2}}}, "chip.neurons_per_core.range"),
    ({"chip": {"neurons_per_core": {"values": [1], "range": [1, 2]}}}, "chip.neurons_per_core"),
    ({"model": {"T": {"values": [2, 4]}}}, "training is required"),
    ({"model": {"T": {"values": [2]}}, "training": {"batch_size": 64}}, "training.epochs"),
    ({"model": {"T": {"values": [2]}}, "training": {"epochs": 0}}, "training.epochs"),
    ({"model": {"T": {"values": [2]}}, "training": {"epochs": 2, "lr": 0}}, "training.lr"),
    ({"model": {"T": {"values": [2]}}, "training": {"epochs": 2, "optimizer": "sgd"}}, "training.optimizer"),
    ({"model": {"T": {"values": [2]}, "time_steps": {"values": [4]}}, "training": {"epochs": 2}}, "model.time_steps"),
    ({"model": {"width": {"values": [2]}}, "training": {"epochs": 2}}, "model.width"),
    ({"model": {"T": {"values": [0]}}, "training": {"epochs": 2}}, "model.time_steps"),
    ({"training": {"epochs": 2}}, "training is for model axes"),
    ({"conversion": {"dim": {"values": [32]}}}, r"\[model.dim\]"),
    ({"base": {"chip": "45nm"}}, "base.graph"),
    ({"base": {"graph": "g", "samples": 0}}, "base.samples"),
    ({"base": {"graph": "g", "split": "train"}}, "base.split"),
    ({"base": {"graph": "g", "colour": 1}}, "base.colour"),
    ({"extra": 1}, "extra"),
    ({"chip": {}, "conversion": {}}, "no axis"),
    ({"chip": {"process_nm": {"values": [45, 22]}}}, "chip.process_nm"),
    ({"sampling": "random", "n": 3, "chip": {"process_nm": {"range": [7, 45]}}}, "chip.process_nm"),
    ({"base": {"graph": "g", "process_nm": 28}}, "base.process_nm"),
    ({"sampling": "nsga2"}, "n"),
    ({"sampling": "nsga2", "n": 10, "population": 1}, "population"),
    ({"sampling": "random", "n": 10, "population": 8}, "population"),
])
def test_errors_name_the_key(bad, key):
    with pytest.raises(UserError, match=key.replace(".", r"\.")):
        parse_space(doc(**bad), Path("."))


def test_load_space_reads_toml_and_reports_syntax_errors(tmp_path):
    good = tmp_path / "s.toml"
    good.write_text('[base]\ngraph = "g.graph"\n[chip.mac_units]\nvalues = [0, 16]\n')
    assert [p["chip.mac_units"] for p in load_space(good).points()] == [0, 16]
    bad = tmp_path / "b.toml"
    bad.write_text("[base\n")
    with pytest.raises(UserError, match="TOML syntax"):
        load_space(bad)


def test_the_example_space_files_parse():
    folder = Path(__file__).resolve().parents[1] / "examples" / "dse"
    assert len(load_space(folder / "space.toml").points()) == 12
    models = load_space(folder / "ml100k-models.toml")
    assert models.has_model_axes() and models.training.epochs == 3 and len(models.points()) == 12
    big = load_space(folder / "ml1m-200.toml")
    assert big.sampling == "random" and len(big.points()) == 200


def test_a_grid_space_from_python_is_checked_as_a_file_is():
    space = grid_space({"graph": "m.graph", "samples": 20}, {"chip.process_nm": [45, 7], "conversion.weight_bits": [6]},
                       "/spaces")
    assert space.base.graph == Path("/spaces/m.graph") and space.base.samples == 20
    assert space.points() == [{"chip.process_nm": 45, "conversion.weight_bits": 6},
                              {"chip.process_nm": 7, "conversion.weight_bits": 6}]
    with pytest.raises(UserError, match="chip.neurons"):
        grid_space({"graph": "m.graph"}, {"chip.neurons": [1]})
