"""Static power: leakage per core and per router over the inference's latency, with the power-gating keys (unused
cores and routers off, used cores gated while idle), every figure computed by hand on the tiny chip of
tests/test_hardware_engine.py; and the chip file's checks of the new keys."""

import pytest

from hardware.chip import parse_chip
from hardware.simulate import simulate
from ssr_neuro.errors import ChipError
from test_hardware_engine import CYCLES, ENERGY, HISTORY, LENGTH, tiny_graph, tiny_mapping


def chip_doc(static: dict, gating: dict | None = None) -> dict:
    """The tiny chip on a 2 x 3 mesh (6 routers, 6 cores): the mapping uses row 0 only."""
    doc = {"schema": "ssr-neuro/chip", "version": 1, "name": "tiny", "description": "",
           "mesh": {"rows": 2, "cols": 3, "cores_per_router": 1, "clock_MHz": 100.0, "io_router": [0, 0]},
           "core": {"neurons": 8, "input_axons": 64, "output_axons": 64, "synapse_memory_bytes": 1024,
                    "weight_bits": 8, "state_bits": 24, "mac_units": 1, "shared_weights": True},
           "energy_pJ": dict(ENERGY), "cycles": dict(CYCLES), "static": static}
    if gating is not None:
        doc["power_gating"] = gating
    return doc


def static_pJ(static: dict, gating: dict | None = None) -> tuple[float, float, list[float]]:
    chip = parse_chip(chip_doc(static, gating), "tiny.toml")
    r = simulate(tiny_graph(), tiny_mapping(chip), chip, HISTORY, LENGTH)
    return float(r.per_inference["energy_pJ_static"][0]), float(r.per_inference["latency_us"][0]), \
        [c["busy_cycles"] for c in r.cores[:2]]


LEAK = {"leakage_mW_per_core": 2.0, "leakage_mW_per_router": 0.5}


def test_unused_cores_and_routers_gated_by_default():
    # latency 105 cycles at 100 MHz = 1.05 us (tests/test_hardware_engine.py); 2 used cores; powered routers: (0, 0)
    # io, (0, 1) core0, (0, 2) core1 (every route runs along row 0): 3 of 6
    pj, latency, _ = static_pJ(LEAK)
    assert latency == pytest.approx(1.05)
    assert pj == pytest.approx(1000 * (2.0 * 2 * 1.05 + 0.5 * 3 * 1.05))  # 5,775 pJ


def test_without_gating_every_core_and_router_leaks():
    pj, _, _ = static_pJ(LEAK, {"unused_cores": False})
    assert pj == pytest.approx(1000 * (2.0 * 6 * 1.05 + 0.5 * 6 * 1.05))  # 15,750 pJ


def test_idle_gating_charges_busy_time_in_full_and_idle_time_at_the_retention_fraction():
    pj, _, busy = static_pJ(LEAK, {"idle_cores": True, "idle_leakage_fraction": 0.1})
    # busy cycles: core0 12 (step 0: 2 ACs, 2 updates x 3, 2 spike_out, 2 msgs), core1 4 + 6 + 11 + 20 = 41
    assert busy == [12.0, 41.0]
    busy_us = (12 + 41) / 100.0
    core_us = busy_us + 0.1 * (2 * 1.05 - busy_us)
    assert pj == pytest.approx(1000 * (2.0 * core_us + 0.5 * 3 * 1.05))  # 2,949 pJ
    # idle gating with unused cores powered: the 4 empty cores leak the whole inference
    pj_all, _, _ = static_pJ(LEAK, {"idle_cores": True, "idle_leakage_fraction": 0.1, "unused_cores": False})
    assert pj_all == pytest.approx(1000 * (2.0 * (core_us + 4 * 1.05) + 0.5 * 6 * 1.05))


def test_router_leakage_is_optional_and_static_energy_is_its_own_kind():
    pj, _, _ = static_pJ({"leakage_mW_per_core": 2.0})
    assert pj == pytest.approx(1000 * 2.0 * 2 * 1.05)
    chip = parse_chip(chip_doc(LEAK), "tiny.toml")
    r = simulate(tiny_graph(), tiny_mapping(chip), chip, HISTORY, LENGTH)
    assert r.breakdown["by_kind"]["static"] == pytest.approx(5775.0)
    assert r.breakdown["by_layer"]["static"] == pytest.approx(5775.0)
    assert r.per_inference["energy_pJ"][0] == pytest.approx(667 + 5775.0)  # 667: the dynamic energy by hand


@pytest.mark.parametrize("gating, message", [
    ({"idle_cores": "yes"}, r"power_gating\.idle_cores must be true or false"),
    ({"idle_leakage_fraction": 1.5}, r"power_gating\.idle_leakage_fraction must be a number from 0 to 1"),
    ({"sleep": True}, r"power_gating\.sleep is not a known key"),
])
def test_bad_gating_keys_are_named(gating, message):
    with pytest.raises(ChipError, match=message):
        parse_chip(chip_doc(LEAK, gating), "tiny.toml")


def test_bound_key():
    doc = chip_doc(LEAK)
    doc["bound"] = "lower"
    assert parse_chip(doc, "tiny.toml").bound == "lower"
    doc["bound"] = "sideways"
    with pytest.raises(ChipError, match=r'bound must be "lower" or "upper"'):
        parse_chip(doc, "tiny.toml")


def test_the_simulate_report_names_a_bound():
    from hardware.report import format_table
    doc = chip_doc(LEAK)
    doc["bound"] = "lower"
    chip = parse_chip(doc, "tiny.toml")
    summary = simulate(tiny_graph(), tiny_mapping(chip), chip, HISTORY, LENGTH).summary()
    assert summary["chip_bound"] == "lower"
    first = format_table(summary, {}).splitlines()[0]
    assert "lower bound, not a calibrated chip" in first
    summary["chip_bound"] = None
    assert "bound" not in format_table(summary, {}).splitlines()[0]
