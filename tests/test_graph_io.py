"""Graph files: exact save/load round trips (float and fixed-point graphs), refusal of foreign, truncated, newer
and pickled files, GraphML export for viewers, and NIR export of the spiking part (checked against the executor's
linear maps and LIF equations)."""

import dataclasses
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from ssr_neuro.errors import GraphError, UserError
from ssr_neuro.graph.execute import lif_spikes_float, propagate
from ssr_neuro.graph.io import expand, export_graphml, export_nir, graph_digest, load_graph, save_graph
from ssr_neuro.graph.ir import (
    LIF, Graded, GradedFixed, ItemInput, LIFFixed, NeuroGraph, Readout, Synapse, WeightFixed, is_spiking,
)
from support import ssr_like as build_ssr

L, N, D, H = 4, 6, 3, 5  # positions, items, channels, hidden channels


def ssr_like(seed: int = 0, fixed: bool = False) -> NeuroGraph:
    """Two SSR-shaped blocks (``support.ssr_like``) with a converter-like meta; with ``fixed``, every fixed-point
    record filled."""
    g = build_ssr(n_items=N, dim=D, blocks=2, max_len=L, hidden=H, seed=seed, scale=1.0,
                  meta={"format": "ssr-neuro/graph", "model_config": {"dim": D, "tau": 2.0},
                        "dataset": {"name": "toy", "item_ids": list(range(N + 1))}, "conversion": {"pruned": [1, 2]}})
    if fixed:
        rng = np.random.default_rng(seed)
        for _, _, syn in g.edges():
            syn.fixed = WeightFixed(rng.integers(-128, 128, size=syn.weight.shape, dtype=np.int16), exp=-7, bits=8)
        for _, node in g.nodes():
            if isinstance(node, LIF):
                node.fixed = LIFFixed(du=4095, dv=2048, vth=1 << 9, bias_mant=rng.integers(-4096, 4096, node.shape),
                                      bias_exp=3, in_exp=-9)
            elif not isinstance(node, ItemInput):
                node.fixed = GradedFixed(bits=16, exp=-10, bias=rng.integers(-2**15, 2**15, node.shape))
    return g


def assert_same_graph(a: NeuroGraph, b: NeuroGraph) -> None:
    assert a.meta == b.meta
    assert list(a.g.nodes) == list(b.g.nodes) and list(a.g.edges) == list(b.g.edges)
    for name, node in a.nodes():
        assert_same_record(node, b.node(name))
    for s, t, syn in a.edges():
        assert_same_record(syn, b.synapse(s, t))


def assert_same_record(x, y) -> None:
    assert type(x) is type(y)
    for f in dataclasses.fields(x):
        u, v = getattr(x, f.name), getattr(y, f.name)
        if isinstance(u, np.ndarray):
            assert u.dtype == v.dtype and u.shape == v.shape and np.array_equal(u, v), f.name
        elif dataclasses.is_dataclass(u):
            assert_same_record(u, v)
        else:
            assert type(u) is type(v) and u == v, f.name


# ------------------------------------------------------------------------------------------------ save / load

@pytest.mark.parametrize("fixed", [False, True])
def test_round_trip_is_exact(tmp_path, fixed):
    graph = ssr_like(seed=3, fixed=fixed)
    path = tmp_path / "g.npz"
    save_graph(graph, path)
    loaded = load_graph(path)
    assert_same_graph(graph, loaded)
    assert loaded.quantized == fixed == graph.quantized
    loaded.validate()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.npz"]  # no temporary file left behind


def test_digest_survives_a_round_trip_and_changes_with_any_weight(tmp_path):
    graph = ssr_like(seed=3, fixed=True)
    save_graph(graph, tmp_path / "g.graph")
    assert graph_digest(load_graph(tmp_path / "g.graph")) == graph_digest(graph)
    graph.meta["note"] = "meta is not part of the identity"
    before = graph_digest(graph)
    assert before == graph_digest(load_graph(tmp_path / "g.graph"))
    _, _, syn = next(iter(graph.edges()))
    syn.fixed.weight.flat[0] += 1
    assert graph_digest(graph) != before


def test_file_holds_no_code_and_a_readable_header(tmp_path):
    path = tmp_path / "g.npz"
    save_graph(ssr_like(), path)
    with np.load(path, allow_pickle=False) as npz:
        doc = json.loads(npz["__graph__.json"])
        assert all(npz[k].dtype != object for k in npz.files if k != "__graph__.json")
    assert (doc["format"], doc["version"]) == ("ssr-neuro/graph", 1)
    lif = next(n for n in doc["nodes"] if n["name"] == "block0.lif_1")
    assert lif["type"] == "LIF" and lif["fields"]["tau"] == 2.0 and lif["fields"]["bias"] == {"array": "n3.bias"}
    assert {(e["source"], e["target"]) for e in doc["edges"]} >= {("input", "embedding")}


def test_refuses_to_overwrite_without_permission(tmp_path):
    path = tmp_path / "g.npz"
    save_graph(ssr_like(seed=1), path)
    with pytest.raises(GraphError, match="already exists; pass --force"):
        save_graph(ssr_like(seed=2), path)
    assert_same_graph(load_graph(path), ssr_like(seed=1))
    save_graph(ssr_like(seed=2), path, overwrite=True)
    assert_same_graph(load_graph(path), ssr_like(seed=2))


def _rewrite(src, dst, header=None, extra=None):
    """Copy a graph file, replacing its header document and/or adding an entry."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "__graph__.json" and header is not None:
                data = json.dumps(header(json.loads(data))).encode()
            zout.writestr(item, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)


def test_refuses_foreign_truncated_newer_and_pickled_files(tmp_path):
    good = tmp_path / "good.npz"
    save_graph(ssr_like(), good)
    cases = {}
    np.savez(tmp_path / "foreign.npz", weight=np.ones(3))
    cases["foreign.npz"] = "not an ssr-neuro graph file"
    np.save(tmp_path / "array.npy", np.ones(3))
    cases["array.npy"] = "not an npz archive"
    (tmp_path / "text.npz").write_text("hello")
    cases["text.npz"] = "not an npz archive"
    (tmp_path / "truncated.npz").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    cases["truncated.npz"] = "truncated"
    _rewrite(good, tmp_path / "newer.npz", header=lambda d: {**d, "version": 2})
    cases["newer.npz"] = "newer ssr-neuro"
    _rewrite(good, tmp_path / "other.npz", header=lambda d: {**d, "format": "lava/net"})
    cases["other.npz"] = "format is not"
    _rewrite(good, tmp_path / "missing.npz", header=lambda d: {**d, "nodes": d["nodes"] + [
        {"name": "x", "type": "Graded", "fields": {"shape": {"tuple": [1, 1]}, "bias": {"array": "n99.bias"}}}]})
    cases["missing.npz"] = "malformed or truncated"
    pickled = io.BytesIO()
    np.lib.format.write_array(pickled, np.array([{"code": 1}], dtype=object), allow_pickle=True)
    _rewrite(good, tmp_path / "pickled.npz", extra={"evil.npy": pickled.getvalue()})
    cases["pickled.npz"] = "refused an array entry"
    cases["absent.npz"] = "does not exist"
    for name, pattern in cases.items():
        with pytest.raises(GraphError, match=pattern) as err:
            load_graph(tmp_path / name)
        assert "\n" not in str(err.value), name


def test_meta_with_numpy_scalars_saves_as_plain_json(tmp_path):
    graph = ssr_like()
    graph.meta = {"report": {"neurons": np.int64(7), "saving": np.float64(0.5), "shape": np.arange(2)}}
    save_graph(graph, tmp_path / "g.npz")
    assert load_graph(tmp_path / "g.npz").meta == {"report": {"neurons": 7, "saving": 0.5, "shape": [0, 1]}}
    graph.meta = {"bad": object()}
    with pytest.raises(GraphError, match="plain JSON"):
        save_graph(graph, tmp_path / "h.npz")


# ------------------------------------------------------------------------------------------------ GraphML

def test_graphml_has_types_shapes_parameters_and_no_arrays(tmp_path):
    graph = ssr_like(fixed=True)
    path = tmp_path / "g.graphml"
    export_graphml(graph, path)
    g = nx.read_graphml(path)
    assert set(g.nodes) == set(graph.g.nodes) and set(g.edges) == set(graph.g.edges)
    lif = g.nodes["block0.lif_1"]
    assert (lif["type"], lif["shape"], lif["size"], lif["tau"], lif["time_steps"]) == ("LIF", "4 x 5", 20, 2.0, 4)
    assert lif["fixed_dv"] == 2048 and g.nodes["input"]["n_items"] == N
    for s, t, syn in graph.edges():
        e = g.edges[s, t]
        assert e["structure"] == syn.structure and e["positions"] == syn.positions
        assert e["input"] == ("spike" if is_spiking(graph.node(s)) else "graded")
        assert e["synapses"] == syn.n_synapses(graph.node(s), graph.node(t)) and e["fan_in"] == syn.fan_in()
        assert e["fixed_bits"] == 8
    text = path.read_text()
    assert "bias_mant" not in text and len(text) < 20_000  # scalars only
    with pytest.raises(GraphError, match="exists"):
        export_graphml(graph, path)


# ------------------------------------------------------------------------------------------------ NIR

def test_expand_equals_the_executors_linear_maps():
    graph, rng = ssr_like(seed=5), np.random.default_rng(0)
    for s, t, syn in graph.edges():
        src, dst = graph.node(s), graph.node(t)
        if isinstance(src, ItemInput):
            continue
        x = rng.normal(size=(3,) + src.shape)
        length = np.array([L, 2, 1])
        y = propagate(syn, syn.weight, x, length)
        for b in range(3):
            m = expand(syn, src.shape, dst.shape, readout_row=int(length[b]) - 1)
            np.testing.assert_allclose(m @ x[b].reshape(-1), y[b].reshape(-1), rtol=1e-12, atol=1e-12)


def test_nir_round_trip_of_the_spiking_part(tmp_path):
    nir = pytest.importorskip("nir")
    graph = ssr_like(seed=7, fixed=True)
    path = tmp_path / "g.nir"
    export_nir(graph, path)
    read = nir.read(path)
    lifs = [n for n, node in graph.nodes() if isinstance(node, LIF)]
    for name in lifs:
        node, exported = graph.node(name), read.nodes[name]
        assert isinstance(exported, nir.LIF)
        np.testing.assert_array_equal(exported.v_leak, node.bias.reshape(-1))
        np.testing.assert_array_equal(exported.tau, np.full(node.bias.size, node.tau))
        np.testing.assert_array_equal(exported.r, 1.0)
        for source, syn in graph.in_edges(name):
            src = graph.node(source)
            np.testing.assert_array_equal(read.nodes[f"{source}->{name}"].weight,
                                          expand(syn, src.shape, node.shape, src.shape[0] - 1))
            assert (source, f"{source}->{name}") in read.edges and (f"{source}->{name}", name) in read.edges
    assert {n for n, v in read.nodes.items() if isinstance(v, nir.Input)} == {"block0.filter", "block1.filter"}
    assert {n for n, v in read.nodes.items() if isinstance(v, nir.Output)} == {"block0.lif_2.out",
                                                                               "block1.lif_2.out"}
    assert "readout" not in read.nodes and "embedding" not in read.nodes


def test_nir_lif_parameters_reproduce_our_lif_with_euler_dt_1(tmp_path):
    nir = pytest.importorskip("nir")
    rng = np.random.default_rng(2)
    node = LIF((2, 3), tau=2.0, threshold=1.0, time_steps=6, bias=rng.integers(-32, 32, (2, 3)) / 64)
    g = NeuroGraph()
    g.add("in", Graded((2, 3), np.zeros((2, 3))))
    g.add("lif", node)
    g.connect("in", "lif", Synapse("diagonal", np.ones(3)))
    export_nir(g, tmp_path / "lif.nir")
    lif = nir.read(tmp_path / "lif.nir").nodes["lif"]
    current = rng.integers(0, 160, (6, 1, 2, 3)) / 64
    current[0, 0, 0, 0] = 2.0 - node.bias[0, 0]  # v reaches the threshold exactly at step 0: ours fires (>=)
    v, spikes = np.zeros(6), []
    for t in range(6):  # NIR's tau dv/dt = (v_leak - v) + r I, one Euler step of dt = 1, spike when v > v_threshold
        v = v + (lif.v_leak - v + lif.r * current[t, 0].reshape(-1)) / lif.tau
        z = v > lif.v_threshold
        spikes.append(z)
        v = np.where(z, lif.v_reset, v)
    ours = lif_spikes_float(node, current)[:, 0].reshape(6, -1)
    np.testing.assert_array_equal(np.array(spikes, dtype=float), ours)
    assert ours[0, 0] == 1 and ours.sum() > 0


def test_nir_export_needs_lif_and_nir(tmp_path, monkeypatch):
    pytest.importorskip("nir")
    g = NeuroGraph()
    g.add("in", ItemInput(2, 3))
    g.add("out", Readout((2, 4), np.zeros((2, 4))))
    g.connect("in", "out", Synapse("dense", np.ones((4, 4))))
    with pytest.raises(GraphError, match="no LIF"):
        export_nir(g, tmp_path / "x.nir")
    monkeypatch.setitem(__import__("sys").modules, "nir", None)
    with pytest.raises(UserError, match="pip install"):
        export_nir(ssr_like(), tmp_path / "y.nir")


def test_graph_io_does_not_import_torch():
    code = "import sys, ssr_neuro.graph.io; sys.exit('torch' in sys.modules or 'nir' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr or "importing ssr_neuro.graph.io imported torch or nir"
