"""The `loihi` preset against SANA-FE's calibrated Loihi model on SANA-FE's own validation networks: energy per time
step side by side.

    .venv/bin/python benchmarks/loihi_validation.py [--steps 100]

What is compared. SANA-FE (Boyle et al., IEEE TCAD 2025, doi 10.1109/TCAD.2025.3537971) validated its Loihi model
against the chip on three workloads (random networks, latin squares, DVS gesture) and reports energy within 12% of
the measurements. The measured values themselves are not in its repository (scripts/tcad2025/*.py read
runs/random/loihi_random.csv, runs/latin/loihi_latin.csv, runs/dvs/loihi_gesture_32x32_energy.csv, which are not
published), so the silicon side is reached through SANA-FE's calibrated model: this script rebuilds SANA-FE's
random networks with its own generator (scripts/tcad2025/random_network.py ``create_random_network``: N cores of n
neurons, a fraction p of the neurons firing every step (bias 128 > threshold 64), each sending to m random cores and
s random neurons there), simulates them in SANA-FE (PyPI ``sanafe``, its arch/loihi.yaml, 'simple' timing) and
prices the very events SANA-FE counted (synaptic events, neuron accesses and updates, spikes, messages, hop energy)
with each of our chip files: our event counts equal SANA-FE's under its counting rules (benchmarks/sanafe_compare.py:
synaptic ops, spikes, messages and hops agree exactly), so the difference is the per-event prices alone.

Reported per network: SANA-FE's energy per step, ours with hardware/chips/loihi.toml, and their ratio; the goal is
|ratio - 1| <= 20% (tests/test_loihi_validation.py checks it on small networks when sanafe is installed).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# (cores, neurons per core, messages per neuron, spikes per message, % of neurons firing): points of SANA-FE's
# random-network grid (their generator's parameters), from small to the whole chip
NETWORKS = ((1, 64, 1, 8, 100), (4, 256, 4, 8, 50), (8, 512, 8, 4, 25), (16, 256, 16, 2, 50), (32, 1024, 4, 1, 10),
            (64, 128, 32, 4, 20), (128, 256, 8, 8, 5))


@dataclass(frozen=True)
class Events:
    """What SANA-FE counted over a run (totals): synaptic events, neuron accesses (every mapped neuron every step),
    active updates, spikes, messages, its hop energy (pJ) and its total energy (pJ)."""

    steps: int
    synaptic: float
    accesses: float
    updated: float
    fired: float
    packets: float
    hop_pJ: float
    total_pJ: float


def random_network(cores: int, neurons_per_core: int, messages: int, spikes: int, percent: int,
                   seed: int | None = None):
    """SANA-FE's ``create_random_network`` (scripts/tcad2025/random_network.py), on its Loihi architecture."""
    import sanafe

    if seed is None:
        seed = (cores * neurons_per_core * messages * spikes * percent) % 2 ** 31
    random.seed(seed)
    arch = sanafe.load_loihi()
    net = sanafe.Network()
    n = cores * neurons_per_core
    pop = net.create_neuron_group("pop", n, model_attributes={"threshold": 64.0, "reset": 0.0})
    pairs, weights = [], []
    for i in range(n):
        if random.random() >= percent / 100:
            continue
        pop.neurons[i].set_attributes(model_attributes={"bias": 128.0})
        for c in random.sample(range(cores), messages):
            for d in random.sample(range(neurons_per_core), spikes):
                pairs.append((i, c * neurons_per_core + d))
                weights.append(128.0)
    if pairs:
        pop.connect_neurons_sparse(pop, {"w": weights}, pairs)
    hw = arch.cores()
    for i, neuron in enumerate(pop.neurons):
        neuron.map_to_core(hw[i // neurons_per_core])
    chip = sanafe.SpikingChip(arch)
    chip.load(net)
    return chip, n


def sanafe_events(cores: int, neurons_per_core: int, messages: int, spikes: int, percent: int, steps: int) -> Events:
    """Simulate one random network in SANA-FE and read its counts (sanafe_compare.sanafe_actions' reading)."""
    from benchmarks.sanafe_compare import SANAFE_LOIHI

    chip, n = random_network(cores, neurons_per_core, messages, spikes, percent)
    r = chip.sim(steps, timing_model="simple", processing_threads=1)
    e = {k: v * 1e12 for k, v in r["energy"].items()}
    prices = SANAFE_LOIHI["energy"]
    return Events(steps, e["synapse"] / prices["loihi_dense_synapse.process_spike"], float(n * steps),
                  float(r["neurons_updated"]), float(r["neurons_fired"]), float(r["packets_sent"]),
                  e["network"] - r["packets_sent"] * prices["loihi_out.message_out"], e["total"])


def ours_pJ(ev: Events, chip) -> float:
    """The events priced with our chip file (its [core] rules are Loihi's: every neuron accessed every step, idle or
    active; messages charged also to the sender's own core). SANA-FE's hop energy is rescaled by our hop prices
    (its north-south and east-west hops: 4.2 and 3.0 pJ; ours: the chip file's, the mean ratio applied)."""
    e = chip.energy_pJ
    hop_ratio = (e["hop_ew"] + e["hop_ns"]) / (3.0 + 4.2)
    return (ev.synaptic * e["synaptic_op"] + ev.updated * e["neuron_update"]
            + (ev.accesses - ev.updated) * e["neuron_update_idle"] + ev.fired * e["spike_out"]
            + ev.packets * (e["message_out"] + e.get("packet_receive", 0.0)) + ev.hop_pJ * hop_ratio)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100)
    args = ap.parse_args()
    from importlib.metadata import version

    from hardware.chip import load_chip

    chip = load_chip("loihi")
    print(f"sanafe {version('sanafe')}; ours: {chip.source}; {args.steps} steps per network")
    print(f"{'cores':>5s} {'n/core':>6s} {'m':>3s} {'s':>2s} {'%':>3s} {'syn events':>10s} {'messages':>9s} "
          f"{'SANA-FE uJ/step':>15s} {'ours uJ/step':>12s} {'ours/SANA-FE':>12s}")
    ratios = []
    for spec in NETWORKS:
        t0 = time.perf_counter()
        ev = sanafe_events(*spec, steps=args.steps)
        theirs, ours = ev.total_pJ / ev.steps * 1e-6, ours_pJ(ev, chip) / ev.steps * 1e-6
        ratios.append(ours / theirs)
        print(f"{spec[0]:5d} {spec[1]:6d} {spec[2]:3d} {spec[3]:2d} {spec[4]:3d} {ev.synaptic / ev.steps:10.0f} "
              f"{ev.packets / ev.steps:9.0f} {theirs:15.4f} {ours:12.4f} {ours / theirs:12.3f}"
              f"   ({time.perf_counter() - t0:.1f} s)")
    print(f"ours / SANA-FE: {min(ratios):.3f} to {max(ratios):.3f} (goal 0.8 to 1.2)")


if __name__ == "__main__":
    main()
