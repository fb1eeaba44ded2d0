"""Partitioning pieces into cores and placing cores on the mesh.

Partitions (the per-core limits of ``mapping.pieces`` always hold; output routes are repaired afterwards):
- ``fill``      layer order: pieces in topological order, each into the current core if it fits, else a new core.
- ``cluster``   graph growing: a core starts from the unplaced piece with the most traffic and repeatedly takes
                the unplaced piece that exchanges the most messages with it (``piece_affinity``) among those that
                fit; when no partner fits it is topped up in layer order. Producers and consumers share cores.
Placement: slot s of the mesh is router (s // (cols * cpr), (s // cpr) % cols), core s % cpr. Hop distance is the
Manhattan distance between routers; host and input/output sit at ``mesh.io_router``. Cost (messages x hops per
inference) = sum_{j,k} T[j,k] d(j,k). ``row_major`` puts core k on slot k; ``anneal`` improves a placement by
simulated annealing over moves and swaps of cores between slots (seeded numpy Generator, geometric cooling from the
mean |delta| of random moves down to 1e-3 of it, 200 moves per core, at most MAX_MOVES; the best placement seen is kept).

Strategies (``STRATEGIES``): ``greedy`` = fill + row_major; ``anneal`` = fill and cluster partitions each placed by
annealing, keeping the one with the least hop-weighted traffic (ties: fewer cores) among those that fit the mesh.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ssr_neuro.errors import MappingError

from mapping.pieces import CoreState, Piece, Population, _fmt
from mapping.traffic import core_traffic

LOOKAHEAD = 32  # candidate pieces tried before a core is closed
MAX_MOVES = 100_000  # annealing moves at most


def fill(pops: dict[str, Population], pieces: list[Piece], chip, affinity=None) -> list[CoreState]:
    """Layer-order partition: each piece into the current core if it fits, else into a new one."""
    cores: list[CoreState] = []
    for p in pieces:
        if pops[p.population].on_host:
            continue
        if not cores or not cores[-1].fits(p, chip.core):
            cores.append(CoreState(pops))
        cores[-1].add(p)
    return cores


def cluster(pops: dict[str, Population], pieces: list[Piece], chip, affinity: list[dict[int, float]]) -> list[CoreState]:
    """Graph-growing partition: cores grow along the heaviest traffic, topped up in layer order."""
    todo = {p.id: p for p in pieces if not pops[p.population].on_host}  # insertion order = layer order
    seeds = iter(sorted(todo, key=lambda q: (-sum(affinity[q].values()), q)))
    cores: list[CoreState] = []
    while todo:
        core = CoreState(pops)
        first = todo[next(q for q in seeds if q in todo)]
        core.add(todo.pop(first.id))
        gain: dict[int, float] = {}
        last = first
        while True:
            for q, w in affinity[last.id].items():
                if q in todo:
                    gain[q] = gain.get(q, 0.0) + w
            partners = sorted(gain, key=lambda q: (-gain[q], q))[:LOOKAHEAD]
            nxt = next((q for q in partners if core.fits(todo[q], chip.core)), None)
            if nxt is None:
                nxt = next((q for q, _ in zip(todo, range(LOOKAHEAD)) if core.fits(todo[q], chip.core)), None)
            if nxt is None:
                break
            gain.pop(nxt, None)
            last = todo.pop(nxt)
            core.add(last)
        cores.append(core)
    return cores


def repair_routes(graph, pops, cores: list[CoreState], host: CoreState, pieces: list[Piece], rates, chip):
    """Make every core's output routes fit core.output_axons: move the piece with the most routes of an
    over-full core to a new core, or halve a core's only piece. Returns (cores, pieces, traffic, routes,
    routes_per_piece) with ``mapping.traffic.core_traffic``'s meaning."""
    limit = chip.core.output_axons
    while True:
        traffic, routes, per_piece = core_traffic(graph, pops, cores, host, pieces, rates)
        over = np.flatnonzero(routes > limit)
        if len(over) == 0:
            return cores, pieces, traffic, routes, per_piece
        fresh: list[CoreState] = []
        for k in over:
            core = cores[k]
            worst = max(core.pieces, key=lambda p: (per_piece[p.id], -p.id))
            if len(core.pieces) > 1:
                keep, moved = [p for p in core.pieces if p.id != worst.id], worst
            elif worst.n_neurons > 1:
                first, moved = _halves(worst, len(pieces))
                pieces = pieces[:worst.id] + [first] + pieces[worst.id + 1:] + [moved]
                keep = [first]
            else:
                raise MappingError(
                    f"cannot map {worst.name}: one neuron needs {_fmt(routes[k])} output routes (destination cores), "
                    f"a core of chip '{chip.name}' has {_fmt(limit)} (core.output_axons); use a chip with more output "
                    "axons per core or more neurons per core (fewer destination cores)")
            cores[k] = _core_of(pops, keep)
            fresh.append(_core_of(pops, [moved]))
        cores = cores + fresh


def _halves(p: Piece, next_id: int) -> tuple[Piece, Piece]:
    """Split a piece in two along its longer side: the first half keeps the id, the second gets ``next_id``."""
    (r0, r1), (c0, c1) = p.rows, p.chans
    if r1 - r0 >= c1 - c0:
        m = (r0 + r1) // 2
        a, b = ((r0, m), (c0, c1)), ((m, r1), (c0, c1))
    else:
        m = (c0 + c1) // 2
        a, b = ((r0, r1), (c0, m)), ((r0, r1), (m, c1))
    return Piece(p.id, p.population, *a), Piece(next_id, p.population, *b)


def _core_of(pops, pieces: list[Piece]) -> CoreState:
    core = CoreState(pops)
    for p in pieces:
        core.add(p)
    return core


# ------------------------------------------------------------------------------------------------ placement

@dataclass(frozen=True)
class Slots:
    """Router coordinates of every slot of the mesh, and of the io router."""

    row: np.ndarray
    col: np.ndarray
    io: tuple[int, int]

    @staticmethod
    def of(mesh) -> "Slots":
        s = np.arange(mesh.rows * mesh.cols * mesh.cores_per_router)
        return Slots(s // (mesh.cols * mesh.cores_per_router), (s // mesh.cores_per_router) % mesh.cols,
                     tuple(mesh.io_router))

    def hops(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.abs(self.row[a] - self.row[b]) + np.abs(self.col[a] - self.col[b])


def hop_matrix(slots: Slots, slot_of: np.ndarray) -> np.ndarray:
    """Hops [n+2, n+2] between locations (cores on their slots, then host and io, both at the io router)."""
    r = np.concatenate([slots.row[slot_of], [slots.io[0]] * 2])
    c = np.concatenate([slots.col[slot_of], [slots.io[1]] * 2])
    return np.abs(r[:, None] - r[None, :]) + np.abs(c[:, None] - c[None, :])


def hop_traffic(traffic: np.ndarray, slots: Slots, slot_of: np.ndarray) -> float:
    return float((traffic * hop_matrix(slots, slot_of)).sum())


def row_major(traffic: np.ndarray, slots: Slots, rng: np.random.Generator, deadline: float | None) -> np.ndarray:
    return np.arange(traffic.shape[0] - 2)


def anneal(traffic: np.ndarray, slots: Slots, rng: np.random.Generator, deadline: float | None) -> np.ndarray:
    """Simulated annealing of core slots minimising hop-weighted traffic; starts from row-major, keeps the best."""
    n, n_slots = traffic.shape[0] - 2, len(slots.row)
    w = traffic[:n, :n] + traffic[:n, :n].T
    links = [list(zip(np.flatnonzero(w[k]).tolist(), w[k, w[k] != 0].tolist())) for k in range(n)]
    to_io = (traffic[:n, n:].sum(1) + traffic[n:, :n].sum(0)).tolist()
    slot_of = np.arange(n)
    core_at = np.full(n_slots, -1)
    core_at[:n] = np.arange(n)
    rr, cc = slots.row.tolist(), slots.col.tolist()
    r_of, c_of = rr[:n], cc[:n]  # router of each core (plain lists: the loops below are short)
    io_r, io_c = slots.io

    def cost_of(k: int, s: int) -> float:
        r, c = rr[s], cc[s]
        return sum(x * (abs(r_of[j] - r) + abs(c_of[j] - c)) for j, x in links[k]) + to_io[k] * (
            abs(r - io_r) + abs(c - io_c))

    def delta(a: int, t: int) -> float:
        s, b = slot_of[a], core_at[t]
        d = cost_of(a, t) - cost_of(a, s)
        if b >= 0:
            d += cost_of(b, s) - cost_of(b, t) + 2 * float(w[a, b]) * (abs(rr[s] - rr[t]) + abs(cc[s] - cc[t]))
        return d

    if n == 0 or (n == 1 and n_slots == 1):
        return slot_of
    moves = min(200 * n, MAX_MOVES)
    sample = [abs(delta(int(rng.integers(n)), int(rng.integers(n_slots)))) for _ in range(min(100, moves))]
    temp = float(np.mean(sample)) or 1.0
    cool = 1e-3 ** (1.0 / moves)
    cost = best_cost = 0.0
    best = slot_of.copy()
    picks_a, picks_t, coins = rng.integers(n, size=moves), rng.integers(n_slots, size=moves), rng.random(moves)
    for i in range(moves):
        temp *= cool
        if deadline is not None and i % 256 == 0 and time.perf_counter() > deadline:
            break
        a, t = int(picks_a[i]), int(picks_t[i])
        if slot_of[a] == t:
            continue
        d = delta(a, t)
        if d <= 0 or coins[i] < math.exp(-d / temp):
            s, b = slot_of[a], core_at[t]
            slot_of[a], core_at[t], core_at[s] = t, a, b
            r_of[a], c_of[a] = rr[t], cc[t]
            if b >= 0:
                slot_of[b] = s
                r_of[b], c_of[b] = rr[s], cc[s]
            cost += d
            if cost < best_cost - 1e-9:
                best_cost, best = cost, slot_of.copy()
    return best


@dataclass(frozen=True)
class Strategy:
    """A named strategy: the partitions it tries and how it places cores."""

    partitions: tuple
    place: object


STRATEGIES: dict[str, Strategy] = {
    "greedy": Strategy((fill,), row_major),
    "anneal": Strategy((fill, cluster), anneal),
}
