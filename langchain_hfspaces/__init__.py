"""LangChain integration of `hfspaces`: `ChatHFSpaces` (chat over Phi-4-multimodal and
Janus-Pro-7B Spaces) and `HFSpacesImageTool` (Janus-Pro text-to-image for agents)."""

from __future__ import annotations

from ._events import (
    CUSTOM_EVENTS,
    LOG_EVENT,
    PROGRESS_EVENT,
    QUEUE_EVENT,
    QUEUE_WAIT_EVENT,
    STARTED_EVENT,
)
from .chat_models import ChatHFSpaces
from .space_tools import HFSpacesTool, HFSpacesToolkit
from .tools import HFSpacesImageTool, ImageToolInput

__all__ = [
    "CUSTOM_EVENTS",
    "LOG_EVENT",
    "PROGRESS_EVENT",
    "QUEUE_EVENT",
    "QUEUE_WAIT_EVENT",
    "STARTED_EVENT",
    "ChatHFSpaces",
    "HFSpacesImageTool",
    "HFSpacesTool",
    "HFSpacesToolkit",
    "ImageToolInput",
]
