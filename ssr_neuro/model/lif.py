"""Leaky integrate-and-fire neuron with an ATan surrogate gradient, multi-step over T (our own; no spikingjelly).

Equations (per neuron, time steps t = 1..T, v_0 = 0; "decay_input" form with hard reset to 0, as the reference):

    h_t = v_{t-1} + (x_t - v_{t-1}) / tau          (charge)
    s_t = Heaviside(h_t - theta)                    (fire: s_t = 1 when h_t >= theta)
    v_t = h_t * (1 - s_t)                           (hard reset to 0; s_t detached in this product)

The backward pass replaces dHeaviside/dh by the ATan surrogate, with x = h_t - theta:

    d s_t / d h_t  ~=  alpha / (2 * (1 + (pi/2 * alpha * x)^2))

Forward and backward over all T steps are fused into one autograd Function whose two kernels are plain tensor
functions. Forward keeps only its input; backward recomputes h_t and s_t from it (the same operations, so the same
values) rather than storing two [T, n] tensors and reading them back: the kernels are bound by memory traffic,
and for LIF#1 (constant input, n = B*L*4D) this halves their time on a cold cache. ``LIFKernels(compiled=True)`` hands them to ``torch.compile``, which fuses the T-step loop into one pass
over memory (about 5x faster on a CPU); ``compiled=False`` runs the same functions eagerly. Both give the same
spikes. ``lif_constant`` drives the neuron with the same input at every step (SSR's direct encoding of LIF#1).
"""

from __future__ import annotations

import functools
import math
import operator
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


def _charge_fire(x: torch.Tensor, time_steps: int, constant: bool, tau: float, threshold: float):
    """The T-step loop: x [T, n] (or [n] if constant) -> spikes s_t and charges h_t, each a list of T tensors [n]."""
    decay = 1.0 - 1.0 / tau
    v = torch.zeros_like(x if constant else x[0])
    spikes, charged = [], []
    for t in range(time_steps):
        h = v * decay + (x if constant else x[t]) / tau
        s = (h >= threshold).to(h.dtype)
        v = h * (1.0 - s)
        spikes.append(s)
        charged.append(h)
    return spikes, charged


def _spikes_const(x: torch.Tensor, time_steps: int, tau: float, threshold: float) -> torch.Tensor:
    return torch.stack(_charge_fire(x, time_steps, True, tau, threshold)[0])


def _spikes_seq(x: torch.Tensor, time_steps: int, tau: float, threshold: float) -> torch.Tensor:
    return torch.stack(_charge_fire(x, time_steps, False, tau, threshold)[0])


def _backward(grad_spikes: torch.Tensor, x: torch.Tensor, constant: bool, tau: float, threshold: float,
              alpha: float) -> torch.Tensor:
    """dL/dx from dL/ds [T, n] by back-propagation through the T steps (reset path detached).

    The charges and spikes are recomputed from the input x (the same operations as the forward pass, so the same
    values): a few flops per neuron instead of keeping two [T, n] tensors from the forward pass and reading them
    back, which is what bounds these kernels (memory traffic).
    """
    decay = 1.0 - 1.0 / tau
    spikes, charged = _charge_fire(x, grad_spikes.shape[0], constant, tau, threshold)
    grad_v = torch.zeros_like(charged[0])
    grads = []
    for t in range(len(charged) - 1, -1, -1):
        grad_h = grad_spikes[t] * atan_surrogate(charged[t] - threshold, alpha) + grad_v * (1.0 - spikes[t])
        grads.append(grad_h / tau)
        grad_v = grad_h * decay
    if constant:  # a running sum (t = T-1 down to 0), not stack + sum: no [T, n] buffer
        return functools.reduce(operator.add, grads)
    return torch.stack(grads[::-1])


def _backward_const(grad_spikes, x, tau: float, threshold: float, alpha: float):
    return _backward(grad_spikes, x, True, tau, threshold, alpha)


def _backward_seq(grad_spikes, x, tau: float, threshold: float, alpha: float):
    return _backward(grad_spikes, x, False, tau, threshold, alpha)


# forward_* (training) and infer_* (no gradient) are the same functions, compiled for static and dynamic sizes
_EAGER_KERNELS = {"forward_const": _spikes_const, "forward_seq": _spikes_seq, "infer_const": _spikes_const,
                  "infer_seq": _spikes_seq, "backward_const": _backward_const, "backward_seq": _backward_seq}


class LIFKernels:
    """The kernels, eager or compiled by ``torch.compile`` for a device type ("cpu": C++, "cuda": Triton), falling
    back to eager if compiling fails there.

    Training kernels are compiled for static sizes (a batch size and the last partial batch: the fastest code);
    the forward-only inference kernels (no h kept) become dynamic in the size, since evaluation batches vary.
    """

    def __init__(self, compiled: bool = False, device: str | torch.device = "cpu") -> None:
        self.device_type = torch.device(device).type
        self.kernels = _compiled_kernels(self.device_type) if compiled else _EAGER_KERNELS
        self.compiled = self.kernels is not _EAGER_KERNELS

    def __getitem__(self, name: str):
        return self.kernels[name]

    def __repr__(self) -> str:
        return f"LIFKernels(compiled={self.compiled}, device={self.device_type!r})"


@functools.lru_cache(maxsize=None)
def _compiled_kernels(device_type: str) -> dict:
    """Compile the kernels once per process and device type, trying one on that device now so that a failure (no
    C++ compiler, no Triton for the GPU, ...) shows here: then warn and return the eager ones."""
    try:
        out = {name: torch.compile(fn, dynamic=None if name.startswith("infer") else False)
               for name, fn in _EAGER_KERNELS.items()}
        x = torch.zeros(4, 8, device=device_type)
        s = out["forward_seq"](x, 4, 2.0, 1.0)
        out["backward_seq"](torch.zeros_like(s), x, 2.0, 1.0, 2.0)
        return out
    except Exception as exc:  # noqa: BLE001 - any compiler problem means: run eagerly
        print(f"warning: torch.compile unavailable on {device_type} ({type(exc).__name__}); LIF runs eagerly "
              f"(slower)", file=sys.stderr)
        return _EAGER_KERNELS


class _LIFMultiStep(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, time_steps: int, constant: bool, tau: float, threshold: float, alpha: float,
                kernels: LIFKernels):
        flat = x.reshape(-1) if constant else x.reshape(x.shape[0], -1)
        kind = "const" if constant else "seq"
        spikes = kernels[f"{'forward' if ctx.needs_input_grad[0] else 'infer'}_{kind}"](flat, time_steps, tau,
                                                                                       threshold)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(flat)  # backward recomputes the charges from the input
        ctx.cfg = (kind, tau, threshold, alpha, kernels, x.shape)
        return spikes.reshape((time_steps,) + (x.shape if constant else x.shape[1:]))

    @staticmethod
    def backward(ctx, grad_spikes):
        flat, = ctx.saved_tensors
        kind, tau, threshold, alpha, kernels, shape = ctx.cfg
        grad_x = kernels[f"backward_{kind}"](grad_spikes.reshape(-1, flat.shape[-1]), flat, tau, threshold, alpha)
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
