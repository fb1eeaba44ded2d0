"""An ANN baseline priced as an all-graded int8 layer list on the same chip as SSR, and where SSR's saving comes from.
Pure functions, no torch.

``int8_ann_on_chip(layers, chip)``: a baseline's ``layer_ops()`` (``hardware.counting.LayerOps``: MACs, weight words
read, weight bytes stored, activation words read per inference) run with 8-bit weights and activations on the chip's
MAC units (on its [host] when the cores have none), under the chip's own action prices, as a graded layer of SSR is:

    compute  = MACs x mac                                     (host: MACs x host.mac_pJ, weight fetch included)
    memory   = MACs x accumulator_rmw + weight bytes read x weight_read_byte
               + weight words read x words_synapse    (a dense list: entries per synapse word, mapping.memory)
    network  = activation words x (spike_out + message_out + axon_lookup)   (each activation a graded message from
                                                                             the core that made it to one that uses it)
    static   = leakage (hardware.costs.static_energy_pJ) of the cores that hold the weights, over the latency
    cores    = sum over layers of ceil(weight bytes / core.synapse_memory_bytes)
    latency  = sum over layers of MACs x cycles.mac / (mac_units x the layer's cores), cycles / mesh.clock_MHz us

Left out on both sides' behalf: neuron updates of the ANN's output neurons (LayerOps does not say how many), hops.
So the figure is a low estimate of the int8 ANN on the chip.

``saving_decomposition``: SSR's saving against a float32 ANN priced at 45 nm (Horowitz, ``counting.ann_45nm``),
telescoped into parts that add up exactly:

    float32 ANN (Horowitz) - SSR on chip = precision + chip + sum over kinds (int8 ANN on chip - SSR on chip)
    precision = float32 ANN (Horowitz) - int8 ANN on the Horowitz lower-bound chip (45nm-ideal)
    chip      = int8 ANN on 45nm-ideal - int8 ANN on the chip (negative: the calibrated chip costs more)
    kinds     = compute ("spike_sparsity": fewer, cheaper operations), memory ("memory_traffic"), network, static
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from hardware.costs import KINDS, static_energy_pJ
from mapping.memory import word_read_pJ, words_per_entry_read


def int8_ann_on_chip(layers: Sequence, chip) -> dict:
    """pJ per inference of the int8 ANN on ``chip`` (module docstring): {"total_pJ", "by_kind" {kind: pJ}, "macs",
    "cores", "latency_us", "label"}."""
    e = chip.energy_pJ
    on_host = chip.core.mac_units == 0
    macs = sum(layer.macs for layer in layers)
    weight_bytes = sum(layer.weight_words for layer in layers)  # int8: one byte per weight read
    activations = sum(layer.activation_words for layer in layers)
    mac_pJ = chip.host.mac_pJ if on_host else e["mac"]
    by_kind = dict.fromkeys(KINDS, 0.0)
    by_kind["compute"] = macs * mac_pJ
    if not on_host:
        word = chip.memory["synapse"]
        words = weight_bytes * words_per_entry_read(chip.synapse_format, "dense", 8, word.word_bits)
        by_kind["memory"] = (macs * e.get("accumulator_rmw", 0.0) + weight_bytes * e["weight_read_byte"]
                             + words * word_read_pJ(word))
    by_kind["network"] = activations * (e["spike_out"] + e["message_out"] + e.get("axon_lookup", 0.0))
    cores, cycles = 0, 0.0
    for layer in layers:
        n = max(1, math.ceil(layer.weight_bytes / chip.core.synapse_memory_bytes))
        cores += n
        if on_host:
            cycles += layer.macs * chip.host.mac_cycles * chip.mesh.clock_MHz / chip.host.clock_MHz
        else:
            cycles += layer.macs * chip.cycles["mac"] / (chip.core.mac_units * n)
    latency_us = cycles / chip.mesh.clock_MHz
    routers = math.ceil(cores / chip.mesh.cores_per_router)
    busy_us = cycles / chip.mesh.clock_MHz
    by_kind["static"] = float(static_energy_pJ(chip, cores, routers, latency_us, busy_us))
    return {"label": f"the model as an int8 ANN on chip {chip.name}: MACs, weight and accumulator traffic, graded "
                     "messages and leakage at the chip's own prices",
            "total_pJ": sum(by_kind.values()), "by_kind": by_kind, "macs": macs, "cores": cores,
            "latency_us": latency_us}


def saving_decomposition(float32_45nm_pJ: float, int8_ideal: Mapping, int8_chip: Mapping,
                         ssr_by_kind: Mapping[str, float]) -> dict[str, float]:
    """SSR's saving against the float32 ANN at 45 nm, in parts that add up (module docstring). ``int8_ideal`` and
    ``int8_chip``: :func:`int8_ann_on_chip` on 45nm-ideal and on SSR's chip; ``ssr_by_kind``: SSR's
    ``SimResult.breakdown["by_kind"]`` on that chip (pJ). All pJ per inference."""
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
