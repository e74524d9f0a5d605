"""Token counts without the models' tokenizers (no transformers, no downloads, no I/O).

A character rule per model (`ModelSpec.chars_per_token`): Phi-4-multimodal's tokenizer is
o200k_base (200 k vocabulary, ~4.2 characters per English token); Janus-Pro's is DeepSeek
LLM's 100 k byte-level BPE (~3.8). tiktoken's o200k would be closer for Phi-4, but it
downloads its encoding on first use, which a token count must not do. Every image (and
audio clip) costs the registry's `image_tokens`, every message a few tokens of template.
Approximations, good for trimming a history to a budget, not for billing.
"""

from __future__ import annotations

import math

from .models import ModelSpec

#: Role markers and separators of a chat template, per message.
MESSAGE_OVERHEAD = 4


def count_text(spec: ModelSpec, text: str) -> int:
    return math.ceil(len(text) / spec.chars_per_token) if text else 0


def count_message(spec: ModelSpec, text: str, media: int) -> int:
    """One message: its text, its images/audio (`spec.image_tokens` each), the template."""
    return MESSAGE_OVERHEAD + count_text(spec, text) + spec.image_tokens * media
