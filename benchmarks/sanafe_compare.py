"""Our fast engine against SANA-FE (PyPI ``sanafe``) on the same network, placement, spikes and per-action costs:
throughput (inferences and synaptic events per second, 1 thread) and energy per inference, with every difference
of energy put down to the action that causes it.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/sanafe_compare.py [--graph runs/ml-1m/model.graph] [--n 100]

Network. The spiking part of the converted ML-1M SSR: every LIF population and every LIF -> LIF synapse layer
(block0: 20 positions x (256 LIF#1 -> dense 256x64 -> 64 LIF#2); block1: the readout position only, 1 x (256 -> 64)),
with the graph's fixed-point weights. SANA-FE cannot express the graded stages (embedding, FFT filter, readout: a
value summed over a window and repeated as a constant drive), so their effect on the LIF populations comes from our
executor, per inference, as SANA-FE LIF biases (on Loihi these are host layers: one bias write per neuron):

    LIF (ours, du = 4095)  v <- trunc0(v (4096 - dv) / 4096) + (a_in << 6) + (bias_mant << bias_exp);  s = v > vth << 6
    SANA-FE LIF            v <- v leak_decay + bias + sum_w;  s = v > threshold;  v <- 0 (hard reset)
    leak_decay = (4096 - dv) / 4096;  threshold = vth << 6;  bias = (graded part of a_in << 6) + (bias_mant << bias_exp)
    w = W_int 2**-shift << 6  (shift: the edge's ``fixed.edge_shift``)

The two differ only in rounding (trunc0 of the leak, the edge's round-half-up, sat16), so a few spikes may differ;
the script compares them neuron by neuron. SANA-FE delivers a spike one step after it is fired (ours: the same
step, zero-delay layers), so a window of T steps and depth D (LIF#1 -> LIF#2: D = 1) takes T + D SANA-FE steps: a
population at depth d gets its bias from step d to d + T - 1. The chip is reset (potentials 0) before each window.
Placement: ours (``map_graph`` on benchmarks/chips/sanafe-loihi.toml, anneal, seed 0) given neuron by neuron to
SANA-FE (our mesh (row, col, slot) = SANA-FE tile col * 4 + row, core slot: the same hop directions and costs).

Costs. benchmarks/chips/sanafe-loihi.toml holds SANA-FE's arch/loihi.yaml numbers, one to one (checked at run time
against the installed sanafe's file):

| ours               | pJ    | cycles (ns) | SANA-FE loihi.yaml                                              |
|--------------------|-------|-------------|-----------------------------------------------------------------|
| synaptic_op        | 35.5  | 3.8         | synapse loihi_dense_synapse process_spike                       |
| weight_read_byte   | 0.0   | 0.0         | (in process_spike)                                              |
| neuron_update      | 72.8  | 9.7         | soma loihi_lif access_neuron 51.2 / 6.0 + update_neuron 21.6 / 3.7 |
| neuron_update_idle | 51.2  | 6.0         | soma loihi_lif access_neuron                                    |
| spike_out          | 69.3  | 30.0        | soma loihi_lif spike_out                                        |
| message_out        | 111.0 | 21.1        | axon_out loihi_out message_out 111 / 5.1 + axon_in loihi_in message_in 0 / 16 |
| hop_ew             | 3.0   | 4.1         | tile east_hop (= west_hop)                                      |
| hop_ns             | 4.2   | 6.5         | tile north_hop (= south_hop)                                    |
| barrier_sync       | 0.0   | 1400.0      | architecture latency_sync (table by active tiles: 4 tiles)      |

Counting rules. The chip file also counts the SANA-FE way (``SANAFE_RULES``, checked at run time): [core]
neuron_updates = "every_step" (every mapped neuron is accessed in every step), active_update = "state_change" (an
update is active while input, bias or potential is non-zero), charge_local_messages = true (a message to the
sender's own core costs message_out too). With our default rules (own_steps, input_or_spike, free local
messages) SANA-FE's energy was 1.552x ours (6.09 vs 3.92 uJ per inference, 100 inferences): +2.06 uJ of neuron
accesses, +0.09 uJ of active updates, +0.007 uJ of local messages, nothing else.

Findings (``--n 100``, sanafe 2.2.9; spikes equal neuron by neuron): with SANA-FE's rules SANA-FE / ours = 0.911
(6.086 vs 6.680 uJ per inference); synaptic ops, spikes, messages (local ones included) and hops agree exactly. The
rest is two differences of the schedules, not of the rules, and the script accounts for all of it: (1) SANA-FE runs
T + D = 5 steps per window (its one-step delay per layer), 10 in all, and the graded stages take none, while ours
runs 8 window steps + 4 steps of graded stages (embedding, 2 filters, readout): 2 steps more, 13,440 more neuron
accesses per inference (-0.69 uJ); (2) in SANA-FE's extra step LIF#1, whose window is over, leaks its non-zero
potentials, 4,368 active updates per inference (+0.09 uJ), which ours counts as idle (outside the population's own
steps). Repricing those two leaves SANA-FE at 1.0000x ours.

Ours on the spiking part = our ledger's counts on cores for the LIF layers (updates, spikes, synaptic ops of the
LIF -> LIF layers, their messages and hops), leaving out what SANA-FE's network has no counterpart for: the host's
bias writes and the messages of LIF populations whose targets are graded stages (LIF#2 -> the next filter).
SANA-FE's counts come from its result: synaptic events = synapse energy / 35.5 pJ, accesses = mapped neurons x
steps, updates = ``neurons_updated``, spikes = ``neurons_fired``, messages = ``packets_sent``, hop energy = network
energy - 111 pJ x messages.

Speed: our engine (run and price; compiling is once per model, like SANA-FE's network building, and timed apart)
on the whole ML-1M graph (a superset of the spiking part: embedding, filters, readout too) for the same inferences,
and SANA-FE's ``sim`` on the spiking part, each on 1 thread; SANA-FE's time is given with and without the
per-inference bias writes and resets (Python calls the comparison needs; its own simulation is ``sim``).
"""

from __future__ import annotations

import argparse
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "datasets"
CHIP_FILE = Path(__file__).resolve().parent / "chips" / "sanafe-loihi.toml"


@dataclass(frozen=True)
class CostRow:
    """One action of our chip file and the SANA-FE loihi.yaml entries whose sum it is (energy and latency keys are
    ``unit.attribute`` without the energy_/latency_ prefix; barrier: ``latency_sync[tiles]``)."""

    action: str
    energy_keys: tuple[str, ...]
    latency_keys: tuple[str, ...]


COST_TABLE = (
    CostRow("synaptic_op", ("loihi_dense_synapse.process_spike",), ("loihi_dense_synapse.process_spike",)),
    CostRow("weight_read_byte", (), ()),
    CostRow("neuron_update", ("loihi_lif.access_neuron", "loihi_lif.update_neuron"),
            ("loihi_lif.access_neuron", "loihi_lif.update_neuron")),
    CostRow("neuron_update_idle", ("loihi_lif.access_neuron",), ("loihi_lif.access_neuron",)),
    CostRow("spike_out", ("loihi_lif.spike_out",), ("loihi_lif.spike_out",)),
    CostRow("message_out", ("loihi_out.message_out", "loihi_in.message_in"),
            ("loihi_out.message_out", "loihi_in.message_in")),
    CostRow("hop_ew", ("loihi_tile.east_hop",), ("loihi_tile.east_hop",)),
    CostRow("hop_ns", ("loihi_tile.north_hop",), ("loihi_tile.north_hop",)),
    CostRow("barrier_sync", (), ("latency_sync[4]",)),
)

# sanafe 2.2.9's sanafe/examples/loihi.yaml in pJ (energy_*) and ns (latency_*): what the chip file was made from
SANAFE_LOIHI = {
    "energy": {"loihi_dense_synapse.process_spike": 35.5, "loihi_lif.access_neuron": 51.2,
               "loihi_lif.update_neuron": 21.6, "loihi_lif.spike_out": 69.3, "loihi_out.message_out": 111.0,
               "loihi_in.message_in": 0.0, "loihi_tile.east_hop": 3.0, "loihi_tile.west_hop": 3.0,
               "loihi_tile.north_hop": 4.2, "loihi_tile.south_hop": 4.2},
    "latency": {"loihi_dense_synapse.process_spike": 3.8, "loihi_lif.access_neuron": 6.0,
                "loihi_lif.update_neuron": 3.7, "loihi_lif.spike_out": 30.0, "loihi_out.message_out": 5.1,
                "loihi_in.message_in": 16.0, "loihi_tile.east_hop": 4.1, "loihi_tile.west_hop": 4.1,
                "loihi_tile.north_hop": 6.5, "loihi_tile.south_hop": 6.5, "latency_sync[1]": 600.0,
                "latency_sync[2]": 1000.0, "latency_sync[4]": 1400.0, "latency_sync[29]": 1800.0},
}


# SANA-FE's counting rules as our chip file's [core] keys (hardware/chip.py): every mapped neuron accessed every step,
# an update active while input, bias or potential is non-zero, a message to the sender's own core charged
SANAFE_RULES = {"neuron_updates": "every_step", "active_update": "state_change", "charge_local_messages": True}


def check_rules(chip) -> None:
    """Raise SystemExit naming the [core] counting rule of ``chip`` that is not SANA-FE's (``SANAFE_RULES``)."""
    for key, value in SANAFE_RULES.items():
        if getattr(chip.core, key) != value:
            raise SystemExit(f"{CHIP_FILE}: core.{key} is {getattr(chip.core, key)!r}; SANA-FE counts as "
                             f"{value!r}: set it in the chip file")


def costs_from(values: dict[str, dict[str, float]]) -> tuple[dict[str, float], dict[str, float]]:
    """Our (energy_pJ, cycles) per action from SANA-FE values (``SANAFE_LOIHI``'s layout), by ``COST_TABLE``."""
    energy = {r.action: float(sum(values["energy"][k] for k in r.energy_keys)) for r in COST_TABLE}
    cycles = {r.action: float(sum(values["latency"][k] for k in r.latency_keys)) for r in COST_TABLE}
    return energy, cycles


def read_loihi_yaml(path: Path) -> dict[str, dict[str, float]]:
    """The per-action numbers of a SANA-FE architecture file like arch/loihi.yaml, in pJ and ns (``SANAFE_LOIHI``'s
    layout; unit names lose their ``[a..b]`` ranges). A line parser: the file's numbers are ``key: value`` lines
    under ``- name: unit`` and the ``latency_sync: {tiles: s, ...}`` table."""
    out: dict[str, dict[str, float]] = {"energy": {}, "latency": {}}
    unit = ""
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0]
        if m := re.match(r"\s*-?\s*name:\s*([\w]+)", line):
            unit = m.group(1)
        elif m := re.match(r"\s*latency_sync:\s*\{(.*)\}", line):
            for tiles, sec in re.findall(r"(\d+)\s*:\s*([-0-9.eE+]+)", m.group(1)):
                out["latency"][f"latency_sync[{tiles}]"] = float(sec) * 1e9
        elif m := re.match(r"\s*(energy|latency)_(\w+):\s*([-0-9.eE+]+)\s*$", line):
            scale = 1e12 if m.group(1) == "energy" else 1e9
            out[m.group(1)][f"{unit}.{m.group(2)}"] = round(float(m.group(3)) * scale, 6)
    return out


def check_costs(chip, values: dict[str, dict[str, float]]) -> None:
    """Raise SystemExit naming the action whose cost in ``chip`` differs from SANA-FE's ``values``."""
    for a, b in (("west_hop", "east_hop"), ("south_hop", "north_hop")):
        for kind in ("energy", "latency"):
            if values[kind][f"loihi_tile.{a}"] != values[kind][f"loihi_tile.{b}"]:
                raise SystemExit(f"SANA-FE's {kind} of {a} and {b} differ; one hop_* action cannot hold both")
    energy, cycles = costs_from(values)
    for action in energy:
        if not (np.isclose(chip.energy_pJ[action], energy[action]) and np.isclose(chip.cycles[action],
                                                                                  cycles[action])):
            raise SystemExit(f"{CHIP_FILE}: {action} is {chip.energy_pJ[action]} pJ / {chip.cycles[action]} cycles, "
                             f"SANA-FE's loihi.yaml gives {energy[action]} / {cycles[action]}; update the chip file")


# ------------------------------------------------------------------------------------------------ the network

@dataclass
class Window:
    """LIF populations joined by LIF -> LIF edges (one spiking window), with each population's depth in it."""

    depth: dict[str, int]
    time_steps: int

    @property
    def sanafe_steps(self) -> int:
        return self.time_steps + max(self.depth.values())


def spiking_part(graph) -> tuple[list[Window], list[tuple[str, str]]]:
    """The LIF windows in schedule order and the LIF -> LIF edges; SystemExit if SANA-FE cannot express them."""
    import networkx as nx

    from ssr_neuro.graph.ir import LIF, ItemInput

    lif = [n for n, node in graph.nodes() if isinstance(node, LIF)]
    edges = [(s, t) for s, t, _ in graph.edges() if s in lif and t in lif]
    for name in lif:
        fx = graph.node(name).fixed
        if fx is None or fx.du != 4095:
            raise SystemExit(f"{name}: SANA-FE's LIF has no current decay; need a quantised graph with du = 4095")
        if any(isinstance(graph.node(s), ItemInput) for s, _ in graph.in_edges(name)):
            raise SystemExit(f"{name}: item-input spikes into a LIF are not supported here")
    for s, t in edges:
        syn = graph.synapse(s, t)
        if syn.structure != "dense" or syn.positions != "each":
            raise SystemExit(f"{s} -> {t}: only dense position-wise LIF -> LIF layers are supported here")
    sub = graph.g.subgraph(lif)
    order = {n: i for i, (n, _) in enumerate(graph.nodes())}
    windows = []
    for comp in sorted(nx.weakly_connected_components(sub), key=lambda c: min(order[n] for n in c)):
        depth = {n: 0 for n in comp}
        for n in sorted(comp, key=order.get):
            for s in sub.predecessors(n):
                depth[n] = max(depth[n], depth[s] + 1)
        windows.append(Window(dict(sorted(depth.items(), key=lambda kv: order[kv[0]])),
                              graph.node(next(iter(comp))).time_steps))
    return windows, edges


def drives(graph, batch) -> dict[str, np.ndarray]:
    """Per LIF population the constant drive of a batch in SANA-FE bias units [B, P * C]: the graded edges' input
    (as our executor rounds it) << 6 plus the population's own bias_mant << bias_exp."""
    from ssr_neuro.graph.execute import propagate
    from ssr_neuro.graph.fixed import ACT_SHIFT, edge_input
    from ssr_neuro.graph.ir import LIF, is_spiking

    out = {}
    for name, node in graph.nodes():
        if not isinstance(node, LIF):
            continue
        fx = node.fixed
        total = np.zeros((batch.length.shape[0],) + tuple(node.shape))
        for s, syn in graph.in_edges(name):
            if not is_spiking(graph.node(s)):
                acc = propagate(syn, syn.fixed.weight.astype(np.float64), batch.outputs[s], batch.length)
                total += edge_input(syn, graph.node(s), node, acc)
        bias = np.asarray(fx.bias_mant, np.float64) * float(1 << fx.bias_exp)
        out[name] = (total * float(1 << ACT_SHIFT) + bias).reshape(total.shape[0], -1)
    return out


def sanafe_core(mesh_pos: tuple[int, int, int], mesh) -> int:
    """SANA-FE core index of our (row, col, slot): tiles are numbered x * height + y, our col = x, row = y."""
    row, col, slot = mesh_pos
    return (col * mesh.rows + row) * mesh.cores_per_router + slot


def build_sanafe(graph, mapping, chip, windows: list[Window], edges: list[tuple[str, str]]):
    """(arch, SpikingChip, mapped groups, mapped neurons per population, sanafe core per population neuron)."""
    import sanafe

    from ssr_neuro.graph.fixed import ACT_SHIFT, VTH_SHIFT, edge_shift

    arch = sanafe.load_loihi()
    cores = arch.cores()
    net = sanafe.Network()
    groups, core_of = {}, {}
    for w in windows:
        for name in w.depth:
            node = graph.node(name)
            fx = node.fixed
            attrs = {"threshold": float(fx.vth << VTH_SHIFT), "leak_decay": (4096 - fx.dv) / 4096.0, "bias": 0.0,
                     "reset_mode": "hard", "reset": 0.0}
            groups[name] = net.create_neuron_group(name, int(np.prod(node.shape)), model_attributes=attrs,
                                                   log_spikes=True)
            own = np.full(node.shape, -1, np.int64)
            for p in mapping.pieces:
                if p.population == name:
                    own[slice(*p.rows), slice(*p.chans)] = sanafe_core(p.mesh, chip.mesh)
            core_of[name] = own.reshape(-1)
            for neuron, k in zip(groups[name].neurons, core_of[name]):
                neuron.map_to_core(cores[int(k)])
    for s, t in edges:
        syn = graph.synapse(s, t)
        (p, cs), ct = graph.node(s).shape, graph.node(t).shape[1]
        w = syn.fixed.weight.astype(np.float64).T * 2.0 ** -edge_shift(syn, graph.node(s), graph.node(t))
        w = w * float(1 << ACT_SHIFT)  # [cs, ct]
        src = (np.arange(p)[:, None, None] * cs + np.arange(cs)[None, :, None]) + np.zeros((1, 1, ct), np.int64)
        dst = (np.arange(p)[:, None, None] * ct + np.arange(ct)[None, None, :]) + np.zeros((1, cs, 1), np.int64)
        pairs = list(zip(src.ravel().tolist(), dst.ravel().tolist()))
        groups[s].connect_neurons_sparse(groups[t], {"w": np.broadcast_to(w, (p, cs, ct)).ravel().tolist()}, pairs)
    sim = sanafe.SpikingChip(arch)
    sim.load(net)
    return sim, sim.mapped_neuron_groups, core_of


@dataclass
class SanafeRun:
    """SANA-FE's totals over a run: energies (pJ) by part, counts, simulated time (us), wall times (s); with a trace
    the spikes and the updates per step."""

    energy_pJ: dict[str, float]
    counts: dict[str, float]
    sim_time_us: float
    sim_s: float
    sim_cpu_s: float  # CPU time of this process in the sim calls (less moved by other jobs than sim_s)
    total_s: float
    spikes: dict[str, np.ndarray] | None  # population -> [n, T, P * C] spikes in our step numbering
    updated_by_step: list[np.ndarray] | None  # per window: neurons updated in each SANA-FE step, summed over n


def _segments(w: Window) -> list[tuple[int, int, dict[str, bool]]]:
    """(first step, steps, biases switched on (True) / off (False) before it) of one window: a population of depth
    d is driven in SANA-FE steps d .. d + T - 1."""
    changes: dict[int, dict[str, bool]] = {}
    for name, d in w.depth.items():
        changes.setdefault(d, {})[name] = True
        changes.setdefault(d + w.time_steps, {})[name] = False
    bounds = sorted(k for k in changes if k < w.sanafe_steps) + [w.sanafe_steps]
    return [(a, b - a, changes[a]) for a, b in zip(bounds, bounds[1:])]


def run_sanafe(sim, mapped, windows: list[Window], drive: dict[str, np.ndarray], timing: str,
               trace: bool) -> SanafeRun:
    """Simulate every inference of ``drive`` (population -> [n, neurons] biases) window by window (module
    docstring): reset, then ``sim`` between bias changes; with ``trace`` record the spikes in our step numbering
    (SANA-FE step d + t of a population of depth d is our step t)."""
    n = next(iter(drive.values())).shape[0]
    energy = {"synapse": 0.0, "dendrite": 0.0, "soma": 0.0, "network": 0.0, "total": 0.0}
    counts = {"updated": 0.0, "fired": 0.0, "packets": 0.0}
    updated_by_step = [np.zeros(w.sanafe_steps) for w in windows]
    spikes = ({name: np.zeros((n, w.time_steps, len(mapped[name])), bool) for w in windows for name in w.depth}
              if trace else None)
    zeros = {name: np.zeros(len(mapped[name])) for w in windows for name in w.depth}
    sim_s = sim_cpu_s = sim_time = 0.0
    start = time.perf_counter()
    for i in range(n):
        for w, by_step in zip(windows, updated_by_step):
            sim.reset()
            for first, steps, switch in _segments(w):
                for name, on in switch.items():
                    for neuron, b in zip(mapped[name], drive[name][i] if on else zeros[name]):
                        neuron.set_attributes(model_attributes={"bias": float(b)})
                t0, c0 = time.perf_counter(), time.process_time()
                r = sim.sim(steps, timing_model=timing, processing_threads=1, spike_trace=trace,
                            perf_trace=trace)
                sim_s += time.perf_counter() - t0
                sim_cpu_s += time.process_time() - c0
                sim_time += r["sim_time"] * 1e6
                for key in energy:
                    energy[key] += r["energy"][key] * 1e12
                counts["updated"] += r["neurons_updated"]
                counts["fired"] += r["neurons_fired"]
                counts["packets"] += r["packets_sent"]
                if trace:
                    by_step[first:first + steps] += r["perf_trace"]["updated"]
                for k, fired in enumerate(r["spike_trace"] if trace else []):
                    for addr in fired:
                        spikes[addr.group_name][i, first + k - w.depth[addr.group_name], addr.neuron_offset] = True
            for name, d in w.depth.items():  # a population still driven at the window's end: switch it off
                if d + w.time_steps >= w.sanafe_steps:
                    for neuron in mapped[name]:
                        neuron.set_attributes(model_attributes={"bias": 0.0})
    return SanafeRun(energy, counts, sim_time, sim_s, sim_cpu_s, time.perf_counter() - start, spikes,
                     updated_by_step if trace else None)


def sanafe_actions(run: SanafeRun, chip, accesses: float) -> dict[str, float]:
    """SANA-FE's counts in our action names (module docstring); "hop_pJ": its hop energy (pJ), "soma_residual_pJ":
    its soma energy minus what these counts price to (0 when our reading of its soma model is right)."""
    e = SANAFE_LOIHI["energy"]
    updated, fired = run.counts["updated"], run.counts["fired"]
    soma = accesses * e["loihi_lif.access_neuron"] + updated * e["loihi_lif.update_neuron"] + \
        fired * e["loihi_lif.spike_out"]
    return {"synaptic_op": run.energy_pJ["synapse"] / chip.energy_pJ["synaptic_op"], "neuron_update": updated,
            "neuron_update_idle": accesses - updated, "spike_out": fired, "message_out": run.counts["packets"],
            "hop_pJ": run.energy_pJ["network"] - run.counts["packets"] * chip.energy_pJ["message_out"],
            "soma_residual_pJ": run.energy_pJ["soma"] - soma}


# ------------------------------------------------------------------------------------------------ our side

def ours_spiking_part(program, ledger, graph, lif: list[str]) -> dict[str, float]:
    """Our counts per action on cores for the LIF layers (totals over the run): updates and spikes of the LIF
    populations, synaptic ops of layers into them, and messages and hops of those whose targets are all LIF."""
    from hardware.costs import COUNTERS

    all_lif = {name for name in lif if all(t in lif for t in graph.g.successors(name))}
    cores = slice(0, program.n_cores)
    out = {}
    for action in ("synaptic_op", "neuron_update", "neuron_update_idle", "spike_out", "message_out", "hop_ew",
                   "hop_ns"):
        c = COUNTERS.index(action)
        keep = lif if action not in ("message_out", "hop_ew", "hop_ns") else sorted(all_lif)
        out[action] = float(sum(ledger.table[cores, c, ledger.layer_index[name]].sum() for name in keep))
    return out


def local_messages(graph, mapping, edges, spikes: dict[str, np.ndarray]) -> float:
    """Spikes x destination cores that hold the source itself (messages to the sender's own core, which SANA-FE and
    our chip file's charge_local_messages price): summed over the run's spikes [n, T, P * C] of LIF -> LIF
    sources."""
    own = {}
    for p in (p for p in mapping.pieces if p.population in spikes):
        block = own.setdefault(p.population, np.full(graph.node(p.population).shape, -1, np.int64))
        block[slice(*p.rows), slice(*p.chans)] = p.core
    total = 0.0
    for s, t in edges:
        target_cores = own[t]  # [P, Ct]
        same = (own[s][:, :, None] == target_cores[:, None, :]).any(axis=2)  # [P, Cs]: a target on its core
        total += float((spikes[s].sum(axis=(0, 1)) * same.ravel()).sum())
    return total


# ------------------------------------------------------------------------------------------------ the run

def _pick(graph, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from ssr_neuro.app.pipeline import dataset_of

    ds = dataset_of(graph.meta, DATA)
    pick = np.sort(np.random.default_rng(seed).choice(len(ds.test), size=min(n, len(ds.test)), replace=False))
    return ds.test.history[pick], ds.test.length[pick]


def _ours(graph, mapping, chip, history, length, batch_size: int, repeats: int):
    """Our whole simulation ``repeats`` times: (median seconds of compile, median seconds of run + price, program,
    ledger, result). Compiling is once per model and mapping, like SANA-FE's network building and loading."""
    from hardware.engine import run_program
    from hardware.program import compile_program
    from hardware.simulate import assemble

    compile_s, run_s = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        program = compile_program(graph, mapping, chip)
        t1 = time.perf_counter()
        scores, ledger, raster = run_program(program, history, length, batch_size)
        result = assemble(program, ledger, scores, raster)
        compile_s.append(t1 - t0)
        run_s.append(time.perf_counter() - t1)
    return float(np.median(compile_s)), float(np.median(run_s)), program, ledger, result


class _QuietStdout:
    """Silence file descriptor 1 (SANA-FE's C++ kernel prints a line per ``sim`` call)."""

    def __enter__(self):
        import sys

        sys.stdout.flush()
        self.saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)

    def __exit__(self, *exc):
        os.dup2(self.saved, 1)
        os.close(self.saved)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--graph", type=Path, default=REPO / "runs/ml-1m/model.graph")
    ap.add_argument("--n", type=int, default=100, help="ML-1M test inferences (the same for both tools)")
    ap.add_argument("--timing", default="simple,detailed", help="SANA-FE timing models to time, comma-separated")
    ap.add_argument("--repeats", type=int, default=3, help="our runs (median time)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if os.environ.get("OMP_NUM_THREADS") != "1":
        print("warning: OMP_NUM_THREADS is not 1; our engine may use more than one thread")
    from importlib.util import find_spec

    if find_spec("sanafe") is None:
        raise SystemExit("sanafe is not installed: .venv/bin/pip install sanafe")
    from importlib.metadata import version
    from importlib.resources import files

    from hardware.chip import load_chip
    from mapping import map_graph
    from ssr_neuro.graph.execute import trace
    from ssr_neuro.graph.fixed import lif_run
    from ssr_neuro.graph.io import load_graph

    chip = load_chip(CHIP_FILE)
    yaml_path = Path(str(files("sanafe.examples") / "loihi.yaml"))
    check_costs(chip, read_loihi_yaml(yaml_path))
    check_rules(chip)
    graph = load_graph(args.graph)
    history, length = _pick(graph, args.n, args.seed)
    n = len(length)
    windows, edges = spiking_part(graph)
    lif = [name for w in windows for name in w.depth]
    mapping = map_graph(graph, chip)
    sizes = {name: int(np.prod(graph.node(name).shape)) for name in lif}
    synapses = {f"{s}->{t}": graph.synapse(s, t).n_synapses(graph.node(s), graph.node(t)) for s, t in edges}
    print(f"sanafe {version('sanafe')} ({yaml_path}); chip {CHIP_FILE.relative_to(REPO)}; graph {args.graph}")
    print(f"network: {sizes} neurons, {synapses} synapses; windows: "
          + "; ".join(f"{list(w.depth)} T={w.time_steps} ({w.sanafe_steps} SANA-FE steps)" for w in windows))
    lif_cores = sorted({p.mesh for p in mapping.pieces if p.population in lif})
    print(f"placement (ours, anneal): the LIF populations on {len(lif_cores)} cores in "
          f"{len({m[:2] for m in lif_cores})} tiles {sorted({m[:2] for m in lif_cores})}; {n} ML-1M test inferences")

    # ours: the whole graph, timed; then its spiking part and the inputs SANA-FE needs
    compile_s, ours_s, program, ledger, result = _ours(graph, mapping, chip, history, length, 256, args.repeats)
    ours = ours_spiking_part(program, ledger, graph, lif)
    drive = {name: [] for name in lif}
    spikes = {name: [] for name in lif}
    charged = {name: 0.0 for name in lif}  # neurons with v != 0 after their window's last step (SANA-FE: leak)
    for batch in trace(graph, history, length):
        for name, d in drives(graph, batch).items():
            drive[name].append(d)
            out = batch.outputs[name]  # [T, B, P, C]
            spikes[name].append(out.reshape(out.shape[0], out.shape[1], -1).transpose(1, 0, 2) > 0)
            charged[name] += float((lif_run(graph.node(name).fixed, batch.inputs[name])[2][-1] != 0).sum())
    drive = {k: np.concatenate(v) for k, v in drive.items()}
    spikes = {k: np.concatenate(v) for k, v in spikes.items()}

    t0 = time.perf_counter()
    with _QuietStdout():
        sim, mapped, _ = build_sanafe(graph, mapping, chip, windows, edges)
    build_s = time.perf_counter() - t0
    runs = {}
    for timing in args.timing.split(","):
        with _QuietStdout():
            runs[timing] = run_sanafe(sim, mapped, windows, drive, timing, trace=False)
    with _QuietStdout():
        checked = run_sanafe(sim, mapped, windows, drive, "simple", trace=True)

    # spikes
    print("\nspikes per inference (ours | SANA-FE | neuron-steps that differ):")
    for name in lif:
        a, b = spikes[name], checked.spikes[name]
        print(f"  {name:14s} {a.sum() / n:10.1f} | {b.sum() / n:10.1f} | {(a != b).sum() / n:8.2f} "
              f"({(a != b).sum() / max(a.sum(), 1):.2%} of our spikes)")

    # energy, action by action
    accesses = float(n * sum(sizes.values()) * sum(w.sanafe_steps for w in windows))
    run = runs[next(iter(runs))]
    theirs = sanafe_actions(run, chip, accesses)
    price = chip.energy_pJ
    rows = [("synaptic_op", ours["synaptic_op"], theirs["synaptic_op"], price["synaptic_op"]),
            ("neuron_update", ours["neuron_update"], theirs["neuron_update"], price["neuron_update"]),
            ("neuron_update_idle", ours["neuron_update_idle"], theirs["neuron_update_idle"],
             price["neuron_update_idle"]),
            ("spike_out", ours["spike_out"], theirs["spike_out"], price["spike_out"]),
            ("message_out", ours["message_out"], theirs["message_out"], price["message_out"])]
    hop_ours = ours["hop_ew"] * price["hop_ew"] + ours["hop_ns"] * price["hop_ns"]
    e_ours = sum(a * p for _, a, _, p in rows) + hop_ours
    e_theirs = run.energy_pJ["total"]
    print(f"\nenergy per inference, spiking part (counts and uJ per inference; {n} inferences):")
    print(f"  {'action':20s} {'ours':>10s} {'SANA-FE':>10s} {'ours uJ':>9s} {'SANA-FE uJ':>10s} {'diff uJ':>9s}")
    for action, a, b, p in rows:
        print(f"  {action:20s} {a / n:10.1f} {b / n:10.1f} {a * p / n / 1e6:9.4f} {b * p / n / 1e6:10.4f} "
              f"{(b - a) * p / n / 1e6:+9.4f}")
    print(f"  {'hops (pJ)':20s} {'':10s} {'':10s} {hop_ours / n / 1e6:9.4f} {theirs['hop_pJ'] / n / 1e6:10.4f} "
          f"{(theirs['hop_pJ'] - hop_ours) / n / 1e6:+9.4f}")
    print(f"  {'total':20s} {'':10s} {'':10s} {e_ours / n / 1e6:9.4f} {e_theirs / n / 1e6:10.4f} "
          f"{(e_theirs - e_ours) / n / 1e6:+9.4f}   ratio SANA-FE / ours {e_theirs / e_ours:.3f}")
    print(f"  check: SANA-FE soma energy - (accesses x 51.2 + updates x 21.6 + spikes x 69.3) = "
          f"{theirs['soma_residual_pJ'] / n:.3f} pJ per inference; its other energies by part: "
          + ", ".join(f"{k} {v / n / 1e6:.4f} uJ" for k, v in run.energy_pJ.items()))
    if len(runs) > 1:
        print("  energy by timing model (uJ per inference): "
              + ", ".join(f"{k} {r.energy_pJ['total'] / n / 1e6:.4f}" for k, r in runs.items()))

    # the differences, explained (the chip file counts the SANA-FE way: SANAFE_RULES)
    ours_updates = ours["neuron_update"] + ours["neuron_update_idle"]
    all_neurons = sum(sizes.values())
    sanafe_steps = sum(w.sanafe_steps for w in windows)
    window_steps = sum(w.time_steps for w in windows)
    a_price = SANAFE_LOIHI["energy"]["loihi_lif.access_neuron"]
    u_price = SANAFE_LOIHI["energy"]["loihi_lif.update_neuron"]
    steps = float(n * all_neurons * (sanafe_steps - len(program.steps)))
    print("\ndifferences (SANA-FE - ours, uJ per inference):")
    print(f"  neuron accesses  {(accesses - ours_updates) * a_price / n / 1e6:+.4f}: both access every LIF neuron in "
          f"every step, but SANA-FE runs {sanafe_steps} steps (T + D per window: its one-step delay per layer) and "
          f"ours {len(program.steps)} ({window_steps} window steps + {len(program.steps) - window_steps} steps of the "
          f"graded stages, which SANA-FE's network lacks): {steps / n:+,.0f} accesses per inference; the remaining "
          f"{(accesses - ours_updates - steps) / n:,.0f} must be 0")
    extra = theirs["neuron_update"] - ours["neuron_update"]
    leak = sum(charged[m] * (w.sanafe_steps - d - w.time_steps) for w in windows for m, d in w.depth.items())
    print(f"  update energy    {extra * u_price / n / 1e6:+.4f}: {extra / n:+,.0f} active updates per inference; "
          f"{leak / n:,.0f} of them: a population whose window ends before SANA-FE's (LIF#1, one step early) leaks "
          f"its non-zero potentials in the extra step, active; ours counts a step outside the population's own "
          f"as idle; the remaining {(extra - leak) / n:+,.0f}: our u (the last step's input) counts as state, "
          f"SANA-FE's LIF has no current, and the spikes that differ")
    local = local_messages(graph, mapping, edges, checked.spikes)
    print(f"  local messages   {(theirs['message_out'] - ours['message_out']) * price['message_out'] / n / 1e6:+.4f}: "
          f"{local / n:,.1f} messages per inference go to the sender's own core, charged 111 pJ by both")
    print("  spikes, synaptic ops, hops: the rest, from the spikes that differ (rounding of the leak and of the edge "
          "shift; see the spike table)")
    print("  SANA-FE updates per inference by its step in each window: " + "; ".join(
        f"{list(w.depth)} " + " ".join(f"{u / n:,.0f}" for u in by_step)
        for w, by_step in zip(windows, checked.updated_by_step)))
    model = steps * a_price + leak * u_price
    print(f"  SANA-FE with our step count and without the leak step: {(e_theirs - model) / n / 1e6:.4f} uJ per "
          f"inference, {(e_theirs - model) / e_ours:.4f} x ours")

    # speed
    events_ours = float(result.per_inference["synaptic_ops"].sum() + result.per_inference["macs"].sum())
    print(f"\nspeed, 1 thread ({n} inferences; SANA-FE network built in {build_s:.1f} s):")
    print(f"  ours (whole ML-1M graph, run + price, median of {args.repeats}; compiling once: {compile_s:.2f} s): "
          f"{ours_s:.3f} s, "
          f"{n / ours_s:,.0f} inferences/s, {events_ours / ours_s / 1e6:,.1f} M synaptic events/s (whole graph), "
          f"{ours['synaptic_op'] / ours_s / 1e6:,.1f} M/s (spiking part only)")
    for timing, r in runs.items():
        ev = theirs["synaptic_op"]
        print(f"  SANA-FE {timing:8s}: sim {r.sim_s:.2f} s ({n / r.sim_s:,.1f} inferences/s, {ev / r.sim_s / 1e6:.2f} M "
              f"synaptic events/s); with bias writes and resets {r.total_s:.2f} s ({n / r.total_s:,.1f}/s); "
              f"ours / SANA-FE throughput: {r.sim_s / ours_s:,.1f}x (sim only), {r.total_s / ours_s:,.1f}x (all)")

    # latency
    windows_us = sum(s["cycles"] for s in result.steps if "[t=" in s["name"]) / chip.mesh.clock_MHz
    for timing, r in runs.items():
        print(f"  latency of the window steps per inference: ours {windows_us:.1f} us (includes the work the LIF "
              f"spikes cause in the readout's cores, which SANA-FE's network lacks), SANA-FE {timing} "
              f"{r.sim_time_us / n:.1f} us")


if __name__ == "__main__":
    main()
