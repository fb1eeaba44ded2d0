"""The data types every other module sees: samples of one split and a prepared dataset.

A *sample* is one prediction task: the history (the previous at most L items of a user, in time order, left-aligned
and right-padded with 0, so the last real item sits at position ``length - 1``) and the target item that followed.
Item ids are dense, 1..n_items; 0 is padding. ``item_ids[i - 1]`` is the original id of item ``i``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Samples:
    """One split's samples as parallel arrays (row i is sample i)."""

    history: np.ndarray  # int64 [n, L], right-padded with 0
    length: np.ndarray  # int64 [n], 1..L: number of real items in the history
    target: np.ndarray  # int64 [n], 1..n_items
    user: np.ndarray  # int64 [n], dense user index 0..n_users-1

    def __len__(self) -> int:
        return int(self.target.shape[0])

    def choose(self, n: int, seed: int) -> "Samples":
        """``min(n, len(self))`` of these samples, drawn without replacement with ``numpy.random.default_rng(seed)``
        and kept in their order: how every command picks its calibration, activity and evaluation samples, so the
        same seed gives the same samples everywhere."""
        rng = np.random.default_rng(seed)
        pick = np.sort(rng.choice(len(self), size=min(n, len(self)), replace=False))
        return Samples(history=self.history[pick], length=self.length[pick], target=self.target[pick],
                       user=self.user[pick])


@dataclass(frozen=True)
class SequentialDataset:
    """A preprocessed, split dataset ready for training and evaluation."""

    name: str  # "synthetic", "ml-1m", or the file's name
    options: dict  # every preprocessing and split option (JSON-able); with `name` it identifies the data
    n_items: int  # N: items are 1..N
    item_ids: list[str]  # original id of item i at index i-1
    user_ids: list[str]  # original id of user u at index u
    train: Samples
    valid: Samples
    test: Samples
    n_interactions: int  # after preprocessing
    item_counts: np.ndarray = field(repr=False, default=None)  # int64 [N+1]: training-target counts (POP); [0] = 0

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    def describe(self) -> dict:
        """JSON-able description stored in checkpoints (enough to rebuild the same data and map ids back)."""
        return {
            "name": self.name,
            "options": dict(self.options),
            "n_items": self.n_items,
            "n_users": self.n_users,
            "n_interactions": self.n_interactions,
            "item_ids": list(self.item_ids),
        }
