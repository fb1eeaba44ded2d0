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

Placement (``mapping.int8_pack``): the ops are packed onto as few cores as the core's limits allow, greedy in layer
order (neurons = activations computed, synapse words of weights and tables, input axons, output routes); a data move
(step, split, stack, ...) takes no core; an op bigger than a core is split over cores of its own. Ops on one core
exchange values locally: only values read on another core are packets. The ``layer_ops`` estimate knows neither
the activations nor which values a layer reads: its layers are packed by synapse words only and every activation
word it counts stays one message (sent, arriving and crossing).

Pricing of one inference (per op; the chip's own action prices and word prices, ``mapping.memory``; each action in
the kind ``hardware.costs.KIND_OF`` gives SSR's: the input-axon lookup and table words are memory, as for SSR):

    compute  = MACs x mac + activations computed x neuron_update          (a graded neuron update each, as SSR's)
               (chip without MAC units: MACs and activations on the [host], host.mac_pJ each)
    memory   = MACs x accumulator_rmw + weight bytes x weight_read_byte + synapse words x words_synapse price
               (weights as dense lists, entries per word of the synapse memory; a nonlinearity's table entries read
               are weight bytes too, its 256-entry tables stored with the weights) + activations x (neuron_state_access
               + 2 x state words x the neuron-state word price)
               + values sent x a route-table word + arrivals x (axon_lookup + an axon-table word)
    network  = values sent x spike_out + packets x (message_out + packet_receive)
               (``mapping.int8_pack``: a value read by some op is sent once, arrives once on each core that reads it,
               and is a packet to each of those but its own core; embedding rows and constants are read, not sent)
    static   = leakage (``hardware.costs.static_energy_pJ``) of the packed cores, over the latency
    latency  = sum over ops of (MACs x cycles.mac / mac_units + activations x cycles.neuron_update)
               x the largest share of the op on one of its cores (1 for an op on one core, 1 / n split evenly)

The latency is the old rule's, a sum over ops of the op's busiest core: the ops run one after another in layer order
(each waits for its inputs), an op split over cores runs on them in parallel, and ops sharing a core ran in sequence
anyway. Packing changes it only where an op is now split by neurons too (more cores, less time each). Network
cycles are not counted (as before).

Hops are left out (the packed cores are not placed on the mesh). ``saving_decomposition``: SSR's saving against a float32 ANN
priced at 45 nm (Horowitz, ``ssr_neuro.counting.ann_45nm``), telescoped into parts that add up exactly:

    float32 ANN (Horowitz) - SSR on chip = precision + chip + sum over kinds (int8 ANN on chip - SSR on chip)
    precision = float32 ANN (Horowitz) - int8 ANN on the Horowitz lower-bound chip (45nm-ideal)
    chip      = int8 ANN on 45nm-ideal - int8 ANN on the chip (negative: the calibrated chip costs more)
    kinds     = compute ("spike_sparsity": fewer, cheaper operations), memory ("memory_traffic"), network, static
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Mapping, Sequence

import numpy as np

from hardware.costs import KINDS, static_energy_pJ
from mapping.int8_pack import Int8Packing, PackItem, pack_int8, weight_words
from mapping.memory import state_words_per_neuron, word_read_pJ
from ssr_neuro.graph.int8_net import Int8Net, OpCounts, ValueFlow, op_counts, run_net, value_flows

FLOAT32_BYTES = 4


def price_int8_layers(layers: Sequence[OpCounts], chip, label: str,
                      flows: Sequence[ValueFlow] | None = None) -> dict:
    """pJ of one inference of int8 layers on ``chip`` (module docstring), packed by the values each reads
    (``flows``, one per layer; None: the ``layer_ops`` estimate): {"label", "total_pJ", "by_kind" {kind: pJ},
    "macs", "updates", "cores", "packets", "latency_us", "packing" (``mapping.int8_pack.Int8Packing``)}."""
    e, cyc = chip.energy_pJ, chip.cycles
    on_host = chip.core.mac_units == 0
    mem = chip.memory
    state_pJ = (2 * state_words_per_neuron(chip.core.state_bits, mem["neuron_state"].word_bits)
                * word_read_pJ(mem["neuron_state"]) + e.get("neuron_state_access", 0.0))
    packing = _pack(layers, flows, chip)
    by_kind = dict.fromkeys(KINDS, 0.0)
    cycles = 0.0
    for layer, busiest in zip(layers, packing.busiest):
        if on_host:
            by_kind["compute"] += (layer.macs + layer.updates) * chip.host.mac_pJ
            cycles += ((layer.macs + layer.updates) * chip.host.mac_cycles * chip.mesh.clock_MHz
                       / chip.host.clock_MHz)
        else:
            by_kind["compute"] += layer.macs * e["mac"] + layer.updates * e["neuron_update"]
            by_kind["memory"] += (layer.macs * e.get("accumulator_rmw", 0.0) + layer.weights * e["weight_read_byte"]
                                  + weight_words(layer.weights, chip) * word_read_pJ(mem["synapse"])
                                  + layer.updates * state_pJ)
            cycles += (layer.macs * cyc["mac"] / chip.core.mac_units + layer.updates * cyc["neuron_update"]) * busiest
    by_kind["network"] += packing.sent * e["spike_out"] + packing.packets * (e["message_out"]
                                                                            + e.get("packet_receive", 0.0))
    by_kind["memory"] += (packing.sent * word_read_pJ(mem["route_table"])
                          + packing.arrivals * (e.get("axon_lookup", 0.0) + word_read_pJ(mem["axon_table"])))
    latency_us = cycles / chip.mesh.clock_MHz
    cores = packing.cores
    routers = math.ceil(cores / chip.mesh.cores_per_router)
    by_kind["static"] = float(static_energy_pJ(chip, cores, routers, latency_us, latency_us * cores))
    return {"label": label, "total_pJ": sum(by_kind.values()), "by_kind": by_kind,
            "macs": sum(layer.macs for layer in layers), "updates": sum(layer.updates for layer in layers),
            "cores": cores, "packets": packing.packets, "latency_us": latency_us, "packing": packing}


def _pack(layers: Sequence[OpCounts], flows: Sequence[ValueFlow] | None, chip) -> Int8Packing:
    """The layers packed onto cores (``mapping.int8_pack``); without ``flows`` (the estimate) by synapse words only,
    every counted message kept (sent, arriving and a packet)."""
    if flows is None:
        none = ValueFlow("", np.zeros(0, np.int64), np.zeros(0, np.int64))
        packed = pack_int8([PackItem(layer.name, weight_words(layer.stored, chip), 0, none, False)
                            for layer in layers], chip)
        messages = sum(layer.messages for layer in layers)
        return replace(packed, sent=messages, arrivals=messages, packets=messages)
    work = [i for i, f in enumerate(flows) if f.makes.size or f.reads.size]
    packed = pack_int8([PackItem(layers[i].name, weight_words(layers[i].stored, chip), layers[i].updates, flows[i],
                                 layers[i].messages > 0) for i in work], chip)
    where = dict(zip(work, zip(packed.item_cores, packed.busiest)))
    return replace(packed, item_cores=tuple(where.get(i, ((), 0.0))[0] for i in range(len(layers))),
                   busiest=tuple(where.get(i, ((), 0.0))[1] for i in range(len(layers))))


def run_int8_on_chip(net: Int8Net, chip, history: np.ndarray, length: np.ndarray) -> dict:
    """The int8 net on ``chip``: {"scores" int64 [B, N + 1], and ``price_int8_layers``'s keys for one inference}."""
    scores = run_net(net, history, length)[net.ops[-1].name]
    max_len = net.meta["max_len"]
    priced = price_int8_layers(op_counts(net, max_len), chip,
                               f"{net.name} as an int8 layer list packed onto chip {chip.name}'s cores: every MAC, "
                               "weight, activation and value crossing cores at the chip's own prices, and leakage",
                               value_flows(net, max_len))
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
