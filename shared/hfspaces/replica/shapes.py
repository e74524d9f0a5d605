"""The replica's Space shapes beyond the two seed Spaces (README "Any Space"): one table,
id → builder, that the server adds to its own."""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr

from .chat_space import build_chat_space
from .config import CHAT_SPACE, FLUX_SPACE, STT_SPACE, TTS_SPACE
from .flux import build_flux
from .runtime import ReplicaState
from .speech_to_text import build_speech_to_text
from .text_to_speech import build_text_to_speech

SHAPE_BUILDERS: dict[str, Callable[[ReplicaState, int], gr.Blocks]] = {
    FLUX_SPACE: build_flux,
    STT_SPACE: build_speech_to_text,
    TTS_SPACE: build_text_to_speech,
    CHAT_SPACE: build_chat_space,
}
