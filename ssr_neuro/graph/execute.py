"""The numpy graph executor: runs a :class:`~ssr_neuro.graph.ir.NeuroGraph` on item histories and returns item scores
and, if asked, the activity of every population (what the mapper and the simulators charge for). numpy only.

Semantics (the IR docstring): zero-delay, layer-by-layer evaluation in topological order, one inference per history.

- ItemInput  sends one spike per position on axon ``item[p]``; held as the ids [B, L] (one-hot never built for
             dense edges: a dense layer on one-hot input is a column gather, W[:, item]).
- Graded     y = bias + sum_edges W (.) x_window, where x_window is a graded source's value, a spiking source's
             spike count over its T steps, or the one-hot ids of the ItemInput.
- LIF        per step t = 0..T-1 with input a(t) = sum_edges W (.) x(t) (a graded source repeats its value at every
             step; a spiking LIF source gives its spikes of step t, no delay; the ItemInput spikes at t = 0 only):
                 v <- v (1 - 1/tau) + (a(t) + bias) / tau      (= v + (a(t) + bias - v) / tau)
                 s(t) = [v >= threshold];  v <- reset where s(t)
             written as the torch model's LIF kernel writes it (``ssr_neuro.model.lif``), so the float graph
             reproduces its spikes.
- Readout    scores = bias + sum_edges W (.) x_window (like Graded), [B, N+1] float64, real units.

A synapse layer's linear map is :func:`propagate` (dense: x @ W^T; circulant: per channel W[c] @ x[:, c]; diagonal:
x * W; positions "readout": row length-1 of the source feeds the target's row 0). The arithmetic of a node is one
small function per node kind (:class:`Arithmetic`): float64 here, and for a quantized graph
(``graph.quantized``) the integer functions of ``ssr_neuro.graph.fixed``, fed by the same :func:`propagate` on
the integer weights (``Synapse.fixed.weight``) and integer activations held exactly in float64 (all |values| < 2**53).

Activity (``record=True``): ``rates[name]`` is the mean number of messages each neuron (or input axon) sends per
inference, shape = the node's shape: ItemInput 1 per position on axon item[p] (so the frequency of each item at each
position); LIF its spikes over the T steps; Graded 1 per neuron whose value some consumer reads (a row read only
through "readout" edges counts only when it is the readout row length-1); Readout 0.

Memory is bounded by ``batch_size``: the largest array is a LIF population's spikes, T x batch x P x C float64.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from ssr_neuro.errors import UserError
from ssr_neuro.graph.ir import LIF, Graded, ItemInput, NeuroGraph, Node, Readout, Synapse, is_spiking


@dataclass
class Activity:
    """Recorded activity: per population name, mean messages sent per inference by each neuron (node.shape)."""

    rates: dict[str, np.ndarray]
    n_inferences: int


# ------------------------------------------------------------------------------------------------ synapse layers

def _readout_rows(x: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Row length-1 of each sample: x [..., B, P, C] -> [..., B, 1, C] (item ids [..., B, P] -> [..., B, 1])."""
    b = np.arange(length.shape[0])
    if np.issubdtype(x.dtype, np.integer):
        return x[..., b, length - 1][..., None]
    return x[..., b, length - 1, :][..., None, :]


def propagate(syn: Synapse, weight: np.ndarray, x: np.ndarray, length: np.ndarray) -> np.ndarray:
    """One synapse layer's linear map: x [..., B, P_in, C_in] -> [..., B, P_out, C_out] (dtype of x and weight).

    ``weight`` has ``syn.weight``'s shape (the float weights, or the integer ones as floats). An integer ``x`` of
    shape [..., B, P_in] is the ItemInput's item ids (one-hot over C_in = N+1 axons). ``length`` [B] (1..L) picks the
    readout row of "readout" edges.
    """
    if syn.positions == "readout":
        if syn.structure == "circulant":
            raise UserError("a circulant synapse layer with positions='readout' is not defined; "
                            "use positions='each' for circulant layers")
        x = _readout_rows(x, length)
    if np.issubdtype(x.dtype, np.integer):
        if syn.structure == "dense":
            return weight.T[x]  # one-hot input: a column gather
        x = (x[..., None] == np.arange(weight.shape[0])).astype(weight.dtype)
    if syn.structure == "dense":  # one 2-D product (BLAS), not one per leading index
        return (x.reshape(-1, x.shape[-1]) @ weight.T).reshape(x.shape[:-1] + (weight.shape[0],))
    if syn.structure == "diagonal":
        return x * weight
    lead, (p_in, c) = x.shape[:-2], x.shape[-2:]
    xt = x.reshape(-1, p_in, c).transpose(2, 1, 0)  # [C, P_in, R]
    out = np.matmul(weight, xt)  # [C, P_out, R]
    return out.transpose(2, 1, 0).reshape(lead + (weight.shape[1], c))


# ------------------------------------------------------------------------------------------------ node arithmetic

def edge_input_float(syn: Synapse, source: Node, target: Node, acc: np.ndarray) -> np.ndarray:
    """Float graphs: an edge delivers exactly what :func:`propagate` computed."""
    return acc


def graded_output_float(node: Graded, total: np.ndarray) -> np.ndarray:
    """y = bias + summed input: [B, P, C]."""
    return total + node.bias


def lif_spikes_float(node: LIF, a_in_per_step: np.ndarray) -> np.ndarray:
    """Float LIF over a_in [T, B, P, C] (input current per step, without bias) -> spikes [T, B, P, C] (0/1 float64).

    A broadcast view over T (zero stride: graded input only) is charged from one [B, P, C] drive.
    """
    decay = 1.0 - 1.0 / node.tau
    constant = a_in_per_step.strides[0] == 0
    drive = (a_in_per_step[0] + node.bias) / node.tau if constant else None
    v = np.zeros(a_in_per_step.shape[1:])
    spikes = np.empty(a_in_per_step.shape)
    for t in range(a_in_per_step.shape[0]):
        v *= decay
        v += drive if constant else (a_in_per_step[t] + node.bias) / node.tau
        fired = v >= node.threshold
        spikes[t] = fired
        np.copyto(v, node.reset, where=fired)
    return spikes


def readout_scores_float(node: Readout, total: np.ndarray) -> np.ndarray:
    """scores = bias + summed input: [B, 1, N+1] -> [B, N+1]."""
    return (total + node.bias)[:, 0]


@dataclass(frozen=True)
class Arithmetic:
    """The per-node-kind functions of one number format (float64, or the fixed point of ``ssr_neuro.graph.fixed``).

    ``weight(syn)`` gives the weights :func:`propagate` uses; ``edge_input(syn, source, target, acc)`` turns one
    edge's accumulated W . x (from :func:`propagate`) into the target's input units; the three others make a
    node's output from its summed input (for LIF: the input of each step, [T, B, P, C], possibly a broadcast view).
    ``integer``: the weights are integers (the quantized arithmetic), so a product whose sums stay below 2**24 is
    exact in float32 too (see :func:`_plan`).
    """

    weight: Callable[[Synapse], np.ndarray]
    edge_input: Callable[[Synapse, Node, Node, np.ndarray], np.ndarray]
    graded_output: Callable[[Graded, np.ndarray], np.ndarray]
    lif_spikes: Callable[[LIF, np.ndarray], np.ndarray]
    readout_scores: Callable[[Readout, np.ndarray], np.ndarray]
    integer: bool = False


FLOAT = Arithmetic(weight=lambda syn: np.asarray(syn.weight, dtype=np.float64), edge_input=edge_input_float,
                   graded_output=graded_output_float, lif_spikes=lif_spikes_float,
                   readout_scores=readout_scores_float)


def arithmetic_of(graph: NeuroGraph) -> Arithmetic:
    """Float64 for a float graph; the integer functions of ``ssr_neuro.graph.fixed`` for a quantized one."""
    if not graph.quantized:
        return FLOAT
    try:
        from ssr_neuro.graph import fixed
    except ModuleNotFoundError as exc:
        raise NotImplementedError("running a quantized graph needs ssr_neuro.graph.fixed, which is not written "
                                  "yet") from exc
    return Arithmetic(weight=lambda syn: syn.fixed.weight.astype(np.float64), edge_input=fixed.edge_input,
                      graded_output=fixed.graded_output, lif_spikes=fixed.lif_spikes,
                      readout_scores=fixed.readout_scores, integer=True)


# ------------------------------------------------------------------------------------------------ the run

@dataclass(frozen=True)
class _Edge:
    source: str
    syn: Synapse
    weight: np.ndarray
    weight32: np.ndarray | None = None  # float32 copy where the product is exact in float32 (:func:`_plan`)


EXACT32 = 1 << 24  # integers of smaller magnitude are exact in float32


def _weight32(arith: Arithmetic, syn: Synapse, source: Node, weight: np.ndarray) -> np.ndarray | None:
    """float32 weights for a dense layer on spikes of a LIF population, where float32 gives the float64 result bit
    for bit: integer weights, inputs 0..T (spikes of a step, or counts over the window) and every sum of products
    below 2**24 in magnitude (fan-in x max |w| x T), so no sum rounds in any order; else None."""
    if not (arith.integer and isinstance(source, LIF) and syn.structure == "dense" and weight.size):
        return None
    bound = weight.shape[1] * float(np.abs(weight).max()) * source.time_steps
    return weight.astype(np.float32) if bound < EXACT32 else None


@dataclass(frozen=True)
class _Step:
    name: str
    node: Node
    edges: tuple[_Edge, ...]


def _plan(graph: NeuroGraph, arith: Arithmetic) -> list[_Step]:
    """Nodes in topological order with their incoming edges and the weights to use (converted once per run)."""
    steps = []
    for name, node in graph.nodes():
        edges = tuple(_Edge(s, syn, w, _weight32(arith, syn, graph.node(s), w))
                      for s, syn, w in ((s, syn, arith.weight(syn)) for s, syn in graph.in_edges(name)))
        for e in edges:
            src = graph.node(e.source)
            if isinstance(node, LIF) and isinstance(src, LIF) and src.time_steps != node.time_steps:
                raise UserError(f"synapse {e.source} -> {name}: LIF populations with different time steps "
                                f"({src.time_steps} vs {node.time_steps}); the executor needs one T per chain")
        steps.append(_Step(name, node, edges))
    return steps


def _check_inputs(inp: ItemInput, history: np.ndarray, length: np.ndarray) -> None:
    if history.ndim != 2 or history.shape[1] != inp.max_len:
        raise UserError(f"history has shape {history.shape}; the graph expects [B, {inp.max_len}] item ids")
    if length.shape != (history.shape[0],):
        raise UserError(f"length has shape {length.shape}; give one length per history ({history.shape[0]})")
    if history.size and (history.min() < 0 or history.max() > inp.n_items):
        raise UserError(f"item ids must lie in 0..{inp.n_items} (0 = padding); got {history.min()}..{history.max()}")
    if length.size and (length.min() < 1 or length.max() > inp.max_len):
        raise UserError(f"lengths must lie in 1..{inp.max_len}; got {length.min()}..{length.max()}")


def _node_input(step: _Step, outputs: dict[str, np.ndarray], nodes: dict[str, Node], arith: Arithmetic,
                length: np.ndarray) -> np.ndarray:
    """The summed input of one node: over the window [B, P, C] (Graded, Readout) or per step [T, B, P, C] (LIF)."""
    node = step.node
    per_step = isinstance(node, LIF)
    constant = stepwise = None
    for e in step.edges:
        src = nodes[e.source]
        x = outputs[e.source]
        if isinstance(src, LIF) and not per_step:
            x = x.sum(0)  # a spiking source's whole window reaches a graded target
        if e.weight32 is not None:  # exact in float32 (_weight32), about twice as fast
            acc = propagate(e.syn, e.weight32, x.astype(np.float32), length).astype(np.float64)
        else:
            acc = propagate(e.syn, e.weight, x, length)
        contribution = arith.edge_input(e.syn, src, node, acc)
        if per_step and isinstance(src, ItemInput):  # its one spike per position arrives at step 0
            contribution = np.concatenate([contribution[None], np.zeros((node.time_steps - 1,) + contribution.shape,
                                                                        contribution.dtype)])
        # contributions are fresh arrays: sums accumulate in place (a catalog's readout is memory-bound)
        if per_step and is_spiking(src):
            stepwise = contribution if stepwise is None else np.add(stepwise, contribution, out=stepwise)
        else:
            constant = contribution if constant is None else np.add(constant, contribution, out=constant)
    if not per_step:
        return constant
    if stepwise is None:
        return np.broadcast_to(constant, (node.time_steps,) + constant.shape)
    return stepwise if constant is None else stepwise + constant


def _read_rows(graph: NeuroGraph, name: str) -> str:
    """How consumers read a Graded node: "all" rows, only the "readout" row, or "none"."""
    kinds = {graph.synapse(name, t).positions for t in graph.g.successors(name)}
    return "all" if "each" in kinds else ("readout" if kinds else "none")


class _Recording:
    """Sums of messages per neuron over the batches of one run."""

    def __init__(self, graph: NeuroGraph) -> None:
        self.graph = graph
        self.sums = {name: np.zeros(node.shape) for name, node in graph.nodes()}
        self.read = {name: _read_rows(graph, name) for name, node in graph.nodes() if isinstance(node, Graded)}
        self.n = 0

    def add(self, outputs: dict[str, np.ndarray], history: np.ndarray, length: np.ndarray) -> None:
        b = history.shape[0]
        self.n += b
        for name, node in self.graph.nodes():
            acc = self.sums[name]
            if isinstance(node, ItemInput):
                p, c = node.shape
                flat = (np.arange(p) * c + history).ravel()
                acc += np.bincount(flat, minlength=p * c).reshape(p, c)
            elif isinstance(node, LIF):
                acc += outputs[name].sum(axis=(0, 1))
            elif isinstance(node, Graded) and self.read[name] == "all":
                acc += b
            elif isinstance(node, Graded) and self.read[name] == "readout":
                acc += np.bincount(length - 1, minlength=node.shape[0])[:, None]

    def activity(self) -> Activity:
        n = max(self.n, 1)
        return Activity(rates={name: s / n for name, s in self.sums.items()}, n_inferences=self.n)


@dataclass
class Batch:
    """One batch of a run: its histories and lengths, each node's summed input (Graded, Readout: [B, P, C] over the
    window; LIF: per step [T, B, P, C], possibly a broadcast view) and each node's output (ItemInput: the ids;
    LIF: spikes [T, B, P, C]; Graded: values [B, P, C]; Readout: scores [B, N+1])."""

    history: np.ndarray
    length: np.ndarray
    inputs: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray]


CHUNK_VALUES = 1 << 21  # values per temporary array of a chunked readout (16 MB of float64)


def _batch_rows(x: np.ndarray, node: Node, rows: slice) -> np.ndarray:
    """Rows of a batch of one node's output: LIF spikes [T, B, ...] along axis 1, the others along axis 0."""
    return x[:, rows] if isinstance(node, LIF) else x[rows]


def trace(graph: NeuroGraph, history: np.ndarray, length: np.ndarray, batch_size: int = 256,
          scores_out: np.ndarray | None = None) -> Iterator[Batch]:
    """Run the graph batch by batch and yield every node's input and output (for calibration and inspection).

    With ``scores_out`` [B, N+1] the Readout's scores are written there (rows of the whole run) instead of being
    returned, computed in row chunks of at most ``CHUNK_VALUES`` values, and its summed input is not kept: the
    readout of a large catalog then makes no batch-sized temporaries (whose fresh memory costs more than the
    arithmetic). The Batch's Readout output is a view of ``scores_out``."""
    graph.validate()
    history = np.asarray(history, dtype=np.int64)
    length = np.asarray(length, dtype=np.int64)
    _check_inputs(graph.node(graph.input_name()), history, length)
    if batch_size < 1:
        raise UserError(f"batch_size must be >= 1 (got {batch_size})")
    arith = arithmetic_of(graph)
    steps = _plan(graph, arith)
    nodes = {s.name: s.node for s in steps}
    for start in range(0, history.shape[0], batch_size):
        h, n = history[start:start + batch_size], length[start:start + batch_size]
        inputs: dict[str, np.ndarray] = {}
        outputs: dict[str, np.ndarray] = {}
        for step in steps:
            node = step.node
            if isinstance(node, ItemInput):
                outputs[step.name] = h
                continue
            if isinstance(node, Readout) and scores_out is not None:
                out = scores_out[start:start + h.shape[0]]
                chunk = max(1, CHUNK_VALUES // node.shape[1])
                for r in range(0, h.shape[0], chunk):
                    rows = slice(r, r + chunk)
                    part = {e.source: _batch_rows(outputs[e.source], nodes[e.source], rows) for e in step.edges}
                    out[rows] = arith.readout_scores(node, _node_input(step, part, nodes, arith, n[rows]))
                outputs[step.name] = out
                continue
            total = inputs[step.name] = _node_input(step, outputs, nodes, arith, n)
            if isinstance(node, LIF):
                outputs[step.name] = np.asarray(arith.lif_spikes(node, total), dtype=np.float64)
            elif isinstance(node, Graded):
                outputs[step.name] = np.asarray(arith.graded_output(node, total), dtype=np.float64)
            else:
                outputs[step.name] = np.asarray(arith.readout_scores(node, total), dtype=np.float64)
        yield Batch(h, n, inputs, outputs)


def run(graph: NeuroGraph, history: np.ndarray, length: np.ndarray, record: bool = False,
        batch_size: int = 256) -> tuple[np.ndarray, Activity | None]:
    """Run the graph on histories [B, L] (item ids, 0 = padding) with lengths [B] (1..L).

    Returns scores [B, N+1] float64 in real units (column 0 is padding) and, with ``record``, the :class:`Activity`.
    ``batch_size`` bounds the working memory; the returned scores are B x (N+1) float64, so give a large set in
    chunks (as ``conversion.evaluate`` does).
    """
    out_name = graph.output_name()
    scores = np.empty((np.shape(history)[0], graph.node(out_name).shape[1]))
    recording = _Recording(graph) if record else None
    start = 0
    for batch in trace(graph, history, length, batch_size, scores_out=scores):
        stop = start + batch.history.shape[0]
        if recording is not None:
            recording.add(batch.outputs, batch.history, batch.length)
        start = stop
    return scores, (recording.activity() if recording is not None else None)
