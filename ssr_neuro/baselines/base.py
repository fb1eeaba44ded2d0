"""What every baseline recommender shares: its config, the item table and scoring, and the op-counting rules.

Layout (as ``ssr_neuro.data.samples``): a history [B, L] is left-aligned and right-padded with item 0, ``length``
[B] (1..L) real items, so the last real item sits at position ``length - 1``. Every model reads its sequence
representation h [B, D] there (as SSR does) and scores all items by the dot product with the shared item table:

    scores = h . E^T                       [B, N + 1]   (column 0 = padding; rankings ignore it)
    loss   = cross_entropy(scores, target)              (full softmax over all items, as SSR)

Positions at or beyond ``length`` are set to item 0 before the model sees them, so what a caller leaves there never
changes the scores. E has ``padding_idx=0`` (row 0 is zero and not trained, as in RecBole and the papers' code).

Operation counting (``layer_ops()``: one inference of ONE history of length L, float32, eval mode) as a list of
``ssr_neuro.counting.LayerOps``, one per layer:

- macs: float32 multiply-accumulates of the layer's matrix products (linear maps, attention's QK^T and AV, the
  frequency filter as its real circulant matrix, a convolution as the linear map of its window at each window
  position, SR-GNN's propagation over the session graph) and of the point-wise products that are part of the model's
  equations (the GRU and SR-GNN gates, STAMP's h_s * h_t, LRURec's gamma * u and its recurrence lambda * h, four
  real MACs per complex product, BSARec's alpha-mix). Left out, as they are not MACs (and cost O(L D) against the
  matrix products' O(L D^2)): bias and residual adds, LayerNorm, activations (ReLU, GELU, sigmoid, tanh), softmax,
  max-pooling, the attention's 1/sqrt(d) scaling, the item table lookup, STAMP's mean (additions and one division
  per channel), building SR-GNN's session graph (comparisons, degree divisions).
- weight_words: float32 parameters read once per inference (a weight used at L positions is read once; a table
  lookup reads only the L rows it uses); biases and LayerNorm gains are parameters and are counted.
- weight_bytes: bytes of distinct parameters the layer stores (what sizes its SRAM); 4 bytes a word.
- activation_words: float32 inputs the layer reads from buffers (for a product of two activations, both operands).
The readout against the whole item table is a layer of (N + 1) x D MACs reading the (N + 1) x D table (the same
table as the lookup: its bytes are listed under both layers, as each layer's own SRAM).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ssr_neuro.counting import LayerOps
from ssr_neuro.errors import UserError
from ssr_neuro.model.config import PlainConfig, check_rules

FLOAT32_BYTES = 4

# Per-model defaults for the options left at None, from the papers / RecBole (functions of dim D where they scale):
#   n_layers: GRU layers, attention / filter / LRU blocks, or SR-GNN's propagation steps;  hidden: GRU state size,
#   feed-forward inner size, the soft attention's inner size (STAMP, SR-GNN), the LRU's complex state size (LRURec;
#   its feed-forward is 4D) or Caser's horizontal filters per height n_h;  dropout: probability on embeddings and
#   sub-layer outputs (NARM: embeddings; its context dropout is fixed; Caser: on the convolution features; STAMP and
#   SR-GNN: on the embeddings, 0 by default as they have none);  n_heads: attention heads (1 where not listed).
MODEL_DEFAULTS: dict[str, dict[str, Callable[[int], float]]] = {
    # RecBole GRU4Rec: hidden_size 128, num_layers 1, dropout_prob 0.3
    "gru4rec": {"n_layers": lambda d: 1, "hidden": lambda d: 128, "dropout": lambda d: 0.3},
    # Kang & McAuley 2018: 2 blocks, 1 head, point-wise FFN of width d (ReLU), dropout 0.2 on ML-1M
    "sasrec": {"n_layers": lambda d: 2, "hidden": lambda d: d, "dropout": lambda d: 0.2},
    # Zhou et al. 2022 (FMLP-Rec code): 2 blocks, feed-forward 4d (GELU), hidden_dropout_prob 0.5
    "fmlp-rec": {"n_layers": lambda d: 2, "hidden": lambda d: 4 * d, "dropout": lambda d: 0.5},
    # RecBole NARM: hidden_size 128, n_layers 1, dropout_probs [0.25, 0.5]
    "narm": {"n_layers": lambda d: 1, "hidden": lambda d: 128, "dropout": lambda d: 0.25},
    # RecBole Caser: nh 16 (hidden), nv 4 (caser.N_V), dropout_prob 0.4; one convolution layer
    "caser": {"n_layers": lambda d: 1, "hidden": lambda d: 16, "dropout": lambda d: 0.4},
    # RecBole STAMP: embedding_size only (attention W_1..W_3 d x d), no dropout; no layers to stack
    "stamp": {"n_layers": lambda d: 1, "hidden": lambda d: d, "dropout": lambda d: 0.0},
    # RecBole SRGNN: step 1, attention W_1, W_2 d x d, no dropout
    "sr-gnn": {"n_layers": lambda d: 1, "hidden": lambda d: d, "dropout": lambda d: 0.0},
    # LRURec authors' code (yueqirex/LRURec config.py, model/lru.py): bert_num_blocks 2, LRU state 2d,
    # bert_dropout = bert_attn_dropout = 0.2
    "lrurec": {"n_layers": lambda d: 2, "hidden": lambda d: 2 * d, "dropout": lambda d: 0.2},
    # BSARec authors' code (yehjin-shin/BSARec src/utils.py parse_args): num_hidden_layers 2, feed-forward 4d,
    # num_attention_heads 2, hidden_dropout_prob = attention_probs_dropout_prob = 0.5
    "bsarec": {"n_layers": lambda d: 2, "hidden": lambda d: 4 * d, "dropout": lambda d: 0.5, "n_heads": lambda d: 2},
}
COMMON_DEFAULTS: dict[str, Callable[[int], float]] = {"n_heads": lambda d: 1}


@dataclass(frozen=True)
class BaselineConfig(PlainConfig):
    """Shape and options of a baseline; ``None`` options take the model's default (``MODEL_DEFAULTS``) at creation,
    so the stored config (``to_dict``) always holds the values in effect.

    name:     a key of ``ssr_neuro.baselines.BASELINES``
    n_items:  N; items are 1..N, 0 is padding (the item table has N + 1 rows)
    max_len:  L, history length
    dim:      D, embedding size (also the size of the sequence representation scored against the items)
    n_layers: GRU layers (gru4rec, narm), blocks (sasrec, fmlp-rec, lrurec, bsarec) or propagation steps on the
              session graph (sr-gnn); caser has one convolution layer and stamp none to stack: must be 1
    hidden:   GRU state size (gru4rec, narm), feed-forward inner size (sasrec, fmlp-rec, bsarec), soft attention
              inner size (stamp, sr-gnn), complex LRU state size (lrurec) or horizontal filters per height n_h (caser)
    n_heads:  attention heads (sasrec, bsarec); must divide dim
    dropout:  dropout probability (training only)
    """

    name: str
    n_items: int
    max_len: int = 20
    dim: int = 64
    n_layers: int | None = None
    hidden: int | None = None
    n_heads: int | None = None
    dropout: float | None = None

    def __post_init__(self) -> None:
        if self.name not in MODEL_DEFAULTS:
            raise UserError(f"unknown baseline {self.name!r}; use one of {', '.join(MODEL_DEFAULTS)}")
        for key, default in {**COMMON_DEFAULTS, **MODEL_DEFAULTS[self.name]}.items():
            if getattr(self, key) is None:
                object.__setattr__(self, key, default(self.dim))
        rules = [
            (self.n_items >= 1, f"n_items must be >= 1 (got {self.n_items})"),
            (self.max_len >= 1, f"max_len (L) must be >= 1 (got {self.max_len}); use e.g. 20"),
            (self.dim >= 1, f"dim (D) must be >= 1 (got {self.dim}); use e.g. 64"),
            (self.n_layers >= 1, f"n_layers must be >= 1 (got {self.n_layers}); use e.g. 2"),
            (self.name != "caser" or self.n_layers == 1,
             f"caser has one convolution layer (got n_layers={self.n_layers}); leave n_layers unset"),
            (self.name != "stamp" or self.n_layers == 1,
             f"stamp has no layers to stack (got n_layers={self.n_layers}); leave n_layers unset"),
            (self.hidden >= 1, f"hidden must be >= 1 (got {self.hidden}); leave it unset for the model's default"),
            (self.n_heads >= 1 and self.dim % self.n_heads == 0,
             f"n_heads must be >= 1 and divide dim {self.dim} (got {self.n_heads}); use e.g. 1"),
            (0.0 <= self.dropout < 1.0, f"dropout must be in [0, 1) (got {self.dropout}); use e.g. 0.2"),
        ]
        check_rules(rules)


def init_weights(module: nn.Module) -> None:
    """Linear / Embedding weights N(0, 0.02^2), biases 0, LayerNorm (1, 0) (the SASRec / FMLP-Rec / RecBole rule);
    the padding row of an embedding back to 0."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)
        if isinstance(m, nn.Embedding) and m.padding_idx is not None:
            with torch.no_grad():
                m.weight[m.padding_idx].zero_()
        if isinstance(m, nn.LayerNorm):
            m.reset_parameters()


def last_rows(x: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
    """x [B, L, C] -> the rows at position length - 1, [B, 1, C]."""
    return x[torch.arange(x.shape[0], device=x.device), length - 1].unsqueeze(1)


class Baseline(nn.Module):
    """A sequential recommender scored against the shared item table; subclasses define ``encode`` and ``layer_ops``."""

    def __init__(self, cfg: BaselineConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.item_embedding = nn.Embedding(cfg.n_items + 1, cfg.dim, padding_idx=0)
        self.register_buffer("positions", torch.arange(cfg.max_len), persistent=False)

    def encode(self, history: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
        """history [B, L] (0 beyond length), length [B] -> sequence representation [B, D]."""
        raise NotImplementedError

    def layer_ops(self) -> list[LayerOps]:
        """One float32 inference of one length-L history, layer by layer (rules in the module docstring)."""
        raise NotImplementedError

    def forward(self, history: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
        """history [B, L], length [B] (1..L) -> representation at position length - 1 [B, D]."""
        if history.shape[1] != self.cfg.max_len:
            raise ValueError(f"history has {history.shape[1]} positions; the model expects L={self.cfg.max_len}")
        history = history.masked_fill(~self.real_positions(length), 0)
        return self.encode(history, length)

    def real_positions(self, length: torch.Tensor) -> torch.Tensor:
        """length [B] -> [B, L] bool, True at the positions 0..length-1 that hold real items."""
        return self.positions < length[:, None]

    def scores(self, history: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
        """Scores against the whole item table [B, N + 1] (column 0 is padding; rankings ignore it)."""
        return self(history, length) @ self.item_embedding.weight.t()

    def loss(self, history: torch.Tensor, length: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Full-softmax cross-entropy over all items (no negative sampling)."""
        return F.cross_entropy(self.scores(history, length), target)

    def embedding_ops(self, with_positions: bool) -> list[LayerOps]:
        """The item lookup (L rows of the (N + 1) x D table, no MACs) and, if used, the position table's L rows."""
        c = self.cfg
        ops = [LayerOps("embedding.item", 0, c.max_len * c.dim, (c.n_items + 1) * c.dim * FLOAT32_BYTES)]
        if with_positions:
            ops.append(LayerOps("embedding.position", 0, c.max_len * c.dim, c.max_len * c.dim * FLOAT32_BYTES))
        return ops

    def run_blocks(self, x: torch.Tensor, length: torch.Tensor, *extra: torch.Tensor) -> torch.Tensor:
        """x [B, L, C] through ``self.blocks`` (each called as block(x, *extra, length or None)) -> the rows at
        length - 1 [B, 1, C]. In eval mode the last block is given ``length`` and computes that row only."""
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            x = block(x, *extra, length if (i == last and not self.training) else None)
        return x if x.shape[1] == 1 else last_rows(x, length)

    def blocks_ops(self) -> list[LayerOps]:
        """The op counts of ``self.blocks`` (each block's ``ops(name, L, rows, dim, hidden)``): every block at L
        rows but the last, which needs the readout row only."""
        c = self.cfg
        ops = []
        for i, block in enumerate(self.blocks):
            rows = 1 if i == len(self.blocks) - 1 else c.max_len
            ops += block.ops(f"block{i}", c.max_len, rows, c.dim, c.hidden)
        return ops

    def readout_ops(self) -> LayerOps:
        """h . E^T against all N + 1 rows: (N + 1) x D MACs, the whole table read, h read."""
        c = self.cfg
        return dense_ops("readout", 1, c.dim, c.n_items + 1, bias=False)


def split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """[B, L, D] -> [B, heads, L, D / heads] for multi-head attention."""
    B, L, D = x.shape
    return x.view(B, L, heads, D // heads).transpose(1, 2)


def dense_ops(name: str, rows: int, n_in: int, n_out: int, bias: bool = True) -> LayerOps:
    """A linear map applied at ``rows`` positions: rows x n_in x n_out MACs, its n_in x n_out (+ n_out bias)
    parameters read once, rows x n_in inputs read."""
    words = n_in * n_out + (n_out if bias else 0)
    return LayerOps(name, rows * n_in * n_out, words, words * FLOAT32_BYTES, rows * n_in)


def product_ops(name: str, m: int, k: int, n: int) -> LayerOps:
    """A product of two activations [m, k] x [k, n]: m k n MACs, no weights, both operands read."""
    return LayerOps(name, m * k * n, 0, 0, m * k + k * n)


def norm_ops(name: str, rows: int, dim: int) -> LayerOps:
    """LayerNorm at ``rows`` positions: no MACs (element-wise), gain and bias read, rows x dim inputs read."""
    return LayerOps(name, 0, 2 * dim, 2 * dim * FLOAT32_BYTES, rows * dim)
