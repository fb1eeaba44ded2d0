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


def test_a_large_catalog_is_reproducible_and_honoured():
    cfg = SyntheticConfig(n_items=50_000, n_users=300, min_len=15, max_len=30, zipf_exponent=0.5)
    table = generate_synthetic(7, cfg)
    assert table.equals(generate_synthetic(7, cfg))
    assert not table["item"].equals(generate_synthetic(8, cfg)["item"])
    items = table["item"].astype(int)
    assert items.min() >= 1 and items.max() <= 50_000 and items.nunique() > 2_000  # far beyond the default 400
    assert not table.duplicated(["user", "item"]).any()


def test_successors_are_distinct_never_the_item_and_drawn_by_successive_sampling():
    from ssr_neuro.data.synthetic import _successors

    rng = np.random.default_rng(0)
    n_items = 5_000
    flat = 1.0 / np.sqrt(rng.permutation(n_items) + 1.0)
    succ = _successors(rng, flat, 3)
    assert succ.shape == (n_items, 3)
    assert not (succ == np.arange(n_items)[:, None]).any()
    assert (np.sort(succ, axis=1)[:, 1:] != np.sort(succ, axis=1)[:, :-1]).all()
    # the first successor follows the weights: the heaviest 10% of items take about their weight share of it
    heavy = np.argsort(flat)[::-1][: n_items // 10]
    share = np.isin(succ[:, 0], heavy).mean()
    expected = flat[heavy].sum() / flat.sum()
    assert abs(share - expected) < 0.03, (share, expected)
    # and later ones are drawn from what is left, so they are lighter on average (as with choice(replace=False))
    assert flat[succ[:, 0]].mean() > flat[succ[:, 2]].mean()


def test_a_heavy_head_still_gives_distinct_successors_or_says_what_to_change():
    from ssr_neuro.data.synthetic import _successors

    flat = 10.0 ** -(6.0 * np.arange(8))  # each item a million times lighter than the one before
    succ = _successors(np.random.default_rng(1), flat, 3)
    assert not (succ == np.arange(8)[:, None]).any()
    assert all(len(set(row)) == 3 for row in succ.tolist())
    with pytest.raises(DataError, match="zipf_exponent"):
        _successors(np.random.default_rng(1), np.array([1.0, 1.0, 0.0, 0.0]), 2)
