"""Training, full-ranking evaluation and checkpoints, for SSR and the ANN baselines alike."""

from ssr_neuro.training.checkpoint import load_checkpoint, load_model_checkpoint, save_checkpoint
from ssr_neuro.training.evaluate import Recommender, evaluate_model, evaluate_pop
from ssr_neuro.training.device import resolve_device
from ssr_neuro.training.train import TrainConfig, TrainResult, train, training_record

__all__ = ["Recommender", "TrainConfig", "TrainResult", "train", "evaluate_model", "evaluate_pop", "load_checkpoint",
           "load_model_checkpoint", "save_checkpoint", "training_record", "resolve_device"]
