"""One adapter per Space: neutral conversation → endpoint + data; outputs → text / images."""

from __future__ import annotations

from ..models import ModelSpec
from .base import Adapter
from .chat import ChatAdapter
from .janus_pro import JanusImageAdapter, JanusUnderstandingAdapter
from .phi4 import Phi4Adapter

_ADAPTERS: dict[str, type[Adapter]] = {
    "janus_understanding": JanusUnderstandingAdapter,
    "janus_image": JanusImageAdapter,
    "phi4": Phi4Adapter,
    "chat": ChatAdapter,
}


def adapter_for(spec: ModelSpec) -> Adapter:
    return _ADAPTERS[spec.adapter](spec)


__all__ = [
    "Adapter",
    "ChatAdapter",
    "JanusImageAdapter",
    "JanusUnderstandingAdapter",
    "Phi4Adapter",
    "adapter_for",
]
