"""The area model by hand, and energy / area scaling between process nodes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from hardware.area import IBM_AREA, IBM_NEUROSYNAPTIC_CORE, IBM_PUBLISHED_CORE_MM2, NODES_NM, area_factor, \
    chip_area_mm2, core_area_mm2, core_memory_bits, energy_factor
from hardware.chip import load_chip, parse_chip, read_chip_doc
from ssr_neuro.errors import ChipError, UserError


def small_core(**kw):
    fields = dict(neurons=2, state_bits=4, synapse_memory_bytes=2, weight_bits=8, input_axons=4, output_axons=2,
                  mac_units=1)
    return SimpleNamespace(**{**fields, **kw})


def test_core_area_by_hand():
    parts = core_area_mm2(small_core(), n_cores=4, process_nm=45)
    # memory bits: synapses 2 x 8 = 16; state 2 x (2 x 4 + 16) = 48; axon table 4 x log2(2 weights) = 4;
    # routes 2 x (log2 4 cores + log2 4 axons) = 8; 76 bits of 0.346 um^2 at 70% array efficiency
    assert parts["synapse_memory"] == pytest.approx(16 / 0.7 * 0.346e-6)
    memory_um2 = 76 / 0.7 * 0.346
    # logic (NanGate X1 cells): MAC 8 x 8 x (AND2 1.064 + FA 4.256) + 32 x (FA + DFF 4.522) = 621.376;
    # accumulate 4 x (FA + DFF) = 35.112; LIF 2 x 12 x 4 x (AND2 + FA) + 3 x 4 x FA + 2 x 4 x DFF = 597.968
    logic_um2 = (621.376 + 35.112 + 597.968) / 0.7
    assert parts["mac_units"] == pytest.approx(621.376 / 0.7 * 1e-6)
    assert parts["total"] == pytest.approx((memory_um2 + logic_um2) * 1e-6)
    at_14 = core_area_mm2(small_core(), n_cores=4, process_nm=14)["total"]
    assert at_14 == pytest.approx(parts["total"] * 0.17)


def test_area_grows_with_memory_neurons_and_mac_units():
    base = core_area_mm2(small_core(), 4, 45)["total"]
    for change in ({"synapse_memory_bytes": 4}, {"neurons": 3}, {"mac_units": 2}, {"weight_bits": 16}):
        assert core_area_mm2(small_core(**change), 4, 45)["total"] > base, change


def test_chip_area_counts_every_core_and_router():
    chip = load_chip("45nm")
    area = chip_area_mm2(chip, 45)
    assert area["cores"] == pytest.approx(area["core"] * chip.n_cores)
    assert area["total"] == pytest.approx(area["cores"] + area["routers"])
    loihi = load_chip("loihi")
    bare = core_area_mm2(loihi.core, loihi.n_cores, 14)["total"]  # arrays and datapaths only: a lower bound
    assert bare < core_area_mm2(loihi.core, loihi.n_cores, 14, loihi.area)["total"]


def test_a_loihi_core_at_14nm_within_25_percent_of_silicon():
    loihi = load_chip("loihi")
    parts = core_area_mm2(loihi.core, loihi.n_cores, 14, loihi.area)
    # Davies 2018: 33 MB of SRAM over the 128 cores: every core's memories add up to that share
    memory = sum(bits for bits in core_memory_bits(loihi.core, loihi.n_cores, loihi.area).values())
    assert memory == 33 * 2**20 * 8 // 128
    assert abs(parts["total"] / 0.4 - 1) <= 0.25           # about 0.4 mm^2 per core (Davies 2018)
    assert parts["total"] <= 60.0 / 128                     # the die over its cores bounds it from above
    assert chip_area_mm2(loihi, 14)["core"] == pytest.approx(parts["total"])


def test_the_ibm_neurosynaptic_core_at_45nm_within_25_percent_of_silicon():
    parts = core_area_mm2(IBM_NEUROSYNAPTIC_CORE, 1, 45, IBM_AREA)
    assert parts["synapse_memory"] == pytest.approx(1024 * 256 / 0.7 * 0.346e-6)  # the crossbar
    assert abs(parts["total"] / IBM_PUBLISHED_CORE_MM2 - 1) <= 0.25
    # the enumerated part is a small share: the fitted per-core overhead carries the architecture (docstring)
    assert parts["total"] - parts["core_overhead"] < 0.1 * IBM_PUBLISHED_CORE_MM2


def test_area_terms_in_a_chip_file_are_checked():
    doc, source = read_chip_doc("loihi")
    with pytest.raises(ChipError, match="area.sram_array_efficiency"):
        parse_chip({**doc, "area": {"sram_array_efficiency": 1.5}}, source)
    with pytest.raises(ChipError, match="area.die_mm2"):
        parse_chip({**doc, "area": {"die_mm2": 60}}, source)


def test_energy_factor_from_the_polynomials():
    assert energy_factor(45, 45, 0.9) == 1.0
    p45 = 1.103 * 0.81 - 0.362 * 0.9 + 0.2767
    p7 = 0.1776 * 0.81 - 0.09097 * 0.9 + 0.02447
    assert energy_factor(45, 7, 0.9) == pytest.approx(p7 / p45)
    assert energy_factor(7, 45, 0.9) * energy_factor(45, 7, 0.9) == pytest.approx(1.0)
    factors = [energy_factor(45, n, 0.9) for n in NODES_NM]
    assert factors == sorted(factors, reverse=True)  # smaller node, less energy per operation
    assert area_factor(45, 7) == pytest.approx(0.059) and area_factor(14, 45) == pytest.approx(1 / 0.17)


@pytest.mark.parametrize("call", [lambda: energy_factor(45, 28, 0.9), lambda: area_factor(3, 45),
                                  lambda: energy_factor(45, 7, 2.0)])
def test_unknown_nodes_and_voltages_are_refused(call):
    with pytest.raises(UserError):
        call()
