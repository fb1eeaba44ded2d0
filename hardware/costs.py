"""The cost model: event counts -> energy (pJ) and cycles -> step and inference latency. Pure functions, numpy only.

Counters (``COUNTERS``): the chip's actions (``hardware.chip.ACTIONS``), ``host_mac`` (one multiply-accumulate on the
[host], weight fetch included) and unpriced tallies (bytes read per memory, incoming events: ``program.TALLIES``).

Energy of one inference (pJ):

    E = sum_counters count x energy_pJ[counter]  +  barrier_sync x n_steps  +  E_static
    E_static = 1000 x (leakage_mW_per_core x core_us  +  leakage_mW_per_router x powered routers x latency_us)
                                                                              (mW x us = nJ = 1000 pJ)
    core_us  = powered cores x latency_us                                     (power_gating.idle_cores false)
             = busy_us + idle_leakage_fraction x (used cores x latency_us - busy_us)   (idle_cores true)
    powered cores = used cores (power_gating.unused_cores, the default) or every core of the chip; powered routers =
    those holding a used core or the io port or crossed by a route the program uses, or every router; busy_us = the
    inference's busy cycles summed over its used cores / clock_MHz.

Word reads (``words_synapse``, ``words_neuron_state``, ``words_axon_table``, ``words_route_table``: how many words of
each core memory the events read, ``mapping.memory``) are priced per word by ``mapping.memory.word_read_pJ`` (the
chip file's ``memory.<memory>_read_pJ`` or the array's size) and take no cycles of their own (each is part of the
action that makes it).

Kinds: compute = synaptic_op, mac, host_mac, neuron_update, neuron_update_idle, compare; memory = weight_read_byte,
the word reads, accumulator_rmw, neuron_state_access, neuron_reset, axon_lookup; network = spike_out,
message_out, packet_receive, hop_ew, hop_ns, barrier_sync, result_out; static = leakage. The barrier and static
energy are chip-wide: by core they are split evenly over the used cores, by layer they are the entries "barrier" and "static".

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

from hardware.chip import ALL_ACTIONS
from hardware.program import TALLIES, WORDS
from mapping.memory import word_read_pJ

COUNTERS = ALL_ACTIONS + ("host_mac",) + WORDS + TALLIES
COUNTER_INDEX = {c: i for i, c in enumerate(COUNTERS)}  # a counter's column in every counts array
PRICED = ALL_ACTIONS + ("host_mac",) + WORDS
KIND_OF = {**{w: "memory" for w in WORDS},
           "synaptic_op": "compute", "mac": "compute", "host_mac": "compute", "neuron_update": "compute",
           "neuron_update_idle": "compute", "compare": "compute", "weight_read_byte": "memory",
           "accumulator_rmw": "memory", "neuron_state_access": "memory", "neuron_reset": "memory",
           "axon_lookup": "memory", "spike_out": "network", "message_out": "network", "packet_receive": "network",
           "hop_ew": "network", "hop_ns": "network", "barrier_sync": "network", "result_out": "network"}
KINDS = ("compute", "memory", "network", "static")


def counter_energy_pJ(chip) -> np.ndarray:
    """pJ of one count of each counter [len(COUNTERS)] (tallies 0; host_mac 0 on a chip without a host; a word of
    a core memory at ``mapping.memory.word_read_pJ``)."""
    host = chip.host.mac_pJ if chip.host is not None else 0.0
    words = {f"words_{m}": word_read_pJ(memory) for m, memory in chip.memory.items()}
    return np.array([chip.energy_pJ.get(c, 0.0) if c in ALL_ACTIONS else host if c == "host_mac"
                     else words.get(c, 0.0) for c in COUNTERS])


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


def static_energy_pJ(chip, used_cores: int, used_routers: int, latency_us: np.ndarray,
                     busy_us: np.ndarray | None = None) -> np.ndarray:
    """Leakage per inference, pJ (module docstring): ``used_cores`` and ``used_routers`` are what the mapping powers
    when unused units are gated; ``busy_us`` [B] the busy time summed over the used cores (needed only with
    ``power_gating.idle_cores``)."""
    gating = chip.power_gating
    latency_us = np.asarray(latency_us, dtype=np.float64)
    cores = used_cores if gating.unused_cores else chip.n_cores
    routers = used_routers if gating.unused_cores else chip.mesh.rows * chip.mesh.cols
    core_us = cores * latency_us
    if gating.idle_cores:
        busy = np.minimum(np.asarray(busy_us, dtype=np.float64), used_cores * latency_us)
        core_us = busy + gating.idle_leakage_fraction * (used_cores * latency_us - busy)
        if not gating.unused_cores:
            core_us = core_us + (chip.n_cores - used_cores) * latency_us
    router_mW = chip.static.get("leakage_mW_per_router", 0.0)
    return 1000.0 * (chip.static["leakage_mW_per_core"] * core_us + router_mW * routers * latency_us)


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
