"""Chip description files: the presets load and validate, a user's copy loads from a path, every kind of bad file
gives a ChipError naming the key and the rule, and the loader never imports torch."""

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hardware.chip import (
    ALL_ACTIONS, MAX_CORES, MAX_MESH_SIDE, PRESETS_DIR, Chip, load_chip, parse_chip, presets, read_chip_doc,
)
from ssr_neuro.errors import ChipError, UserError

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["45nm", "45nm-ideal", "loihi"])
def test_presets_load_and_validate(name):
    chip = load_chip(name)
    assert isinstance(chip, Chip) and chip.name == name
    assert Path(chip.source) == PRESETS_DIR / f"{name}.toml"
    assert chip.n_cores == chip.mesh.rows * chip.mesh.cols * chip.mesh.cores_per_router
    assert 0 <= chip.mesh.io_router[0] < chip.mesh.rows and 0 <= chip.mesh.io_router[1] < chip.mesh.cols
    expected = set(ALL_ACTIONS) if chip.core.mac_units > 0 else set(ALL_ACTIONS) - {"mac"}
    assert set(chip.energy_pJ) == expected and set(chip.cycles) == expected
    assert all(v >= 0 for v in [*chip.energy_pJ.values(), *chip.cycles.values(), *chip.static.values()])


def test_preset_facts():
    loihi, n45 = load_chip("loihi"), load_chip("45nm")
    assert loihi.n_cores == 128 and loihi.core.mac_units == 0 and loihi.host is not None
    assert loihi.energy_pJ["synaptic_op"] == 35.5 and loihi.energy_pJ["neuron_update"] == 81.0
    # the 45 nm chip runs graded stages on its cores and fits an ML-1M SSR (13,977 neurons) with room
    assert n45.core.mac_units > 0 and n45.host is None
    assert n45.n_cores * n45.core.neurons > 4 * 14_000
    assert load_chip("45nm-ideal").energy_pJ["mac"] == pytest.approx(0.2 + 0.1)  # Horowitz: 8-bit mul + 32-bit add


def test_counting_rules_are_optional_with_the_old_rules_as_defaults(tmp_path):
    text = (PRESETS_DIR / "loihi.toml").read_text()
    lines = [t for t in text.splitlines() if not t.startswith(("neuron_updates", "active_update", "charge_local"))]
    path = tmp_path / "old.toml"
    path.write_text("\n".join(lines))
    core = load_chip(path).core
    assert (core.neuron_updates, core.active_update, core.charge_local_messages) == \
        ("own_steps", "input_or_spike", False)
    # the presets: Loihi services every compartment every step (Davies 2018: 52 pJ per inactive update)
    assert load_chip("loihi").core.neuron_updates == "every_step"
    assert load_chip("45nm").core.neuron_updates == "own_steps"


def test_presets_ship_with_the_package():
    assert presets() == ["45nm", "45nm-ideal", "loihi"]
    assert PRESETS_DIR == ROOT / "hardware" / "chips"


def test_users_copy_loads_from_a_path(tmp_path):
    mine = tmp_path / "mine.toml"
    text = (PRESETS_DIR / "45nm.toml").read_text().replace('name = "45nm"', 'name = "mine"')
    mine.write_text(text.replace("rows = 8", "rows = 16"))
    chip = load_chip(str(mine))
    assert chip.name == "mine" and chip.mesh.rows == 16 and chip.source == str(mine)
    assert load_chip(mine) == chip  # a Path works as well as a string


def test_unknown_preset_lists_the_presets_and_mentions_paths():
    with pytest.raises(ChipError, match=r"unknown chip 'truenorth'.*45nm, 45nm-ideal, loihi.*\.toml"):
        load_chip("truenorth")
    with pytest.raises(ChipError, match="does not exist"):
        load_chip("nowhere/my.toml")


def _edited(tmp_path, old: str, new: str) -> Path:
    text = (PRESETS_DIR / "loihi.toml").read_text()
    assert old in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize("old, new, pattern", [
    ("neurons = 1024", "neurons = -3", r"core\.neurons must be a positive integer \(got -3\)"),
    ("neurons = 1024", "neurons = 1024.0", r"core\.neurons must be a positive integer \(got 1024\.0\)"),
    ("neurons = 1024", 'neurons = "many"', r"core\.neurons must be a positive integer"),
    ("neurons = 1024", "", r"core\.neurons is required \(missing\)"),
    ("neurons = 1024", "neurons = 1024\nnuerons = 5", r"core\.nuerons is not a known key"),
    ("shared_weights = false", "shared_weights = 0", r"core\.shared_weights must be true or false"),
    ('neuron_updates = "every_step"', 'neuron_updates = "always"',
     r'core\.neuron_updates must be "own_steps" or "every_step" \(got \'always\'\)'),
    ('active_update = "state_change"', "active_update = 1",
     r'core\.active_update must be "input_or_spike" or "state_change" \(got 1\)'),
    ("charge_local_messages = true", 'charge_local_messages = "no"',
     r"core\.charge_local_messages must be true or false"),
    ("synaptic_op = 35.5", "synaptic_op = -1.0", r"energy_pJ\.synaptic_op must be a number >= 0"),
    ("synaptic_op = 35.5", "synaptic_op = nan", r"energy_pJ\.synaptic_op must be a number >= 0"),
    ("hop_ew = 3.0", "hop_ew = 3.0\nhop_diag = 1.0", r"energy_pJ\.hop_diag is not a known key"),
    ("clock_MHz = 1000.0", "clock_MHz = 0", r"mesh\.clock_MHz must be a positive number"),
    ("io_router = [0, 0]", "io_router = [8, 0]", r"mesh\.io_router must be \[row, col\]"),
    ("mac_pJ = 128.0", "mac_pJ = true", r"host\.mac_pJ must be a number >= 0"),
    ('schema = "ssr-neuro/chip"', 'schema = "sana-fe/arch"', r"schema must be \"ssr-neuro/chip\""),
    ("version = 1", "version = 2", r"version 2 is newer"),
    ('name = "loihi"', 'name = ""', r"name must be a non-empty string"),
    ('name = "loihi"', 'name = "loihi"\ncolour = "blue"', r"colour is not a known key"),
])
def test_invalid_files_name_the_key_and_the_rule(tmp_path, old, new, pattern):
    path = _edited(tmp_path, old, new)
    with pytest.raises(ChipError, match=pattern) as err:
        load_chip(path)
    message = str(err.value)
    assert message.startswith(f"chip file {path}: ") and "\n" not in message
    assert isinstance(err.value, UserError)


def test_a_section_that_is_not_a_table():
    doc, _ = read_chip_doc("loihi")
    doc["static"] = 3
    with pytest.raises(ChipError, match=r"chip file /somewhere/my\.toml: static must be a table \(\[static\]\) \(got 3\)"):
        parse_chip(doc, "/somewhere/my.toml")


def test_mac_energy_is_required_when_cores_have_mac_units(tmp_path):
    path = _edited(tmp_path, "mac_units = 0", "mac_units = 4")
    with pytest.raises(ChipError, match=r"energy_pJ\.mac is required"):
        load_chip(path)


def test_toml_syntax_error_names_file_and_line(tmp_path):
    path = _edited(tmp_path, "neurons = 1024", "neurons = = 1024")
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if t.startswith("neurons = ="))
    with pytest.raises(ChipError, match="TOML syntax error") as err:
        load_chip(path)
    assert str(path) in str(err.value) and re.search(rf"line {line}\b", str(err.value))


def test_loader_does_not_import_torch():
    code = "import sys, hardware.chip as c; c.load_chip('loihi'); sys.exit('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr or "importing hardware.chip imported torch"


def _mesh(tmp_path, rows: int, cols: int, per_router: int) -> Path:
    """A copy of the 45nm preset with another mesh size."""
    text = (PRESETS_DIR / "45nm.toml").read_text()
    assert "rows = 8\ncols = 8\ncores_per_router = 2\n" in text
    path = tmp_path / f"mesh-{rows}-{cols}-{per_router}.toml"
    path.write_text(text.replace("rows = 8\ncols = 8\ncores_per_router = 2",
                                 f"rows = {rows}\ncols = {cols}\ncores_per_router = {per_router}"))
    return path


def test_an_impossible_mesh_is_refused_in_one_line_naming_key_value_and_limit(tmp_path):
    huge = _mesh(tmp_path, 100_000, 100_000, 2)
    with pytest.raises(ChipError, match=rf"^chip file {re.escape(str(huge))}: mesh\.rows must be at most "
                                        rf"{MAX_MESH_SIDE} routers \(got 100,000\)[^\n]*$"):
        load_chip(huge)
    with pytest.raises(ChipError, match=rf"mesh\.cores_per_router .* at most {MAX_CORES:,} cores \(got 256 x 256 x "
                                        rf"17 = 1,114,112\)"):
        load_chip(_mesh(tmp_path, MAX_MESH_SIDE, MAX_MESH_SIDE, 17))
    assert load_chip(_mesh(tmp_path, MAX_MESH_SIDE, MAX_MESH_SIDE, 16)).n_cores == MAX_CORES
    with pytest.raises(ChipError, match="mesh.cols must be at most"):  # a mesh built in code is checked too
        dataclasses.replace(load_chip("45nm").mesh, cols=100_000)


def test_the_large_example_chip_is_todays_45nm_preset_with_a_larger_mesh():
    """examples/chips/45nm-large.toml copies the preset: only the mesh and the barrier across it may differ."""
    large = load_chip(ROOT / "examples" / "chips" / "45nm-large.toml")
    preset = load_chip("45nm")
    assert large.mesh.rows * large.mesh.cols * large.mesh.cores_per_router > 128
    same = dataclasses.replace(large, name=preset.name, description=preset.description, source=preset.source,
                               mesh=preset.mesh, cycles={**large.cycles, "barrier_sync": preset.cycles["barrier_sync"]})
    assert same == preset
