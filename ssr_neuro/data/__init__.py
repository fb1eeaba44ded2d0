"""Datasets: loaders, preprocessing, samples and splits, synthetic data, download and cache.

Entry point: :func:`load_dataset` (a name or a file -> a split :class:`SequentialDataset`), or
:func:`load_described` (the dataset a checkpoint or graph records, item ids checked), with
:func:`dataset_stats` / :func:`format_stats` for summaries and :func:`list_datasets` for what is available here.
"""

from ssr_neuro.data.registry import dataset_stats, format_stats, list_datasets, load_dataset, load_described
from ssr_neuro.data.types import Samples, SequentialDataset

__all__ = ["load_dataset", "load_described", "dataset_stats", "format_stats", "list_datasets", "Samples", "SequentialDataset"]
