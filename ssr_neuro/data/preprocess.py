"""Preprocessing of an interaction table into per-user item sequences (pure functions, no state).

The steps, in the order :func:`preprocess` applies them:

1. **Duplicates**: of several interactions of one user with one item, only the LAST in time order is kept
   (time order = ``timestamp``, ties broken by file ``order``).
2. **k-core**: users and items with fewer than ``k`` interactions are removed, repeatedly, until every remaining
   user and item has at least ``k`` (a fixed point). ``k`` of 0 or 1 disables the filter.
3. **Numbering**: items become 1..N (0 is padding), users 0..U-1, both in ascending order of their original id,
   compared as integers when every id of that kind is a plain decimal integer (ties, e.g. "7" and "07", then by
   the string), otherwise as strings (code-point order). The numbering therefore depends only on which ids
   survive, never on the file order or on any split. ``item_ids[i - 1]`` is the original id of item ``i`` and
   ``user_ids[u]`` that of user ``u``.
4. **Sorting**: each user's interactions by ``timestamp``, ties by file ``order`` (a stable, total order).

The result is a :class:`Sequences`: a CSR layout of every user's items in time order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ssr_neuro.errors import DataError


@dataclass(frozen=True)
class Sequences:
    """Every user's items in time order, in CSR form: user ``u`` has ``items[offsets[u]:offsets[u + 1]]``."""

    items: np.ndarray  # int64 [M], item ids 1..N
    offsets: np.ndarray  # int64 [U + 1], offsets[0] = 0, offsets[-1] = M
    user_ids: list[str]  # original id of user u at index u
    item_ids: list[str]  # original id of item i at index i - 1

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_interactions(self) -> int:
        return int(self.items.shape[0])

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def sequence(self, user: int) -> np.ndarray:
        return self.items[self.offsets[user] : self.offsets[user + 1]]


# ------------------------------------------------------------------------------------ array-level kernels


def time_order(timestamp: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Indices sorting rows by (timestamp, order): the documented, total time order."""
    return np.lexsort((order, timestamp))


def dedup_last_mask(user: np.ndarray, item: np.ndarray, timestamp: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Boolean mask keeping, for each (user, item) pair, its last row in time order."""
    n = len(user)
    keep = np.zeros(n, dtype=bool)
    if n == 0:
        return keep
    idx = time_order(timestamp, order)[::-1]  # latest first
    width = np.int64(item.max()) + 1
    key = user[idx].astype(np.int64) * width + item[idx].astype(np.int64)
    _, first = np.unique(key, return_index=True)  # first occurrence in latest-first order = last in time
    keep[idx[first]] = True
    return keep


def k_core_mask(user: np.ndarray, item: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the rows in the iterative k-core (every kept user and item has >= k kept rows)."""
    keep = np.ones(len(user), dtype=bool)
    if k <= 1 or len(user) == 0:
        return keep
    n_users = int(user.max()) + 1
    n_items = int(item.max()) + 1
    rows = np.arange(len(user))
    u, i = user, item
    while True:
        user_count = np.bincount(u, minlength=n_users)
        item_count = np.bincount(i, minlength=n_items)
        ok = (user_count[u] >= k) & (item_count[i] >= k)
        if ok.all():
            break
        rows, u, i = rows[ok], u[ok], i[ok]
        if len(rows) == 0:
            break
    keep[:] = False
    keep[rows] = True
    return keep


def id_rank(ids: np.ndarray | pd.Index | list[str]) -> np.ndarray:
    """Position of each id in the documented id order (integers numerically when all ids are integers)."""
    strings = np.asarray([str(s) for s in ids], dtype=str) if not isinstance(ids, np.ndarray) else ids.astype(str)
    if len(strings) == 0:
        return np.zeros(0, dtype=np.int64)
    all_int = all(s.isascii() and s.isdigit() and len(s) <= 18 for s in strings.tolist())
    if all_int:
        perm = np.lexsort((strings, strings.astype(np.int64)))
    else:
        perm = np.argsort(strings, kind="stable")
    rank = np.empty(len(strings), dtype=np.int64)
    rank[perm] = np.arange(len(strings), dtype=np.int64)
    return rank


# ------------------------------------------------------------------------------------ DataFrame functions


def _check_frame(df: pd.DataFrame) -> None:
    missing = [c for c in ("user", "item", "timestamp", "order") if c not in df.columns]
    if missing:
        raise DataError(f"interaction table lacks column(s) {missing}; load it with ssr_neuro.data.loaders")


def _codes(df: pd.DataFrame) -> tuple[np.ndarray, pd.Index, np.ndarray, pd.Index]:
    user, users = pd.factorize(df["user"], sort=False)
    item, items = pd.factorize(df["item"], sort=False)
    return user.astype(np.int64), users, item.astype(np.int64), items


def drop_duplicates_keep_last(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``df`` (in their original order) minus every (user, item) repeat but the last in time order."""
    _check_frame(df)
    user, _, item, _ = _codes(df)
    keep = dedup_last_mask(user, item, df["timestamp"].to_numpy(), df["order"].to_numpy())
    return df[keep]


def k_core(df: pd.DataFrame, k: int = 5) -> pd.DataFrame:
    """Rows of the iterative k-core of ``df`` (original order kept). ``k`` of 0 or 1 returns ``df`` unchanged."""
    _check_frame(df)
    if k < 0:
        raise DataError(f"k-core must be >= 0, got {k}; use 0 or 1 to disable it")
    user, _, item, _ = _codes(df)
    return df[k_core_mask(user, item, k)]


def sort_by_user_time(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` sorted by user (documented id order), then timestamp, then file order (stable and total)."""
    _check_frame(df)
    user, users, _, _ = _codes(df)
    rank = id_rank(users.to_numpy())[user] if len(users) else user
    idx = np.lexsort((df["order"].to_numpy(), df["timestamp"].to_numpy(), rank))
    return df.iloc[idx]


def preprocess(df: pd.DataFrame, k: int = 5) -> Sequences:
    """Dedup (keep last), iterative k-core, renumber ids and sort each user's items by time."""
    _check_frame(df)
    if k < 0:
        raise DataError(f"k-core must be >= 0, got {k}; use 0 or 1 to disable it")
    if len(df) == 0:
        raise DataError("no interactions to preprocess; check the data file")
    user, users, item, items = _codes(df)
    timestamp = df["timestamp"].to_numpy()
    order = df["order"].to_numpy()
    if timestamp.dtype.kind == "f" and not np.isfinite(timestamp).all():
        raise DataError("some timestamps are missing or infinite; fix the data file's time column")

    keep = dedup_last_mask(user, item, timestamp, order)
    user, item, timestamp, order = user[keep], item[keep], timestamp[keep], order[keep]
    keep = k_core_mask(user, item, k)
    user, item, timestamp, order = user[keep], item[keep], timestamp[keep], order[keep]
    if len(user) == 0:
        raise DataError(
            f"no interactions left after {k}-core filtering (every user or item had fewer than {k}); "
            "use a smaller --k-core (0 disables it)"
        )

    # renumber the surviving ids in the documented order
    used_users = np.unique(user)
    used_items = np.unique(item)
    user_strings = users.to_numpy(dtype=object)[used_users].astype(str)
    item_strings = items.to_numpy(dtype=object)[used_items].astype(str)
    user_map = np.full(len(users), -1, dtype=np.int64)
    item_map = np.full(len(items), -1, dtype=np.int64)
    user_rank = id_rank(user_strings)
    item_rank = id_rank(item_strings)
    user_map[used_users] = user_rank
    item_map[used_items] = item_rank + 1
    new_user = user_map[user]
    new_item = item_map[item]

    idx = np.lexsort((order, timestamp, new_user))
    seq_items = new_item[idx].astype(np.int64)
    counts = np.bincount(new_user, minlength=len(used_users)).astype(np.int64)
    offsets = np.zeros(len(used_users) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])

    user_ids = [""] * len(used_users)
    for s, r in zip(user_strings.tolist(), user_rank.tolist()):
        user_ids[r] = s
    item_ids = [""] * len(used_items)
    for s, r in zip(item_strings.tolist(), item_rank.tolist()):
        item_ids[r] = s
    return Sequences(items=seq_items, offsets=offsets, user_ids=user_ids, item_ids=item_ids)
