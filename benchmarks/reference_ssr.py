"""Reconstruction of the SSR authors' reference implementation, used ONLY as a yardstick.

SSR: "Cost-Effective On-Device Sequential Recommendation with Spiking Neural Networks", Di Yu et al., IJCAI 2025.
The authors' code lived in AmazingDD/serenRec (commit 0c85847, seren/recommender/ssr/ssr.py, data code in
seren/utils.py, driver in main.py), built on spikingjelly 0.0.0.0.14. This file is our own re-write of that code
from its description (shared/notes/ssr-reference.md) and from the facts of those files; it is not part of the
``ssr_neuro`` package and nothing in the package imports it. Run it with the isolated environment made by
``benchmarks/setup_reference.sh``::

    benchmarks/.venv-ref/bin/python benchmarks/reference_ssr.py --dataset ml-100k --threads 2 --batches 30 --json

What is reproduced as the authors had it (speed- and result-relevant choices)
---------------------------------------------------------------------------
* Model, module for module: ``FilterLayer`` (rfft along L, ortho, times a complex weight stored as a real
  parameter (1, L//2+1, D, 2) initialised randn*0.02 and viewed as complex, irfft to length L, Dropout, residual,
  ``nn.BatchNorm1d(D)`` applied as ``bn(x.transpose(-1, -2)).transpose(-1, -2)``), ``Intermediate`` (``nn.Linear``
  dense_1 computed once on [B, L, D] -> ``nn.BatchNorm1d(4D)`` with the same transposes -> ``unsqueeze(0).repeat(T)``
  -> LIF#1 -> spikingjelly ``layer.Linear`` dense_2 -> ``layer.Dropout`` (one mask over T) -> + input repeated over
  T -> spikingjelly ``layer.BatchNorm1d(D)`` on [T, B, D, L] (flattened to T*B by spikingjelly) -> LIF#2 -> mean
  over T -> ``nn.BatchNorm1d(D)``), ``Layer``, ``Encoder`` (``copy.deepcopy`` of one layer), ``SSR`` (item and
  learned position embeddings -> BN -> Dropout -> encoder -> gather at len-1 -> scores against the tied table).
  ``functional.set_step_mode(model, 'm')`` makes every spikingjelly module multi-step, as the authors did.
* Neurons: ``neuron.LIFNode(tau=2.0, detach_reset=True, surrogate_function=surrogate.ATan())`` with the library
  defaults v_threshold=1.0, v_reset=0.0 (hard reset), decay_input=True, ATan alpha=2.0, backend='torch'. In
  training mode spikingjelly's torch backend loops over T in Python (charge / fire / reset per step, with
  TorchScript'd charge and reset); in eval mode it uses its TorchScript'd multi-step function. That is the
  library's own behaviour on CPU, kept as is (the authors had no other CPU path: 'cupy' needs CUDA).
* Initialisation: every ``nn.Linear`` / ``nn.Embedding`` weight (including spikingjelly's ``layer.Linear``, a
  subclass, and the padding row) N(0, 0.02^2), biases 0; BatchNorm at PyTorch defaults (1, 0); the complex filter
  weight randn*0.02 from its constructor. ``padding_idx=0`` is passed to the embedding as they did (it only stops
  the gradient of row 0; the init then overwrites row 0 with N(0, 0.02^2)).
* Training step exactly as their ``fit``: ``zero_grad``, forward, ``logits = seq_output @ E^T`` over all N+1 rows,
  ``F.cross_entropy(logits, target)``, backward, ``Adam(lr 1e-3, weight_decay 1e-4)`` step, ``loss.item()`` every
  batch, ``functional.reset_net(model)`` after every batch; ``CosineAnnealingLR(T_max=epochs)`` stepped per epoch.
* Evaluation step exactly as their ``evaluate``: forward, scores against the whole table, a FULL descending
  ``torch.argsort`` of ``scores[:, 1:]`` (+1), top-10 slice, hit / rank / 1/rank / 1/log2(rank+1), and three
  ``.item()`` syncs per batch, ``reset_net`` after every batch, batch size 128 (their test loader used the
  training batch size). Run under ``torch.no_grad()`` as in their per-epoch evaluation inside ``fit``
  (``--eval-grad`` times their final call, which main.py made WITHOUT no_grad).
* Data loading: a ``torch.utils.data.Dataset`` returning per-sample tensors ``(seq[i], target[i], len[i])`` and a
  plain ``DataLoader(ds, batch_size=128, shuffle=..., num_workers=W)`` with default collate. Their default
  ``-worker`` was 4 (main.py), so ``--workers`` defaults to 4; ``--workers 0`` is the single-process variant.
  Worker processes fork from the main process and PyTorch sets 1 intra-op thread in each.
* Threads: the authors never called ``torch.set_num_threads``; on this 2-core machine PyTorch's default is 2,
  which is what ``--threads 2`` sets explicitly.
* Seed 2024 (``torch.manual_seed`` and ``np.random.seed``, their ``reproducibility`` block).

Where this file departs from their code, on purpose (per the project's notes; none of it changes the cost)
--------------------------------------------------------------------------------------------------------
* Duplicate (user, item) pairs ARE dropped (keep the last in file order, as their discarded call meant to);
  neither ML-100K nor the shared ML-1M file has any, so this changes nothing here.
* The sort by (user, time) is stable (mergesort); ties in ML-100K timestamps keep u.data's file order. The shared
  ML-1M file has no timestamps: the position in the line is the time (its ties were broken by item id upstream).
  Their pandas quicksort was not stable, so their tie order was arbitrary.
* Reported metrics are averaged PER SAMPLE (sums over batches / number of samples); the per-batch average the
  authors used (over-weighting the last partial batch) is reported beside it as ``*_per_batch_avg``.
* No validation split and no "best epoch": ``--epochs`` reports the test metrics after the last epoch, which is
  what their code effectively reported (its ``best_state_dict`` was an alias of the live weights).
* ML-100K had no loader in their code; it gets the same protocol (5-core, 80/20 "ufo", L=20). ML-1M is read from
  the shared SASRec-format file instead of ratings.dat (same 5-core content: 6,040 users, 3,416 items).
* No tqdm, no logger, no optuna, no dataset cache; no CUDA path.

The clock
---------
``--batches N --repeats R``: after 2 warm-up batches, R rounds of N batches each, one after the other on the same
DataLoader iterator (a new pass starts outside the clock if the data run out). Training samples/s = samples / wall
time of a round (DataLoader fetch + the whole step above, including ``loss.item()`` and ``reset_net``); the JSON
gives the median and every round. Evaluation: the same over ``--eval-batches`` (default N) test batches. Each round
also records its process CPU time per batch and ``foreign_cpu_pct``: the CPU that OTHER processes on the machine
used during the round (from /proc, in % of one core). The machines are shared and 2-core: with 2 intra-op threads
a single foreign busy process can slow a round down 5-10x (the two threads wait on each other), so only rounds
with a small foreign share are comparable. Peak RSS from ``resource.getrusage`` (this process; DataLoader
workers separately as RUSAGE_CHILDREN, i.e. the largest finished child).

Measured on this project's 2-core machine (torch 2.13.0+cpu, spikingjelly 0.0.0.0.14, 2 threads, batch 128)
-------------------------------------------------------------------------------------------------------
Rounds of 30 batches with under 10% foreign CPU, median (min-max) over 8-9 rounds from 3 processes:

============  ========  =============================  ==============================  ============
dataset       workers   train samples/s (ms/batch)     eval samples/s (ms/batch)       peak RSS MiB
============  ========  =============================  ==============================  ============
ML-100K       4         540 (503-610)  (237)           1,670 (1,560-1,816)  (77)        731-748
ML-100K       0         518 (452-554)  (247)           1,815 (1,736-1,940)  (71)        710-717
ML-1M         4         521 (459-622)  (246)           1,346 (1,221-1,679)  (95)        922-926
ML-1M         0         539 (479-565)  (238)           1,530 (1,443-1,724)  (84)        907-911
============  ========  =============================  ==============================  ============

The first runs of the day, on a quieter host, gave 641 / 654 train and 1,942 / 2,325 eval samples/s on
ML-100K (workers 4 / 0); a full ML-100K epoch took 147.5 s (531 samples/s) with workers 4. The project's notes
quote 740 train (172 ms/batch) and 2,250 eval samples/s for the authors' own code on this machine: this
reconstruction is 1.15-1.4x slower depending on the moment, inside the spread we see between quiet rounds of one
and the same process (450-650 samples/s). Checked and ruled out as causes: threads (2 threads is 1.55x faster
than 1; the authors' default is 2 here), DataLoader workers (4 vs 0 is within the noise; collate costs ~2 ms of
~220 ms), spikingjelly backend ('torch' is its only CPU path), ``.item()`` syncs and ``reset_net`` (~4 ms per
batch together with the Adam step). Where a training step's time goes (profile, ~220 ms): forward ~97 ms,
backward ~115 ms; by self CPU time: elementwise LIF / surrogate / residual ops (mul, add, div, sub, ge, atan,
~25%), fills and copies (zeros_like / ones_like / repeat / stack, ~19%), matmuls (~16%), BatchNorm forward and
backward (~14%), dropout masks (bernoulli, ~5%), FFTs (<1%). Nothing in this file
does more work per batch than the authors' loop (theirs adds tqdm and no-op ``.to(device)`` calls).
ML-1M trains at about the same rate as ML-100K (the [B, N+1] logits are small next to the encoder); one ML-1M
epoch (792,434 samples) would take about 25 minutes. Evaluation is slower on ML-1M because of the full argsort
over 3,416 items. About 275 MiB of the peak RSS is the interpreter with torch + spikingjelly + pandas imported.
Quality (``--epochs``): after 1 epoch on ML-100K, test HR@10 0.0686, NDCG@10 0.0318, MRR@10 0.0209 (per sample;
20,037 test samples). Training is deterministic for a seed: the epoch-1 loss sum (3901.2134) was identical with
1 and 2 threads. A 20-epoch ML-100K run had to be stopped at epoch 16 (loss sum 3290.27, still falling slowly);
its 20-epoch test numbers are still to be measured.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from spikingjelly.activation_based import functional, layer, neuron, surrogate

from cpu_clock import busy_jiffies, foreign_cpu_pct  # noqa: E402  (benchmarks/, beside this file)

# ----------------------------------------------------------------------------------------------------- model


class FilterLayer(nn.Module):
    """Learnable filter in the frequency domain (FMLP-Rec style) + residual + BatchNorm over [B, D, L]."""

    def __init__(self, max_seq_length: int, hidden_size: int, hidden_dropout_prob: float):
        super().__init__()
        self.complex_weight = nn.Parameter(
            torch.randn(1, max_seq_length // 2 + 1, hidden_size, 2, dtype=torch.float32) * 0.02
        )
        self.out_dropout = nn.Dropout(hidden_dropout_prob)
        self.bn = nn.BatchNorm1d(hidden_size)

    def forward(self, input_tensor: torch.Tensor) -> torch.Tensor:  # [B, L, D]
        seq_len = input_tensor.shape[1]
        x = torch.fft.rfft(input_tensor, dim=1, norm="ortho")
        x = x * torch.view_as_complex(self.complex_weight)
        filtered = torch.fft.irfft(x, n=seq_len, dim=1, norm="ortho")
        hidden = self.out_dropout(filtered) + input_tensor
        return self.bn(hidden.transpose(-1, -2)).transpose(-1, -2)


class Intermediate(nn.Module):
    """Spiking feed-forward part: dense_1 once, direct encoding over T, two LIF layers, rate readout."""

    def __init__(self, hidden_size: int, hidden_dropout_prob: float, T: int):
        super().__init__()
        self.T = T
        self.dense_1 = nn.Linear(hidden_size, 4 * hidden_size)
        self.bn_1 = nn.BatchNorm1d(4 * hidden_size)
        self.intermediate_act_lif = neuron.LIFNode(tau=2.0, detach_reset=True, surrogate_function=surrogate.ATan())
        self.dense_2 = layer.Linear(4 * hidden_size, hidden_size)
        self.dropout = layer.Dropout(hidden_dropout_prob)
        self.bn_2 = layer.BatchNorm1d(hidden_size)
        self.last_lif = neuron.LIFNode(tau=2.0, detach_reset=True, surrogate_function=surrogate.ATan())
        self.last_bn = nn.BatchNorm1d(hidden_size)

    def forward(self, input_tensor: torch.Tensor) -> torch.Tensor:  # [B, L, D]
        h = self.dense_1(input_tensor)  # float MACs, once
        h = self.bn_1(h.transpose(-1, -2)).transpose(-1, -2)
        h = h.unsqueeze(0).repeat(self.T, 1, 1, 1)  # [T, B, L, 4D], same current every step
        h = self.intermediate_act_lif(h)  # spikes
        h = self.dense_2(h)  # ACs on spikes
        h = self.dropout(h)  # one mask for all T
        h = h + input_tensor.unsqueeze(0).repeat(self.T, 1, 1, 1)
        h = self.bn_2(h.transpose(-1, -2)).transpose(-1, -2)  # statistics over T*B*L
        h = self.last_lif(h)
        h = h.mean(0)  # firing rate
        return self.last_bn(h.transpose(-1, -2)).transpose(-1, -2)


class Layer(nn.Module):
    def __init__(self, max_seq_length: int, hidden_size: int, hidden_dropout_prob: float, T: int):
        super().__init__()
        self.filterlayer = FilterLayer(max_seq_length, hidden_size, hidden_dropout_prob)
        self.intermediate = Intermediate(hidden_size, hidden_dropout_prob, T)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.intermediate(self.filterlayer(hidden_states))


class Encoder(nn.Module):
    def __init__(self, n_layers: int, max_seq_length: int, hidden_size: int, hidden_dropout_prob: float, T: int):
        super().__init__()
        one = Layer(max_seq_length, hidden_size, hidden_dropout_prob, T)
        self.layer = nn.ModuleList([copy.deepcopy(one) for _ in range(n_layers)])

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        for block in self.layer:
            hidden_states = block(hidden_states)
        return hidden_states


class SSR(nn.Module):
    def __init__(self, item_num: int, max_seq_len: int = 20, hidden_size: int = 64, n_layers: int = 2,
                 dropout: float = 0.3, T: int = 4):
        super().__init__()
        self.n_items = item_num + 1
        self.max_seq_length = max_seq_len
        self.item_embedding = nn.Embedding(self.n_items, hidden_size, padding_idx=0)
        self.position_embedding = nn.Embedding(max_seq_len, hidden_size)
        self.bn = nn.BatchNorm1d(hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.item_encoder = Encoder(n_layers, max_seq_len, hidden_size, dropout, T)
        functional.set_step_mode(self, "m")
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            module.weight.data.normal_(mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            module.bias.data.zero_()

    def forward(self, item_seq: torch.Tensor, item_seq_len: torch.Tensor) -> torch.Tensor:
        position_ids = torch.arange(item_seq.size(1), dtype=torch.long, device=item_seq.device)
        position_ids = position_ids.unsqueeze(0).expand_as(item_seq)
        emb = self.item_embedding(item_seq) + self.position_embedding(position_ids)
        emb = self.bn(emb.transpose(-1, -2)).transpose(-1, -2)
        emb = self.dropout(emb)
        out = self.item_encoder(emb)  # [B, L, D]
        index = (item_seq_len - 1).view(-1, 1, 1).expand(-1, -1, out.shape[-1])
        return out.gather(dim=1, index=index).squeeze(1)  # [B, D]


def expected_param_count(item_num: int, L: int = 20, D: int = 64, n_layers: int = 2) -> int:
    per_block = 8 * D * D + 19 * D + 2 * D * (L // 2 + 1)
    return n_layers * per_block + (item_num + 1) * D + L * D + 2 * D


# ------------------------------------------------------------------------------------------------------ data


def _load_ml100k(root: Path) -> pd.DataFrame:
    df = pd.read_csv(root / "ml-100k" / "u.data", sep="\t", header=None,
                     names=["user", "item", "rating", "timestamp"])
    return df[["user", "item", "timestamp"]]


def _load_ml1m(root: Path) -> pd.DataFrame:
    users, items, times = [], [], []
    with open(root / "ml-1m" / "ml-1m.txt", encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if not parts:
                continue
            u, its = int(parts[0]), parts[1:]
            users.extend([u] * len(its))
            items.extend(int(i) for i in its)
            times.extend(range(len(its)))  # position in the line is the time order
    return pd.DataFrame({"user": users, "item": items, "timestamp": times})


def build_samples(dataset: str, root: Path, max_len: int = 20, test_ratio: float = 0.2, core: int = 5):
    """Return (train, test, item_num); train/test = (seqs [n, L] long, targets [n], lens [n])."""
    df = {"ml-100k": _load_ml100k, "ml-1m": _load_ml1m}[dataset](root)
    df = df.drop_duplicates(["user", "item"], keep="last", ignore_index=True)
    while True:  # iterative k-core on users and items
        uc = df.groupby("user")["item"].transform("count")
        ic = df.groupby("item")["user"].transform("count")
        kept = df[(uc >= core) & (ic >= core)]
        if len(kept) == len(df):
            break
        df = kept
    df = df.reset_index(drop=True)
    # ids from 1 in sorted order of the original ids (pd.Categorical categories); 0 = padding
    df["user"] = pd.Categorical(df["user"]).codes.astype(np.int64) + 1
    df["item"] = pd.Categorical(df["item"]).codes.astype(np.int64) + 1
    item_num = int(df["item"].nunique())
    df = df.sort_values(["user", "timestamp"], kind="mergesort").reset_index(drop=True)

    uid = df["user"].to_numpy()
    iid = df["item"].to_numpy().copy()  # writable, for torch.from_numpy
    n = len(uid)
    firsts = np.r_[True, uid[1:] != uid[:-1]]
    starts = np.maximum.accumulate(np.where(firsts, np.arange(n), 0))  # index of each row's user start
    sample_rows = np.nonzero(~firsts)[0]  # every interaction after the user's first
    seqs = torch.zeros((len(sample_rows), max_len), dtype=torch.long)
    lens = np.empty(len(sample_rows), dtype=np.int64)
    for k, i in enumerate(sample_rows):
        s = max(starts[i], i - max_len)
        lens[k] = i - s
        seqs[k, : i - s] = torch.from_numpy(iid[s:i])  # right-padded
    targets = torch.from_numpy(iid[sample_rows].copy())
    lens_t = torch.from_numpy(lens)

    # "ufo": per user, samples in time order, first int(0.8 n) train, rest test
    sample_uid = uid[sample_rows]
    train_idx, test_idx = [], []
    bounds = np.r_[0, np.nonzero(sample_uid[1:] != sample_uid[:-1])[0] + 1, len(sample_uid)]
    for a, b in zip(bounds[:-1], bounds[1:]):
        split = a + int((b - a) * (1 - test_ratio))
        train_idx.extend(range(a, split))
        test_idx.extend(range(split, b))
    tr, te = torch.tensor(train_idx), torch.tensor(test_idx)
    return (seqs[tr], targets[tr], lens_t[tr]), (seqs[te], targets[te], lens_t[te]), item_num


class SequentialDataset(Dataset):
    def __init__(self, data):
        self.seqs, self.next_item, self.seq_lens = data

    def __len__(self):
        return len(self.next_item)

    def __getitem__(self, index):
        return self.seqs[index], self.next_item[index], self.seq_lens[index]


# ------------------------------------------------------------------------------------------- train / evaluate


def train_step(model: SSR, optimizer: torch.optim.Optimizer, seq, target, lens) -> float:
    optimizer.zero_grad()
    seq_output = model(seq, lens)
    logits = torch.matmul(seq_output, model.item_embedding.weight.transpose(0, 1))
    loss = F.cross_entropy(logits, target)
    loss.backward()
    optimizer.step()
    value = loss.item()
    functional.reset_net(model)
    return value


def eval_step(model: SSR, seq, target, lens, k: int = 10):
    """Their evaluate() body for one batch; returns per-batch SUMS (hr, mrr, ndcg) and the batch size."""
    seq_output = model(seq, lens)
    scores = torch.matmul(seq_output, model.item_embedding.weight.transpose(0, 1))
    rank_list = torch.argsort(scores[:, 1:], descending=True) + 1
    pred = rank_list[:, :k]
    B = pred.size(0)
    hit = pred == target.unsqueeze(1).expand(-1, k)
    ranks = (hit.nonzero(as_tuple=False)[:, -1] + 1).float()
    hr = hit.sum().item()
    mrr = torch.reciprocal(ranks).sum().item()
    ndcg = (1 / torch.log2(ranks + 1)).sum().item()
    functional.reset_net(model)
    return hr, mrr, ndcg, B


def evaluate(model: SSR, loader: DataLoader, k: int = 10, grad: bool = False) -> dict:
    model.eval()
    tot = np.zeros(3)
    per_batch = np.zeros(3)
    n = nb = 0
    with torch.set_grad_enabled(grad):
        for seq, target, lens in loader:
            hr, mrr, ndcg, B = eval_step(model, seq, target, lens, k)
            tot += (hr, mrr, ndcg)
            per_batch += (hr / B, mrr / B, ndcg / B)
            n += B
            nb += 1
    return {f"HR@{k}": tot[0] / n, f"MRR@{k}": tot[1] / n, f"NDCG@{k}": tot[2] / n,
            f"HR@{k}_per_batch_avg": per_batch[0] / nb, f"MRR@{k}_per_batch_avg": per_batch[1] / nb,
            f"NDCG@{k}_per_batch_avg": per_batch[2] / nb, "samples": n}


def _rss_mib(who) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux: KiB


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", choices=["ml-100k", "ml-1m"], default="ml-100k")
    p.add_argument("--data-root", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "datasets")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batches", type=int, default=30, help="timed training batches (after 2 warm-up)")
    p.add_argument("--eval-batches", type=int, default=None, help="timed eval batches (default: --batches)")
    p.add_argument("--repeats", type=int, default=3, help="timed rounds of --batches each (median reported)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--workers", type=int, default=4, help="DataLoader workers; the authors' default was 4")
    p.add_argument("--eval-grad", action="store_true",
                   help="evaluate without torch.no_grad(), as their final main.py evaluation did")
    p.add_argument("--epochs", type=int, default=0, help="also train this many full epochs and report test metrics")
    p.add_argument("--eval-every-epoch", action="store_true",
                   help="with --epochs: evaluate the test set after every epoch, as their fit() did")
    p.add_argument("--no-speed", action="store_true", help="skip the throughput rounds (only --epochs)")
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = p.parse_args(argv)
    eval_batches = args.batches if args.eval_batches is None else args.eval_batches

    torch.set_num_threads(args.threads)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    rss_imports = _rss_mib(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    train_data, test_data, item_num = build_samples(args.dataset, args.data_root)
    data_s = time.perf_counter() - t0
    rss_data = _rss_mib(resource.RUSAGE_SELF)
    train_ds, test_ds = SequentialDataset(train_data), SequentialDataset(test_data)

    def loader(ds, shuffle):
        return DataLoader(ds, batch_size=args.batch_size, shuffle=shuffle, num_workers=args.workers)

    model = SSR(item_num)
    n_params = sum(q.numel() for q in model.parameters() if q.requires_grad)
    expected = expected_param_count(item_num)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)  # (the per-epoch cosine
    # schedule does not change within the timed batches, so it is only built for --epochs)

    result = {
        "dataset": args.dataset, "threads": args.threads, "workers": args.workers, "batch_size": args.batch_size,
        "train_samples": len(train_ds), "test_samples": len(test_ds), "items": item_num,
        "params": n_params, "params_expected": expected, "params_ok": n_params == expected,
        "data_build_s": round(data_s, 2), "rss_after_imports_mib": round(rss_imports, 1),
        "rss_after_data_mib": round(rss_data, 1),
        "torch": torch.__version__, "spikingjelly": _sj_version(), "python": platform.python_version(),
    }

    # --- throughput: `--repeats` rounds of N timed batches in one process (2 warm-up batches first)
    def measure(ds, shuffle, step, n):
        runs = []
        it = iter(loader(ds, shuffle))
        for _ in range(2):
            step(*next(it))
        for _ in range(args.repeats):
            samples = done = 0
            busy0 = busy_jiffies()
            cpu0, t0 = time.process_time(), time.perf_counter()
            while done < n:
                try:
                    batch = next(it)
                except StopIteration:  # epoch exhausted: a new pass (new workers) outside the clock
                    sec, cpu = time.perf_counter() - t0, time.process_time() - cpu0
                    it = iter(loader(ds, shuffle))
                    batch = next(it)
                    t0, cpu0 = time.perf_counter() - sec, time.process_time() - cpu
                step(*batch)
                samples += batch[1].numel()
                done += 1
            sec, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            foreign = foreign_cpu_pct(busy0, busy_jiffies(), sec)
            runs.append({"samples_per_s": round(samples / sec, 1), "ms_per_batch": round(1000 * sec / done, 1),
                         "cpu_ms_per_batch": round(1000 * cpu / done, 1), "batches": done,
                         "foreign_cpu_pct": foreign,
                         "loadavg_1m": round(os.getloadavg()[0], 2)})
        del it
        return runs

    def summary(prefix, runs):
        rates = sorted(r["samples_per_s"] for r in runs)
        ms = sorted(r["ms_per_batch"] for r in runs)
        return {f"{prefix}_samples_per_s": rates[len(rates) // 2], f"{prefix}_samples_per_s_min": rates[0],
                f"{prefix}_samples_per_s_max": rates[-1], f"{prefix}_ms_per_batch": ms[len(ms) // 2],
                f"{prefix}_runs": runs}

    if not args.no_speed:
        model.train()
        result["loadavg_1m_start"] = round(os.getloadavg()[0], 2)
        runs = measure(train_ds, True, lambda seq, target, lens: train_step(model, optimizer, seq, target, lens),
                       args.batches)
        result.update(summary("train", runs))
        result["train_epoch_s_est"] = round(len(train_ds) / result["train_samples_per_s"], 1)

        model.eval()  # their evaluate body; under no_grad as in their fit() (unless --eval-grad)
        with torch.set_grad_enabled(args.eval_grad):
            runs = measure(test_ds, False, lambda seq, target, lens: eval_step(model, seq, target, lens),
                           eval_batches)
        result.update(summary("eval", runs))
        result["eval_grad"] = args.eval_grad

    # --- optional full training (fresh model, same seed) and test metrics
    if args.epochs > 0:
        torch.manual_seed(args.seed)
        model = SSR(item_num)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.epochs)
        train_loader, test_loader = loader(train_ds, True), loader(test_ds, False)
        epoch_log = []
        for epoch in range(1, args.epochs + 1):
            model.train()
            t_ep = time.perf_counter()
            total = 0.0
            for seq, target, lens in train_loader:
                total += train_step(model, optimizer, seq, target, lens)
            scheduler.step()
            epoch_log.append({"epoch": epoch, "loss_sum": round(total, 4), "s": round(time.perf_counter() - t_ep, 1)})
            if args.eval_every_epoch:  # their fit(): the test set after every epoch, under no_grad
                epoch_log[-1]["test"] = evaluate(model, test_loader, 10)
            print(f"epoch {epoch}/{args.epochs} loss_sum {total:.4f} {epoch_log[-1]['s']}s"
                  + (f" test HR@10 {epoch_log[-1]['test']['HR@10']:.4f}" if args.eval_every_epoch else ""),
                  file=sys.stderr)
        t_ev = time.perf_counter()
        metrics = evaluate(model, test_loader, 10, grad=args.eval_grad)
        result.update(epochs=args.epochs, epoch_log=epoch_log, test_eval_s=round(time.perf_counter() - t_ev, 1),
                      test=metrics)

    result["peak_rss_mib"] = round(_rss_mib(resource.RUSAGE_SELF), 1)
    result["peak_rss_children_mib"] = round(_rss_mib(resource.RUSAGE_CHILDREN), 1)

    if args.json:
        print(json.dumps(result))
    else:
        for key, val in result.items():
            print(f"{key}: {val}")
    if not result["params_ok"]:
        print(f"parameter count {n_params} != expected {expected}", file=sys.stderr)
        return 1
    return 0


def _sj_version() -> str:
    try:
        from importlib.metadata import version
        return version("spikingjelly")
    except Exception:  # pragma: no cover
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
