"""Samples (history -> next item) and the train / validation / test splits, vectorised with numpy.

Every prefix is a sample: for a user's items s_0..s_n (time order) each s_j with j >= 1 is a target whose history is
the previous at most L items s_max(0, j-L)..s_{j-1}, left-aligned and right-padded with 0 (``history[:length]`` in
time order). A user with n + 1 interactions has n samples, kept in time order.

Splits (per user, on that user's samples in time order; a split never reorders samples):

``ufo`` (SSR's time-aware user-level split):
    ``n_trainval = floor(n * (1 - test_ratio) + 1e-9)``, capped at ``n - 1`` so every user with a sample has at
    least one test sample; the remaining ``n - n_trainval`` samples are test. With the default ``test_ratio`` 0.2
    this is ``int(0.8 * n)``, the reference's rule (the 1e-9 only guards float products such as 0.29 * 100).
    Validation is carved from the END of the train+valid samples (so it sits between train and test in time):
    ``n_valid = max(1, floor(n_trainval * valid_ratio + 1e-9))`` when ``n_trainval >= 2``, capped at
    ``n_trainval - 1`` (at least one training sample stays), and 0 when ``n_trainval < 2`` or ``valid_ratio`` is 0.

``loo`` (leave one out):
    the last sample is test, the one before it validation, the rest train. A user with one sample has only a test
    sample; with two, a validation and a test sample. ``test_ratio`` and ``valid_ratio`` are ignored.

Nothing here looks at test samples to make a choice: the split sizes depend only on each user's sample count.
"""

from __future__ import annotations

import numpy as np

from ssr_neuro.data.preprocess import Sequences
from ssr_neuro.data.types import Samples
from ssr_neuro.errors import DataError

SPLITS = ("ufo", "loo")
_EPS = 1e-9


def check_split_options(max_len: int, split: str, test_ratio: float, valid_ratio: float) -> None:
    """Raise DataError for an option no split can use."""
    if isinstance(max_len, bool) or not isinstance(max_len, (int, np.integer)) or max_len < 1:
        raise DataError(f"max sequence length must be an integer >= 1, got {max_len!r}; use e.g. --max-len 20")
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    if not (_is_real(test_ratio) and 0.0 < float(test_ratio) < 1.0):
        raise DataError(f"test ratio must be between 0 and 1 (exclusive), got {test_ratio!r}; use e.g. 0.2")
    if not (_is_real(valid_ratio) and 0.0 <= float(valid_ratio) < 1.0):
        raise DataError(f"validation ratio must be in [0, 1), got {valid_ratio!r}; use e.g. 0.1 (0: no validation)")


def _is_real(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def split_sizes(
    n_samples: np.ndarray, split: str = "ufo", test_ratio: float = 0.2, valid_ratio: float = 0.1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-user (n_train, n_valid, n_test) from per-user sample counts, by the rules in the module docstring."""
    n = np.asarray(n_samples, dtype=np.int64)
    if split == "ufo":
        trainval = np.floor(n * (1.0 - float(test_ratio)) + _EPS).astype(np.int64)
        trainval = np.clip(trainval, 0, np.maximum(n - 1, 0))
        if valid_ratio > 0:
            valid = np.maximum(1, np.floor(trainval * float(valid_ratio) + _EPS).astype(np.int64))
            valid = np.minimum(valid, trainval - 1)
            valid = np.where(trainval >= 2, valid, 0)
        else:
            valid = np.zeros_like(n)
        train = trainval - valid
        test = n - trainval
    elif split == "loo":
        test = np.minimum(n, 1)
        valid = np.minimum(np.maximum(n - 1, 0), 1)
        train = n - test - valid
    else:
        raise DataError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    return train, valid, test


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + c)`` for every (s, c), vectorised."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    exclusive = np.cumsum(counts) - counts
    return np.repeat(np.asarray(starts, dtype=np.int64) - exclusive, counts) + np.arange(total, dtype=np.int64)


def materialize(seq: Sequences, positions: np.ndarray, users: np.ndarray, max_len: int) -> Samples:
    """Samples whose targets are ``seq.items[positions]`` (each position > its user's first)."""
    positions = np.asarray(positions, dtype=np.int64)
    users = np.asarray(users, dtype=np.int64)
    first = seq.offsets[users] if len(users) else np.zeros(0, dtype=np.int64)
    start = np.maximum(positions - max_len, first)
    length = positions - start
    cols = np.arange(max_len, dtype=np.int64)
    if len(positions):
        index = start[:, None] + cols[None, :]
        np.minimum(index, positions[:, None] - 1, out=index)  # clamp padding slots to a valid index ...
        history = seq.items[index].astype(np.int64, copy=False)
        history[cols[None, :] >= length[:, None]] = 0  # ... and zero them
    else:
        history = np.zeros((0, max_len), dtype=np.int64)
    target = seq.items[positions].astype(np.int64) if len(positions) else np.zeros(0, dtype=np.int64)
    return Samples(history=history, length=length.astype(np.int64), target=target, user=users)


def build_splits(
    seq: Sequences,
    max_len: int = 20,
    split: str = "ufo",
    test_ratio: float = 0.2,
    valid_ratio: float = 0.1,
    sizes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[Samples, Samples, Samples]:
    """(train, valid, test) samples of ``seq``; ``sizes`` (per-user counts) defaults to :func:`split_sizes`."""
    check_split_options(max_len, split, test_ratio, valid_ratio)
    n_samples = np.maximum(seq.lengths - 1, 0)
    train_n, valid_n, test_n = sizes if sizes is not None else split_sizes(n_samples, split, test_ratio, valid_ratio)
    if not np.array_equal(train_n + valid_n + test_n, n_samples):
        raise DataError("split sizes do not add up to the samples per user; the cached data is inconsistent, delete it")
    users = np.arange(seq.n_users, dtype=np.int64)
    first_target = seq.offsets[:-1] + 1
    out = []
    skip = np.zeros_like(n_samples)
    for counts in (train_n, valid_n, test_n):
        positions = _ranges(first_target + skip, counts)
        out.append(materialize(seq, positions, np.repeat(users, counts), max_len))
        skip = skip + counts
    return out[0], out[1], out[2]


def item_counts(train: Samples, n_items: int) -> np.ndarray:
    """How often each item is a TRAINING target (int64 [n_items + 1], index 0 = 0): POP's scores."""
    counts = np.bincount(train.target, minlength=n_items + 1).astype(np.int64)
    counts[0] = 0
    return counts
