"""Spike traffic of a partition: messages between cores, output routes per core, and affinity between pieces.

Units: messages per inference. A source neuron sends one message per destination core each time it fires
(multicast per core, not per synapse), so the traffic from core J to core K is the sum of the rates of J's neurons
that feed some neuron on K. Rates come from a recorded ``Activity`` (``rates[name]`` = mean messages each neuron of
``name`` sends per inference, shape = node.shape) or, when none is given, the assumption that every neuron sends one
message per step: a LIF population ``time_steps`` per inference, a Graded one 1, the input one spike per position
spread evenly over the items (1 / (N+1) per (position, item)). Readout neurons send their score out once (1 each).
The host sends one graded message per inference to every neuron on a core fed by host layers (``mapping.pieces``),
whatever the activity, and receives the messages of those layers' sources.

Locations: cores 0..n-1, then the host (``n``) and the input/output port (``n + 1``); both sit at the mesh's
io_router. Output routes (distinct (source neuron, destination core) pairs, the host and the output port counted as
one destination each) are counted on the source core; input and host sources use no core routes.
"""

from __future__ import annotations

import numpy as np

from ssr_neuro.errors import UserError
from ssr_neuro.graph.ir import LIF, Graded, ItemInput, NeuroGraph, Readout

from mapping.pieces import CoreState, Piece, Population, feed_rect

ASSUMED = "assumed: every neuron sends one message per step (no recorded activity)"


def rates_of(graph: NeuroGraph, activity) -> tuple[dict[str, np.ndarray], str]:
    """Messages per inference for every neuron of every population, and a line saying where they come from."""
    given = getattr(activity, "rates", activity)
    out: dict[str, np.ndarray] = {}
    for name, node in graph.nodes():
        if given is not None:
            if name not in given and not isinstance(node, Readout):
                raise UserError(f"activity has no rates for population {name}; record it with the same graph")
            rate = np.asarray(given.get(name, np.zeros(node.shape)), dtype=np.float64)
            if rate.shape != tuple(node.shape):
                raise UserError(f"activity rates of {name} have shape {rate.shape}, the population is {node.shape}; "
                                "record it with the same graph")
            out[name] = rate
        elif isinstance(node, LIF):
            out[name] = np.full(node.shape, float(node.time_steps))
        elif isinstance(node, Graded):
            out[name] = np.ones(node.shape)
        elif isinstance(node, ItemInput):
            out[name] = np.full(node.shape, 1.0 / node.shape[1])
        else:
            out[name] = np.zeros(node.shape)
    return out, ("recorded activity" if given is not None else ASSUMED)


def _owners(pieces: list[Piece], shape: tuple[int, int], label: list[int]) -> np.ndarray:
    """int array over a population's neurons: label[piece.id] for the piece holding each neuron."""
    own = np.full(shape, -1, dtype=np.int64)
    for p in pieces:
        own[slice(*p.rows), slice(*p.chans)] = label[p.id]
    return own


def core_traffic(graph: NeuroGraph, pops: dict[str, Population], cores: list[CoreState], host: CoreState,
                 pieces: list[Piece], rates: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(traffic [n+2, n+2] messages per inference from location to location, routes [n] per core,
    routes_per_piece [len(pieces)]) for a partition of ``pieces`` into ``cores`` plus ``host``."""
    n = len(cores)
    where = [0] * len(pieces)
    for k, core in enumerate(cores):
        for p in core.pieces:
            where[p.id] = k
    for p in host.pieces:
        where[p.id] = n
    traffic = np.zeros((n + 2, n + 2))
    routes_piece = np.zeros(len(pieces), dtype=np.int64)
    by_pop: dict[str, list[Piece]] = {}
    for p in pieces:
        by_pop.setdefault(p.population, []).append(p)
    ids = list(range(len(pieces)))
    owners = {src: (_owners(by_pop[src], node.shape, ids), _owners(by_pop[src], node.shape, where))
              for src, node in graph.nodes() if not isinstance(node, ItemInput)}
    for k, dest in enumerate(cores + [host]):
        if k < n:
            traffic[n, k] += dest.host_inputs  # one graded message per neuron fed by host layers
        for src in sorted(dest.sources()):
            rs, cs, mask = dest.route_mask(src, rates[src].shape[0])
            r = rates[src][rs, cs][mask]
            if src not in owners:  # the input port
                traffic[n + 1, k] += r.sum()
                continue
            own_piece, loc = owners[src]
            at, pid = loc[rs, cs][mask], own_piece[rs, cs][mask]
            away = at != k
            traffic[:, k] += np.bincount(at[away], weights=r[away], minlength=n + 2)
            routes_piece += np.bincount(pid[away & (at < n)], minlength=len(pieces))
    out = graph.output_name()
    for p in by_pop.get(out, []):
        traffic[where[p.id], n + 1] += p.n_neurons  # scores leave through the output port
        if where[p.id] < n:
            routes_piece[p.id] += p.n_neurons
    routes = np.zeros(n, dtype=np.int64)
    for p in pieces:
        if where[p.id] < n:
            routes[where[p.id]] += routes_piece[p.id]
    return traffic, routes, routes_piece


def piece_affinity(graph: NeuroGraph, pops: dict[str, Population], pieces: list[Piece],
                   rates: dict[str, np.ndarray]) -> list[dict[int, float]]:
    """For each piece, messages per inference exchanged with each other piece (both directions), if each piece
    sat on its own core: what a partition saves by putting the two on one core."""
    by_pop: dict[str, list[Piece]] = {}
    for p in pieces:
        by_pop.setdefault(p.population, []).append(p)
    owner = {name: _owners(ps, pops[name].shape, list(range(len(pieces)))) for name, ps in by_pop.items()}
    aff: list[dict[int, float]] = [{} for _ in pieces]
    for b in pieces:
        for e in pops[b.population].in_edges:
            if e.source not in owner or e.axons == "host" or e.split is not None:
                continue
            rs, cs = feed_rect(e, b.rows, b.chans)
            src = owner[e.source][rs, cs].ravel()
            w = np.bincount(src, weights=rates[e.source][rs, cs].ravel())
            for a in np.flatnonzero(w):
                if a != b.id:
                    aff[a][b.id] = aff[a].get(b.id, 0.0) + w[a]
                    aff[b.id][a] = aff[b.id].get(a, 0.0) + w[a]
    return aff
