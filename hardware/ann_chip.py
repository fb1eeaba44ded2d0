"""An ANN baseline run and priced as an all-graded int8 layer list on the same chip as SSR, and where SSR's saving
comes from. Pure functions, no torch.

Two ways in, one pricing:
- ``run_int8_on_chip(net, chip, history, length)``: an :class:`~ssr_neuro.graph.int8_net.Int8Net` (a baseline
  compiled by ``ssr_neuro.baselines.int8``) run in int8 on the chip: its scores (integers, what the chip computes)
  and the energy of one inference from ``op_counts`` (exact work of every op: MACs, weights and table entries read,
  activations computed and sent; its docstring gives the MACs and table reads of each op kind: LayerNorm, softmax,
  attention products, FMLP-Rec's filter, convolutions...);
- ``int8_ann_on_chip(layers, chip)``: an estimate from a baseline's float32 ``layer_ops()``
  (``ssr_neuro.counting.LayerOps``) for a baseline without a compiled net: the same MACs and weights at 8 bits; it
  does not know the activations a layer computes, so neuron updates are left out there (a low estimate).

Pricing of one inference (per layer; the chip's own action prices and word prices, ``mapping.memory``):

    compute  = MACs x mac + activations computed x neuron_update          (a graded neuron update each, as SSR's)
               (chip without MAC units: MACs and activations on the [host], host.mac_pJ each)
    memory   = MACs x accumulator_rmw + weight bytes x weight_read_byte + synapse words x words_synapse price
               (weights as dense lists, entries per word of the synapse memory; a nonlinearity's table entries read
               are weight bytes too, its 256-entry tables stored with the weights) + activations x (neuron_state_access
               + 2 x state words x the neuron-state word price)
    network  = activations sent x (spike_out + message_out + packet_receive + axon_lookup + a route-table and an
               axon-table word): each a graded message from the core that made it to the core that uses it
    static   = leakage (``hardware.costs.static_energy_pJ``) of the cores that hold the weights, over the latency
    cores    = sum over layers of ceil(synapse words of its weights / a core's synapse words)
    latency  = sum over layers of (MACs x cycles.mac / mac_units + activations x cycles.neuron_update) / its cores

Hops are left out (a mapping of the ANN is not made). ``saving_decomposition``: SSR's saving against a float32 ANN
priced at 45 nm (Horowitz, ``ssr_neuro.counting.ann_45nm``), telescoped into parts that add up exactly:

    float32 ANN (Horowitz) - SSR on chip = precision + chip + sum over kinds (int8 ANN on chip - SSR on chip)
    precision = float32 ANN (Horowitz) - int8 ANN on the Horowitz lower-bound chip (45nm-ideal)
    chip      = int8 ANN on 45nm-ideal - int8 ANN on the chip (negative: the calibrated chip costs more)
    kinds     = compute ("spike_sparsity": fewer, cheaper operations), memory ("memory_traffic"), network, static
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

from hardware.costs import KINDS, static_energy_pJ
from mapping.memory import state_words_per_neuron, word_read_pJ, words_per_entry_read
from mapping.pieces import synapse_words_limit
from ssr_neuro.graph.int8_net import Int8Net, OpCounts, op_counts, run_net

FLOAT32_BYTES = 4


def price_int8_layers(layers: Sequence[OpCounts], chip, label: str) -> dict:
    """pJ of one inference of int8 layers on ``chip`` (module docstring): {"label", "total_pJ", "by_kind" {kind: pJ},
    "macs", "updates", "cores", "latency_us"}."""
    e, cyc = chip.energy_pJ, chip.cycles
    on_host = chip.core.mac_units == 0
    mem = chip.memory
    synapse = mem["synapse"]
    per_weight_words = words_per_entry_read(chip.synapse_format, "dense", 8, synapse.word_bits)
    state_pJ = (2 * state_words_per_neuron(chip.core.state_bits, mem["neuron_state"].word_bits)
                * word_read_pJ(mem["neuron_state"]) + e.get("neuron_state_access", 0.0))
    message_pJ = (e["spike_out"] + e["message_out"] + e.get("packet_receive", 0.0) + e.get("axon_lookup", 0.0)
                  + word_read_pJ(mem["route_table"]) + word_read_pJ(mem["axon_table"]))
    by_kind = dict.fromkeys(KINDS, 0.0)
    cores, cycles = 0, 0.0
    limit = synapse_words_limit(chip)
    for layer in layers:
        n = max(1, math.ceil(layer.stored * per_weight_words / limit))
        cores += n
        if on_host:
            by_kind["compute"] += (layer.macs + layer.updates) * chip.host.mac_pJ
            cycles += ((layer.macs + layer.updates) * chip.host.mac_cycles * chip.mesh.clock_MHz
                       / chip.host.clock_MHz)
        else:
            by_kind["compute"] += layer.macs * e["mac"] + layer.updates * e["neuron_update"]
            by_kind["memory"] += (layer.macs * e.get("accumulator_rmw", 0.0) + layer.weights * e["weight_read_byte"]
                                  + layer.weights * per_weight_words * word_read_pJ(synapse)
                                  + layer.updates * state_pJ)
            cycles += (layer.macs * cyc["mac"] / chip.core.mac_units + layer.updates * cyc["neuron_update"]) / n
        by_kind["network"] += layer.messages * message_pJ
    latency_us = cycles / chip.mesh.clock_MHz
    routers = math.ceil(cores / chip.mesh.cores_per_router)
    by_kind["static"] = float(static_energy_pJ(chip, cores, routers, latency_us, latency_us * cores))
    return {"label": label, "total_pJ": sum(by_kind.values()), "by_kind": by_kind,
            "macs": sum(layer.macs for layer in layers), "updates": sum(layer.updates for layer in layers),
            "cores": cores, "latency_us": latency_us}


def run_int8_on_chip(net: Int8Net, chip, history: np.ndarray, length: np.ndarray) -> dict:
    """The int8 net on ``chip``: {"scores" int64 [B, N + 1], and ``price_int8_layers``'s keys for one inference}."""
    scores = run_net(net, history, length)[net.ops[-1].name]
    priced = price_int8_layers(op_counts(net, net.meta["max_len"]), chip,
                               f"{net.name} as an int8 layer list on chip {chip.name}: every MAC, weight, activation "
                               "and message of the net at the chip's own prices, and leakage")
    return {"scores": scores, **priced}


def int8_ann_on_chip(layers: Sequence, chip) -> dict:
    """The estimate from float32 ``LayerOps`` (module docstring): their MACs and weights at 8 bits, each layer's
    activation inputs as graded messages, no neuron updates."""
    counts = [OpCounts(layer.name, layer.macs, layer.weight_words, layer.weight_bytes // FLOAT32_BYTES, 0,
                       layer.activation_words) for layer in layers]
    return price_int8_layers(counts, chip, f"the model as an int8 ANN on chip {chip.name} (from layer_ops: MACs, "
                                           "weight and accumulator traffic, graded messages and leakage; neuron "
                                           "updates left out)")


def saving_decomposition(float32_45nm_pJ: float, int8_ideal: Mapping, int8_chip: Mapping,
                         ssr_by_kind: Mapping[str, float]) -> dict[str, float]:
    """SSR's saving against the float32 ANN at 45 nm, in parts that add up (module docstring). ``int8_ideal`` and
    ``int8_chip``: an int8 pricing (``run_int8_on_chip`` or ``int8_ann_on_chip``) on 45nm-ideal and on SSR's chip;
    ``ssr_by_kind``: SSR's ``SimResult.breakdown["by_kind"]`` on that chip (pJ). All pJ per inference."""
    ssr_total = sum(ssr_by_kind.get(k, 0.0) for k in KINDS)
    diff = {k: int8_chip["by_kind"][k] - ssr_by_kind.get(k, 0.0) for k in KINDS}
    return {
        "total_saving_pJ": float32_45nm_pJ - ssr_total,
        "precision_pJ": float32_45nm_pJ - int8_ideal["total_pJ"],
        "chip_pJ": int8_ideal["total_pJ"] - int8_chip["total_pJ"],
        "spike_sparsity_pJ": diff["compute"],
        "memory_traffic_pJ": diff["memory"],
        "network_pJ": diff["network"],
        "static_pJ": diff["static"],
        "saving_vs_int8_ann_on_chip": 1.0 - ssr_total / int8_chip["total_pJ"] if int8_chip["total_pJ"] else 0.0,
    }
