"""LlamaIndex integration of `hfspaces`: Hugging Face Space models as a multimodal `LLM`,
and image tools for agents."""

from __future__ import annotations

from .base import HFSpacesLLM, HFSpacesMultiModal
from .events import HFSpacesJobEvent
from .tools import HFSpacesToolSpec
from .utils import HFSpacesInputError

__all__ = [
    "HFSpacesInputError",
    "HFSpacesJobEvent",
    "HFSpacesLLM",
    "HFSpacesMultiModal",
    "HFSpacesToolSpec",
]
