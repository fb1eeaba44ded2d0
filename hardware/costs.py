"""The cost model: event counts -> energy (pJ) and cycles -> step and inference latency. Pure functions, numpy only.

Counters (``COUNTERS``): the chip's actions (``hardware.chip.ACTIONS``), ``host_mac`` (one multiply-accumulate on the
[host], weight fetch included) and unpriced tallies (bytes read per memory, incoming events: ``program.TALLIES``).

Energy of one inference (pJ):

    E = sum_counters count x energy_pJ[counter]  +  barrier_sync x n_steps  +  E_static
    E_static = leakage_mW_per_core x used cores x latency_us x 1000           (mW x us = nJ = 1000 pJ)

Kinds: compute = synaptic_op, mac, host_mac, neuron_update, neuron_update_idle, compare; memory =
weight_read_byte; network = spike_out, message_out, hop_ew, hop_ns, barrier_sync, result_out; static = leakage. The barrier and static energy are
chip-wide: by core they are split evenly over the used cores, by layer they are the entries "barrier" and "static".

Time (cycles of mesh.clock_MHz; a host MAC takes host.mac_cycles x mesh.clock_MHz / host.clock_MHz of them). Busy
cycles of a unit in a phase = sum over its counters of count x cycles[counter], where a core's MACs run on its
``mac_units`` in parallel (cycles / mac_units per MAC) and hops cost the unit nothing (the network below).

Pipeline model. One inference at a time, its steps in sequence, no overlap across steps or inferences (a step starts
when the previous one, barrier included, is done; so throughput = 1 / latency). Inside a step the phases run in
sequence (zero-delay layers: a consumer integrates what its producer sent in the same step, so their work adds up):

    phase cycles   = max over units of busy cycles  +  network cycles
    network cycles = max(longest route of a packet sent, the busiest link's packets x its hop cycles)
                     route of a packet: east-west hops x cycles[hop_ew] + north-south hops x cycles[hop_ns]
    step cycles    = sum of its phase cycles  +  cycles[barrier_sync]
    latency        = sum of step cycles;  latency_us = latency / mesh.clock_MHz

The network term is the time to drain the phase's packets: the slowest of one packet's trip and a link's
serialisation (one packet per link per hop time); sender, network and receiver are not overlapped (conservative).
"""

from __future__ import annotations

import numpy as np

from hardware.chip import ACTIONS, OPTIONAL_ACTIONS

from hardware.program import TALLIES

CHIP_ACTIONS = ACTIONS + OPTIONAL_ACTIONS
COUNTERS = CHIP_ACTIONS + ("host_mac",) + TALLIES
PRICED = CHIP_ACTIONS + ("host_mac",)
KIND_OF = {"synaptic_op": "compute", "mac": "compute", "host_mac": "compute", "neuron_update": "compute",
           "neuron_update_idle": "compute", "weight_read_byte": "memory", "spike_out": "network",
           "message_out": "network", "hop_ew": "network", "hop_ns": "network", "barrier_sync": "network",
           "compare": "compute", "result_out": "network"}
KINDS = ("compute", "memory", "network", "static")


def counter_energy_pJ(chip) -> np.ndarray:
    """pJ of one count of each counter [len(COUNTERS)] (tallies 0; host_mac 0 on a chip without a host)."""
    host = chip.host.mac_pJ if chip.host is not None else 0.0
    return np.array([chip.energy_pJ.get(c, 0.0) if c in CHIP_ACTIONS else host if c == "host_mac" else 0.0
                     for c in COUNTERS])


def counter_cycles(chip, unit_kind: str) -> np.ndarray:
    """Busy cycles (of the mesh clock) of one count of each counter on a unit of ``unit_kind`` ("core", "host",
    "io"): hops and the barrier are network time, tallies take none."""
    out = np.zeros(len(COUNTERS))
    for i, c in enumerate(COUNTERS):
        if c in ("hop_ew", "hop_ns", "barrier_sync") or c in TALLIES:
            continue
        if c == "host_mac":
            if chip.host is not None:
                out[i] = chip.host.mac_cycles * chip.mesh.clock_MHz / chip.host.clock_MHz
        elif c == "mac":
            out[i] = chip.cycles.get("mac", 0.0) / max(chip.core.mac_units, 1)
        else:
            out[i] = chip.cycles.get(c, 0.0)  # an optional action absent from the chip file takes no time
    return out


def static_energy_pJ(chip, n_cores: int, latency_us: np.ndarray) -> np.ndarray:
    """Leakage of the used cores over each inference's latency: mW x us x 1000 = pJ."""
    return chip.static["leakage_mW_per_core"] * n_cores * np.asarray(latency_us, dtype=np.float64) * 1000.0


def step_cycles(busiest: np.ndarray, network: np.ndarray, phase_step: np.ndarray, n_steps: int,
                barrier_cycles: float) -> dict[str, np.ndarray]:
    """Per step [B, steps] from the busiest unit's cycles [B, phases] and the network's [B, phases] of each phase:
    "cycles" (phases + barrier), "core_cycles_max" (sum of the phases' busiest units), "network_cycles" and
    "barrier_cycles"; ``phase_step`` [phases] gives each phase's step."""
    onehot = np.zeros((len(phase_step), n_steps))
    onehot[np.arange(len(phase_step)), phase_step] = 1.0
    core = busiest @ onehot
    net = network @ onehot
    barrier = np.full_like(core, barrier_cycles)
    return {"cycles": core + net + barrier, "core_cycles_max": core, "network_cycles": net, "barrier_cycles": barrier}


def energy_by_kind(counts: np.ndarray, chip, static_pJ: np.ndarray) -> dict[str, np.ndarray]:
    """Energy per inference by kind from per-inference counts [B, len(COUNTERS)] (barrier included in them) and the
    static energy [B]."""
    price = counter_energy_pJ(chip)
    out = {kind: np.zeros(counts.shape[0]) for kind in KINDS}
    for i, c in enumerate(COUNTERS):
        if c in KIND_OF:
            out[KIND_OF[c]] += counts[:, i] * price[i]
    out["static"] = out["static"] + static_pJ
    return out
