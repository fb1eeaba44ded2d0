"""``map_graph``: split a NeuroGraph into pieces, partition them into cores and place the cores on a chip's mesh;
the ``Mapping`` result and its file (JSON, format "ssr-neuro/mapping", version 1).

Objectives: the number of cores, and hop-weighted traffic = sum over (source neuron, destination core) messages per
inference x hops (Manhattan distance between routers; host and input/output at mesh.io_router). Constraints (hard,
per core): see ``mapping.pieces`` (neurons, input axons, synapse memory, weight and state bits) and
``mapping.traffic`` (output routes); the host needs host.memory_bytes for the weights of every layer it evaluates
(stored once). The summary's "host" entry (None when the host does nothing) lists the populations run on the host and
the host layers into populations on cores (``mapping.pieces``), each with its MACs per inference and weight bytes.
Deterministic for a seed, unless ``time_budget_s`` cuts the annealing short.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ssr_neuro.errors import MappingError, UserError
from ssr_neuro.files import atomic_write
from ssr_neuro.graph.io import graph_digest
from ssr_neuro.graph.ir import LIF, ItemInput, NeuroGraph

from mapping.pieces import RESOURCES, CoreState, Population, _fmt, populations, split, splits_of
from mapping.splits import Split, split_traffic
from mapping.strategies import STRATEGIES, Slots, hop_traffic, repair_routes
from mapping.tables import Table, table_traffic, tables_of
from mapping.traffic import piece_affinity, rates_of

FORMAT, VERSION = "ssr-neuro/mapping", 1


@dataclass
class PlacedPiece:
    """One piece where it landed: core id and mesh (row, col, slot), or core None / mesh None on the host."""

    id: int
    population: str
    rows: tuple[int, int]
    chans: tuple[int, int]
    neurons: int
    core: int | None
    mesh: tuple[int, int, int] | None
    resources: dict  # what the piece would use alone on a core: neurons, input_axons, synapse_memory_bytes; + routes


@dataclass
class PlacedCore:
    """A used core: its mesh position, pieces, resources used and messages per inference in and out."""

    id: int
    mesh: tuple[int, int, int]
    pieces: list[int]
    resources: dict  # neurons, input_axons, output_axons, synapse_memory_bytes
    messages_in: float
    messages_out: float


@dataclass
class Mapping:
    """A graph mapped on a chip; ``summary()`` is computed at mapping time and saved with it."""

    chip: str
    pieces: list[PlacedPiece]
    cores: list[PlacedCore]
    info: dict

    def summary(self) -> dict:
        return dict(self.info)

    def to_json(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "chip": self.chip, "summary": self.info,
                "pieces": [asdict(p) for p in self.pieces], "cores": [asdict(c) for c in self.cores]}

    def save(self, path, overwrite: bool = False) -> None:
        path = Path(path)
        if path.exists() and not overwrite:
            raise UserError(f"{path} exists; pass --force to overwrite it")
        text = json.dumps(self.to_json(), indent=1)
        atomic_write(path, lambda tmp: tmp.write_text(text))


def load_mapping(path) -> Mapping:
    """Read a mapping file written by ``Mapping.save``."""
    path = Path(path)
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UserError(f"mapping file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UserError(f"{path} is not a mapping file ({e}); map the graph again with `ssr-neuro map`") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise UserError(f"{path} is not an ssr-neuro mapping (format {FORMAT!r} expected)")
    if not isinstance(doc.get("version"), int) or doc["version"] > VERSION:
        raise UserError(f"{path} is mapping version {doc.get('version')}, this ssr-neuro reads up to {VERSION}; "
                        "upgrade ssr-neuro")
    try:
        pieces = [PlacedPiece(**{**p, "rows": tuple(p["rows"]), "chans": tuple(p["chans"]),
                                 "mesh": None if p["mesh"] is None else tuple(p["mesh"])}) for p in doc["pieces"]]
        cores = [PlacedCore(**{**c, "mesh": tuple(c["mesh"])}) for c in doc["cores"]]
        return Mapping(doc["chip"], pieces, cores, doc["summary"])
    except (KeyError, TypeError) as e:
        raise UserError(f"{path}: malformed mapping ({e}); map the graph again") from None


def _mesh_of(slot: int, mesh) -> tuple[int, int, int]:
    per_row = mesh.cols * mesh.cores_per_router
    return slot // per_row, (slot // mesh.cores_per_router) % mesh.cols, slot % mesh.cores_per_router


def map_graph(graph: NeuroGraph, chip, strategy: str = "anneal", activity=None, seed: int = 0,
              time_budget_s: float | None = None) -> Mapping:
    """Map ``graph`` on ``chip`` with a strategy of ``STRATEGIES``; raise MappingError when it cannot fit."""
    start = time.perf_counter()
    if strategy not in STRATEGIES:
        raise UserError(f"unknown mapping strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    graph.validate()
    deadline = None if time_budget_s is None else start + time_budget_s
    pops = populations(graph, chip)
    order = [name for name, node in graph.nodes() if not isinstance(node, ItemInput)]
    pieces = split(pops, order, chip)
    host = CoreState(pops)
    for p in pieces:
        if pops[p.population].on_host:
            host.add(p)
        elif pops[p.population].host_input:
            host.add_host_feeds(p)
    host_pops, host_layers, host_bits = host_work(pops)
    host_bytes = -(-host_bits // 8)
    if host_bits and host_bytes > chip.host.memory_bytes:
        raise MappingError(
            f"cannot map {', '.join(list(host_pops) + list(host_layers))} on the host: their weights need "
            f"{_fmt(host_bytes)} bytes, the host of chip '{chip.name}' has "
            f"{_fmt(chip.host.memory_bytes)} (host.memory_bytes); use a chip with more host memory or MAC units")
    rates, activity_note = rates_of(graph, activity)
    slots = Slots.of(chip.mesh)
    plan = STRATEGIES[strategy]
    affinity = piece_affinity(graph, pops, pieces, rates) if len(plan.partitions) > 1 else None
    tables, splits = tables_of(graph, chip), splits_of(pops)
    extra = [(t, r) for t in tables.values() for r in t.ranges] + [(s, r) for s in splits.values() for r in s.ranges]
    best, needs = None, []
    for partition in plan.partitions:
        cores = partition(pops, pieces, chip, affinity)
        cores, placed_pieces, traffic, routes, per_piece = repair_routes(graph, pops, cores, host, pieces, rates, chip)
        traffic, routes = _with_extra(graph, tables, splits, cores, traffic, routes, rates, chip)
        if len(cores) + len(extra) > len(slots.row):
            needs.append(len(cores) + len(extra))
            continue
        slot_of = plan.place(traffic, slots, np.random.default_rng(seed), deadline)
        key = (hop_traffic(traffic, slots, slot_of), len(cores))
        if best is None or key < best[0]:
            best = (key, partition.__name__, cores, placed_pieces, traffic, routes, per_piece, slot_of)
    if best is None:
        m = chip.mesh
        raise MappingError(
            f"cannot map the graph: it needs {_fmt(min(needs))} cores, chip '{chip.name}' has {_fmt(len(slots.row))} "
            f"(mesh.rows x mesh.cols x mesh.cores_per_router = {m.rows} x {m.cols} x {m.cores_per_router}); "
            "use a bigger mesh, a chip with larger cores, or fewer weight bits")
    (hop, _), partition_name, cores, placed_pieces, traffic, routes, per_piece, slot_of = best
    steps = time_steps_per_inference(graph)
    n = len(cores) + len(extra)
    core_of = {p.id: k for k, core in enumerate(cores) for p in core.pieces}
    placed = []
    for p in placed_pieces:
        alone = CoreState(pops)
        alone.add(p)
        use = {"neurons": p.n_neurons, "input_axons": alone.input_axons,
               "synapse_memory_bytes": alone.synapse_memory_bytes, "output_routes": int(per_piece[p.id])}
        k = core_of.get(p.id)
        placed.append(PlacedPiece(p.id, p.population, p.rows, p.chans, p.n_neurons, k,
                                  None if k is None else _mesh_of(int(slot_of[k]), chip.mesh), use))
    used = [PlacedCore(k, _mesh_of(int(slot_of[k]), chip.mesh), [p.id for p in core.pieces],
                       {"neurons": core.neurons, "input_axons": core.input_axons, "output_axons": int(routes[k]),
                        "synapse_memory_bytes": core.synapse_memory_bytes},
                       float(traffic[:, k].sum()), float(traffic[k, :].sum())) for k, core in enumerate(cores)]
    for k, (whole, r) in enumerate(extra, start=len(cores)):  # table and partial cores, one piece each
        use = {key: v for key, v in whole.resources(r).items() if key != "output_axons"}
        placed.append(PlacedPiece(len(placed), whole.name, (r[0], r[1]), (r[2], r[3]), use["neurons"], k,
                                  _mesh_of(int(slot_of[k]), chip.mesh), {**use, "output_routes": int(routes[k])}))
        used.append(PlacedCore(k, _mesh_of(int(slot_of[k]), chip.mesh), [len(placed) - 1],
                               {**use, "output_axons": int(routes[k])},
                               float(traffic[:, k].sum()), float(traffic[k, :].sum())))
    util = {}
    for key in RESOURCES:
        frac = np.array([c.resources[key] / getattr(chip.core, key) for c in used])
        util[key] = {"mean": float(frac.mean()), "max": float(frac.max())} if len(frac) else {"mean": 0.0, "max": 0.0}
    info = {
        "chip": chip.name, "strategy": strategy, "partition": partition_name, "seed": seed,
        "graph_digest": graph_digest(graph),
        "embedding": {t.target: {"mode": t.mode, "table_cores": len(t.ranges), "item_ranges": t.item_ranges}
                      for t in tables.values()},
        "splits": {f"{s.source} -> {s.target}": {"partial_cores": len(s.ranges), "fan_in_ranges": len(s.fan_ranges)}
                   for s in splits.values()},
        "cores_used": n, "cores_available": len(slots.row), "pieces": len(placed),
        "utilisation": util,
        "traffic": float(traffic.sum()), "hop_weighted_traffic": hop,
        "traffic_unit": "messages per inference (one per firing source neuron and destination core)",
        "time_steps_per_inference": steps,
        "traffic_per_step": float(traffic.sum()) / steps, "hop_weighted_traffic_per_step": hop / steps,
        "input_output_traffic": float(traffic[n + 1, :].sum() + traffic[:, n + 1].sum()),
        "activity": activity_note,
        "host": ({"populations": host_pops, "layers": host_layers,
                  "macs_per_inference": sum(w["macs_per_inference"] for w in [*host_pops.values(),
                                                                              *host_layers.values()]),
                  "neurons": host.neurons, "memory_bytes": host_bytes, "memory_bytes_limit": chip.host.memory_bytes,
                  "messages_in": float(traffic[:, n].sum()), "messages_out": float(traffic[n, :].sum())}
                 if host_bits or host.pieces else None),
        "map_time_s": time.perf_counter() - start,
    }
    return Mapping(chip.name, placed, used, info)


def _with_extra(graph: NeuroGraph, tables: dict[str, Table], splits: dict[str, Split], cores: list[CoreState],
                traffic: np.ndarray, routes: np.ndarray, rates: dict[str, np.ndarray], chip
                ) -> tuple[np.ndarray, np.ndarray]:
    """The partition's traffic [n+2, n+2] and routes [n] with the table cores (``mapping.tables``) and then the
    partial cores of split layers (``mapping.splits``) added after its n cores (host and io stay last); the
    sources of split layers gain one route per partial core they reach. MappingError if a core then has more
    output routes than a core allows."""
    if not tables and not splits:
        return traffic, routes
    n = len(cores)
    n_t = sum(len(t.ranges) for t in tables.values())
    n_all = n + n_t + sum(len(s.ranges) for s in splits.values())
    needed = set(tables) | {s.source for s in splits.values()} | {s.target for s in splits.values()}
    owner_of = {}
    for name in needed:
        own = np.full(graph.node(name).shape, n_all, dtype=np.int64)  # the host's pieces
        for k, core in enumerate(cores):
            for p in core.pieces:
                if p.population == name:
                    own[slice(*p.rows), slice(*p.chans)] = k
        owner_of[name] = own
    sends = {s.source: float(getattr(graph.node(s.source), "time_steps", 1)) for s in splits.values()}
    t_traffic, t_routes = table_traffic(tables, owner_of, rates, n, n_all)
    s_traffic, s_routes, source_routes = split_traffic(splits, owner_of, rates, sends, n + n_t, n_all)
    out = t_traffic + s_traffic
    idx = np.r_[np.arange(n), n_all, n_all + 1]  # the partition's locations in the larger matrix
    out[np.ix_(idx, idx)] += traffic
    all_routes = np.concatenate([routes + source_routes[:n], t_routes, s_routes])
    limit = chip.core.output_axons
    if (all_routes > limit).any():
        k = int(np.argmax(all_routes))
        what = ("a table core" if n <= k < n + n_t else "a partial-sum core" if k >= n + n_t
                else "a core sending to partial-sum cores")
        raise MappingError(
            f"cannot map the graph: {what} needs {_fmt(all_routes[k])} output routes, a core of chip '{chip.name}' "
            f"has {_fmt(limit)} (core.output_axons); use a chip with more output axons per core")
    return out, all_routes


def check_fits(mapping: Mapping, chip) -> None:
    """MappingError, naming the key, if a mapping (e.g. read from a file) breaks a limit of ``chip``."""
    if len(mapping.cores) > chip.n_cores:
        raise MappingError(f"the mapping uses {_fmt(len(mapping.cores))} cores, chip '{chip.name}' has "
                           f"{_fmt(chip.n_cores)}; map the graph again on this chip")
    for core in mapping.cores:
        r, c, slot = core.mesh
        if not (0 <= r < chip.mesh.rows and 0 <= c < chip.mesh.cols and 0 <= slot < chip.mesh.cores_per_router):
            raise MappingError(f"core {core.id} of the mapping sits at {tuple(core.mesh)}, outside the "
                               f"{chip.mesh.rows} x {chip.mesh.cols} x {chip.mesh.cores_per_router} mesh of chip "
                               f"'{chip.name}'; map the graph again on this chip")
        for key in RESOURCES:
            need, limit = core.resources.get(key, 0), getattr(chip.core, key)
            if need > limit:
                raise MappingError(f"core {core.id} of the mapping needs {_fmt(need)} {key.replace('_', ' ')}, a "
                                   f"core of chip '{chip.name}' has {_fmt(limit)} (core.{key}); map the graph "
                                   "again on this chip")


def time_steps_per_inference(graph: NeuroGraph) -> int:
    """Time steps of one inference: each spiking window (a LIF population that takes no spikes from another LIF,
    with the LIF populations it drives; zero delay inside a window) runs its T steps, windows one after another:
    n_blocks x T for SSR. At least 1 (a graph without LIF populations)."""
    starts = [node.time_steps for name, node in graph.nodes() if isinstance(node, LIF)
              and not any(isinstance(graph.node(src), LIF) for src, _ in graph.in_edges(name))]
    return max(1, sum(starts))


def host_work(pops: dict[str, Population]) -> tuple[dict[str, dict], dict[str, dict], int]:
    """What the host evaluates: (populations run on it -> neurons, MACs per inference and weight bytes;
    host layers "source -> target" into populations on cores -> MACs per inference and weight bytes; weight bits
    in all). MACs per inference = the layers' synapses (graded sources send once); weights are stored once."""
    def work(edges) -> dict:
        return {"macs_per_inference": sum(e.synapses for e in edges),
                "memory_bytes": -(-sum(e.weights * e.weight_bits for e in edges) // 8)}

    whole, layers, bits = {}, {}, 0
    for name, pop in pops.items():
        edges = pop.host_edges()
        bits += sum(e.weights * e.weight_bits for e in edges)
        if pop.on_host:
            whole[name] = {"neurons": pop.shape[0] * pop.shape[1], **work(edges)}
        else:
            layers.update({f"{e.source} -> {name}": work([e]) for e in edges})
    return whole, layers, bits


def format_summary(summary: dict) -> str:
    """A human-readable table of a mapping summary."""
    s = summary
    lines = [f"chip {s['chip']}: {s['cores_used']} of {s['cores_available']} cores, {s['pieces']} pieces "
             f"(strategy {s['strategy']}, partition {s['partition']}, seed {s['seed']}, {s['map_time_s']:.2f} s)",
             f"{'resource':<22}{'mean':>8}{'max':>8}"]
    for key, u in s["utilisation"].items():
        lines.append(f"{key:<22}{u['mean']:>8.1%}{u['max']:>8.1%}")
    lines.append(f"traffic {s['traffic']:,.1f}, hop-weighted {s['hop_weighted_traffic']:,.1f} "
                 f"({s['traffic_unit']}); input/output {s['input_output_traffic']:,.1f}")
    lines.append(f"per time step ({s['time_steps_per_inference']} steps per inference): traffic "
                 f"{s['traffic_per_step']:,.1f}, hop-weighted {s['hop_weighted_traffic_per_step']:,.1f}")
    lines.append(f"activity: {s['activity']}")
    for layer, sp in s.get("splits", {}).items():
        lines.append(f"split by fan-in: {layer} on {sp['partial_cores']} partial-sum cores "
                     f"({sp['fan_in_ranges']} fan-in ranges merged by the target's cores)")
    h = s["host"]
    if h is None:
        lines.append("host: nothing (every layer runs on cores)")
    else:
        ran = [f"{name} ({w['neurons']:,} neurons)" for name, w in h["populations"].items()] + list(h["layers"])
        lines.append(f"host: {', '.join(ran)}; {h['macs_per_inference']:,} MACs per inference, "
                     f"{h['memory_bytes']:,} of {h['memory_bytes_limit']:,} bytes; {h['messages_in']:,.1f} messages "
                     f"in, {h['messages_out']:,.1f} out")
    return "\n".join(lines)


