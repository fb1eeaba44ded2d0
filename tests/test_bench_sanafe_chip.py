"""The SANA-FE comparison's chip file (benchmarks/chips/sanafe-loihi.toml): it loads, its per-action costs are the
ones the benchmark's mapping table (COST_TABLE and the docstring table) derives from SANA-FE's loihi.yaml numbers,
and it counts with SANA-FE's rules. No sanafe needed."""

import dataclasses
import re

import pytest

from benchmarks import sanafe_compare as bench
from hardware.chip import ACTIONS, load_chip


@pytest.fixture(scope="module")
def chip():
    return load_chip(bench.CHIP_FILE)


def test_chip_file_loads_in_sanafe_orientation(chip):
    assert chip.name == "sanafe-loihi"
    assert (chip.mesh.rows, chip.mesh.cols, chip.mesh.cores_per_router) == (4, 8, 4)  # SANA-FE: height 4, width 8
    assert chip.n_cores == 128 and chip.core.neurons == 1024 and chip.core.mac_units == 0


def test_cost_table_gives_the_chip_file(chip):
    energy, cycles = bench.costs_from(bench.SANAFE_LOIHI)
    priced = [a for a in ACTIONS if a in chip.energy_pJ]
    assert sorted(energy) == sorted(priced)
    for action in priced:
        assert chip.energy_pJ[action] == pytest.approx(energy[action]), action
        assert chip.cycles[action] == pytest.approx(cycles[action]), action
    bench.check_costs(chip, bench.SANAFE_LOIHI)


def test_docstring_table_matches_the_chip_file(chip):
    rows = {}
    for line in bench.__doc__.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] in ACTIONS:
            rows[cells[0]] = (float(cells[1]), float(cells[2]))
    assert set(rows) == {r.action for r in bench.COST_TABLE}
    for action, (pj, ns) in rows.items():
        assert (chip.energy_pJ[action], chip.cycles[action]) == pytest.approx((pj, ns)), action


def test_chip_file_counts_the_sanafe_way(chip):
    assert (chip.core.neuron_updates, chip.core.active_update, chip.core.charge_local_messages) == \
        ("every_step", "state_change", True)
    bench.check_rules(chip)
    changed = dataclasses.replace(chip, core=dataclasses.replace(chip.core, neuron_updates="own_steps"))
    with pytest.raises(SystemExit, match="core.neuron_updates is 'own_steps'"):
        bench.check_rules(changed)


def test_a_changed_cost_is_refused(chip):
    changed = dataclasses.replace(chip, energy_pJ={**chip.energy_pJ, "message_out": 1.7})
    with pytest.raises(SystemExit, match="message_out"):
        bench.check_costs(changed, bench.SANAFE_LOIHI)


def test_yaml_reader_converts_units_and_the_sync_table(tmp_path):
    text = """architecture:
  attributes:
    latency_sync: { 1: 0.6e-6, 4: 1.4e-6 }
  tile:
    - name: loihi_tile[0..31]
      attributes:
        energy_east_hop: 3.0e-12   # pJ
        latency_east_hop: 4.1e-9
      core:
          soma:
            - name: loihi_lif
              attributes:
                energy_spike_out: 69.3e-12
"""
    path = tmp_path / "arch.yaml"
    path.write_text(text)
    values = bench.read_loihi_yaml(path)
    assert values["energy"] == {"loihi_tile.east_hop": 3.0, "loihi_lif.spike_out": 69.3}
    assert values["latency"]["loihi_tile.east_hop"] == pytest.approx(4.1)
    assert values["latency"]["latency_sync[4]"] == pytest.approx(1400.0)
    assert re.search(r"\| spike_out\s+\| 69\.3", bench.__doc__)
