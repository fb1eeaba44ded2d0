"""The result of one simulation (the contract between the simulator backends and the report): :class:`SimResult`.

A backend (``hardware.engine``) fills every field except ``counting`` (``ssr_neuro.counting`` fills it). Units are in
the key names: energies in pJ (``summary`` converts to uJ), times in cycles of the chip's mesh clock (host work is
converted to mesh cycles) and in us. Values called "mean per inference" are averages over the batch of inferences.

- ``scores``          [B, N+1] the chip's item scores in real units (column 0 = padding, never ranked)
- ``per_inference``   each [B]: ``energy_pJ``, ``latency_cycles``, ``latency_us``, ``spikes``, ``synaptic_ops``,
                      ``macs``, ``neuron_updates``, ``packets``, ``hops``, ``energy_pJ_compute``,
                      ``energy_pJ_memory``, ``energy_pJ_network``, ``energy_pJ_static``
- ``breakdown``       mean per inference, pJ: ``{"by_kind": {kind: pJ}, "by_layer": {layer: pJ}, "by_core": {unit:
                      pJ}, "by_action": {action: pJ}}``; each of the four sums to the mean total energy
- ``steps``           per simulated step, mean over the batch: ``{"name", "cycles", "core_cycles_max",
                      "slowest_core", "network_cycles", "barrier_cycles"}``; also "phases" (emitters in order),
                      "busy_cycles" {unit: cycles} and "events" {action: count} of the step
- ``cores``           per unit (cores in mapping order, then ``"host"``, ``"io"``): ``{"name", "mesh": [r, c],
                      "energy_pJ", "busy_cycles", "events": {action: count}}``, mean per inference; also "kind"
                      (core, host, io), "events_by_step" [{action: count} per step], "memory_read_bytes" {memory:
                      bytes} (synapse_weights, embedding_table, item_table, neuron_state, host_weights) and
                      "incoming" {"spikes", "graded", "packets"} (events delivered, local ones included; packets
                      received over the mesh)
- ``raster``          LIF population -> spikes [T, P*C] (0/1) of inference 0
- ``links``           directed mesh links ``{"from": [r, c], "to": [r, c], "packets": mean per inference}``
- ``topk``            with on-chip top-k (``[output] top_k`` = k): the chip's list, {"ids" [B, k], "scores" [B, k],
                      "boundary" [B]} (``hardware.topk``; the full ``scores`` stay for the quality metrics);
                      empty without it
- ``counting``        the counting methods side by side (filled by ``ssr_neuro.counting``; empty until then)
- ``quality``         HR/NDCG/MRR@K of the chip's own scores on the simulated samples (filled by the pipeline,
                      ``ssr_neuro.app.pipeline.run_on_chip``, which knows the targets; empty until then)
- ``chip_bound``      "lower" / "upper" when the chip file is a bound rather than a calibrated chip (its ``bound``
                      key), else None (added after the contract)
- ``rates``           LIF population -> mean spikes per neuron per inference [P, C] (as ``execute.Activity.rates``):
                      what ``ssr_neuro.counting.count_methods(graph, result.rates, result)`` reads (added after the contract;
                      empty when a backend does not record it)
- ``timing``          "analytic" or "event": which model gave the latency (``hardware.simulate``); with "event",
                      ``per_inference`` also has ``interval_cycles`` / ``interval_us`` (time between consecutive
                      inferences when they overlap), each step has "bound" (the server held longest, most
                      often) and "analytic_cycles", and ``timeline`` lists (server, start, end) cycles of inference 0
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

KINDS = ("compute", "memory", "network", "static")
PER_INFERENCE_KEYS = ("energy_pJ", "latency_cycles", "latency_us", "spikes", "synaptic_ops", "macs",
                      "neuron_updates", "packets", "hops", "energy_pJ_compute", "energy_pJ_memory",
                      "energy_pJ_network", "energy_pJ_static")


@dataclass
class SimResult:
    """Scores, per-inference totals and mean-per-inference breakdowns of one simulated batch (module docstring)."""

    chip: str
    n_inferences: int
    scores: np.ndarray
    per_inference: dict[str, np.ndarray]
    breakdown: dict
    steps: list[dict]
    cores: list[dict]
    raster: dict[str, np.ndarray]
    links: list[dict]
    counting: dict = field(default_factory=dict)
    quality: dict = field(default_factory=dict)
    rates: dict[str, np.ndarray] = field(default_factory=dict)
    topk: dict[str, np.ndarray] = field(default_factory=dict)
    chip_bound: str | None = None
    timing: str = "analytic"
    timeline: list[tuple[str, float, float]] = field(default_factory=list)

    def summary(self) -> dict:
        """JSON-ready digest: means per inference (energy in uJ, latency in us and cycles), the breakdown in uJ,
        the steps, the busiest links and the counting comparison. Plain Python numbers only."""
        def mean(key: str) -> float:
            return float(np.mean(self.per_inference[key])) if self.n_inferences else 0.0

        to_uj = {group: {k: float(v) * 1e-6 for k, v in table.items()} for group, table in self.breakdown.items()}
        busiest = sorted(self.links, key=lambda link: -link["packets"])[:10]
        return {
            "chip": self.chip,
            "chip_bound": self.chip_bound,
            "n_inferences": int(self.n_inferences),
            "energy_uj_per_inference": mean("energy_pJ") * 1e-6,
            "latency_us_per_inference": mean("latency_us"),
            "latency_cycles_per_inference": mean("latency_cycles"),
            "timing": self.timing,
            "inferences_per_s": 1e6 / mean("latency_us") if self.n_inferences and mean("latency_us") else 0.0,
            **({"inferences_per_s_overlapped": 1e6 / mean("interval_us") if mean("interval_us") else 0.0}
               if "interval_us" in self.per_inference and self.n_inferences else {}),
            "per_inference_mean": {k: mean(k) for k in PER_INFERENCE_KEYS if k in self.per_inference},
            "breakdown": to_uj,
            "steps": [_plain(s) for s in self.steps],
            "cores": [_plain(c) for c in self.cores],
            "busiest_links": [_plain(link) for link in busiest],
            "counting": _plain(self.counting),
        }


def _plain(value):
    """numpy scalars and arrays inside dicts and lists -> Python numbers and lists (for json.dumps)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
