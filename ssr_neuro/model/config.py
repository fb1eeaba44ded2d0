"""SSR hyper-parameters as one dataclass; the defaults are the ones in effect in the authors' code."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ssr_neuro.errors import UserError


def check_rules(rules: list[tuple[bool, str]]) -> None:
    """Raise UserError with the message of the first rule that does not hold."""
    for ok, message in rules:
        if not ok:
            raise UserError(message)


class PlainConfig:
    """``to_dict`` / ``from_dict`` of a dataclass model config as plain JSON (what checkpoints store)."""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict):
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise UserError(f"unknown model config keys {sorted(unknown)}; the file was written by another version")
        return cls(**d)


@dataclass(frozen=True)
class SSRConfig(PlainConfig):
    """Shape and neuron settings of an SSR model.

    n_items:        N; item ids are 1..N, 0 is padding (the embedding table has N+1 rows)
    max_len:        L, history length (positions 0..L-1)
    dim:            D, embedding size
    n_blocks:       number of FilterLayer + Intermediate blocks
    time_steps:     T, simulation steps of the spiking neurons (direct encoding)
    tau:            LIF membrane time constant (the reference hard-codes 2.0)
    threshold:      LIF firing threshold
    dropout:        dropout probability (training only)
    surrogate_alpha: ATan surrogate sharpness
    """

    n_items: int
    max_len: int = 20
    dim: int = 64
    n_blocks: int = 2
    time_steps: int = 4
    tau: float = 2.0
    threshold: float = 1.0
    dropout: float = 0.3
    surrogate_alpha: float = 2.0

    def __post_init__(self) -> None:
        rules = [
            (self.n_items >= 1, f"n_items must be >= 1 (got {self.n_items})"),
            (self.max_len >= 1, f"max_len (L) must be >= 1 (got {self.max_len}); use --max-len 20"),
            (self.dim >= 1, f"dim (D) must be >= 1 (got {self.dim}); use --dim 64"),
            (self.n_blocks >= 1, f"n_blocks must be >= 1 (got {self.n_blocks}); use --blocks 2"),
            (self.time_steps >= 1, f"time_steps (T) must be >= 1 (got {self.time_steps}); use --time-steps 4"),
            (self.tau > 1.0, f"tau must be > 1 (got {self.tau}); use --tau 2.0"),
            (self.threshold > 0, f"threshold must be > 0 (got {self.threshold}); use --threshold 1.0"),
            (0.0 <= self.dropout < 1.0, f"dropout must be in [0, 1) (got {self.dropout}); use --dropout 0.3"),
        ]
        check_rules(rules)
