"""Graph files: save and load a :class:`NeuroGraph` exactly, and export it for viewers (GraphML) and for other
neuromorphic tools (NIR). numpy + networkx only; ``nir`` is imported only by :func:`export_nir`.

Graph file (``save_graph`` / ``load_graph``): a zip archive readable by ``np.load(path, allow_pickle=False)`` that
holds no code: one ``.npy`` entry per array (weights, biases, the integers of the fixed-point records) and a JSON
document ``__graph__.json``::

    {"format": "ssr-neuro/graph", "version": 1,
     "nodes": [{"name": "block0.lif_1", "type": "LIF", "fields": {...}}, ...],
     "edges": [{"source": "...", "target": "...", "type": "Synapse", "fields": {...}}, ...],
     "meta": graph.meta}

A field value is a JSON scalar, ``{"array": KEY}`` (the npz entry KEY, e.g. ``n3.bias``), ``{"tuple": [...]}``, or a
nested record ``{"type": "LIFFixed", "fields": {...}}``; every dataclass field is stored, so the round trip is
exact (dtypes, shapes, float bits). A foreign, damaged or newer file raises :class:`GraphError` in one line.

NIR export (``export_nir``): the spiking part, i.e. every LIF population and every synapse layer into one, as one
``nir.NIRGraph`` over flat vectors (neuron (p, c) of a (P, C) population is element p * C + c):
- LIF -> ``nir.LIF`` per neuron: tau = tau, r = 1, v_leak = bias, v_reset = reset, v_threshold = the largest float
  below our threshold. NIR's LIF is continuous, tau dv/dt = (v_leak - v) + r I; one forward-Euler step of length
  dt = 1 (one of our time steps) gives v <- v + (bias - v + I) / tau, exactly our update with I the summed edge
  input. Our spike condition is v >= threshold and NIR's v > v_threshold, hence the threshold one ulp lower.
  A backend that integrates exactly (decay exp(-dt / tau)) matches ours with tau' = -1 / ln(1 - 1 / tau) instead.
- each synapse layer into an LIF -> ``nir.Linear`` with its weight expanded to a dense [n_target, n_source] matrix:
  position-wise dense and diagonal layers become block-diagonal, circulant layers per-channel Toeplitz blocks, and
  a "readout" edge (row length - 1 of the source, a run-time choice NIR cannot express) selects the fixed row
  ``readout_position`` (default: the last, a full-length history).
- Graded and Readout populations (one value per inference, summed over a window) have no NIR type: each source of
  the spiking part that is not an LIF becomes a ``nir.Input`` (a graded value is held constant over the time steps,
  our direct encoding; an ItemInput is the flat one-hot (position, item) vector), and every LIF read by such a
  population (or by nothing) becomes a ``nir.Output``. In SSR this gives each block's feed-forward part as its own
  sub-graph: filter output -> lif_1 -> lif_2 (+ the residual from the filter) -> spikes out.
- Fixed-point records are not exported (NIR is real-valued): the float weights, biases and thresholds are.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from ssr_neuro.errors import GraphError, UserError
from ssr_neuro.files import atomic_write, check_writable
from ssr_neuro.graph.ir import (
    LIF, NODE_TYPES, GradedFixed, LIFFixed, NeuroGraph, Synapse, WeightFixed, is_spiking, size,
)

FORMAT = "ssr-neuro/graph"
VERSION = 1
HEADER = "__graph__.json"
RECORD_TYPES = {**NODE_TYPES, "Synapse": Synapse, "WeightFixed": WeightFixed, "GradedFixed": GradedFixed,
                "LIFFixed": LIFFixed}


# ------------------------------------------------------------------------------------------------ save / load

def save_graph(graph: NeuroGraph, path: Path | str, overwrite: bool = False) -> None:
    """Write ``graph`` to one versioned file (see the module docstring), atomically; refuses an existing file
    unless ``overwrite``."""
    path = Path(path)
    check_writable(path, overwrite, GraphError)
    arrays: dict[str, np.ndarray] = {}
    nodes = [{"name": name, **_encode(node, f"n{i}", arrays)} for i, (name, node) in enumerate(graph.nodes())]
    edges = [{"source": s, "target": t, **_encode(syn, f"e{i}", arrays)}
             for i, (s, t, syn) in enumerate(graph.edges())]
    try:
        header = json.dumps({"format": FORMAT, "version": VERSION, "nodes": nodes, "edges": edges,
                             "meta": graph.meta}, default=_plain_json)
    except TypeError as e:
        raise GraphError(f"cannot save {path}: graph.meta must hold plain JSON data ({e})") from None

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(HEADER, header)
            for key, array in arrays.items():
                with z.open(f"{key}.npy", "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, np.asarray(array), allow_pickle=False)

    atomic_write(path, write)


def graph_digest(graph: NeuroGraph) -> str:
    """SHA-256 of what the graph computes: every node's and edge's fields and arrays (dtype, shape, bytes), not its
    meta. A mapping records it, so that a mapping made for another graph is refused."""
    import hashlib

    arrays: dict[str, np.ndarray] = {}
    nodes = [{"name": name, **_encode(node, f"n{i}", arrays)} for i, (name, node) in enumerate(graph.nodes())]
    edges = [{"source": s, "target": t, **_encode(syn, f"e{i}", arrays)}
             for i, (s, t, syn) in enumerate(sorted(graph.edges(), key=lambda e: (e[0], e[1])))]
    h = hashlib.sha256(json.dumps({"nodes": nodes, "edges": edges}, default=_plain_json, sort_keys=True).encode())
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        h.update(f"{key}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def is_graph_file(path: Path | str) -> bool:
    """Whether ``path`` looks like a file of :func:`save_graph` (a zip holding the graph header), without reading it."""
    try:
        with zipfile.ZipFile(path) as z:
            return HEADER in z.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def load_graph(path: Path | str) -> NeuroGraph:
    """Read a file written by :func:`save_graph`; GraphError if it is missing, foreign, damaged or newer."""
    path = Path(path)
    if not path.is_file():
        raise GraphError(f"graph file {path} does not exist; check the path")
    if not zipfile.is_zipfile(path):
        raise GraphError(f"{path} is not an ssr-neuro graph file (not an npz archive), or is truncated")
    try:
        with np.load(path, allow_pickle=False) as npz:
            if HEADER not in npz.files:
                raise GraphError(f"{path} is not an ssr-neuro graph file (it has no {HEADER})")
            doc = json.loads(npz[HEADER])
            _check_header(doc, path)
            arrays = {key: npz[key] for key in npz.files if key != HEADER}
    except GraphError:
        raise
    except json.JSONDecodeError as e:
        raise GraphError(f"{path}: damaged graph header ({e.msg}); save the graph again") from None
    except ValueError as e:  # object arrays (pickles) and malformed .npy entries
        raise GraphError(f"{path}: refused an array entry ({e}); graph files hold plain numeric arrays") from None
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise GraphError(f"{path} is not an ssr-neuro graph file, or is truncated ({e})") from None
    try:
        graph = NeuroGraph(meta=doc["meta"])
        for entry in doc["nodes"]:
            graph.add(entry["name"], _decode(entry, arrays))
        for entry in doc["edges"]:
            graph.connect(entry["source"], entry["target"], _decode(entry, arrays))
    except (KeyError, TypeError, ValueError) as e:
        raise GraphError(f"{path}: malformed or truncated graph file ({type(e).__name__}: {e}); "
                         f"save the graph again") from None
    return graph


def _check_header(doc: Any, path: Path) -> None:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise GraphError(f"{path} is not an ssr-neuro graph file (format is not {FORMAT!r})")
    version = doc.get("version")
    if not isinstance(version, int) or version < 1:
        raise GraphError(f"{path}: graph file version {version!r} is not valid; save the graph again")
    if version > VERSION:
        raise GraphError(f"{path} was written by a newer ssr-neuro (graph file version {version}; this one reads "
                         f"{VERSION}); upgrade ssr-neuro")


def _encode(record: Any, key: str, arrays: dict[str, np.ndarray]) -> dict:
    """A dataclass instance as {"type", "fields"}, its arrays moved to ``arrays`` under ``key.field``."""
    fields = {}
    for f in dataclasses.fields(record):
        value, sub = getattr(record, f.name), f"{key}.{f.name}"
        if isinstance(value, np.ndarray):
            arrays[sub] = value
            fields[f.name] = {"array": sub}
        elif dataclasses.is_dataclass(value):
            fields[f.name] = _encode(value, sub, arrays)
        elif isinstance(value, tuple):
            fields[f.name] = {"tuple": [_plain_json(v) if isinstance(v, np.generic) else v for v in value]}
        else:
            fields[f.name] = _plain_json(value) if isinstance(value, np.generic) else value
    return {"type": type(record).__name__, "fields": fields}


def _decode(entry: dict, arrays: dict[str, np.ndarray]) -> Any:
    cls = RECORD_TYPES[entry["type"]]
    values = {}
    for name, value in entry["fields"].items():
        if isinstance(value, dict) and "array" in value:
            values[name] = arrays[value["array"]]
        elif isinstance(value, dict) and "tuple" in value:
            values[name] = tuple(value["tuple"])
        elif isinstance(value, dict):
            values[name] = _decode(value, arrays)
        else:
            values[name] = value
    return cls(**values)


def _plain_json(value: Any) -> Any:
    """numpy scalars and arrays as the Python values JSON can hold (``json.dumps(default=...)``)."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON data")


# ------------------------------------------------------------------------------------------------ GraphML

def export_graphml(graph: NeuroGraph, path: Path | str, overwrite: bool = False) -> None:
    """A GraphML file for graph viewers: per node its type, shape, size and scalar parameters (fixed-point ones
    prefixed ``fixed_``); per edge structure, positions, input kind, synapses and fan-in. No arrays."""
    path = Path(path)
    check_writable(path, overwrite, GraphError)
    g = nx.DiGraph(format=FORMAT, meta=json.dumps(graph.meta, default=_plain_json))
    for name, node in graph.nodes():
        rows, channels = node.shape
        g.add_node(name, type=type(node).__name__, shape=f"{rows} x {channels}", rows=int(rows),
                   channels=int(channels), size=size(node), **_scalars(node, ""))
    for s, t, syn in graph.edges():
        source, target = graph.node(s), graph.node(t)
        g.add_edge(s, t, structure=syn.structure, positions=syn.positions,
                   input="spike" if is_spiking(source) else "graded",
                   synapses=int(syn.n_synapses(source, target)), fan_in=int(syn.fan_in()), **_scalars(syn, ""))
    atomic_write(path, lambda tmp: nx.write_graphml(g, tmp))


def _scalars(record: Any, prefix: str) -> dict[str, Any]:
    """A record's scalar fields (numbers, strings, bools) and those of its fixed-point record, as GraphML values."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if dataclasses.is_dataclass(value):
            out.update(_scalars(value, f"{prefix}{f.name}_"))
        elif isinstance(value, (bool, np.bool_)):
            out[prefix + f.name] = bool(value)
        elif isinstance(value, (int, np.integer)) and f.type != "float":
            out[prefix + f.name] = int(value)
        elif isinstance(value, (int, float, np.integer, np.floating)):
            out[prefix + f.name] = float(value)
        elif isinstance(value, str) and f.name not in ("structure", "positions"):
            out[prefix + f.name] = value
    return out


# ------------------------------------------------------------------------------------------------ NIR

def export_nir(graph: NeuroGraph, path: Path | str, overwrite: bool = False,
               readout_position: int | None = None) -> None:
    """Write the spiking part of ``graph`` as a NIR file (HDF5, read with ``nir.read``); see the module docstring
    for what maps to what. ``readout_position`` fixes the row a "readout" edge takes (default: the last)."""
    try:
        import nir
    except ImportError:
        raise UserError("NIR export needs the nir package: pip install 'ssr-neuro[nir]' (or pip install nir)") \
            from None
    path = Path(path)
    check_writable(path, overwrite, GraphError)
    lifs = [name for name, node in graph.nodes() if isinstance(node, LIF)]
    if not lifs:
        raise GraphError("the graph has no LIF populations: there is no spiking part to export to NIR")
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    for name in lifs:
        node = graph.node(name)
        n = size(node)
        nodes[name] = nir.LIF(tau=np.full(n, float(node.tau)), r=np.ones(n),
                              v_leak=np.asarray(node.bias, dtype=np.float64).reshape(n),
                              v_threshold=np.full(n, np.nextafter(float(node.threshold), -np.inf)),
                              v_reset=np.full(n, float(node.reset)))
        for source, syn in graph.in_edges(name):
            src = graph.node(source)
            if not isinstance(src, LIF) and source not in nodes:
                nodes[source] = nir.Input(input_type=np.array([size(src)]))
            row = src.shape[0] - 1 if readout_position is None else readout_position
            linear = f"{source}->{name}"
            nodes[linear] = nir.Linear(weight=expand(syn, src.shape, node.shape, row))
            edges += [(source, linear), (linear, name)]
        if any(not isinstance(graph.node(t), LIF) for t in graph.g.successors(name)) or not graph.g.out_degree(name):
            nodes[f"{name}.out"] = nir.Output(output_type=np.array([n]))
            edges.append((name, f"{name}.out"))
    metadata = {"source": f"ssr-neuro {FORMAT} (spiking part)", "dt": 1.0,
                "readout_position": -1 if readout_position is None else int(readout_position),
                "not_exported": ", ".join(n for n, node in graph.nodes() if not is_spiking(node))}
    nir_graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)
    atomic_write(path, lambda tmp: nir.write(tmp, nir_graph))


def expand(syn: Synapse, source_shape: tuple[int, int], target_shape: tuple[int, int],
           readout_row: int) -> np.ndarray:
    """A synapse layer as a dense matrix M [P_t * C_t, P_s * C_s] over flat neuron indices (p * C + c), so that
    target input = M @ source output; a "readout" edge reads source row ``readout_row``."""
    (ps, cs), (pt, ct) = source_shape, target_shape
    w = np.asarray(syn.weight, dtype=np.float64)
    m = np.zeros((pt, ct, ps, cs))
    if syn.structure == "circulant":
        if syn.positions == "readout":
            raise GraphError("a circulant synapse layer with positions='readout' is not defined")
        channels = np.arange(cs)
        m[:, channels, :, channels] = w  # [C, P_t, P_s] per channel
        return m.reshape(pt * ct, ps * cs)
    block = w if syn.structure == "dense" else np.diag(w)
    if syn.positions == "readout":
        if not 0 <= readout_row < ps:
            raise GraphError(f"readout_position {readout_row} is outside the source's {ps} positions")
        m[0, :, readout_row, :] = block
    else:
        m[np.arange(pt), :, np.arange(ps), :] = block
    return m.reshape(pt * ct, ps * cs)
