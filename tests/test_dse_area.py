"""The area model by hand, and energy / area scaling between process nodes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from hardware.chip import load_chip
from hardware.area import NODES_NM, area_factor, chip_area_mm2, core_area_mm2, energy_factor
from ssr_neuro.errors import UserError


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
    core_14nm = core_area_mm2(loihi.core, loihi.n_cores, 14)["total"]
    assert 0.05 < core_14nm < 0.47  # Loihi: 60 mm^2 / 128 cores (a lower bound, see the docstring)


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
