"""The SSR model (torch): config, LIF neuron with ATan surrogate, the network, instrumentation."""

from ssr_neuro.model.config import SSRConfig
from ssr_neuro.model.instrument import Recorder
from ssr_neuro.model.ssr import SSR

__all__ = ["SSR", "SSRConfig", "Recorder"]
