"""Helpers shared by the tests (no tests here): THE small SSR-shaped graph builder, made-up activity, an independent
re-check of a mapping's rules, the Pareto front computed by hand, and a small data file in MovieLens-100K format.
``conftest.py`` exposes the graph builder as the ``ssr_graph`` fixture."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ssr_neuro.graph.ir import LIF, Graded, ItemInput, NeuroGraph, Readout, Synapse


def ssr_like(n_items: int, dim: int, blocks: int, max_len: int = 20, time_steps: int = 4, seed: int = 0,
             hidden: int | None = None, scale: float = 0.1, meta: dict | None = None) -> NeuroGraph:
    """An SSR-shaped float graph built by hand with the IR, in the layout the converter writes, with random normal
    weights and biases of standard deviation ``scale``: input -> embedding [dense] -> per block: filter
    [circulant] -> lif_1 (``hidden`` channels, default 4 x dim) [dense] -> lif_2 [dense + diagonal residual from
    filter]; the last block's lif_1/lif_2 at the readout position only; readout [dense]. LIF tau 2, threshold 1."""
    rng = np.random.default_rng(seed)
    L, D, N, H = max_len, dim, n_items, 4 * dim if hidden is None else hidden
    g = NeuroGraph(meta=dict(meta or {}))

    def w(*shape):
        return rng.standard_normal(shape) * scale

    def lif(rows, chans):
        return LIF((rows, chans), tau=2.0, threshold=1.0, time_steps=time_steps, bias=w(rows, chans))

    g.add("input", ItemInput(L, N))
    g.add("embedding", Graded((L, D), w(L, D)))
    g.connect("input", "embedding", Synapse("dense", w(D, N + 1)))
    prev = "embedding"
    for b in range(blocks):
        last = b == blocks - 1
        rows, pos = (1, "readout") if last else (L, "each")
        f, l1, l2 = f"block{b}.filter", f"block{b}.lif_1", f"block{b}.lif_2"
        g.add(f, Graded((L, D), w(L, D)))
        g.connect(prev, f, Synapse("circulant", w(D, L, L)))
        g.add(l1, lif(rows, H))
        g.connect(f, l1, Synapse("dense", w(H, D), positions=pos))
        g.add(l2, lif(rows, D))
        g.connect(l1, l2, Synapse("dense", w(D, H)))
        g.connect(f, l2, Synapse("diagonal", w(D), positions=pos))
        prev = l2
    g.add("readout", Readout((1, N + 1), w(1, N + 1)))
    g.connect(prev, "readout", Synapse("dense", w(N + 1, D)))
    g.validate()
    return g


def made_up_rates(graph: NeuroGraph, seed: int = 0) -> dict[str, np.ndarray]:
    """Random per-neuron messages per inference (LIF: up to T spikes; Graded: 1; input: item frequencies)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, node in graph.nodes():
        if isinstance(node, LIF):
            out[name] = rng.uniform(0, 0.3, node.shape) * node.time_steps
        elif isinstance(node, ItemInput):
            f = rng.pareto(1.0, node.shape)
            out[name] = f / f.sum(1, keepdims=True)
        elif isinstance(node, Graded):
            out[name] = np.ones(node.shape)
        else:
            out[name] = np.zeros(node.shape)
    return out


def stored_list_bits(chip, structure: str, entries: int, weight_bits: int) -> int:
    """Bits of one stored weight row of ``entries`` weights in the chip's synapse format, written out from the
    format's definition (chip.py, [synapse_format]): entries of weight (+ index) bits, a header, whole words when
    aligned."""
    fmt, word = chip.synapse_format, chip.memory["synapse"].word_bits
    entry = weight_bits + (fmt.index_bits if getattr(fmt, structure) == "sparse" else 0)
    if not fmt.align:
        return fmt.header_bits + entries * entry
    return (-(-fmt.header_bits // word) + -(-entries // (word // entry))) * word


def check_mapping(mapping, graph: NeuroGraph, chip) -> None:
    """Re-check every rule of the chip schema from the Mapping alone, neuron by neuron (independent of the mapper):
    each neuron placed once; per core neurons, input axons, output routes, synapse memory, weight bits; graded
    input only on MAC cores or through the host (a Graded/Readout population with only graded inputs on the host,
    any other layer from a Graded source into a core evaluated there and sent as one message per target neuron)."""
    from ssr_neuro.graph.ir import is_spiking

    no_mac = chip.core.mac_units == 0
    where: dict[tuple[str, int, int], object] = {}
    tables: dict[str, list] = {}  # item tables (mapping.tables): target -> its pieces (rows = item ids, chans)
    partials: dict[tuple[str, str], list] = {}  # split layers (mapping.splits): (source, target) -> partial pieces
    for p in mapping.pieces:
        if p.population.startswith("table>"):
            tables.setdefault(p.population[len("table>"):], []).append(p)
            continue
        if p.population.startswith("split>"):
            source, target = p.population[len("split>"):].split(">")
            partials.setdefault((source, target), []).append(p)
            continue
        for r in range(*p.rows):
            for c in range(*p.chans):
                assert (p.population, r, c) not in where, f"neuron {(p.population, r, c)} placed twice"
                where[(p.population, r, c)] = p.core if p.core is not None else "host"
    for name, node in graph.nodes():
        if isinstance(node, ItemInput):
            continue
        P, C = node.shape
        assert all((name, r, c) in where for r in range(P) for c in range(C)), f"{name} not fully placed"
        graded = [not is_spiking(graph.node(s)) for s, _ in graph.in_edges(name)]
        on_host = where[(name, 0, 0)] == "host"
        assert on_host == (no_mac and all(graded) and not isinstance(node, LIF))
        assert not (no_mac and any(graded)) or chip.host is not None

    def host_layer(s, k):
        return no_mac and k != "host" and not is_spiking(graph.node(s))

    def feeds(name, r, c, k):
        """(axon key or None, source neurons, where they are sent) for neuron (r, c) of population name on k."""
        for s, syn in graph.in_edges(name):
            Ps, Cs = graph.node(s).shape
            if name in tables and isinstance(graph.node(s), ItemInput):  # values from the table cores
                ranges = {(0, 0)} if mapping.info["embedding"][name]["mode"] == "lookup" else \
                    {tuple(t.rows) for t in tables[name]}
                yield from ((("table", j, c) if chip.core.shared_weights else ("table", j, r, c), [], k)
                            for j in sorted(ranges))
                continue
            if (s, name) in partials:  # raw partial sums from the partial cores: one axon per fan-in range
                ranges = sorted({tuple(t.rows) for t in partials[(s, name)]})
                yield from ((("merge", s, j, c) if chip.core.shared_weights else ("merge", s, j, r, c), [], k)
                            for j in ranges)
                continue
            chans = range(Cs) if syn.structure == "dense" else [c]
            if syn.structure == "circulant":
                keyed = [((s, l, c), [(s, l, c)]) for l in range(Ps)]
            elif syn.positions == "readout":
                keyed = [((s, "ro", j), [(s, l, j) for l in range(Ps)]) for j in chans]
            elif chip.core.shared_weights:
                keyed = [((s, "tag", j), [(s, r, j)]) for j in chans]
            else:
                keyed = [((s, r, j), [(s, r, j)]) for j in chans]
            if host_layer(s, k):
                yield (name, "host", r, c), [], k  # one message per target neuron from the host
                yield from ((None, sources, "host") for _, sources in keyed)
            else:
                yield from ((key, sources, k) for key, sources in keyed)

    axons: dict[object, set] = {}
    routes: dict[object, set] = {}
    neurons: dict[object, int] = {}
    memory_bits: dict[object, int] = {}
    chans_on: dict[tuple, set] = {}
    for (name, r, c), k in where.items():
        neurons[k] = neurons.get(k, 0) + 1
        chans_on.setdefault((k, name), set()).add(c)
        for key, sources, dest in feeds(name, r, c, k):
            if key is not None:
                axons.setdefault(k, set()).add(key)
            for src in sources:
                at = where.get(src, "io")
                if at not in (dest, "io", "host"):
                    routes.setdefault(at, set()).add((src, dest))
        if name == graph.output_name() and k != "host":
            routes.setdefault(k, set()).add(((name, r, c), "out"))
    for (k, name), chans in chans_on.items():
        count = sum(1 for (n2, _, _), k2 in where.items() if n2 == name and k2 == k)
        for s, syn in graph.in_edges(name):
            bits = syn.fixed.bits if syn.fixed is not None else chip.core.weight_bits
            if (k == "host" or host_layer(s, k) or (name in tables and isinstance(graph.node(s), ItemInput))
                    or (s, name) in partials):
                continue
            assert bits <= chip.core.weight_bits
            if syn.structure == "circulant":
                memory_bits[k] = memory_bits.get(k, 0) + count * stored_list_bits(chip, "circulant",
                                                                                  syn.weight.shape[2], bits)
            else:
                fan = syn.weight.shape[1] if syn.structure == "dense" else 1
                held = len(chans) if chip.core.shared_weights else count
                memory_bits[k] = memory_bits.get(k, 0) + held * stored_list_bits(chip, syn.structure, fan, bits)
    for name, node in graph.nodes():  # the host stores each layer it evaluates once
        for s, syn in [] if isinstance(node, ItemInput) else graph.in_edges(name):
            if no_mac and not is_spiking(graph.node(s)):
                bits = syn.fixed.bits if syn.fixed is not None else chip.core.weight_bits
                memory_bits["host"] = memory_bits.get("host", 0) + syn.weight.size * bits
    for name, pieces in tables.items():  # each table core: its rows of weights, ids in, one value out per route
        mode = mapping.info["embedding"][name]["mode"]
        syn = graph.synapse(graph.input_name(), name)
        bits = syn.fixed.bits if syn.fixed is not None else chip.core.weight_bits
        P, D = graph.node(name).shape
        covered = np.zeros(syn.weight.shape[::-1], int)
        for t in pieces:
            k = t.core
            (i0, i1), (d0, d1) = t.rows, t.chans
            covered[i0:i1, d0:d1] += 1
            neurons[k] = neurons.get(k, 0) + (0 if mode == "lookup" else P * (d1 - d0))
            keys = [("addr",)] if mode == "lookup" else [(i,) if chip.core.shared_weights else (p, i)
                                                          for i in range(i0, i1) for p in range(P)]
            axons.setdefault(k, set()).update(keys)
            memory_bits[k] = memory_bits.get(k, 0) + (i1 - i0) * stored_list_bits(chip, "dense", d1 - d0, bits)
            routes.setdefault(k, set()).update(((t.population, p, d), where[(name, p, d)])
                                               for p in range(P) for d in range(d0, d1))
            where[(t.population, i0, d0)] = k
        assert (covered == 1).all(), "the item table's pieces do not tile its weights"
    for (source, name), pieces in partials.items():  # each partial core: raw accumulators of its fan-in range
        syn = graph.synapse(source, name)
        bits = syn.fixed.bits if syn.fixed is not None else chip.core.weight_bits
        assert bits <= chip.core.weight_bits
        P, C = graph.node(name).shape
        Ps, Cs = graph.node(source).shape
        circ = syn.structure == "circulant"
        covered = np.zeros((Ps if circ else Cs, C), int)
        for t in pieces:
            k = t.core
            (a0, a1), (d0, d1) = t.rows, t.chans
            covered[a0:a1, d0:d1] += 1
            neurons[k] = neurons.get(k, 0) + P * (d1 - d0)
            if circ:
                keys = [(source, l, c) for l in range(a0, a1) for c in range(d0, d1)]
                feeders = keys
                memory_bits[k] = memory_bits.get(k, 0) + P * (d1 - d0) * stored_list_bits(chip, "circulant", a1 - a0,
                                                                                             bits)
            else:
                feeders = [(source, l, a) for l in range(Ps) for a in range(a0, a1)]
                if syn.positions == "readout":
                    keys = [(source, "ro", a) for a in range(a0, a1)]
                elif chip.core.shared_weights:
                    keys = [(source, "tag", a) for a in range(a0, a1)]
                else:
                    keys = [(source, p, a) for p in range(P) for a in range(a0, a1)]
                held = 1 if (chip.core.shared_weights or syn.positions == "readout") else P
                memory_bits[k] = memory_bits.get(k, 0) + held * (d1 - d0) * stored_list_bits(chip, "dense", a1 - a0,
                                                                                                bits)
            axons.setdefault(k, set()).update(keys)
            for src in feeders:
                at = where.get(src, "io")
                if at not in (k, "io", "host"):
                    routes.setdefault(at, set()).add((src, k))
            routes.setdefault(k, set()).update(((t.population, p, d), where[(name, p, d)])
                                               for p in range(P) for d in range(d0, d1))
            where[(t.population, a0, d0)] = k
        assert (covered == 1).all(), "the partial pieces do not tile the split layer's weights"
    used = {k for k in where.values() if k != "host"}
    assert used == {c.id for c in mapping.cores}
    slots = set()
    for core in mapping.cores:
        k = core.id
        r, c, s = core.mesh
        assert 0 <= r < chip.mesh.rows and 0 <= c < chip.mesh.cols and 0 <= s < chip.mesh.cores_per_router
        assert core.mesh not in slots
        slots.add(core.mesh)
        assert neurons[k] <= chip.core.neurons
        assert len(axons.get(k, ())) <= chip.core.input_axons
        assert len(routes.get(k, ())) <= chip.core.output_axons
        word = chip.memory["synapse"].word_bits
        words = -(-memory_bits.get(k, 0) // word)
        assert words <= chip.core.synapse_memory_bytes * 8 // word
        assert core.resources == {"neurons": neurons[k], "input_axons": len(axons.get(k, ())),
                                  "output_axons": len(routes.get(k, ())), "synapse_words": words}
    host = mapping.summary()["host"]
    memory_bits.pop("io", None)
    if "host" in memory_bits:
        assert host["memory_bytes"] == -(-memory_bits["host"] // 8) <= chip.host.memory_bytes
    else:
        assert host is None


def front_by_hand(rows: list[dict], objectives: dict[str, str]) -> set:
    """Ids of the rows no other row dominates (no worse in every objective, better in one), pair by pair."""
    def key(row: dict) -> list[float]:
        return [row[k] if way == "min" else -row[k] for k, way in objectives.items()]

    def dominates(a: dict, b: dict) -> bool:
        return all(x <= y for x, y in zip(key(a), key(b))) and key(a) != key(b)

    return {b["id"] for b in rows if not any(dominates(a, b) for a in rows)}


def udata_file(folder: Path, n_users: int = 30, n_items: int = 25, seed: int = 0) -> Path:
    """``folder/u.data``: random ratings in MovieLens-100K's format (user, item, rating, time; tab-separated)."""
    rng = np.random.default_rng(seed)
    lines = []
    for u in range(1, n_users + 1):
        for i in rng.choice(np.arange(1, n_items + 1), size=rng.integers(6, 15), replace=False):
            lines.append(f"{u}\t{i}\t{rng.integers(1, 6)}\t{rng.integers(10**8, 10**9)}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "u.data"
    path.write_text("\n".join(lines) + "\n")
    return path
