"""The neuromorphic graph: typed populations (nodes) and synapse layers (edges) — the one contract between the model
side (``ssr_neuro.conversion``) and the chip side (``mapping``, ``hardware``). numpy + networkx only, never torch.

Every population has a ``shape`` (P, C): P positions (history positions of the sequence, or 1) x C channels;
neuron (p, c) has flat index p * C + c. One inference is one history of item ids.

Nodes (one dataclass per type):
- :class:`ItemInput`  graph input: at every position p, one spike on axon ``item[p]`` (one-hot over N+1 items,
                      shape (L, N+1)); also carries the readout position (length - 1) to every ``readout`` edge.
- :class:`Graded`     non-spiking population. It sums everything that reaches it over the whole window of its
                      sources (a graded source sends once; a spiking source sends at each of its T steps), adds
                      ``bias`` and emits that one value per neuron:  y = bias + sum_edges W (.) x.
- :class:`LIF`        leaky integrate-and-fire population run for ``time_steps`` steps. Input current x(t) is the sum
                      of its edges at step t (a graded source repeats its value at every step: direct encoding).
                      Float:  v <- v + (x(t) + bias - v) / tau;  spike s(t) = [v >= threshold];  v <- v (1 - s).
                      Fixed point: the Lava/Loihi equations of :class:`LIFFixed` (see ``ssr_neuro.graph.fixed``).
- :class:`Readout`    graded output population of item scores, shape (1, N+1); column 0 is padding and never
                      ranked. Like :class:`Graded` (sums its input over the window, adds bias).

Edges (:class:`Synapse`), ``structure`` says how ``weight`` maps source neurons to target neurons:
- ``dense``      weight [C_out, C_in], position-wise: out[p] += W @ in[p] (same W at every position).
- ``circulant``  weight [C, P_out, P_in], per channel: out[m, c] += sum_l W[c, m, l] in[l, c]  (the FFT filter).
- ``diagonal``   weight [C], position-wise: out[p, c] += W[c] in[p, c]  (folded normalisation, residuals).
``positions`` is ``"each"`` (row p feeds row p) or ``"readout"`` (the source's row length-1 feeds the target's only
row 0: what is left of the sequence after the last block's mixing). ``input`` ("spike" | "graded") is the kind of
value the source sends, fixed by the source's type. Biases live on the target population, one per neuron.

Float graph: weights and biases float64, ``fixed`` is None. Fixed-point graph (``ssr_neuro.graph.quantize``):
every Synapse has ``fixed = WeightFixed`` (integer weights and their exponent) and every population has its own
fixed-point record; ``NeuroGraph.quantized`` tells which. Real value of an integer x with exponent e: x * 2**e.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Literal, Union

import networkx as nx
import numpy as np

from ssr_neuro.errors import UserError

Structure = Literal["dense", "circulant", "diagonal"]
Positions = Literal["each", "readout"]
STRUCTURES = ("dense", "circulant", "diagonal")


# ------------------------------------------------------------------------------------------------ fixed point

@dataclass
class WeightFixed:
    """Integer weights of one synapse layer: real weight = weight * 2**exp; ``bits`` signed (e.g. 8: -128..127)."""

    weight: np.ndarray  # int, same shape as Synapse.weight
    exp: int
    bits: int


@dataclass
class GradedFixed:
    """A graded population in fixed point: value = y * 2**exp, y saturated to ``bits`` signed; bias in those units."""

    bits: int
    exp: int
    bias: np.ndarray  # int, same shape as the population's bias


@dataclass
class LIFFixed:
    """Lava/Loihi fixed-point LIF (../shared/notes/lava.md), per step t:

        a_in = sat16(sum_edges rshift(W_int . x_int, shift_e))       integer input, units 2**in_exp
        u    = trunc0(u * (4096 - (du + 1))) + (a_in << 6)            wraps at +-2**23
        v    = clip(trunc0(v * (4096 - dv)) + u + (bias_mant << bias_exp), -(2**23 - 1), 2**23 - 1)
        s    = v > (vth << 6);  v = 0 where s
    trunc0(x) = sign(x) * (|x| >> 12). The quantiser folds 1/tau into the incoming weights (du = 4095 makes
    u = a_in << 6, i.e. no current memory), and sets dv = 4096 / tau, vth = threshold / 2**in_exp.
    """

    du: int
    dv: int
    vth: int
    bias_mant: np.ndarray  # int, one per neuron (same shape as the population's bias)
    bias_exp: int
    in_exp: int  # real value of one a_in unit (x / tau) is 2**in_exp
    state_bits: int = 24
    input_bits: int = 16


# ------------------------------------------------------------------------------------------------ nodes

@dataclass
class ItemInput:
    """Graph input: one-hot item ids at every position, shape (L, N+1); a spiking source (one spike per position)."""

    max_len: int
    n_items: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.max_len, self.n_items + 1)


@dataclass
class Graded:
    """Non-spiking population: y = bias + sum of its input over the window; one value per neuron per inference."""

    shape: tuple[int, int]
    bias: np.ndarray  # [P, C] (float64, real units)
    fixed: GradedFixed | None = None


@dataclass
class LIF:
    """Leaky integrate-and-fire population (hard reset to 0), run for ``time_steps`` steps."""

    shape: tuple[int, int]
    tau: float
    threshold: float
    time_steps: int
    bias: np.ndarray  # [P, C] (float64, real units), added to the input current at every step
    reset: float = 0.0
    fixed: LIFFixed | None = None


@dataclass
class Readout:
    """Item scores, shape (1, N+1): the sum of its input over the window plus bias; top-k ranks columns 1..N."""

    shape: tuple[int, int]
    bias: np.ndarray  # [1, N+1]
    fixed: GradedFixed | None = None


Node = Union[ItemInput, Graded, LIF, Readout]
NODE_TYPES = {"ItemInput": ItemInput, "Graded": Graded, "LIF": LIF, "Readout": Readout}


def is_spiking(node: Node) -> bool:
    """Whether a node's outgoing edges carry spikes (ItemInput, LIF) or graded values (Graded)."""
    return isinstance(node, (ItemInput, LIF))


def size(node: Node) -> int:
    """Number of neurons (or input axons for ItemInput)."""
    return int(node.shape[0] * node.shape[1])


# ------------------------------------------------------------------------------------------------ edges

@dataclass
class Synapse:
    """A synapse layer from one population to another (see the module docstring for ``structure``)."""

    structure: Structure
    weight: np.ndarray  # float64: dense [C_out, C_in]; circulant [C, P_out, P_in]; diagonal [C]
    positions: Positions = "each"
    fixed: WeightFixed | None = None

    def n_synapses(self, source: Node, target: Node) -> int:
        """Synapses (connections) this layer makes: fan-in x target neurons (circulant: P_in per neuron)."""
        rows = target.shape[0]
        if self.structure == "dense":
            return rows * self.weight.shape[0] * self.weight.shape[1]
        if self.structure == "circulant":
            return int(self.weight.size)
        return rows * self.weight.shape[0]

    def fan_in(self) -> int:
        """Inputs per target neuron."""
        return {"dense": lambda w: w.shape[1], "circulant": lambda w: w.shape[2], "diagonal": lambda w: 1}[
            self.structure](self.weight)


# ------------------------------------------------------------------------------------------------ the graph

@dataclass
class NeuroGraph:
    """A networkx DiGraph whose nodes carry ``node=<Node>`` and edges ``synapse=<Synapse>``, plus metadata.

    ``meta`` holds plain JSON data: the model config, the dataset description (name, item id map), the conversion
    report. Node names are stable strings such as ``"block0.lif_1"``.
    """

    g: nx.DiGraph = field(default_factory=nx.DiGraph)
    meta: dict = field(default_factory=dict)

    # -- building
    def add(self, name: str, node: Node) -> str:
        if name in self.g:
            raise ValueError(f"node {name!r} already in the graph")
        self.g.add_node(name, node=node)
        return name

    def connect(self, source: str, target: str, synapse: Synapse) -> None:
        for n in (source, target):
            if n not in self.g:
                raise ValueError(f"unknown node {n!r}")
        self.g.add_edge(source, target, synapse=synapse)

    # -- reading
    def node(self, name: str) -> Node:
        return self.g.nodes[name]["node"]

    def synapse(self, source: str, target: str) -> Synapse:
        return self.g.edges[source, target]["synapse"]

    def nodes(self) -> Iterator[tuple[str, Node]]:
        """Nodes in a topological order (sources first)."""
        for name in nx.topological_sort(self.g):
            yield name, self.g.nodes[name]["node"]

    def edges(self) -> Iterator[tuple[str, str, Synapse]]:
        for s, t, d in self.g.edges(data=True):
            yield s, t, d["synapse"]

    def in_edges(self, name: str) -> list[tuple[str, Synapse]]:
        return [(s, d["synapse"]) for s, _, d in self.g.in_edges(name, data=True)]

    def input_name(self) -> str:
        return next(n for n, node in self.nodes() if isinstance(node, ItemInput))

    def output_name(self) -> str:
        return next(n for n, node in self.nodes() if isinstance(node, Readout))

    def float_copy(self) -> "NeuroGraph":
        """The same graph with every fixed-point record dropped: the float weights a quantised graph keeps."""
        from dataclasses import replace

        out = NeuroGraph(meta=dict(self.meta))
        for name, node in self.nodes():
            out.add(name, node if isinstance(node, ItemInput) else replace(node, fixed=None))
        for s, t, syn in self.edges():
            out.connect(s, t, replace(syn, fixed=None))
        return out

    @property
    def quantized(self) -> bool:
        return all(s.fixed is not None for _, _, s in self.edges()) and any(True for _ in self.edges())

    def stats(self) -> dict:
        """Neurons per type, synapses, weights stored (distinct values, position-wise weights counted once)."""
        neurons = {"LIF": 0, "Graded": 0, "Readout": 0}
        for _, node in self.nodes():
            if not isinstance(node, ItemInput):
                neurons[type(node).__name__] += size(node)
        synapses = sum(s.n_synapses(self.node(a), self.node(b)) for a, b, s in self.edges())
        weights = sum(int(s.weight.size) for _, _, s in self.edges())
        return {"neurons": neurons, "synapses": int(synapses), "weights": weights,
                "populations": self.g.number_of_nodes(), "synapse_layers": self.g.number_of_edges()}

    # -- checking
    def validate(self) -> None:
        """Raise UserError naming the node or edge whose shapes or types do not fit together."""
        if not nx.is_directed_acyclic_graph(self.g):
            raise UserError("graph has a cycle; the converter writes feed-forward graphs only")
        inputs = [n for n, node in self.nodes() if isinstance(node, ItemInput)]
        outputs = [n for n, node in self.nodes() if isinstance(node, Readout)]
        if len(inputs) != 1 or len(outputs) != 1:
            raise UserError(f"graph needs exactly one ItemInput and one Readout (has {len(inputs)} and {len(outputs)})")
        for name, node in self.nodes():
            if not isinstance(node, ItemInput) and tuple(node.bias.shape) != tuple(node.shape):
                raise UserError(f"node {name}: bias shape {node.bias.shape} != population shape {node.shape}")
            if not isinstance(node, ItemInput) and not self.in_edges(name):
                raise UserError(f"node {name} has no input")
        for s, t, syn in self.edges():
            _check_edge(s, self.node(s), t, self.node(t), syn)


def _check_edge(sname: str, src: Node, tname: str, dst: Node, syn: Synapse) -> None:
    where = f"synapse {sname} -> {tname}"
    if isinstance(dst, ItemInput):
        raise UserError(f"{where}: ItemInput cannot be a target")
    if syn.structure not in STRUCTURES:
        raise UserError(f"{where}: unknown structure {syn.structure!r}; use one of {STRUCTURES}")
    (ps, cs), (pt, ct) = src.shape, dst.shape
    if syn.positions == "readout":
        if pt != 1:
            raise UserError(f"{where}: a 'readout' edge needs a target with 1 position (has {pt})")
    elif syn.structure != "circulant" and ps != pt:
        raise UserError(f"{where}: positions differ ({ps} vs {pt}); position-wise layers keep them")
    w = syn.weight.shape
    expect = {"dense": (ct, cs), "circulant": (ct, pt, ps), "diagonal": (ct,)}[syn.structure]
    if tuple(w) != expect:
        raise UserError(f"{where}: {syn.structure} weight shape {tuple(w)} != expected {expect}")
    if syn.structure in ("circulant", "diagonal") and cs != ct:
        raise UserError(f"{where}: {syn.structure} layers keep channels ({cs} vs {ct})")
    if syn.fixed is not None and syn.fixed.weight.shape != syn.weight.shape:
        raise UserError(f"{where}: fixed-point weight shape differs from the float weight")
