"""Three ways of counting the energy of one inference of the same graph, side by side (pure functions, no torch).

Every figure is pJ per inference (mean over the recorded inferences); layers are named ``"source->target"``.

1. ``snn_rule`` — the SNN papers' rule (SSR's paper uses it on a 45 nm chip; ../shared/notes/ssr-reference.md):
       E = E_MAC x MACs + E_AC x ACs,   E_MAC = 4.6 pJ (float32 multiply 3.7 + add 0.9), E_AC = 0.9 pJ (float32 add)
   arithmetic only: no memory reads, neuron updates or data movement. Which layers are which, by the kind of value
   the layer's input carries in the model:
   - spike input, counted as ACs = spikes sent x fan-out (fan-out per source neuron: dense C_out, circulant P_out,
     diagonal 1): layers from a LIF population into a LIF population (SSR: dense_2), summed over the T steps, and
     the ItemInput's one spike per position (the embedding lookup: L x D ACs; the torch Recorder does not count it);
   - graded input, counted as MACs at every synapse once per inference (``Synapse.n_synapses``): layers from a Graded
     source (SSR: the filters, dense_1 and the residual into LIF#2; into a LIF the drive is constant over T and
     computed once: direct encoding), and layers from a LIF population into a Graded or Readout population (SSR:
     the next block's filter and the readout): there the model averages the spikes over T and applies BatchNorm
     ("densify"), a real value, which the converter folds into the weights; the paper's rule counts such layers
     as MACs. This is what ``ssr_neuro.model.instrument.Recorder`` counts layer by layer, except that the graph
     also has the lookup and the residual diagonal (rows x D MACs), and its readout computes padding column 0
     (D more MACs than the Recorder's D x N).
   With dense_1 (and the filters and readout) counted as MACs, the rule bounds SSR's saving against an ANN.

2. ``ann`` — the same graph as an ANN (float32, no T: one pass per inference), priced by ``ann_45nm`` below on the
   graph's layers as ``LayerOps`` (``graph_layer_ops``): every synapse of every layer a float32 MAC once, every weight
   read once. The ItemInput layer is a table lookup in an ANN: 0 MACs (its synapses multiply by 0 or 1) and it reads
   the L rows it uses (L x D words) from an SRAM sized by the whole table. Biases and activations are left out (as in
   the rule), so ``activation_words`` is 0 for every graph layer.

Pricing a list of ``LayerOps`` (one float32 ANN inference, e.g. a baseline's ``model.layer_ops()``), two ways:

- ``ann_45nm`` (Horowitz 45 nm, ``EnergyTable``):
       compute = MACs x (3.7 + 0.9) pJ                          (float32 multiply + add)
       weights = weight words x (SRAM pJ per 64-bit read / 2)   (32-bit words, two per 64-bit read: they stream
                                                                 in order), from an SRAM sized by the layer's
                                                                 ``weight_bytes``
       activations = activation words x (SRAM pJ per 64-bit read / 2), from an SRAM sized by the words read
                                                                 (activation words x 4 bytes)
   SRAM class (Horowitz 45 nm, 64-bit read): the smallest array that holds the bytes: <= 8 KB 10 pJ, <= 32 KB 20 pJ,
   otherwise the 1 MB row, 100 pJ — also above 1 MB (``"above_1MB": true``), an underestimate: the table's DRAM row
   (1,300-2,600 pJ per 64 bits) would apply. ``compute_pJ`` alone is what the SNN papers charge an ANN
   (E_MAC x MACs, arithmetic only): the "paper rule" side of an SNN-vs-ANN comparison.
- ``ann_gpu`` (a GPU-class float32 accelerator, ``AcceleratorTable``; default ``GPU_A100``):
       compute = MACs x 2 x board power / peak FP32 FLOP/s     (A100 SXM4: 2 x 400 W / 19.5 TFLOP/s = 41.0 pJ)
       memory  = (weight words + activation words) x 4 bytes x DRAM pJ per byte   (HBM2: 3.9 pJ/bit = 31.2 pJ/B)
   Board power at peak throughput charges each FMA its share of everything the board burns (control, caches,
   static power) at full utilisation: a small-batch recommender runs far below peak, so the real figure per
   inference is higher. Every weight and activation word is read from HBM once per inference (batch 1, nothing
   kept on chip between inferences); the HBM2 figure is the DRAM device's access energy, without the GPU's own
   path to L2, so this term is a low estimate.

3. ``chip`` — the simulator's own figure for the mapped fixed-point graph (``SimResult``: per-action energies of the
   chip description, memory and network included); ``None`` until a simulation fills it.

``count_methods`` puts the three together with their ratios; it is what ``SimResult.counting`` holds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

import numpy as np

from ssr_neuro.errors import UserError
from ssr_neuro.graph.ir import LIF, ItemInput, NeuroGraph, Node, Synapse


@dataclass(frozen=True)
class EnergyTable:
    """Per-operation energies, pJ (Horowitz, ISSCC 2014, 45 nm 0.9 V; ../shared/notes/hardware.md)."""

    mac_pJ: float = 4.6  # E_MAC of the SNN rule: float32 multiply + add
    ac_pJ: float = 0.9  # E_AC of the SNN rule: float32 add
    float32_multiply_pJ: float = 3.7
    float32_add_pJ: float = 0.9
    sram_8KB_pJ_per_64bit: float = 10.0
    sram_32KB_pJ_per_64bit: float = 20.0
    sram_1MB_pJ_per_64bit: float = 100.0
    word_bytes: int = 4  # an ANN's float32 weight

    def sram_class(self, layer_bytes: int) -> tuple[str, float]:
        """(name, pJ per 64-bit read) of the smallest table SRAM holding ``layer_bytes`` (1 MB beyond that)."""
        for limit_bytes, name, pj in ((8 << 10, "8KB", self.sram_8KB_pJ_per_64bit),
                                      (32 << 10, "32KB", self.sram_32KB_pJ_per_64bit)):
            if layer_bytes <= limit_bytes:
                return name, pj
        return "1MB", self.sram_1MB_pJ_per_64bit


HOROWITZ_45NM = EnergyTable()


@dataclass(frozen=True)
class AcceleratorTable:
    """A GPU-class float32 accelerator as data: what its datasheet and a DRAM study say, units in the names.

    ``mac_pJ`` = 2 FLOPs x board power / peak FP32 FLOP/s (an FMA is two FLOPs); ``memory_pJ_per_byte`` = 8 x the
    DRAM's access energy per bit. ``sources`` cites every number."""

    name: str
    board_power_W: float
    fp32_peak_TFLOPS: float  # vector FP32 (not tensor-core TF32)
    dram: str
    dram_pJ_per_bit: float
    sources: str

    @property
    def mac_pJ(self) -> float:
        return 2.0 * self.board_power_W / self.fp32_peak_TFLOPS  # W / (TFLOP/s) = pJ per FLOP

    @property
    def memory_pJ_per_byte(self) -> float:
        return 8.0 * self.dram_pJ_per_bit


GPU_A100 = AcceleratorTable(
    name="NVIDIA A100 SXM4 40GB", board_power_W=400.0, fp32_peak_TFLOPS=19.5, dram="HBM2", dram_pJ_per_bit=3.9,
    sources="NVIDIA A100 Tensor Core GPU datasheet (SXM4 40GB: FP32 19.5 TFLOPS, max TDP 400 W, HBM2 1,555 GB/s); "
            "O'Connor et al., Fine-Grained DRAM, MICRO 2017, doi 10.1145/3123939.3124545 (HBM2 about 3.9 pJ/bit)")


@dataclass(frozen=True)
class LayerOps:
    """One layer of one float32 ANN inference, as a baseline model's op counter reports it (``ssr_neuro.baselines``).

    name:             the layer, e.g. "block0.attention.q"
    macs:             float32 multiply-accumulates per inference
    weight_words:     float32 weights read per inference (a weight used at L positions is read once: it streams in
                      order and stays in registers; a table lookup reads only the rows it uses)
    weight_bytes:     bytes of distinct weights the layer stores (what sizes its SRAM)
    activation_words: float32 activations read per inference from buffers (inputs and intermediate results of the
                      layer; 0 where the rule leaves them out)
    """

    name: str
    macs: int
    weight_words: int
    weight_bytes: int
    activation_words: int = 0


def layer_name(source: str, target: str) -> str:
    """The name of a synapse layer in every breakdown here: ``"source->target"``."""
    return f"{source}->{target}"


def fan_out(syn: Synapse) -> int:
    """Target neurons one source neuron reaches: dense C_out, circulant P_out (its channel's rows), diagonal 1."""
    return {"dense": lambda w: w.shape[0], "circulant": lambda w: w.shape[1], "diagonal": lambda w: 1}[
        syn.structure](syn.weight)


def input_kind(source: Node, target: Node) -> str:
    """How the SNN rule counts a layer: ``"ac"`` when its input is spikes step by step (from the ItemInput, or from a
    LIF into a LIF), ``"mac"`` when it is a real value in the model (a Graded source, or a LIF's spikes averaged over
    T into a Graded / Readout target)."""
    if isinstance(source, ItemInput) or (isinstance(source, LIF) and isinstance(target, LIF)):
        return "ac"
    return "mac"


def _spikes_sent(graph: NeuroGraph, source: str, syn: Synapse, target: str,
                 rates: Mapping[str, np.ndarray]) -> float:
    """Spikes per inference the source sends into this layer (ItemInput: one per position it reads)."""
    node = graph.node(source)
    if isinstance(node, ItemInput):
        return float(1 if syn.positions == "readout" else node.shape[0])
    if syn.positions == "readout":
        raise UserError(f"synapse {source} -> {target} reads row length-1 of spiking {source}; per-neuron mean rates "
                        f"cannot tell that row's spikes apart: count this graph with positions='each' edges")
    if source not in rates:
        raise UserError(f"no activity recorded for LIF population {source}; record every LIF population "
                        f"(ssr_neuro.graph.execute.run(..., record=True))")
    rate = np.asarray(rates[source], dtype=np.float64)
    if rate.shape != tuple(node.shape):
        raise UserError(f"activity of {source} has shape {rate.shape}; expected the population's shape {node.shape}")
    return float(rate.sum())


def snn_rule(graph: NeuroGraph, rates: Mapping[str, np.ndarray],
             table: EnergyTable = HOROWITZ_45NM) -> dict:
    """The SNN papers' rule on ``graph`` with mean spikes per neuron per inference ``rates`` (node-shaped arrays, as
    ``Activity.rates``; only LIF populations are read). Per layer: input kind, ops, pJ; totals MACs, ACs, pJ."""
    layers: dict[str, dict] = {}
    for s, t, syn in graph.edges():
        src, dst = graph.node(s), graph.node(t)
        kind = input_kind(src, dst)
        if kind == "ac":
            ops = _spikes_sent(graph, s, syn, t, rates) * fan_out(syn)
        else:
            ops = float(syn.n_synapses(src, dst))
        layers[layer_name(s, t)] = {"input": "spike" if kind == "ac" else "graded", "kind": kind, "ops": ops,
                                    "pJ": ops * (table.ac_pJ if kind == "ac" else table.mac_pJ)}
    macs = sum(v["ops"] for v in layers.values() if v["kind"] == "mac")
    acs = sum(v["ops"] for v in layers.values() if v["kind"] == "ac")
    return {"label": f"SNN-paper rule: {table.mac_pJ} pJ x MACs (graded-input layers) + {table.ac_pJ} pJ x ACs "
                     f"(spike-input layers); arithmetic only",
            "total_pJ": macs * table.mac_pJ + acs * table.ac_pJ, "macs": macs, "acs": acs,
            "constants": {"E_MAC_pJ": table.mac_pJ, "E_AC_pJ": table.ac_pJ}, "layers": layers}


def _check_ops(layers: Sequence[LayerOps]) -> None:
    for op in layers:
        bad = [f for f in ("macs", "weight_words", "weight_bytes", "activation_words") if getattr(op, f) < 0]
        if bad:
            raise UserError(f"layer {op.name!r} reports negative {', '.join(bad)}; an op counter must count >= 0")


def ann_45nm(layers: Sequence[LayerOps], table: EnergyTable = HOROWITZ_45NM) -> dict:
    """One float32 ANN inference at 45 nm (Horowitz; module docstring): MACs, then weight and activation reads from
    SRAMs sized by the layer. Per layer and totals, pJ per inference."""
    _check_ops(layers)
    mac_pJ = table.float32_multiply_pJ + table.float32_add_pJ
    per_64 = 8 // table.word_bytes
    out: dict[str, dict] = {}
    for op in layers:
        sram, pj_64 = table.sram_class(op.weight_bytes)
        act_sram, act_64 = table.sram_class(op.activation_words * table.word_bytes)
        pj_word, act_word = pj_64 * table.word_bytes / 8, act_64 * table.word_bytes / 8
        memory = op.weight_words * pj_word + op.activation_words * act_word
        out[op.name] = {"macs": float(op.macs), "weight_words": float(op.weight_words), "layer_bytes": op.weight_bytes,
                        "sram": sram, "above_1MB": op.weight_bytes > (1 << 20), "sram_pJ_per_word": pj_word,
                        "activation_words": float(op.activation_words), "activation_sram": act_sram,
                        "activation_pJ_per_word": act_word, "compute_pJ": op.macs * mac_pJ, "memory_pJ": memory,
                        "pJ": op.macs * mac_pJ + memory}
    label = (f"float32 ANN at 45 nm (Horowitz): {mac_pJ:g} pJ per MAC, every weight and activation read once as a "
             f"32-bit word from an SRAM sized by its layer (8 KB {table.sram_8KB_pJ_per_64bit:g}, 32 KB "
             f"{table.sram_32KB_pJ_per_64bit:g}, 1 MB {table.sram_1MB_pJ_per_64bit:g} pJ per 64 bits)")
    return _priced(label, out, {**asdict(table), "ann_mac_pJ": mac_pJ, "words_per_64bit_read": per_64},
                   weight_words=_total(out, "weight_words"), activation_words=_total(out, "activation_words"))


def _total(layers: dict[str, dict], key: str) -> float:
    return sum(v[key] for v in layers.values())


def _priced(label: str, layers: dict[str, dict], constants: dict, **totals: float) -> dict:
    """The result of an ANN pricing: label, total / compute / memory pJ and MACs summed over ``layers``, ``totals``,
    the constants used and the layers."""
    compute, memory = _total(layers, "compute_pJ"), _total(layers, "memory_pJ")
    return {"label": label, "total_pJ": compute + memory, "compute_pJ": compute, "memory_pJ": memory,
            "macs": _total(layers, "macs"), **totals, "constants": constants, "layers": layers}


def ann_gpu(layers: Sequence[LayerOps], gpu: AcceleratorTable = GPU_A100) -> dict:
    """One float32 ANN inference on a GPU-class accelerator (module docstring): MACs at board power per FMA, every
    weight and activation word read from DRAM once. Per layer and totals, pJ per inference."""
    _check_ops(layers)
    word_bytes = HOROWITZ_45NM.word_bytes
    out: dict[str, dict] = {}
    for op in layers:
        weight_b, act_b = op.weight_words * word_bytes, op.activation_words * word_bytes
        compute, memory = op.macs * gpu.mac_pJ, (weight_b + act_b) * gpu.memory_pJ_per_byte
        out[op.name] = {"macs": float(op.macs), "weight_bytes_read": float(weight_b),
                        "activation_bytes_read": float(act_b), "compute_pJ": compute, "memory_pJ": memory,
                        "pJ": compute + memory}
    label = (f"float32 ANN on a GPU-class accelerator ({gpu.name}): {gpu.mac_pJ:.1f} pJ per MAC (2 x "
             f"{gpu.board_power_W:g} W board power / {gpu.fp32_peak_TFLOPS:g} TFLOP/s FP32 peak), every weight and "
             f"activation read once from {gpu.dram} at {gpu.memory_pJ_per_byte:g} pJ per byte")
    return _priced(label, out, {**asdict(gpu), "mac_pJ": gpu.mac_pJ, "memory_pJ_per_byte": gpu.memory_pJ_per_byte},
                   bytes_read=_total(out, "weight_bytes_read") + _total(out, "activation_bytes_read"))


def graph_layer_ops(graph: NeuroGraph, table: EnergyTable = HOROWITZ_45NM) -> list[LayerOps]:
    """The graph's synapse layers as one float32 ANN inference (module docstring, method 2): every synapse a MAC,
    every weight read once (the ItemInput a lookup of L rows, no MACs); no activation reads."""
    layers = []
    for s, t, syn in graph.edges():
        src, dst = graph.node(s), graph.node(t)
        layer_bytes = int(syn.weight.size) * table.word_bytes
        if isinstance(src, ItemInput):  # a lookup: the rows it uses, no multiplies
            macs, words = 0, dst.shape[0] * syn.weight.shape[0]
        else:
            macs, words = syn.n_synapses(src, dst), int(syn.weight.size)
        layers.append(LayerOps(layer_name(s, t), int(macs), int(words), layer_bytes))
    return layers


def ann(graph: NeuroGraph, table: EnergyTable = HOROWITZ_45NM) -> dict:
    """The same graph as a float32 ANN, one pass per inference: ``ann_45nm`` of ``graph_layer_ops`` (module
    docstring). Data-independent."""
    r = ann_45nm(graph_layer_ops(graph, table), table)
    mac_pJ = r["constants"]["ann_mac_pJ"]
    return {**r, "label": f"same network as a float32 ANN: every synapse a MAC ({mac_pJ:g} pJ) in one pass, every "
                          f"weight read once as a 32-bit word from SRAM sized by its layer"}


def chip_figure(result=None) -> dict:
    """The simulator's figure from a ``hardware.result.SimResult`` (mean per inference), or an empty slot."""
    label = "simulated chip: per-action energies of the chip description (compute, memory, network, static)"
    if result is None:
        return {"label": label, "total_pJ": None}
    total = float(np.mean(result.per_inference["energy_pJ"])) if result.n_inferences else 0.0
    return {"label": f"{label}, chip {result.chip}", "total_pJ": total,
            "by_kind_pJ": {k: float(v) for k, v in result.breakdown.get("by_kind", {}).items()},
            "macs": float(np.mean(result.per_inference["macs"])) if result.n_inferences else 0.0,
            "synaptic_ops": float(np.mean(result.per_inference["synaptic_ops"])) if result.n_inferences else 0.0}


def count_methods(graph: NeuroGraph, rates: Mapping[str, np.ndarray], result=None,
            table: EnergyTable = HOROWITZ_45NM) -> dict:
    """The three methods side by side, JSON-ready: ``{"methods": {"snn_rule", "ann", "chip"}, "ratios": {...}}``;
    ratios ``"a/b"`` are total pJ of method a over method b (those with a chip figure only when it is filled);
    ``"snn_rule/ann_compute"`` is the paper's comparison (arithmetic only on both sides)."""
    methods = {"snn_rule": snn_rule(graph, rates, table), "ann": ann(graph, table), "chip": chip_figure(result)}
    totals = {k: v["total_pJ"] for k, v in methods.items() if v["total_pJ"]}
    totals["ann_compute"] = methods["ann"]["compute_pJ"]
    ratios = {f"{a}/{b}": totals[a] / totals[b] for a, b in
              (("snn_rule", "ann_compute"), ("snn_rule", "ann"), ("chip", "ann"), ("snn_rule", "chip"))
              if totals.get(a) and totals.get(b)}
    return {"unit": "pJ per inference", "methods": methods, "ratios": ratios}
