"""Leaky integrate-and-fire neuron with an ATan surrogate gradient, multi-step over T (our own; no spikingjelly).

Equations (per neuron, time steps t = 1..T, v_0 = 0; "decay_input" form with hard reset to 0, as the reference):

    h_t = v_{t-1} + (x_t - v_{t-1}) / tau          (charge)
    s_t = Heaviside(h_t - theta)                    (fire: s_t = 1 when h_t >= theta)
    v_t = h_t * (1 - s_t)                           (hard reset to 0; s_t detached in this product)

The backward pass replaces dHeaviside/dh by the ATan surrogate, with x = h_t - theta:

    d s_t / d h_t  ~=  alpha / (2 * (1 + (pi/2 * alpha * x)^2))

Forward and backward over all T steps are fused into one autograd Function whose two kernels are plain tensor
functions. ``LIFKernels(compiled=True)`` hands them to ``torch.compile``, which fuses the T-step loop into one pass
over memory (about 5x faster on a CPU); ``compiled=False`` runs the same functions eagerly. Both give the same
spikes. ``lif_constant`` drives the neuron with the same input at every step (SSR's direct encoding of LIF#1).
"""

from __future__ import annotations

import functools
import math
import sys

import torch


def atan_surrogate(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """Derivative of the ATan surrogate: alpha / (2 * (1 + (pi/2 * alpha * x)^2))."""
    return (alpha / 2.0) / (1.0 + (math.pi / 2.0 * alpha * x) ** 2)


def lif_reference(x_seq: torch.Tensor, tau: float, threshold: float) -> torch.Tensor:
    """The equations above, step by step, for tests: x_seq [T, ...] -> spikes [T, ...] (no gradient)."""
    v = torch.zeros_like(x_seq[0])
    out = []
    for x in x_seq:
        h = v + (x - v) / tau
        s = (h >= threshold).to(x.dtype)
        v = h * (1.0 - s)
        out.append(s)
    return torch.stack(out)


def _charge_fire(x: torch.Tensor, time_steps: int, constant: bool, tau: float, threshold: float, keep_charge: bool):
    """The T-step loop: x [T, n] (or [n] if constant) -> spikes [T, n] and, if asked, h [T, n] for backward."""
    decay = 1.0 - 1.0 / tau
    v = torch.zeros_like(x if constant else x[0])
    spikes, charged = [], []
    for t in range(time_steps):
        h = v * decay + (x if constant else x[t]) / tau
        s = (h >= threshold).to(h.dtype)
        v = h * (1.0 - s)
        spikes.append(s)
        charged.append(h)
    return torch.stack(spikes), (torch.stack(charged) if keep_charge else None)


def _forward_const(x: torch.Tensor, time_steps: int, tau: float, threshold: float):
    return _charge_fire(x, time_steps, True, tau, threshold, True)


def _forward_seq(x: torch.Tensor, time_steps: int, tau: float, threshold: float):
    return _charge_fire(x, time_steps, False, tau, threshold, True)


def _infer_const(x: torch.Tensor, time_steps: int, tau: float, threshold: float):
    return _charge_fire(x, time_steps, True, tau, threshold, False)


def _infer_seq(x: torch.Tensor, time_steps: int, tau: float, threshold: float):
    return _charge_fire(x, time_steps, False, tau, threshold, False)


def _backward(grad_spikes: torch.Tensor, charged: torch.Tensor, spikes: torch.Tensor, constant: bool, tau: float,
              threshold: float, alpha: float) -> torch.Tensor:
    """dL/dx from dL/ds [T, n] by back-propagation through the T steps (reset path detached)."""
    decay = 1.0 - 1.0 / tau
    grad_v = torch.zeros_like(charged[0])
    grads = []
    for t in range(charged.shape[0] - 1, -1, -1):
        grad_h = grad_spikes[t] * atan_surrogate(charged[t] - threshold, alpha) + grad_v * (1.0 - spikes[t])
        grads.append(grad_h / tau)
        grad_v = grad_h * decay
    if constant:
        return torch.stack(grads).sum(0)
    return torch.stack(grads[::-1])


def _backward_const(grad_spikes, charged, spikes, tau: float, threshold: float, alpha: float):
    return _backward(grad_spikes, charged, spikes, True, tau, threshold, alpha)


def _backward_seq(grad_spikes, charged, spikes, tau: float, threshold: float, alpha: float):
    return _backward(grad_spikes, charged, spikes, False, tau, threshold, alpha)


_EAGER_KERNELS = {"forward_const": _forward_const, "forward_seq": _forward_seq, "infer_const": _infer_const,
                  "infer_seq": _infer_seq, "backward_const": _backward_const, "backward_seq": _backward_seq}


class LIFKernels:
    """The kernels, eager or compiled by ``torch.compile`` (falls back to eager if compiling fails).

    Training kernels are compiled for static sizes (a batch size and the last partial batch: the fastest code);
    the forward-only inference kernels (no h kept) become dynamic in the size, since evaluation batches vary.
    """

    def __init__(self, compiled: bool = False) -> None:
        self.kernels = _compiled_kernels() if compiled else _EAGER_KERNELS
        self.compiled = self.kernels is not _EAGER_KERNELS

    def __getitem__(self, name: str):
        return self.kernels[name]

    def __repr__(self) -> str:
        return f"LIFKernels(compiled={self.compiled})"


@functools.lru_cache(maxsize=1)
def _compiled_kernels() -> dict:
    """Compile the kernels once per process; on any failure (no C++ compiler, ...) warn and return the eager ones."""
    try:
        out = {name: torch.compile(fn, dynamic=None if name.startswith("infer") else False)
               for name, fn in _EAGER_KERNELS.items()}
        x = torch.zeros(4, 8)
        s, h = out["forward_seq"](x, 4, 2.0, 1.0)  # compile one now so that a failure shows here
        out["backward_seq"](torch.zeros_like(s), h, s, 2.0, 1.0, 2.0)
        return out
    except Exception as exc:  # noqa: BLE001 - any compiler problem means: run eagerly
        print(f"warning: torch.compile unavailable ({type(exc).__name__}); LIF runs eagerly (slower)",
              file=sys.stderr)
        return _EAGER_KERNELS


class _LIFMultiStep(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, time_steps: int, constant: bool, tau: float, threshold: float, alpha: float,
                kernels: LIFKernels):
        flat = x.reshape(-1) if constant else x.reshape(x.shape[0], -1)
        kind = "const" if constant else "seq"
        if ctx.needs_input_grad[0]:
            spikes, charged = kernels[f"forward_{kind}"](flat, time_steps, tau, threshold)
            ctx.save_for_backward(charged, spikes)
        else:
            spikes, _ = kernels[f"infer_{kind}"](flat, time_steps, tau, threshold)
        ctx.cfg = (kind, tau, threshold, alpha, kernels, x.shape)
        return spikes.reshape((time_steps,) + (x.shape if constant else x.shape[1:]))

    @staticmethod
    def backward(ctx, grad_spikes):
        charged, spikes = ctx.saved_tensors
        kind, tau, threshold, alpha, kernels, shape = ctx.cfg
        grad_x = kernels[f"backward_{kind}"](grad_spikes.reshape(spikes.shape), charged, spikes, tau, threshold, alpha)
        return grad_x.reshape(shape), None, None, None, None, None, None


_EAGER = LIFKernels(compiled=False)


def lif(x_seq: torch.Tensor, tau: float = 2.0, threshold: float = 1.0, alpha: float = 2.0,
        kernels: LIFKernels = _EAGER) -> torch.Tensor:
    """LIF over x_seq [T, ...] -> spikes [T, ...] with surrogate gradients."""
    return _LIFMultiStep.apply(x_seq, x_seq.shape[0], False, tau, threshold, alpha, kernels)


def lif_constant(x: torch.Tensor, time_steps: int, tau: float = 2.0, threshold: float = 1.0, alpha: float = 2.0,
                 kernels: LIFKernels = _EAGER) -> torch.Tensor:
    """LIF driven by the same input x [...] at each of T steps -> spikes [T, ...] (direct encoding)."""
    return _LIFMultiStep.apply(x, time_steps, True, tau, threshold, alpha, kernels)
