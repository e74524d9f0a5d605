"""A streaming multimodal chat Space: `gr.ChatInterface(multimodal=True)` over a generator,
with a system prompt and a temperature as additional inputs (the shape of most chat Spaces).

The endpoint is named after the function (`/respond` on gradio 6, as there; gradio 5 names
it `/chat`). History is the interface's session State, so an API caller starts from an
empty history on every call. The answer is `backends.phi4_answer`, streamed word by word.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import gradio as gr

from . import backends
from .config import CHAT_SPACE
from .runtime import ReplicaState, gpu_call


def _attachments(files: list[Any]) -> list[backends.Attachment]:
    out = []
    for f in files:
        path = f if isinstance(f, str) else (f.get("path") if isinstance(f, dict) else None)
        if path:
            out.append(backends.Attachment(str(path), None))
    return out


def build_chat_space(state: ReplicaState, shift: int = 0) -> gr.Blocks:
    async def respond(
        message: dict[str, Any] | str,
        history: list[Any],
        system_prompt: str,
        temperature: float,
        request: gr.Request,
    ) -> AsyncIterator[str]:
        async with gpu_call(state, CHAT_SPACE, "respond", request):
            text = message.get("text", "") if isinstance(message, dict) else str(message)
            files = message.get("files") or [] if isinstance(message, dict) else []
            turn = 1 + sum(
                1 for m in history or [] if isinstance(m, dict) and m.get("role") == "assistant"
            )
            answer = await asyncio.to_thread(
                backends.phi4_answer, text, _attachments(files), turn, state.config.answer_words
            )
            if system_prompt:
                answer = f"[{' '.join(system_prompt.split())}] {answer}"
            answer = f"{answer} (temperature {float(temperature):g})"
            reply = ""
            for i, word in enumerate(answer.split(" ")):
                if i:
                    await asyncio.sleep(state.step_delay())
                reply = word if i == 0 else f"{reply} {word}"
                yield reply

    demo = gr.ChatInterface(
        respond,
        multimodal=True,
        title="Multimodal Chat",
        description="Chat about text, images and audio (replica: a deterministic describer).",
        textbox=gr.MultimodalTextbox(
            file_count="multiple",
            file_types=["image", "audio"],
            placeholder="Ask about an image or a clip",
        ),
        additional_inputs=[
            gr.Textbox("You are a helpful assistant.", label="System prompt"),
            gr.Slider(minimum=0.0, maximum=2.0, value=0.7, step=0.1, label="Temperature"),
        ],
        analytics_enabled=False,
    )
    blocks: gr.Blocks = demo
    return blocks
