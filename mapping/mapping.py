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
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from ssr_neuro.errors import MappingError, UserError
from ssr_neuro.files import atomic_write, check_writable
from ssr_neuro.graph.io import graph_digest
from ssr_neuro.graph.ir import LIF, ItemInput, NeuroGraph

from mapping.pieces import RESOURCES, CoreState, Piece, Population, _fmt, limit, populations, split, splits_of
from mapping.splits import PREFIX as SPLIT_PREFIX, Split, split_traffic
from mapping.strategies import STRATEGIES, Slots, hop_traffic, repair_routes
from mapping.tables import Table, table_traffic, tables_of
from mapping.traffic import core_traffic, piece_affinity, rates_of

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
    resources: dict  # what the piece would use alone on a core: neurons, input_axons, synapse_words; + routes


@dataclass
class PlacedCore:
    """A used core: its mesh position, pieces, resources used and messages per inference in and out."""

    id: int
    mesh: tuple[int, int, int]
    pieces: list[int]
    resources: dict  # neurons, input_axons, output_axons, synapse_words
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
        check_writable(path, overwrite)
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
    _check_host_memory(pops, chip)
    host_pops, host_layers, host_bits = host_work(pops)
    host_bytes = -(-host_bits // 8)
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
               "synapse_words": alone.synapse_words, "output_routes": int(per_piece[p.id])}
        k = core_of.get(p.id)
        placed.append(PlacedPiece(p.id, p.population, p.rows, p.chans, p.n_neurons, k,
                                  None if k is None else _mesh_of(int(slot_of[k]), chip.mesh), use))
    used = [PlacedCore(k, _mesh_of(int(slot_of[k]), chip.mesh), [p.id for p in core.pieces],
                       {"neurons": core.neurons, "input_axons": core.input_axons, "output_axons": int(routes[k]),
                        "synapse_words": core.synapse_words},
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
        frac = np.array([c.resources[key] / limit(chip, key) for c in used])
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


def check_fits(mapping: Mapping, graph: NeuroGraph, chip) -> Mapping:
    """``mapping`` (e.g. read from a file) with every core's pieces and resources recomputed from ``graph`` and the
    pieces' cores (what a file states per core is not trusted); MappingError, naming the core, the resource, the need
    and the limit, if it breaks a limit of ``chip``: too many cores, a core outside the mesh or two in one slot, a
    piece on the wrong side of the host, a core's neurons, input axons, output routes or synapse memory, the host's
    memory. Item-table pieces (``table>X``, ``mapping.tables``) and partial pieces of split layers (``split>S>X``,
    ``mapping.splits``) come after the other pieces and add the resources the chip's table or split gives them. UserError if the pieces are malformed (ids, rectangles, cores the mapping does not list)."""
    if len(mapping.cores) > chip.n_cores:
        raise MappingError(f"the mapping uses {_fmt(len(mapping.cores))} cores, chip '{chip.name}' has "
                           f"{_fmt(chip.n_cores)}; map the graph again on this chip")
    slots: dict[tuple, int] = {}
    for k, core in enumerate(mapping.cores):
        if core.id != k:
            raise UserError(f"malformed mapping: core {k} is numbered {core.id}; map the graph again")
        r, c, slot = core.mesh
        if not (0 <= r < chip.mesh.rows and 0 <= c < chip.mesh.cols and 0 <= slot < chip.mesh.cores_per_router):
            raise MappingError(f"core {core.id} of the mapping sits at {tuple(core.mesh)}, outside the "
                               f"{chip.mesh.rows} x {chip.mesh.cols} x {chip.mesh.cores_per_router} mesh of chip "
                               f"'{chip.name}'; map the graph again on this chip")
        if tuple(core.mesh) in slots:
            raise MappingError(f"cores {slots[tuple(core.mesh)]} and {core.id} of the mapping sit in the same slot "
                               f"{tuple(core.mesh)} (one core per slot); map the graph again")
        slots[tuple(core.mesh)] = core.id
    # a mapping without partial pieces is checked with every layer whole (its cores then show what does not fit)
    pops = populations(graph, chip, any(p.population.startswith(SPLIT_PREFIX) for p in mapping.pieces))
    tables, splits = tables_of(graph, chip), splits_of(pops)
    wholes: dict[str, Table | Split] = {**{t.name: t for t in tables.values()}, **{s.name: s for s in splits.values()}}
    if sorted(p.id for p in mapping.pieces) != list(range(len(mapping.pieces))):
        raise UserError("malformed mapping: its piece ids are not 0..n-1 each once; map the graph again")
    regular = [p for p in mapping.pieces if p.population not in wholes]
    extra_at = _extra_cores(mapping, wholes, len(regular))
    ranges: dict[str, list] = {}
    for name, r in extra_at:
        ranges.setdefault(name, []).append(r)
    # the ranges as the file places them (resources and routes of what it states; the program refuses other ranges)
    tables = {x: replace(w, ranges=tuple(ranges[w.name])) for x, w in tables.items()}
    splits = {x: replace(w, ranges=tuple(ranges[w.name])) for x, w in splits.items()}
    wholes = {**{w.name: w for w in tables.values()}, **{w.name: w for w in splits.values()}}
    pieces = _pieces_of(regular, pops)
    cores, host = [CoreState(pops) for _ in mapping.cores], CoreState(pops)
    for placed, piece in zip(regular, pieces):
        pop = pops[piece.population]
        if (placed.core is None) != pop.on_host:
            where = "on the host" if placed.core is None else f"on core {placed.core}"
            runs = "on the host" if pop.on_host else "on cores"
            raise MappingError(f"piece {piece.id} ({piece.name}) of the mapping sits {where}, but {pop.name} runs "
                               f"{runs} on chip '{chip.name}' (core.mac_units = {chip.core.mac_units}); map the "
                               "graph again on this chip")
        if placed.core is None:
            host.add(piece)
            continue
        if not 0 <= placed.core < len(cores):
            raise UserError(f"malformed mapping: piece {piece.id} sits on core {placed.core}, which the mapping "
                            "does not list; map the graph again")
        cores[placed.core].add(piece)
        if pop.host_input:
            host.add_host_feeds(piece)
    _check_host_memory(pops, chip)
    rates = rates_of(graph, None)[0]
    # the cores of the other pieces (and empty ones), then one location per table or partial piece
    at = [k for k in range(len(cores)) if cores[k].pieces or k not in extra_at.values()]
    traffic, routes, _ = core_traffic(graph, pops, [cores[k] for k in at], host, pieces, rates)
    _, all_routes = _with_extra(graph, tables, splits, [cores[k] for k in at], traffic, routes, rates, chip)
    order = at + [extra_at[(w.name, r)] for w in list(tables.values()) + list(splits.values()) for r in w.ranges]
    routes_of = np.zeros(len(cores), np.int64)
    np.add.at(routes_of, np.array(order, np.int64), np.asarray(all_routes, np.int64))
    checked = []
    for k, (core, state) in enumerate(zip(mapping.cores, cores)):
        use = {"neurons": state.neurons, "input_axons": state.input_axons, "output_axons": int(routes_of[k]),
               "synapse_words": state.synapse_words}
        for (name, r), at_k in extra_at.items():  # table and partial pieces: their own resources
            if at_k == k:
                for key, v in wholes[name].resources(r).items():
                    use[key] += 0 if key == "output_axons" else v
        for key in RESOURCES:
            need, have = use[key], limit(chip, key)
            if need > have:
                where = ("core.synapse_memory_bytes, memory.synapse_word_bits and [synapse_format]"
                         if key == "synapse_words" else f"core.{key}")
                raise MappingError(f"core {core.id} of the mapping needs {_fmt(need)} {key.replace('_', ' ')}, a "
                                   f"core of chip '{chip.name}' has {_fmt(have)} ({where}); map the graph "
                                   "again on this chip")
        held = {p.id for p in state.pieces} | {p.id for p in mapping.pieces if p.population in wholes
                                              and p.core == k}  # in the file's order, then any it does not list
        ids = [i for i in core.pieces if i in held] + sorted(held - set(core.pieces))
        checked.append(PlacedCore(core.id, tuple(core.mesh), ids, use, core.messages_in, core.messages_out))
    return Mapping(mapping.chip, mapping.pieces, checked, mapping.info)


def _extra_cores(mapping: Mapping, wholes: dict, n_regular: int) -> dict[tuple[str, tuple], int]:
    """(table or split name, range) -> core of each item-table and partial piece (``wholes``: name -> Table or
    Split); UserError unless they come after the ``n_regular`` other pieces on listed cores and each table or split
    the chip's rules give has some (their ranges are checked against the chip's by ``hardware.program``)."""
    out = {}
    for p in mapping.pieces:
        if p.population not in wholes:
            continue
        r = (p.rows[0], p.rows[1], p.chans[0], p.chans[1])
        if p.id < n_regular or p.core is None or not 0 <= p.core < len(mapping.cores):
            raise UserError(f"malformed mapping: piece {p.id} ({p.population}) is not after the other pieces on a "
                            "core the mapping lists; map the graph again")
        out[(p.population, r)] = int(p.core)
    for name in wholes:
        if name not in {n for n, _ in out}:
            raise UserError(f"the mapping has no pieces of {name}, which chip '{mapping.chip}' needs (core.embedding, "
                            "the cores' limits); map this graph again on this chip")
    if {n for n, _ in out} - set(wholes):
        raise UserError("the mapping has item-table or partial pieces the graph does not need; map it again")
    return out


def _pieces_of(placed: list, pops: dict[str, Population]) -> list[Piece]:
    """The placed pieces as ``Piece``s (same order; ids 0..n-1 checked by the caller); UserError unless they tile
    every population of the graph exactly (each neuron in one piece)."""
    held = {name: np.zeros(pop.shape, np.int64) for name, pop in pops.items()}
    out = []
    for p in placed:
        if p.population not in pops:
            raise UserError(f"the mapping places population {p.population!r}, which the graph lacks; "
                            "map this graph again (ssr-neuro map)")
        (r0, r1), (c0, c1), (rows, chans) = p.rows, p.chans, pops[p.population].shape
        if not (0 <= r0 < r1 <= rows and 0 <= c0 < c1 <= chans):
            raise UserError(f"malformed mapping: piece {p.id} covers rows {p.rows} x channels {p.chans}, outside "
                            f"{p.population} ({rows} x {chans}); map the graph again")
        held[p.population][r0:r1, c0:c1] += 1
        out.append(Piece(p.id, p.population, (r0, r1), (c0, c1)))
    for name, count in held.items():
        if (count > 1).any():
            raise UserError(f"the mapping's pieces of {name} overlap; map the graph again")
        if (count == 0).any():
            raise UserError(f"the mapping does not place every neuron of {name}; it was made for another graph "
                            "(map this graph again with ssr-neuro map)")
    return out


def _check_host_memory(pops: dict[str, Population], chip) -> None:
    """MappingError if the weights of the layers the host evaluates do not fit host.memory_bytes."""
    host_pops, host_layers, host_bits = host_work(pops)
    host_bytes = -(-host_bits // 8)
    if host_bits and host_bytes > chip.host.memory_bytes:
        raise MappingError(
            f"cannot map {', '.join(list(host_pops) + list(host_layers))} on the host: their weights need "
            f"{_fmt(host_bytes)} bytes, the host of chip '{chip.name}' has "
            f"{_fmt(chip.host.memory_bytes)} (host.memory_bytes); use a chip with more host memory or MAC units")


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


