"""Training loop: Adam, cosine schedule per epoch, full-softmax cross-entropy, early stopping on validation MRR@10.

The best weights are deep-copied when validation MRR@10 improves (the reference stored a reference to the live
state dict, so its "best" model was the last one). Without a validation set (``valid_ratio`` 0, the reference's own
protocol) there is nothing to select on: every epoch runs, early stopping is off, and the last epoch's weights are
kept (``TrainResult.selection`` says which rule chose them). The test set is never looked at here. Ctrl-C stops
training and returns the weights chosen so far. With the same seed and thread count, CPU runs are reproducible.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import torch

from ssr_neuro.data.types import SequentialDataset
from ssr_neuro.errors import UserError
from ssr_neuro.progress import log, progress_bar
from ssr_neuro.training.evaluate import Recommender, evaluate_model

SELECTION_METRIC = "MRR@10"
BEST_VALID = f"best validation {SELECTION_METRIC}"
LAST_EPOCH = "last epoch (no validation set)"


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; defaults are the reference's (Adam 1e-3, weight decay 1e-4, batch 128, 20 epochs)."""

    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 5  # epochs without a better validation MRR@10 before stopping; 0 = never stop early
    seed: int = 2024
    # torch.compile SSR's LIF kernels (same results, faster; falls back to eager); models without
    # use_compiled_kernels (the ANN baselines) ignore it
    compile: bool = True
    eval_batch_size: int = 1024

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_batch_size"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name.replace('_', '-')} must be >= 1 (got {getattr(self, name)})")
        if not self.lr > 0:
            raise UserError(f"--lr must be > 0 (got {self.lr})")
        if self.patience < 0:
            raise UserError(f"--patience must be >= 0 (got {self.patience}); 0 disables early stopping")


@dataclass
class TrainResult:
    best_state: dict
    best_epoch: int  # 1-based; 0 if no epoch finished
    best_valid: dict
    history: list[dict] = field(default_factory=list)
    interrupted: bool = False
    train_samples_per_s: float = 0.0
    selection: str = BEST_VALID  # how best_epoch was chosen: BEST_VALID, or LAST_EPOCH without a validation set


def training_record(cfg: TrainConfig, result: TrainResult, **extra) -> dict:
    """What a checkpoint records of its training (plain data): the config, the kept epoch and how it was selected,
    the history, the speed and the thread count, plus ``extra``."""
    return {"config": {**cfg.__dict__}, "best_epoch": result.best_epoch, "selection": result.selection,
            "epochs_run": len(result.history),
            "interrupted": result.interrupted, "history": result.history,
            "train_samples_per_s": result.train_samples_per_s, "threads": torch.get_num_threads(), **extra}


def train(model: Recommender, data: SequentialDataset, cfg: TrainConfig, show_progress: bool = True) -> TrainResult:
    """Train ``model`` (SSR or a baseline: any ``Recommender``) on ``data.train``, select on ``data.valid`` (the last
    epoch when it is empty); returns the kept weights and the history.

    The model's initial weights come from the caller (seed torch before building it); ``cfg.seed`` seeds the
    shuffling here and dropout draws from torch's generator, seeded again with ``cfg.seed`` at the start.
    """
    torch.manual_seed(cfg.seed)
    shuffle_gen = torch.Generator().manual_seed(cfg.seed)
    if cfg.compile and hasattr(model, "use_compiled_kernels"):
        model.use_compiled_kernels(True)
    # fused=True: one kernel for the whole update (same Adam arithmetic, about 3x less time than the per-tensor loop)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    history_t = torch.from_numpy(data.train.history)
    length_t = torch.from_numpy(data.train.length)
    target_t = torch.from_numpy(data.train.target)
    n = len(data.train)
    n_batches = math.ceil(n / cfg.batch_size)
    validate = len(data.valid) > 0
    result = TrainResult(best_state=copy.deepcopy(model.state_dict()), best_epoch=0, best_valid={},
                         selection=BEST_VALID if validate else LAST_EPOCH)
    if not validate:
        log(f"no validation set: training all {cfg.epochs} epochs (no early stopping) and keeping the last one")
    best_score, stale = -math.inf, 0
    train_time, trained = 0.0, 0
    try:
        for epoch in range(1, cfg.epochs + 1):
            model.train()
            order = torch.randperm(n, generator=shuffle_gen)
            total_loss, t0 = 0.0, time.perf_counter()
            with progress_bar(f"epoch {epoch}/{cfg.epochs}", total=n, enabled=show_progress) as advance:
                for b in range(n_batches):
                    idx = order[b * cfg.batch_size:(b + 1) * cfg.batch_size]
                    loss = model.loss(history_t[idx], length_t[idx], target_t[idx])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    total_loss += float(loss.detach()) * idx.shape[0]
                    advance(idx.shape[0])
            epoch_time = time.perf_counter() - t0
            train_time += epoch_time
            trained += n
            sched.step()
            valid = evaluate_model(model, data.valid, batch_size=cfg.eval_batch_size, label="validate",
                                   show_progress=show_progress)
            improved = validate and valid[SELECTION_METRIC] > best_score
            if improved:
                best_score = valid[SELECTION_METRIC]
            if improved or not validate:  # without validation every epoch replaces the one before
                stale = 0
                result.best_state = copy.deepcopy(model.state_dict())
                result.best_epoch, result.best_valid = epoch, valid
            else:
                stale += 1
            row = {"epoch": epoch, "loss": total_loss / n, "lr": opt.param_groups[0]["lr"],
                   "train_s": epoch_time, "samples_per_s": n / epoch_time,
                   **{f"valid_{k}": v for k, v in valid.items() if k != "n_samples"}}
            result.history.append(row)
            scores = (f"valid HR@10 {valid['HR@10']:.4f}  NDCG@10 {valid['NDCG@10']:.4f}  MRR@10 {valid['MRR@10']:.4f}"
                      if validate else "no validation")
            log(f"epoch {epoch:>3}/{cfg.epochs}  loss {row['loss']:.4f}  {scores}  "
                f"{row['samples_per_s']:,.0f} samples/s{'  *best' if improved else ''}")
            if cfg.patience and stale >= cfg.patience:
                log(f"early stop: no better validation {SELECTION_METRIC} for {cfg.patience} epochs "
                    f"(best epoch {result.best_epoch})")
                break
    except KeyboardInterrupt:
        result.interrupted = True
        log(f"interrupted: keeping the weights of epoch {result.best_epoch} ({result.selection})")
    result.train_samples_per_s = trained / train_time if train_time else 0.0
    model.load_state_dict(result.best_state)
    return result
