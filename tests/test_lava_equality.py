"""The Lava backend equals the fast engine: identical scores, spike rasters, every Ledger count and the priced
energies and latencies, on random small fixed-point graphs mapped on small chips (hypothesis; with and without MAC
units, i.e. with host layers) and on real MovieLens-100K inferences. The lowering is also checked without Lava
(``hardware.lava.core.run_serial`` steps the same unit code in one process), so CI checks it even where the Lava
environment cannot be made; the Lava runs skip, saying why, where ``.venv-lava`` is absent."""

import dataclasses

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from hardware.chip import load_chip
from paths import SHARED, shared
from hardware.engine import run_program
from hardware.lava.core import load_plan, run_serial
from hardware.lava_backend import lava_in_process, lava_python, read_result, run_lava, write_plan
from hardware.program import compile_program
from hardware.simulate import assemble
from mapping import map_graph
from ssr_neuro.graph.quantize import quantize
from ssr_neuro.errors import MappingError
from ssr_neuro.graph.execute import run
from ssr_neuro.graph.ir import LIF
from hardware.costs import COUNTERS as LEDGER_COUNTERS
from support import ssr_like
from test_mapping_properties import graphs

needs_lava = pytest.mark.skipif(not (lava_in_process() or lava_python()),
                                reason=".venv-lava is absent (./scripts/setup.sh makes it where python3.10 exists)")
LEDGER = ("counts", "busiest", "network", "busy_sum", "table", "by_step", "link_packets", "spikes")


def assert_same(program, fast, other) -> None:
    """Scores, raster, every Ledger array and the priced result of two backends are identical."""
    (s1, l1, r1), (s2, l2, r2) = fast, other
    np.testing.assert_array_equal(s1, s2)
    assert r1.keys() == r2.keys()
    for name in r1:
        np.testing.assert_array_equal(r1[name], r2[name], err_msg=name)
    for key in LEDGER:
        np.testing.assert_array_equal(getattr(l1, key), getattr(l2, key), err_msg=key)
    for name in l1.spikes_per_neuron:
        np.testing.assert_array_equal(l1.spikes_per_neuron[name], l2.spikes_per_neuron[name])
    a, b = assemble(program, l1, s1, r1), assemble(program, l2, s2, r2)
    for key in a.per_inference:
        np.testing.assert_array_equal(a.per_inference[key], b.per_inference[key], err_msg=key)
    assert a.breakdown == b.breakdown and a.steps == b.steps and a.cores == b.cores


def serial(program, history, length, tmp_path, sink=None):
    meta = write_plan(program, history, length, tmp_path / "plan.npz")
    out, counters = run_serial(*load_plan(tmp_path / "plan.npz"))
    got = read_result(program, meta, {**out, "counters": counters}, history, length, sink=sink)
    return got.scores, got.ledger, got.raster


def assert_same_event_timing(program, history, length, other) -> None:
    """The event timing model on the fast engine's counts and on another backend's (``other(sink)`` runs it with
    the sink) gives the same step cycles, bounds, intervals and timeline."""
    from hardware.timing import EventTiming

    fast, lowered = EventTiming(program, len(length)), EventTiming(program, len(length))
    run_program(program, history, length, sink=fast)
    other(lowered)
    np.testing.assert_array_equal(fast.step_cycles, lowered.step_cycles)
    np.testing.assert_array_equal(fast.bound_counts, lowered.bound_counts)
    np.testing.assert_array_equal(fast.interval, lowered.interval)
    assert fast.timeline.intervals == lowered.timeline.intervals


RULES = {"neuron_updates": ("own_steps", "every_step"), "active_update": ("input_or_spike", "state_change"),
         "charge_local_messages": (False, True)}
SANAFE_RULES = {"neuron_updates": "every_step", "active_update": "state_change", "charge_local_messages": True}


@st.composite
def quantised_graphs(draw):
    """A random graph (``test_mapping_properties.graphs``) quantised on 6 random histories: (graph, history, length)."""
    graph = draw(graphs())
    inp = graph.node(graph.input_name())
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    history = rng.integers(0, inp.n_items + 1, size=(6, inp.max_len))
    length = rng.integers(1, inp.max_len + 1, size=6)
    return quantize(graph, (history, length)), history, length


@st.composite
def mapped(draw):
    """A random quantised graph, mapped on a small 45nm-like chip (MAC units or a host; any counting rules), with
    some histories."""
    fixed, history, length = draw(quantised_graphs())
    base = load_chip("45nm")
    macs = draw(st.sampled_from([0, 4]))
    rules = {key: draw(st.sampled_from(values)) for key, values in RULES.items()}
    chip = dataclasses.replace(
        base, name="small", core=dataclasses.replace(base.core, neurons=draw(st.integers(2, 12)), mac_units=macs,
                                                     **rules),
        mesh=dataclasses.replace(base.mesh, rows=2, cols=3), host=load_chip("loihi").host if macs == 0 else None)
    try:
        mapping = map_graph(fixed, chip, strategy=draw(st.sampled_from(["greedy", "anneal"])), seed=0)
        program = compile_program(fixed, mapping, chip)
    except MappingError:
        assume(False)
    except nx.NetworkXUnfeasible:  # program._schedule cannot order a graded stage between two LIFs of one window
        assume(False)
    return program, history, length


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                                 HealthCheck.function_scoped_fixture])
@given(mapped())
def test_lowered_units_equal_the_fast_engine_on_random_graphs(tmp_path, case):
    program, history, length = case
    assert_same(program, run_program(program, history, length), serial(program, history, length, tmp_path))
    assert_same_event_timing(program, history, length, lambda sink: serial(program, history, length, tmp_path, sink))


@needs_lava
@settings(max_examples=4, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a run: seconds
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(mapped())
def test_lava_equals_the_fast_engine_on_random_graphs(case):
    program, history, length = case
    assert_same(program, run_program(program, history, length), _lava(program, history, length))
    assert_same_event_timing(program, history, length, lambda sink: run_lava(program, history, length, sink=sink))


@needs_lava
@pytest.mark.parametrize("macs", [0, 4])
def test_lava_equals_the_fast_engine_with_sanafe_counting_rules(macs, tmp_path):
    """Every rule on (SANA-FE's way): idle updates in every step, active on a state change, charged local messages;
    an SSR-shaped graph whose LIF populations have biases, on cores with MAC units and with a host."""
    graph = ssr_like(n_items=20, dim=6, blocks=2, max_len=4)
    for _, node in graph.nodes():
        if isinstance(node, LIF):
            node.threshold = 0.02  # so that the random weights make spikes
    rng = np.random.default_rng(1)
    length = rng.integers(1, 5, size=8)
    history = rng.integers(1, 21, size=(8, 4)) * (np.arange(4)[None] < length[:, None])
    fixed = quantize(graph, (history, length))
    base = load_chip("45nm")
    chip = dataclasses.replace(base, name="small", mesh=dataclasses.replace(base.mesh, rows=2, cols=3),
                               core=dataclasses.replace(base.core, neurons=32, mac_units=macs, **SANAFE_RULES),
                               host=load_chip("loihi").host if macs == 0 else None)
    program = compile_program(fixed, map_graph(fixed, chip, strategy="anneal", seed=0), chip)
    fast = run_program(program, history, length)
    counts = fast[1].table.sum(axis=(0, 2))
    assert counts[LEDGER_COUNTERS.index("neuron_update_idle")] > 0 and fast[1].spikes.sum() > 0
    assert_same(program, fast, serial(program, history, length, tmp_path))
    assert_same(program, fast, _lava(program, history, length))


def _lava(program, history, length):
    got = run_lava(program, history, length, timeout_s=300)
    return got.scores, got.ledger, got.raster


@pytest.fixture(scope="module")
def ml100k(tmp_path_factory):
    shared("ml-100k/u.data")
    import torch

    from ssr_neuro.conversion import to_graph
    from ssr_neuro.data import load_dataset
    from ssr_neuro.model import SSR, SSRConfig
    from ssr_neuro.training import TrainConfig, train

    torch.set_num_threads(1)
    ds = load_dataset("ml-100k", data_dir=SHARED, cache_dir=tmp_path_factory.mktemp("cache"))
    torch.manual_seed(0)
    model = SSR(SSRConfig(n_items=ds.n_items, dim=32, n_blocks=1))
    train(model, ds, TrainConfig(epochs=1, compile=False), show_progress=False)
    model.eval()
    calib = np.random.default_rng(0).choice(len(ds.train), size=1024, replace=False)
    fixed = quantize(to_graph(model, ds.describe()), (ds.train.history[calib], ds.train.length[calib]))
    pick = np.arange(0, len(ds.test), len(ds.test) // 32)[:32]
    return fixed, ds.train, ds.test.history[pick], ds.test.length[pick]


@pytest.mark.realdata
@needs_lava
@pytest.mark.parametrize("chip_name", ["45nm", "loihi"])
def test_lava_equals_the_fast_engine_on_ml100k(ml100k, chip_name, tmp_path):
    fixed, train_samples, history, length = ml100k
    _, activity = run(fixed, train_samples.history[:256], train_samples.length[:256], record=True)
    chip = load_chip(chip_name)
    program = compile_program(fixed, map_graph(fixed, chip, strategy="anneal", activity=activity, seed=0), chip)
    fast = run_program(program, history, length)
    assert fast[1].spikes.sum() > 0  # a spiking workload, not a silent one
    assert_same(program, fast, serial(program, history, length, tmp_path))
    assert_same(program, fast, _lava(program, history, length))
