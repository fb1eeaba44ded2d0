"""Synthetic data: deterministic from the seed, Zipf-like popularity, structure a sequence model can use and POP cannot."""

from __future__ import annotations

import numpy as np
import pytest

from ssr_neuro.data.preprocess import preprocess
from ssr_neuro.data.samples import build_splits, item_counts
from ssr_neuro.data.synthetic import SyntheticConfig, generate_synthetic
from ssr_neuro.errors import DataError


@pytest.fixture(scope="module")
def table():
    return generate_synthetic(2024)


def test_same_seed_same_table_other_seed_other(table):
    again = generate_synthetic(2024)
    assert table.equals(again)
    other = generate_synthetic(2025)
    assert not (len(other) == len(table) and (other["item"].to_numpy() == table["item"].to_numpy()).all())


def test_shape_and_size(table):
    assert list(table.columns) == ["user", "item", "timestamp", "order"]
    assert 25_000 <= len(table) <= 35_000
    lengths = table.groupby("user").size()
    assert len(lengths) == 800 and lengths.min() >= 15 and lengths.max() <= 50
    assert not table.duplicated(["user", "item"]).any()  # dedup cannot destroy the structure
    assert table["item"].nunique() <= 400


def test_popularity_is_zipf_like(table):
    counts = np.sort(table["item"].value_counts().to_numpy())[::-1]
    n_items = 400
    share = counts[: n_items // 10].sum() / counts.sum()
    assert share > 0.3, share  # uniform popularity would give 0.1


def test_sequence_structure_beats_popularity(table):
    seq = preprocess(table, 5)
    assert 300 <= seq.n_items <= 400 and seq.n_users == 800
    train, _, test = build_splits(seq, 20)
    pop = item_counts(train, seq.n_items).astype(np.float64)
    # first-order transition counts from training samples (last history item -> target)
    transitions = np.zeros((seq.n_items + 1, seq.n_items + 1))
    np.add.at(transitions, (train.history[np.arange(len(train)), train.length - 1], train.target), 1.0)

    def hit_rate(scores: np.ndarray, k: int = 10) -> float:
        scores[:, 0] = -np.inf
        rank = (scores > scores[np.arange(len(test)), test.target][:, None]).sum(axis=1)
        return float((rank < k).mean())

    pop_hr = hit_rate(np.tile(pop, (len(test), 1)))
    last = test.history[np.arange(len(test)), test.length - 1]
    markov_hr = hit_rate(transitions[last] + 1e-6 * pop)
    assert pop_hr < 0.25 and markov_hr > 0.6 and markov_hr > 3 * pop_hr, (pop_hr, markov_hr)


def test_bad_config():
    with pytest.raises(DataError):
        generate_synthetic(0, SyntheticConfig(min_len=10, max_len=5))
    with pytest.raises(DataError):
        generate_synthetic(0, SyntheticConfig(p_follow=1.5))
    small = generate_synthetic(3, SyntheticConfig(n_users=5, n_items=12, min_len=12, max_len=12))
    assert len(small) == 60 and small.groupby("user")["item"].nunique().eq(12).all()
