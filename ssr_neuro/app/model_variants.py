"""The model variants of a design space: SSR retrained for model-axis settings (T, D, L, blocks, ...), converted,
quantised like the base graph, and cached on disk.

``VariantTrainer(base_graph, training, folder, data_dir, calibration_seed)`` is the ``models`` callable of
``ssr_neuro.app.dse.run`` (hardware/ never imports torch; this module is the model side of that boundary): called with a
point's model settings ({"time_steps": 2}) it returns the path of that variant's fixed-point graph. A variant is

1. the base graph's ``model_config`` with the settings written in (validated by ``SSRConfig``);
2. trained from scratch on the base graph's dataset (rebuilt with ``max_len`` = the variant's L, item ids checked)
   with the space's ``[training]`` table (``TrainConfig``: Adam, cosine over ``epochs``, early stopping on validation
   MRR@10, best weights kept), torch seeded with its ``seed`` as 'ssr-neuro train' does;
3. converted and quantised by the pipeline (``ssr_neuro.app.pipeline.convert_model``) with the base graph's recorded
   options (bit widths, overrides, percentile, clipping) on as many training samples as the base graph was calibrated
   on, chosen with ``calibration_seed`` (the ``SamplePlan`` the DSE's ``load_base`` uses).

Cache: ``folder/<key>.graph`` and the checkpoint ``folder/<key>.pt`` ('ssr-neuro evaluate' reads it), where ``key``
is 16 hex digits of the SHA-256 of everything the variant depends on (model config, dataset name, options and item
ids, training table, quantisation options, calibration seed). An existing graph is reused without training, so an
interrupted or repeated sweep trains each variant once. Files are written atomically; an interrupted training
writes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ssr_neuro.app.dse.space import TrainingSpec, canonical_json
from ssr_neuro.errors import UserError
from ssr_neuro.progress import log

@dataclass(frozen=True)
class VariantTrainer:
    """Builds (or finds) the graph of a model variant; see the module docstring."""

    base_graph: Path
    training: TrainingSpec
    folder: Path
    data_dir: Path | None = None
    calibration_seed: int = 0

    def _base_meta(self) -> dict:
        from ssr_neuro.graph.io import load_graph

        meta = load_graph(self.base_graph).meta
        if not meta.get("model_config") or not meta.get("dataset", {}).get("item_ids"):
            raise UserError(f"{self.base_graph} records no model config or dataset; model axes need a graph written "
                            "by 'ssr-neuro convert' from a checkpoint")
        return meta

    def plan(self, settings: dict) -> tuple[dict, dict, dict, str]:
        """(model config, dataset description, quantisation record of the base, cache key) of a variant."""
        from ssr_neuro.model import SSRConfig

        meta = self._base_meta()
        config = SSRConfig.from_dict({**meta["model_config"], **settings}).to_dict()
        desc = dict(meta["dataset"])
        desc["options"] = {**desc["options"], "max_len": config["max_len"]}
        quant = meta.get("quantization", {})
        recipe = {k: quant.get(k) for k in ("weight_bits", "activation_bits", "activation_bits_overrides",
                                            "weight_clip")}
        recipe["calibration"] = {k: quant.get("calibration", {}).get(k) for k in ("n_samples", "percentile")}
        identity = {"model": config, "training": self.training.key(), "quantization": recipe,
                    "calibration_seed": self.calibration_seed, "dataset": {
                        "name": desc["name"], "item_ids": hashlib.sha256(canonical_json(desc["item_ids"]).encode())
                        .hexdigest(), "options": {k: v for k, v in desc["options"].items()
                                                  if k not in ("data_file", "data_dir")}}}
        return config, desc, quant, hashlib.sha256(canonical_json(identity).encode()).hexdigest()[:16]

    def __call__(self, settings: dict) -> Path:
        config, desc, quant, key = self.plan(settings)
        path = self.folder / f"{key}.graph"
        if path.is_file():
            return path
        self.folder.mkdir(parents=True, exist_ok=True)
        log(f"model variant {settings}: training {key} ({self.training.epochs} epochs) into {self.folder}")
        self._build(config, desc, quant, path)
        return path

    def _build(self, config: dict, desc: dict, quant: dict, path: Path) -> None:
        import torch

        from ssr_neuro.app.pipeline import SamplePlan, convert_model
        from ssr_neuro.data import load_described
        from ssr_neuro.graph.io import save_graph
        from ssr_neuro.model import SSR, SSRConfig
        from ssr_neuro.training import TrainConfig, save_checkpoint, train, training_record

        t = self.training
        tcfg = TrainConfig(epochs=t.epochs, batch_size=t.batch_size, lr=t.lr, weight_decay=t.weight_decay,
                           patience=t.patience, seed=t.seed, compile=t.compile)
        ds = load_described(desc, self.data_dir, what=str(self.base_graph))
        torch.manual_seed(t.seed)
        model = SSR(SSRConfig.from_dict(config))
        result = train(model, ds, tcfg)
        if result.interrupted or result.best_epoch == 0:
            raise KeyboardInterrupt  # nothing cached: the variant is trained again next time
        training = training_record(tcfg, result, variant_of=str(self.base_graph))
        save_checkpoint(path.with_suffix(".pt"), model, ds.describe(), training, {"valid": result.best_valid},
                        overwrite=True)
        n = quant.get("calibration", {}).get("n_samples", SamplePlan.calibration)
        _, graph = convert_model(model, ds, SamplePlan(calibration=n, seed=self.calibration_seed), like=quant)
        graph.meta["training"] = {"best_epoch": result.best_epoch, "valid": result.best_valid}
        save_graph(graph, path, overwrite=True)
        log(f"model variant saved: {path} (best epoch {result.best_epoch}, valid HR@10 "
            f"{result.best_valid['HR@10']:.4f})")
