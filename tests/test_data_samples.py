"""Samples and splits: histories are exactly the previous <= L items; split sizes and time order per user."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssr_neuro.data.preprocess import Sequences
from ssr_neuro.data.samples import build_splits, item_counts, split_sizes
from ssr_neuro.data.types import Samples
from ssr_neuro.errors import DataError


def sequences(lists: list[list[int]]) -> Sequences:
    n_items = max((max(s) for s in lists if s), default=1)
    offsets = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in lists], out=offsets[1:])
    items = np.array([i for s in lists for i in s], dtype=np.int64)
    return Sequences(items=items, offsets=offsets, user_ids=[str(u) for u in range(len(lists))], item_ids=[str(i) for i in range(1, n_items + 1)])


def rows(samples: Samples) -> list[tuple]:
    """Each sample as (user, history tuple, target), checking the padding contract on the way."""
    out = []
    assert samples.history.dtype == np.int64 and samples.length.dtype == np.int64
    assert samples.target.dtype == np.int64 and samples.user.dtype == np.int64
    for h, n, t, u in zip(samples.history, samples.length, samples.target, samples.user):
        assert 1 <= n <= len(h) and (h[:n] > 0).all() and (h[n:] == 0).all()
        out.append((int(u), tuple(h[:n].tolist()), int(t)))
    return out


def expected_rows(lists: list[list[int]], L: int, split: str, test_ratio: float = 0.2, valid_ratio: float = 0.1):
    """Plain-Python samples and split, by the documented rules."""
    parts: dict[str, list] = {"train": [], "valid": [], "test": []}
    for u, s in enumerate(lists):
        samples = [(u, tuple(s[max(0, j - L) : j]), s[j]) for j in range(1, len(s))]
        n = len(samples)
        if split == "ufo":
            trainval = min(int(n * (1 - test_ratio) + 1e-9), max(n - 1, 0))
            valid = 0 if trainval < 2 or valid_ratio == 0 else min(max(1, int(trainval * valid_ratio + 1e-9)), trainval - 1)
        else:
            trainval = max(n - 1, 0)
            valid = 1 if n >= 2 else 0
        parts["train"] += samples[: trainval - valid]
        parts["valid"] += samples[trainval - valid : trainval]
        parts["test"] += samples[trainval:]
    return parts


def test_histories_are_the_previous_items():
    lists = [[5, 3, 9, 1, 2, 7, 4], [2, 8], [6], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]]
    seq = sequences(lists)
    for L in (1, 3, 20):
        for split in ("ufo", "loo"):
            train, valid, test = build_splits(seq, L, split)
            assert train.history.shape[1] == L
            want = expected_rows(lists, L, split)
            assert rows(train) == want["train"] and rows(valid) == want["valid"] and rows(test) == want["test"]


def test_ufo_sizes_match_int_point_eight():
    n = np.arange(0, 200)
    train, valid, test = split_sizes(n, "ufo", 0.2, 0.1)
    assert np.array_equal(train + valid, [min(int(0.8 * k), max(k - 1, 0)) for k in n])
    assert (test[n >= 1] >= 1).all() and (test[n == 0] == 0).all()
    assert (valid[train + valid >= 2] >= 1).all() and (train[n >= 3] >= 1).all()
    assert np.array_equal(valid[n == 100], [8])  # int(80 * 0.1) = 8
    t2, v2, _ = split_sizes(n, "ufo", 0.2, 0.0)
    assert (v2 == 0).all() and np.array_equal(t2, train + valid)


def test_loo_sizes():
    train, valid, test = split_sizes(np.array([0, 1, 2, 3, 10]), "loo")
    assert train.tolist() == [0, 0, 0, 1, 8]
    assert valid.tolist() == [0, 0, 1, 1, 1]
    assert test.tolist() == [0, 1, 1, 1, 1]


def test_item_counts_are_training_targets():
    seq = sequences([[1, 2, 3, 4, 5, 6], [3, 2, 1, 4, 5, 6, 2, 3]])
    train, _, _ = build_splits(seq, 5)
    counts = item_counts(train, seq.n_items)
    assert counts.dtype == np.int64 and counts.shape == (seq.n_items + 1,) and counts[0] == 0
    assert np.array_equal(counts, np.bincount(train.target, minlength=seq.n_items + 1))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_len": 0}, "max sequence length"),
        ({"max_len": 2.5}, "max sequence length"),
        ({"split": "random"}, "unknown split"),
        ({"test_ratio": 0.0}, "test ratio"),
        ({"test_ratio": 1.0}, "test ratio"),
        ({"valid_ratio": 1.0}, "validation ratio"),
        ({"test_ratio": "0.2"}, "test ratio"),
        ({"valid_ratio": float("nan")}, "validation ratio"),
    ],
)
def test_bad_options(kwargs, match):
    with pytest.raises(DataError, match=match):
        build_splits(sequences([[1, 2, 3]]), **kwargs)


@settings(max_examples=60, deadline=None)
@given(
    lists=st.lists(st.lists(st.integers(1, 60), min_size=0, max_size=40, unique=True), min_size=1, max_size=12),
    L=st.integers(1, 8),
    split=st.sampled_from(["ufo", "loo"]),
    test_ratio=st.sampled_from([0.1, 0.2, 0.3, 0.5]),
    valid_ratio=st.sampled_from([0.0, 0.1, 0.25]),
)
def test_splits_match_reference_and_keep_time_order(lists, L, split, test_ratio, valid_ratio):
    seq = sequences(lists)
    parts = build_splits(seq, L, split, test_ratio, valid_ratio)
    want = expected_rows(lists, L, split, test_ratio, valid_ratio)
    for got, name in zip(parts, ("train", "valid", "test")):
        assert rows(got) == want[name]
    # per user (items are unique, so a target names its position): train < valid < test in time, >= 1 test sample
    for u, items in enumerate(lists):
        where = [[items.index(int(t)) for t in p.target[p.user == u]] for p in parts]
        assert sum(len(w) for w in where) == max(len(items) - 1, 0)
        assert len(items) < 2 or len(where[2]) >= 1
        flat = where[0] + where[1] + where[2]
        assert flat == sorted(flat) == list(range(1, len(items)))
        if split == "ufo":
            assert len(where[0]) + len(where[1]) == min(int((len(items) - 1) * (1 - test_ratio) + 1e-9), max(len(items) - 2, 0))


def test_choose_draws_the_same_samples_for_the_same_seed_in_their_order():
    n = 50
    s = Samples(history=np.arange(n * 3).reshape(n, 3), length=np.full(n, 3), target=np.arange(n) + 1,
                user=np.arange(n) // 5)
    a, b, c = s.choose(10, 7), s.choose(10, 7), s.choose(10, 8)
    assert len(a) == 10 and np.array_equal(a.target, b.target) and not np.array_equal(a.target, c.target)
    assert np.all(np.diff(a.target) > 0) and np.array_equal(a.history[:, 0], (a.target - 1) * 3)
    assert len(s.choose(500, 0)) == n
