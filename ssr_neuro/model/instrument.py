"""Per-inference instrumentation of SSR: firing rates of each LIF layer and operation counts of each layer.

Counting rules (one inference = one history of L positions, all positions computed, as the torch model does):
- ``mac``:  multiply-accumulates of a layer whose input is real-valued (count = rows x fan-in x fan-out).
- ``ac``:   accumulates of a layer whose input is spikes: sum over the T steps of (spikes x fan-out),
            i.e. T x firing rate x neurons x fan-out.
- ``lif``:  a spiking population: its firing rate (spikes / (T x neurons)), spikes, and neuron updates (T x neurons).

A :class:`Recorder` is passed explicitly to ``SSR.forward``/``SSR.scores`` (no hooks, no global state); it keeps one
value per inference so that later stages (conversion, mapping, simulation) can use the recorded activity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class LayerRecord:
    """One layer's per-inference values (one entry per recorded inference)."""

    name: str
    kind: str  # "mac" | "ac" | "lif"
    values: list[torch.Tensor] = field(default_factory=list)  # ops (mac/ac) or spikes (lif), each [B]
    neurons_per_step: int = 0  # lif only
    time_steps: int = 0  # lif only

    def per_inference(self) -> torch.Tensor:
        return torch.cat(self.values).double()


class Recorder:
    """Collects per-inference firing rates and op counts across any number of batches."""

    def __init__(self) -> None:
        self.layers: dict[str, LayerRecord] = {}

    def _layer(self, name: str, kind: str) -> LayerRecord:
        rec = self.layers.get(name)
        if rec is None:
            rec = self.layers[name] = LayerRecord(name, kind)
        return rec

    def ops(self, name: str, kind: str, count: int, batch: int) -> None:
        """A layer with a data-independent count of ``count`` ops per inference (for ``batch`` inferences)."""
        self._layer(name, kind).values.append(torch.full((batch,), float(count)))

    @torch.no_grad()
    def lif(self, name: str, spikes: torch.Tensor, neurons_per_step: int) -> None:
        """A spiking population; spikes [T, B, ...]."""
        rec = self._layer(name, "lif")
        rec.neurons_per_step = neurons_per_step
        rec.time_steps = spikes.shape[0]
        rec.values.append(spikes.transpose(0, 1).reshape(spikes.shape[1], -1).sum(1).double().cpu())

    @torch.no_grad()
    def spike_ops(self, name: str, spikes: torch.Tensor, fan_out: int) -> None:
        """A synapse layer driven by spikes [T, B, ...]: ACs = spikes over all T x fan-out."""
        acs = spikes.transpose(0, 1).reshape(spikes.shape[1], -1).sum(1).double() * fan_out
        self._layer(name, "ac").values.append(acs.cpu())

    def summary(self) -> dict:
        """Mean per inference: {"layers": {name: {...}}, "totals": {"mac", "ac", "spikes", "neuron_updates"}}."""
        layers: dict[str, dict] = {}
        totals = {"mac": 0.0, "ac": 0.0, "spikes": 0.0, "neuron_updates": 0.0}
        n = 0
        for name, rec in self.layers.items():
            v = rec.per_inference()
            n = int(v.numel())
            if rec.kind == "lif":
                updates = rec.time_steps * rec.neurons_per_step
                layers[name] = {"kind": "lif", "firing_rate": float(v.mean() / updates), "spikes": float(v.mean()),
                                "neuron_updates": float(updates)}
                totals["spikes"] += float(v.mean())
                totals["neuron_updates"] += float(updates)
            else:
                layers[name] = {"kind": rec.kind, "ops": float(v.mean())}
                totals[rec.kind] += float(v.mean())
        return {"n_inferences": n, "layers": layers, "totals": totals}
