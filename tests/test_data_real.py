"""Real MovieLens files from ../shared/datasets (skipped, with the reason, when that folder is absent)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from ssr_neuro.data import SequentialDataset, dataset_stats, load_dataset
from ssr_neuro.data.loaders import load_udata
from ssr_neuro.data.preprocess import k_core

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
ML100K = SHARED / "ml-100k" / "u.data"
ML1M = SHARED / "ml-1m" / "ml-1m.txt"

pytestmark = pytest.mark.realdata


def need(path: Path) -> None:
    if not path.is_file():
        pytest.skip(f"{path} is absent (the shared datasets folder is only in CI / the team checkout)")


def sequences_from_samples(ds: SequentialDataset) -> dict[int, list[int]]:
    """Each user's full item sequence rebuilt from the samples: first history item, then every target in order."""
    out: dict[int, list[int]] = {}
    for part in (ds.train, ds.valid, ds.test):
        for u, h, n, t in zip(part.user.tolist(), part.history, part.length.tolist(), part.target.tolist()):
            if u not in out:
                out[u] = [int(h[0])]
            out[u].append(t)
    return out


@pytest.fixture(scope="module")
def ml100k(tmp_path_factory) -> SequentialDataset:
    need(ML100K)
    return load_dataset(str(ML100K), cache_dir=tmp_path_factory.mktemp("cache"))


def test_ml100k_statistics(ml100k):
    stats = dataset_stats(ml100k)
    assert (stats["users"], stats["items"], stats["interactions"]) == (943, 1349, 99_287)
    assert (stats["train_samples"], stats["valid_samples"], stats["test_samples"]) == (70_905, 7_402, 20_037)


def test_ml100k_invariants(ml100k):
    raw = load_udata(ML100K)
    when = {(u, i): t for u, i, t in zip(raw["user"].tolist(), raw["item"].tolist(), raw["timestamp"].tolist())}
    # k-core output is a fixed point with >= 5 per user and item
    counts_u = np.zeros(ml100k.n_users, dtype=np.int64)
    counts_i = np.zeros(ml100k.n_items + 1, dtype=np.int64)
    seqs = sequences_from_samples(ml100k)
    assert sorted(seqs) == list(range(ml100k.n_users))
    for u, items in seqs.items():
        counts_u[u] = len(items)
        np.add.at(counts_i, items, 1)
        assert len(set(items)) == len(items)  # deduplicated
        stamps = [when[(ml100k.user_ids[u], ml100k.item_ids[i - 1])] for i in items]
        assert stamps == sorted(stamps)  # time order
    assert counts_u.min() >= 5 and counts_i[1:].min() >= 5 and counts_i[0] == 0
    assert counts_u.sum() == ml100k.n_interactions
    kept = raw[raw["user"].isin(ml100k.user_ids) & raw["item"].isin(ml100k.item_ids)]
    assert len(k_core(kept, 5)) == len(kept) == ml100k.n_interactions
    # histories are exactly the previous <= L items; per user: train < valid < test in time
    L = ml100k.options["max_len"]
    for name, part in (("train", ml100k.train), ("valid", ml100k.valid), ("test", ml100k.test)):
        for u, h, n, t in zip(part.user.tolist(), part.history, part.length.tolist(), part.target.tolist()):
            s = seqs[u]
            j = s.index(t)
            assert h[:n].tolist() == s[max(0, j - L) : j] and (h[n:] == 0).all()
    for u in range(ml100k.n_users):
        pos = [[seqs[u].index(t) for t in p.target[p.user == u].tolist()] for p in (ml100k.train, ml100k.valid, ml100k.test)]
        n = len(seqs[u]) - 1
        assert len(pos[0]) + len(pos[1]) == int(0.8 * n) and len(pos[2]) >= 1
        assert max(pos[0], default=0) < min(pos[1] + pos[2]) and max(pos[1], default=0) < min(pos[2])


def test_ml1m_counts_and_speed(tmp_path):
    need(ML1M)
    started = time.perf_counter()
    ds = load_dataset("ml-1m", data_dir=SHARED, cache_dir=tmp_path)
    cold = time.perf_counter() - started
    assert (ds.n_users, ds.n_items, ds.n_interactions) == (6_040, 3_416, 999_611)
    assert (len(ds.train), len(ds.valid), len(ds.test)) == (715_901, 76_533, 201_137)
    assert len(ds.train) + len(ds.valid) == 792_434  # the README's "about 792k" train and "201k" test
    assert ds.item_counts.sum() == len(ds.train)
    started = time.perf_counter()
    again = load_dataset("ml-1m", data_dir=SHARED, cache_dir=tmp_path)
    warm = time.perf_counter() - started
    assert np.array_equal(again.train.history, ds.train.history) and np.array_equal(again.test.target, ds.test.target)
    assert cold < 20 and warm < 10, (cold, warm)  # generous: about 1.3 s and 0.2 s on two idle cores
    loo = load_dataset("ml-1m", data_dir=SHARED, cache_dir=tmp_path, split="loo")
    assert (len(loo.train), len(loo.valid), len(loo.test)) == (993_571 - 2 * 6_040, 6_040, 6_040)
