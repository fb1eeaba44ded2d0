"""Preprocessing: dedup keeps the last, k-core is a fixed point, stable time sort, dense documented numbering."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssr_neuro.data.preprocess import (
    Sequences,
    drop_duplicates_keep_last,
    id_rank,
    k_core,
    preprocess,
    sort_by_user_time,
)
from ssr_neuro.errors import DataError


def table(rows: list[tuple]) -> pd.DataFrame:
    """rows of (user, item, timestamp); order = row position."""
    return pd.DataFrame(
        {
            "user": pd.array([str(r[0]) for r in rows], dtype="str"),
            "item": pd.array([str(r[1]) for r in rows], dtype="str"),
            "timestamp": np.array([r[2] for r in rows], dtype=np.int64),
            "order": np.arange(len(rows), dtype=np.int64),
        }
    )


def reference(rows: list[tuple], k: int) -> dict[str, list[str]]:
    """Plain-Python preprocessing: user -> original item ids in time order."""
    ordered = sorted(range(len(rows)), key=lambda r: (rows[r][2], r))
    last: dict[tuple, int] = {}
    for r in ordered:
        last[(str(rows[r][0]), str(rows[r][1]))] = r
    kept = set(last.values())
    while k > 1:
        users = Counter(str(rows[r][0]) for r in kept)
        items = Counter(str(rows[r][1]) for r in kept)
        smaller = {r for r in kept if users[str(rows[r][0])] >= k and items[str(rows[r][1])] >= k}
        if smaller == kept:
            break
        kept = smaller
    out: dict[str, list[str]] = {}
    for r in ordered:
        if r in kept:
            out.setdefault(str(rows[r][0]), []).append(str(rows[r][1]))
    return out


def as_dict(seq: Sequences) -> dict[str, list[str]]:
    return {seq.user_ids[u]: [seq.item_ids[i - 1] for i in seq.sequence(u)] for u in range(seq.n_users)}


def test_dedup_keeps_last_in_time_order():
    rows = [("u", "a", 5), ("u", "b", 1), ("u", "a", 2), ("u", "a", 5), ("v", "a", 0)]
    out = drop_duplicates_keep_last(table(rows))
    # (u, a) happens at t=5 twice: the later row in the file (row 3) wins; original row order is kept
    assert out["order"].tolist() == [1, 3, 4]
    seq = preprocess(table(rows), k=0)
    assert as_dict(seq) == {"u": ["b", "a"], "v": ["a"]}


def test_sort_tie_break_is_timestamp_then_file_order():
    rows = [("2", "x", 3), ("1", "y", 7), ("1", "z", 7), ("1", "w", 1), ("10", "q", 0)]
    out = sort_by_user_time(table(rows))
    assert out["item"].tolist() == ["w", "y", "z", "x", "q"]  # users 1, 2, 10 numerically
    assert as_dict(preprocess(table(rows), 0))["1"] == ["w", "y", "z"]


def test_numbering_is_dense_and_documented():
    rows = [("b", "10", 1), ("a", "9", 2), ("b", "9", 3), ("a", "100", 4), ("c", "07", 5), ("c", "7", 6)]
    seq = preprocess(table(rows), k=0)
    assert seq.user_ids == ["a", "b", "c"]  # strings: code-point order
    assert seq.item_ids == ["07", "7", "9", "10", "100"]  # all integers: numeric, ties ("07" = "7") by string
    assert sorted(set(seq.items.tolist())) == list(range(1, 6))
    assert seq.offsets.tolist() == [0, 2, 4, 6]
    assert as_dict(seq) == reference(rows, 0)
    mixed = id_rank(np.array(["b", "10", "9"]))
    assert mixed.tolist() == [2, 0, 1]


def test_k_core_reaches_fixed_point_and_disabling():
    rng = np.random.default_rng(0)
    rows = [(int(u), int(i), int(t)) for u, i, t in zip(rng.zipf(1.6, 3000) % 200, rng.zipf(1.4, 3000) % 150, rng.integers(0, 50, 3000))]
    df = drop_duplicates_keep_last(table(rows))
    core = k_core(df, 5)
    assert len(core) < len(df)
    assert core["user"].value_counts().min() >= 5 and core["item"].value_counts().min() >= 5
    assert k_core(core, 5).equals(core)
    assert k_core(df, 0).equals(df) and k_core(df, 1).equals(df)
    assert as_dict(preprocess(table(rows), 5)) == reference(rows, 5)


def test_errors():
    rows = [("u", "a", 1), ("u", "b", 2), ("v", "a", 3)]
    with pytest.raises(DataError, match="smaller --k-core"):
        preprocess(table(rows), k=5)
    with pytest.raises(DataError, match="k-core must be >= 0"):
        preprocess(table(rows), k=-1)
    with pytest.raises(DataError, match="lacks column"):
        preprocess(table(rows).drop(columns="order"))
    with pytest.raises(DataError, match="no interactions"):
        preprocess(table([]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 12), st.integers(0, 15), st.integers(0, 6)), min_size=1, max_size=160
    ),
    k=st.integers(0, 4),
)
def test_preprocess_matches_plain_reference(rows, k):
    expected = reference(rows, k)
    if not expected:
        with pytest.raises(DataError):
            preprocess(table(rows), k)
        return
    seq = preprocess(table(rows), k)
    assert as_dict(seq) == expected
    # fixed point: every user and item has >= k interactions, and no pair repeats
    assert (seq.lengths >= max(k, 1)).all()
    assert np.bincount(seq.items, minlength=seq.n_items + 1)[1:].min() >= max(k, 1)
    pairs = set()
    for u in range(seq.n_users):
        for i in seq.sequence(u).tolist():
            assert (u, i) not in pairs
            pairs.add((u, i))
    # applying the whole pipeline again (to its own output) changes nothing
    again_rows = [(seq.user_ids[u], seq.item_ids[i - 1], t) for u in range(seq.n_users) for t, i in enumerate(seq.sequence(u).tolist())]
    assert as_dict(preprocess(table(again_rows), k)) == expected
