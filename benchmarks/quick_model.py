"""A quickly trained SSR for benchmarks that need a model of a dataset's size but not its best quality: one epoch on
a random subset of the training samples (validation on a subset too), saved as a normal checkpoint; convert it with
``ssr-neuro convert``. Used for the timing benchmarks when no fully trained checkpoint is at hand.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/quick_model.py --dataset ml-1m --out runs/ml-1m/model.pt
    PYTHONPATH=$PWD .venv/bin/python -m ssr_neuro convert runs/ml-1m/model.pt -o runs/ml-1m/model.graph \
        --no-check --data-dir ../shared/datasets
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="ml-1m")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--samples", type=int, default=60000, help="training samples of the one epoch")
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    import torch

    from ssr_neuro.baselines import build_model, model_config
    from ssr_neuro.app.cli.common import load_data
    from ssr_neuro.training import TrainConfig, save_checkpoint, train, training_record

    ds = load_data(args.dataset, REPO.parent / "shared" / "datasets",
                    {"max_len": 20, "split": "ufo", "k_core": 5, "valid_ratio": 0.1, "seed": 2024}, False)
    small = dataclasses.replace(ds, train=ds.train.choose(args.samples, 0), valid=ds.valid.choose(4000, 0))
    torch.manual_seed(2024)
    torch.set_num_threads(1)
    model = build_model(model_config("ssr", ds.n_items, 20, 64))
    cfg = TrainConfig(epochs=1, compile=False)
    result = train(model, small, cfg, show_progress=False)
    save_checkpoint(args.out, model, ds.describe(),
                    training_record(cfg, result, note=f"1 epoch on {args.samples:,} training samples"),
                    {"valid": result.best_valid}, overwrite=args.force)
    print(f"saved {args.out}: valid HR@10 {result.best_valid['HR@10']:.4f} (4,000 validation samples)")


if __name__ == "__main__":
    main()
