"""Chip area from memory bits and logic at a process node, and energy scaling between nodes (pure functions, no torch).

Area of one core at 45 nm, in um^2 (then times the node's area factor), with the chip's per-architecture terms
(``hardware.chip.AreaParams``, the chip file's ``[area]``; defaults: SRAM_BITCELL_UM2_45NM, ARRAY_EFFICIENCY, 0, 0):

    memory = bits / sram_array_efficiency x sram_bitcell_um2_45nm
        bits = synapse memory (synapse_memory_bytes x 8)
             + neuron state (neurons x (2 x state_bits + 16): u, v and the bias, 13-bit mantissa + 3-bit exponent)
             + input-axon table (input_axons x ceil(log2(weights the synapse memory holds)): a pointer per axon)
             + output-route table (output_axons x (ceil(log2 cores) + ceil(log2 input_axons)): core and axon)
             + other_memory_bits (what the architecture holds beyond these: learning state, schedulers, ...)
    logic  = cells / CELL_UTILISATION + core_overhead_um2_45nm, cells (NanGate 45 nm cell areas):
             mac_units x (weight_bits x 8 x (AND2 + FA) + 32 x (FA + DFF))   array multiplier of a weight by an 8-bit
                                                                              activation, 32-bit accumulator register
             + state_bits x (FA + DFF)                                       synaptic accumulate on a spike
             + 2 x 12 x state_bits x (AND2 + FA) + 3 x state_bits x FA + 2 x state_bits x DFF
                                                                              LIF update: two 12-bit decay multiplies,
                                                                              three adds, u and v registers
Router (one per mesh position): ROUTER_PORTS x ROUTER_BUFFER_FLITS x FLIT_BITS DFF buffers + a ROUTER_PORTS^2 x
FLIT_BITS AND2 crossbar, / CELL_UTILISATION. Chip area = cores x core area + routers x router area.

Constants and sources:
- SRAM_BITCELL_UM2_45NM = 0.346 um^2: Intel's 45 nm 6T cell (Mistry et al., IEDM 2007).
- ARRAY_EFFICIENCY = 0.7: assumption, the share of an SRAM macro that is bit cells (decoders, sense amplifiers
  and drivers take the rest); typical of compiled macros of tens of KB.
- NAND2 0.798, AND2 1.064, FA 4.256, DFF 4.522 um^2: NanGate 45 nm Open Cell Library (FreePDK45), the X1 cells.
- CELL_UTILISATION = 0.7: assumption, the share of a placed standard-cell block covered by cells.
- Router: 5 ports (4 mesh links + local), 16-flit buffers (SANA-FE's Loihi link buffer, ../shared/notes/hardware.md),
  64-bit flits (the 45 nm preset's packet): assumptions of a simple wormhole router.
Checks against silicon (tests/test_dse_area.py; BENCHMARKS.md, "Area"). Without per-architecture terms the model
counts arrays and datapaths only, a lower bound: a Loihi-like core at 14 nm comes out at 0.11 mm^2. With them:
- Loihi (hardware/chips/loihi.toml [area]): Davies 2018 p. 95, "33 MB of SRAM over its 128 neuromorphic cores and
  three x86 cores, with a die area of 60 mm2": 2,162,688 bits per core (x86 caches neglected), of which the model
  enumerates 1,261,568; the rest is other_memory_bits. Intel's 14 nm 6T cell is 0.0588 um^2 (Natarajan et al., IEDM
  2014), = 0.346 x the 45 -> 14 nm area factor 0.17, so the 45 nm cell stands. The array efficiency, 0.35, is the
  one free parameter (an assumption at the low end of 0.35-0.7 for small, heavily banked macros): the core is
  0.36 mm^2 at 14 nm against 0.40 (Davies, as cited in the project's issue) to 0.47 mm^2 (60 mm^2 / 128, an upper
  bound as the die also holds the x86 cores and I/O).
- IBM's 45 nm neurosynaptic core (``IBM_NEUROSYNAPTIC_CORE``, ``IBM_AREA``): 256 neurons, 1,024 axons, a 1,024 x 256
  bit crossbar, 4.2 mm^2 (Merolla et al., CICC 2011; Arthur et al., IJCNN 2012). Its memories (crossbar 262,144
  bits; per-neuron parameters 256 x 124 bits and a 16-slot axon scheduler 1,024 x 16 bits, TrueNorth's layout,
  Akopyan et al., IEEE TCAD 2015) take 0.15 mm^2 at the 45 nm cell; the rest of the published area (asynchronous
  control, the neuron circuit, test logic) is not split by any source we have, so core_overhead_um2_45nm is FITTED
  to the published 4.2 mm^2: that check tests the arithmetic and the calibration, not a prediction.

Scaling between process nodes (Stillmaker & Baas, "Scaling equations for the accurate prediction of CMOS device
performance from 180 nm to 7 nm", Integration 58, 2017, doi 10.1016/j.vlsi.2017.02.002): the area factor from 45 nm
to each node is the paper's table; the energy per operation at a node is the paper's fitted polynomial in the supply
voltage, E(node, V) = a V^2 + b V + c (normalised so that 45 nm at 1.0 V is about 1), and energies move from node x to
node y by E(y, V) / E(x, V) at the same V (``vdd_V``, 0.9 V for Horowitz's 45 nm table). The coefficients below were
transcribed from a public technology-scaling module that cites the paper (nodes 130 to 7 nm); check them against the
paper before publishing a number. Every action energy and the leakage power of a chip are scaled by the same factor
(leakage scales differently in reality: a simplification).
"""

from __future__ import annotations

import math

from ssr_neuro.errors import UserError

from hardware.chip import AreaParams, CoreLimits

SRAM_BITCELL_UM2_45NM = 0.346
ARRAY_EFFICIENCY = 0.7
CELL_UM2_45NM = {"NAND2": 0.798, "AND2": 1.064, "FA": 4.256, "DFF": 4.522}
CELL_UTILISATION = 0.7
ACTIVATION_BITS = 8
ACCUMULATOR_BITS = 32
DECAY_BITS = 12
NEURON_EXTRA_BITS = 16  # bias mantissa (13) + exponent (3)
ROUTER_PORTS = 5
ROUTER_BUFFER_FLITS = 16
FLIT_BITS = 64

NODES_NM = (130, 90, 65, 45, 32, 20, 16, 14, 10, 7)
AREA_FACTOR_FROM_45NM = {130: 6.4, 90: 2.8, 65: 1.5, 45: 1.0, 32: 0.46, 20: 0.21, 16: 0.19, 14: 0.17, 10: 0.1,
                         7: 0.059}
ENERGY_POLY = {  # node -> (a, b, c): energy factor a V^2 + b V + c
    130: (7.171, -6.709, 2.904), 90: (4.762, -4.781, 2.092), 65: (3.755, -4.398, 1.975),
    45: (1.103, -0.362, 0.2767), 32: (0.9559, -0.7823, 0.471), 20: (0.373, -0.1582, 0.04104),
    16: (0.2958, -0.1241, 0.03024), 14: (0.2363, -0.09675, 0.02239), 10: (0.2068, -0.09311, 0.02375),
    7: (0.1776, -0.09097, 0.02447),
}


def _check_node(node_nm: int) -> None:
    if node_nm not in AREA_FACTOR_FROM_45NM:
        raise UserError(f"process node {node_nm} nm is not in the scaling tables; use one of "
                        f"{', '.join(str(n) for n in NODES_NM)} nm")


def area_factor(from_nm: int, to_nm: int) -> float:
    """Area of a design at ``to_nm`` over its area at ``from_nm`` (Stillmaker & Baas 2017)."""
    _check_node(from_nm)
    _check_node(to_nm)
    return AREA_FACTOR_FROM_45NM[to_nm] / AREA_FACTOR_FROM_45NM[from_nm]


def energy_factor(from_nm: int, to_nm: int, vdd_V: float) -> float:
    """Energy per operation at ``to_nm`` over that at ``from_nm``, both at ``vdd_V`` (Stillmaker & Baas 2017)."""
    _check_node(from_nm)
    _check_node(to_nm)
    if not 0.5 <= vdd_V <= 1.5:
        raise UserError(f"vdd_V = {vdd_V} lies outside the 0.5-1.5 V the scaling polynomials were fitted for")

    def energy(node: int) -> float:
        a, b, c = ENERGY_POLY[node]
        return a * vdd_V ** 2 + b * vdd_V + c

    return energy(to_nm) / energy(from_nm)


def _clog2(n: int) -> int:
    return max(1, math.ceil(math.log2(max(n, 2))))


def core_memory_bits(core, n_cores: int, params: AreaParams = AreaParams()) -> dict[str, int]:
    """Bits of each memory of one core (``core``: a ``hardware.chip.CoreLimits``); see the module docstring."""
    weights = max(core.synapse_memory_bytes * 8 // core.weight_bits, 1)
    bits = {
        "synapse_memory": core.synapse_memory_bytes * 8,
        "neuron_state": core.neurons * (2 * core.state_bits + NEURON_EXTRA_BITS),
        "input_axon_table": core.input_axons * _clog2(weights),
        "output_route_table": core.output_axons * (_clog2(n_cores) + _clog2(core.input_axons)),
    }
    if params.other_memory_bits:
        bits["other_memory"] = params.other_memory_bits
    return bits


def core_logic_um2_45nm(core, params: AreaParams = AreaParams()) -> dict[str, float]:
    """Placed logic of one core at 45 nm, um^2, by block (see the module docstring)."""
    c = CELL_UM2_45NM
    s = core.state_bits
    cells = {
        "mac_units": core.mac_units * (core.weight_bits * ACTIVATION_BITS * (c["AND2"] + c["FA"])
                                       + ACCUMULATOR_BITS * (c["FA"] + c["DFF"])),
        "synaptic_accumulate": s * (c["FA"] + c["DFF"]),
        "neuron_update": 2 * DECAY_BITS * s * (c["AND2"] + c["FA"]) + 3 * s * c["FA"] + 2 * s * c["DFF"],
    }
    out = {k: v / CELL_UTILISATION for k, v in cells.items()}
    if params.core_overhead_um2_45nm:
        out["core_overhead"] = params.core_overhead_um2_45nm
    return out


def router_um2_45nm() -> float:
    """One mesh router at 45 nm, um^2."""
    c = CELL_UM2_45NM
    return (ROUTER_PORTS * ROUTER_BUFFER_FLITS * FLIT_BITS * c["DFF"]
            + ROUTER_PORTS ** 2 * FLIT_BITS * c["AND2"]) / CELL_UTILISATION


def core_area_mm2(core, n_cores: int, process_nm: int, params: AreaParams = AreaParams()) -> dict[str, float]:
    """Area of one core at ``process_nm`` by part (memories and logic blocks), mm^2; key "total" is their sum.
    ``params``: the architecture's terms (a chip's ``area``)."""
    scale = area_factor(45, process_nm) * 1e-6
    parts = {k: bits / params.sram_array_efficiency * params.sram_bitcell_um2_45nm * scale
             for k, bits in core_memory_bits(core, n_cores, params).items()}
    parts.update({k: um2 * scale for k, um2 in core_logic_um2_45nm(core, params).items()})
    parts["total"] = sum(parts.values())
    return parts


def chip_area_mm2(chip, process_nm: int) -> dict[str, float]:
    """Chip area at ``process_nm``: {"core": one core, "cores": all cores, "routers": all routers, "total"}, mm^2."""
    core = core_area_mm2(chip.core, chip.n_cores, process_nm, chip.area)["total"]
    routers = chip.mesh.rows * chip.mesh.cols * router_um2_45nm() * area_factor(45, process_nm) * 1e-6
    return {"core": core, "cores": core * chip.n_cores, "routers": routers, "total": core * chip.n_cores + routers}


# IBM's 45 nm neurosynaptic core (module docstring): 256 neurons, 1,024 input axons (one per crossbar row), a 1,024 x
# 256 binary crossbar (32 KB), one output route per neuron; no MAC units. state_bits 20: TrueNorth's membrane
# (Akopyan et al. 2015), an assumption for the 2011 core.
IBM_NEUROSYNAPTIC_CORE = CoreLimits(neurons=256, input_axons=1024, output_axons=256, synapse_memory_bytes=32768,
                                    weight_bits=1, state_bits=20, mac_units=0, shared_weights=False)
IBM_PUBLISHED_CORE_MM2 = 4.2  # Merolla et al., CICC 2011; Arthur et al., IJCNN 2012
# core_overhead_um2_45nm FITTED: 4.2 mm^2 less the 0.175 mm^2 the enumerated memories and datapaths take
IBM_AREA = AreaParams(other_memory_bits=256 * 124 + 1024 * 16, core_overhead_um2_45nm=4_020_000.0)
