"""The built-in synthetic dataset: seeded, small, with structure a sequence model can learn and POP cannot.

Generative story (all randomness from one ``numpy.random.Generator`` seeded by ``seed``):

- Items have Zipf-like popularity: item ``k`` gets weight ``1 / rank_k ** zipf_exponent`` for a random
  permutation of ranks.
- Every item has ``n_successors`` likely successors, drawn (without replacement, never itself) from a flattened
  popularity (weights ** ``successor_flatness``), with fixed preference weights ``successor_weights``.
- Each user walks: the first item comes from the popularity; then, with probability ``p_follow``, the next item is
  one of the current item's successors that the user has not seen yet (chosen by the preference weights);
  otherwise (or when every successor was seen) an unseen item is drawn from the popularity.
- A user never repeats an item, so duplicate removal leaves every sequence intact.
- Sequence lengths are uniform in ``[min_len, max_len]``; the timestamp is the position in the walk.

The defaults (800 users, 400 items, lengths 15..50, about 26k interactions) train SSR in a minute or two on two CPU
cores. The returned table has the loaders' shape (``user``, ``item``, ``timestamp``, ``order``) and goes through
the same preprocessing; ids are the strings "1".."n_users" and "1".."n_items".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ssr_neuro.errors import DataError

#: bump when the generator changes what a seed produces (part of the cache key)
GENERATOR_VERSION = 2


@dataclass(frozen=True)
class SyntheticConfig:
    """Parameters of the synthetic generator (all have defaults sized for a 1-2 minute CPU run)."""

    n_users: int = 800
    n_items: int = 400
    min_len: int = 15
    max_len: int = 50
    p_follow: float = 0.75
    n_successors: int = 3
    successor_weights: tuple[float, ...] = (0.6, 0.3, 0.1)
    zipf_exponent: float = 1.0
    successor_flatness: float = 0.5

    def as_dict(self) -> dict:
        out = asdict(self)
        out["successor_weights"] = list(self.successor_weights)
        out["generator_version"] = GENERATOR_VERSION
        return out

    @classmethod
    def from_options(cls, options: dict) -> "SyntheticConfig":
        """The config recorded by ``as_dict`` (a dataset's ``options["synthetic"]``)."""
        values = {k: v for k, v in options.items() if k in cls.__dataclass_fields__}
        if "successor_weights" in values:
            values["successor_weights"] = tuple(values["successor_weights"])
        return cls(**values)

    def check(self) -> None:
        if self.n_users < 1 or self.n_items < 2:
            raise DataError("synthetic data needs n_users >= 1 and n_items >= 2; raise them")
        if not (1 <= self.min_len <= self.max_len <= self.n_items):
            raise DataError("synthetic lengths need 1 <= min_len <= max_len <= n_items; fix min_len / max_len")
        if not (0.0 <= self.p_follow <= 1.0):
            raise DataError(f"synthetic p_follow must be in [0, 1], got {self.p_follow}; use e.g. 0.75")
        if not (1 <= self.n_successors < self.n_items) or len(self.successor_weights) != self.n_successors:
            raise DataError("synthetic n_successors must be in [1, n_items) with one weight each; fix successor_weights")


def _cdf(weights: np.ndarray) -> np.ndarray:
    """The normalised cumulative sum of ``weights`` (last entry exactly 1), for :func:`_draw`."""
    cdf = np.cumsum(weights)
    return cdf / cdf[-1]


def _draw(rng: np.random.Generator, cdf: np.ndarray, size: int) -> np.ndarray:
    """``size`` indices drawn from the distribution with cumulative sum ``cdf`` (an index of weight 0 never comes)."""
    return np.searchsorted(cdf, rng.random(size), side="right")


#: rounds of redrawing the clashing rows of a successor column before drawing what is left one row at a time
_REDRAW_ROUNDS = 32


def _successors(rng: np.random.Generator, flat: np.ndarray, n_successors: int) -> np.ndarray:
    """Every item's ``n_successors`` distinct successors, never itself, drawn from the weights ``flat`` one column
    at a time for all items at once: a draw that repeats the item or an earlier successor is drawn again, which
    samples the rest renormalised, i.e. successive sampling without replacement (what ``choice(replace=False,
    p=...)`` does per item), in O(n_items) instead of O(n_items**2). Rows still clashing after a few rounds (a
    very heavy head) are drawn from their renormalised rest directly."""
    n_items = len(flat)
    cdf = _cdf(flat)
    chosen = np.arange(n_items, dtype=np.int64)[:, None]  # per row: the item itself, then its successors so far
    for _ in range(n_successors):
        column = np.empty(n_items, dtype=np.int64)
        rows = np.arange(n_items)
        for _ in range(_REDRAW_ROUNDS):
            draw = _draw(rng, cdf, len(rows))
            clash = (draw[:, None] == chosen[rows]).any(axis=1)
            column[rows[~clash]] = draw[~clash]
            rows = rows[clash]
            if len(rows) == 0:
                break
        for row in rows.tolist():
            rest = flat.copy()
            rest[chosen[row]] = 0.0
            if not rest.sum() > 0.0:
                raise DataError(f"synthetic popularity leaves fewer than {n_successors + 1} items with a weight; "
                                "lower zipf_exponent or n_successors")
            column[row] = _draw(rng, _cdf(rest), 1)[0]
        chosen = np.concatenate([chosen, column[:, None]], axis=1)
    return chosen[:, 1:]


def generate_synthetic(seed: int = 2024, config: SyntheticConfig | None = None) -> pd.DataFrame:
    """The synthetic interaction table for ``seed`` (same seed, same table), in time linear in the catalog."""
    cfg = config or SyntheticConfig()
    cfg.check()
    rng = np.random.default_rng(seed)
    n_items = cfg.n_items
    ranks = rng.permutation(n_items) + 1
    popularity = 1.0 / ranks.astype(np.float64) ** cfg.zipf_exponent
    popularity_cdf = _cdf(popularity)
    succ_lists = _successors(rng, popularity**cfg.successor_flatness, cfg.n_successors).tolist()
    preference = [float(w) for w in cfg.successor_weights]
    lengths = rng.integers(cfg.min_len, cfg.max_len + 1, size=cfg.n_users)

    users: list[np.ndarray] = []
    walks: list[np.ndarray] = []
    for user, length in enumerate(lengths.tolist()):
        follow = (rng.random(length) < cfg.p_follow).tolist()
        pick = rng.random(length).tolist()
        pool = _draw(rng, popularity_cdf, 4 * length + 16).tolist()
        cursor = 0
        seen: set[int] = set()
        walk: list[int] = []
        current = -1
        for step in range(length):
            nxt = -1
            if current >= 0 and follow[step]:
                options = [(s, w) for s, w in zip(succ_lists[current], preference) if s not in seen]
                if options:
                    threshold = pick[step] * sum(w for _, w in options)
                    nxt = options[-1][0]
                    for s, w in options:
                        threshold -= w
                        if threshold < 0:
                            nxt = s
                            break
            while nxt < 0:
                if cursor == len(pool):
                    pool.extend(_draw(rng, popularity_cdf, 4 * length + 16).tolist())
                candidate = pool[cursor]
                cursor += 1
                if candidate not in seen:
                    nxt = candidate
            walk.append(nxt)
            seen.add(nxt)
            current = nxt
        walks.append(np.asarray(walk, dtype=np.int64))
        users.append(np.full(length, user, dtype=np.int64))
    user_col = np.concatenate(users) + 1
    item_col = np.concatenate(walks) + 1
    stamps = np.concatenate([np.arange(n, dtype=np.int64) for n in lengths.tolist()])
    return pd.DataFrame(
        {
            "user": pd.array(user_col.astype(str).astype(object), dtype="str"),
            "item": pd.array(item_col.astype(str).astype(object), dtype="str"),
            "timestamp": stamps,
            "order": np.arange(len(stamps), dtype=np.int64),
        }
    )
