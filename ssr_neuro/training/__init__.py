"""Training, full-ranking evaluation and checkpoints."""

from ssr_neuro.training.checkpoint import load_checkpoint, save_checkpoint
from ssr_neuro.training.evaluate import evaluate_model, evaluate_pop
from ssr_neuro.training.train import TrainConfig, TrainResult, train

__all__ = ["TrainConfig", "TrainResult", "train", "evaluate_model", "evaluate_pop", "load_checkpoint",
           "save_checkpoint"]
