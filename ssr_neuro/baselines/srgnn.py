"""SR-GNN (Wu et al., AAAI 2019, "Session-based Recommendation with Graph Neural Networks"), as RecBole builds it
(recbole/model/sequential_recommender/srgnn.py, after the authors' code CRIPAC-DIG/SR-GNN).

Session graph of the real items s_0..s_{length-1}: one node per distinct item, an edge u -> v where v follows u
somewhere in the history (repeated transitions count once). Node slot j holds the item first seen at position j;
``alias[i]`` is the node of position i. Adjacency normalised by degree, as the paper's A^(in), A^(out):

    A_in[v, u]  = edge(u -> v) / indegree(v),   A_out[u, v] = edge(u -> v) / outdegree(u)   (0-degree: divide by 1)

Gated graph step (``n_layers`` steps, shared weights; h^0 = dropout(E[node items])):

    a_in = A_in (h W_in^T + b_in) + b_iah,   a_out = A_out (h W_out^T + b_out) + b_ioh           [B, L, D] each
    g_i = W_ih [a_in; a_out] + b_ih,  g_h = W_hh h + b_hh   (chunks r, z, n)
    r = sigmoid(g_i^r + g_h^r),  z = sigmoid(g_i^z + g_h^z),  n = tanh(g_i^n + r * g_h^n)
    h' = (1 - z) * h + z * n = h + z * (n - h)

Readout: v_i = h[alias[i]], v_t = v_{length-1};  alpha_i = q^T sigmoid(W_1 v_t + b_1 + W_2 v_i + b_2) (no softmax),
s_g = sum_{i < length} alpha_i v_i;  h = W_3 [s_g; v_t] + b_3;  scores = h . E^T.

Defaults: RecBole's SRGNN (step 1, attention inner size ``hidden`` = D, no dropout: ``dropout`` 0, on the node
embeddings when set); every parameter U(-1/sqrt(D), 1/sqrt(D)) as RecBole's _reset_parameters (the item table's
padding row then set back to 0, the shared rule of ``base``). Only positions 0..length-1 make nodes, edges and the
readout, so a history cut after ``length`` items gives the same representation.

Op count (one history of L distinct items: L nodes, ``base`` rules; S = n_layers steps, weights read once): per
step W_in and W_out at L nodes, A_in and A_out as [L, L] x [L, D] products, W_ih (2D -> 3D) and W_hh (D -> 3D) at L
nodes, the point-wise gate products r * g_h^n and z * (n - h), 2 D MACs per node (``srgnn.gates`` as GRU4Rec's);
then W_1 once, W_2 and q at L positions, the weighted sum [1, L] x [L, D], W_3 once, the readout. Building the graph
(comparisons, degree divisions) and the alias gather are not MACs and are left out.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ssr_neuro.counting import LayerOps
from ssr_neuro.baselines.base import FLOAT32_BYTES, Baseline, BaselineConfig, dense_ops, last_rows, product_ops


def session_graph(history: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """history [B, L], real [B, L] (True at positions < length) -> (node items [B, L] (0 in unused slots),
    alias [B, L] (node slot of each position), A_in [B, L, L], A_out [B, L, L])."""
    B, L = history.shape
    positions = torch.arange(L, device=history.device)
    same = (history[:, :, None] == history[:, None, :]) & real[:, None, :]
    alias = torch.where(real, same.int().argmax(-1), positions)  # first real position holding the same item
    nodes = history.masked_fill(~(real & (alias == positions)), 0)
    edges = torch.zeros(B, L * L, device=history.device)
    edges.scatter_add_(1, alias[:, :-1] * L + alias[:, 1:], real[:, 1:].float())  # i -> i+1 for i + 1 < length
    adjacency = edges.clamp(max=1.0).view(B, L, L)  # [u, v]
    a_in = adjacency.transpose(1, 2) / adjacency.sum(1).clamp(min=1.0).unsqueeze(-1)
    a_out = adjacency / adjacency.sum(2).clamp(min=1.0).unsqueeze(-1)
    return nodes, alias, a_in, a_out


class GatedGraphStep(nn.Module):
    """One propagation step of SR-GNN's gated graph network over a batch of session graphs."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.edge_in, self.edge_out = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.b_iah, self.b_ioh = nn.Parameter(torch.zeros(dim)), nn.Parameter(torch.zeros(dim))
        self.w_ih, self.w_hh = nn.Linear(2 * dim, 3 * dim), nn.Linear(dim, 3 * dim)

    def forward(self, h: torch.Tensor, a_in: torch.Tensor, a_out: torch.Tensor) -> torch.Tensor:
        """h [B, L, D] node states -> the next states [B, L, D]."""
        inputs = torch.cat([a_in @ self.edge_in(h) + self.b_iah, a_out @ self.edge_out(h) + self.b_ioh], dim=-1)
        i_r, i_z, i_n = self.w_ih(inputs).chunk(3, dim=-1)
        h_r, h_z, h_n = self.w_hh(h).chunk(3, dim=-1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return h + z * (n - h)


class SRGNN(Baseline):
    def __init__(self, cfg: BaselineConfig) -> None:
        super().__init__(cfg)
        d, h = cfg.dim, cfg.hidden
        self.dropout = nn.Dropout(cfg.dropout)
        self.step = GatedGraphStep(d)
        self.w_1, self.w_2 = nn.Linear(d, h), nn.Linear(d, h)
        self.q = nn.Linear(h, 1, bias=False)
        self.w_3 = nn.Linear(2 * d, d)
        bound = 1.0 / math.sqrt(d)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-bound, bound)
            self.item_embedding.weight[0].zero_()

    def encode(self, history: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
        real = self.real_positions(length)
        nodes, alias, a_in, a_out = session_graph(history, real)
        h = self.dropout(self.item_embedding(nodes))
        for _ in range(self.cfg.n_layers):
            h = self.step(h, a_in, a_out)
        v = h.gather(1, alias.unsqueeze(-1).expand(-1, -1, h.shape[-1]))  # [B, L, D] per position
        v_t = last_rows(v, length)
        alpha = self.q(torch.sigmoid(self.w_1(v_t) + self.w_2(v))) * real.unsqueeze(-1)  # [B, L, 1]
        s_g = alpha.transpose(1, 2) @ v
        return self.w_3(torch.cat([s_g, v_t], dim=-1))[:, 0]

    def layer_ops(self) -> list[LayerOps]:
        c = self.cfg
        L, D, H, S = c.max_len, c.dim, c.hidden, c.n_layers
        rows = S * L  # node updates over all steps

        def propagate(name: str) -> LayerOps:  # A (h W^T + b) + b_i*: [L, L] x [L, D] per step, its bias b_i*
            return LayerOps(name, rows * L * D, D, D * FLOAT32_BYTES, S * (L * L + L * D))

        return self.embedding_ops(with_positions=False) + [
            dense_ops("gnn.edge_in", rows, D, D), dense_ops("gnn.edge_out", rows, D, D),
            propagate("gnn.propagate_in"), propagate("gnn.propagate_out"),
            dense_ops("gnn.w_ih", rows, 2 * D, 3 * D), dense_ops("gnn.w_hh", rows, D, 3 * D),
            LayerOps("gnn.gates", rows * 2 * D, 0, 0, rows * 5 * D),  # reads r, g_h^n, z, n, h
            dense_ops("attention.w_1", 1, D, H), dense_ops("attention.w_2", L, D, H),
            dense_ops("attention.q", L, H, 1, bias=False), product_ops("attention.sum", 1, L, D),
            dense_ops("w_3", 1, 2 * D, D), self.readout_ops()]
