"""Replica of the ``microsoft/phi-4-multimodal`` Space (no public copy of its app exists).

Layout as the seeds' library implies: a Chatbot (messages), an Audio input and a
MultimodalTextbox (component id 8, the library's ``trigger_id``). Ten hidden, unqueued
dependencies pad the list so that:

- fn_index 10 ``add_message`` (not queued; ``POST /gradio_api/run/predict``): inputs
  ``[history, {"text", "files"}, audio]``, outputs ``[history + user turn, cleared box,
  cleared audio]``;
- fn_index 11 ``chat`` (queued generator): input the history, output the history with the
  assistant's answer last, streamed word by word (gradio sends ``append`` diffs). With
  ``phi4_stream=False`` it is still a generator but yields once, at the end.

The Chatbot is gradio's own, so history content is validated exactly as the installed gradio
does: gradio 6 only accepts a list of parts (``[{"type": "text", "text": ..}]``), gradio 5
only a single part (``"text"`` or ``{"file": FileData}``); the other version's shape is
refused like a real Space refuses it.

``chat`` takes the sampling inputs of the public OpenVINO Phi-4-multimodal Gradio demo
(``notebooks/phi-4-multimodal/gradio_helper.py``), in its order and with its defaults:
history, top_p .95, top_k 50, temperature .8, repetition_penalty 1.05, max_new_tokens 512
(sliders in a hidden group). A join with fewer values fails as gradio fails it (a hidden
error: ``error: null``); a client fills them from ``/config``. ``max_new_tokens`` caps the
answer's words; the others only enter the stats.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import gradio as gr

from . import backends
from .config import PHI4_SPACE
from .runtime import ReplicaState, gpu_call, hidden_event_kwargs

# The OpenVINO demo's DEFAULT_SAMPLING_PARAMS and MAX_NEW_TOKENS.
SAMPLING_DEFAULTS: dict[str, float] = {
    "top_p": 0.95, "top_k": 50, "temperature": 0.8, "repetition_penalty": 1.05,
    "max_new_tokens": 512,
}

def _parts(content: Any) -> list[Any]:
    return content if isinstance(content, list) else [content]


def _read_turn(history: list[dict[str, Any]]) -> tuple[str, list[backends.Attachment], int]:
    """The latest user turn (messages after the last assistant one) and the turn number."""
    turn = 1 + sum(1 for m in history if m.get("role") == "assistant")
    last = max((i for i, m in enumerate(history) if m.get("role") == "assistant"), default=-1)
    texts: list[str] = []
    files: list[backends.Attachment] = []
    for msg in history[last + 1:]:
        if msg.get("role") != "user":
            continue
        for part in _parts(msg.get("content")):
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, tuple):
                # gradio 5's Chatbot preprocesses a file message to `(path,)` or
                # `(path, alt_text)`; gradio 6 hands the function a dict part.
                if part and isinstance(part[0], str):
                    files.append(backends.Attachment(part[0], None))
            elif isinstance(part, dict) and part.get("type", "text") == "text" and "text" in part:
                texts.append(str(part["text"]))
            elif isinstance(part, dict):
                f = part.get("file", part)
                path = f.get("path") if isinstance(f, dict) else getattr(f, "path", None)
                mime = f.get("mime_type") if isinstance(f, dict) else getattr(f, "mime_type", None)
                if path:
                    files.append(backends.Attachment(str(path), mime))
    return " ".join(texts), files, turn


def _chatbot(**kwargs: Any) -> gr.Chatbot:
    try:
        bot = gr.Chatbot(type="messages", **kwargs)  # type: ignore[call-arg]
    except TypeError:  # gradio 6 has only the messages format
        bot = gr.Chatbot(**kwargs)
    return bot


def build_phi4(state: ReplicaState, shift: int = 0) -> gr.Blocks:
    def add_message(history: list[dict[str, Any]], message: dict[str, Any] | None,
                    audio: str | None) -> tuple[list[dict[str, Any]], Any, None]:
        history = list(history or [])
        message = message or {}
        for path in message.get("files") or []:
            history.append({"role": "user", "content": {"path": path}})
        if audio:
            history.append({"role": "user", "content": {"path": audio}})
        if message.get("text"):
            history.append({"role": "user", "content": message["text"]})
        return history, gr.MultimodalTextbox(value=None), None

    async def chat(history: list[dict[str, Any]], top_p: float, top_k: float, temperature: float,
                   repetition_penalty: float, max_new_tokens: float,
                   request: gr.Request) -> AsyncIterator[list[dict[str, Any]]]:
        history = list(history or [])
        finished = False
        try:
            async with gpu_call(state, PHI4_SPACE, "chat", request):
                text, files, turn = _read_turn(history)
                answer = await asyncio.to_thread(
                    backends.phi4_answer, text, files, turn, state.config.answer_words
                )
                answer = " ".join(answer.split(" ")[: max(1, int(max_new_tokens))])
                words = answer.split(" ")
                if not state.config.phi4_stream:
                    await asyncio.sleep(state.step_delay() * len(words))
                    finished = True
                    yield [*history, {"role": "assistant", "content": answer}]
                    return
                reply = ""
                for i, word in enumerate(words):
                    if i:
                        await asyncio.sleep(state.step_delay())
                    reply = word if i == 0 else f"{reply} {word}"
                    if i == len(words) - 1:
                        finished = True
                    yield [*history, {"role": "assistant", "content": reply}]
        finally:
            if not finished:
                # Stopped before the last word (cancel, disconnect or error).
                state.stats.bump("generator_stopped_early")

    hidden: dict[str, Any] = {"queue": False, **hidden_event_kwargs(gr.Button.click)}
    with gr.Blocks(title="Phi-4-multimodal", analytics_enabled=False) as demo:
        gr.Markdown("# Phi-4-multimodal")  # id 1
        with gr.Row():  # 2
            with gr.Column(scale=3):  # 3
                chatbot = _chatbot(label="Phi-4-multimodal", height=500)  # 4
            with gr.Column(scale=1):  # 5
                audio = gr.Audio(sources=["upload"], type="filepath", label="Audio")  # 6
                clear = gr.Button("Clear")  # 7
        chat_input = gr.MultimodalTextbox(  # 8
            interactive=True, file_count="multiple", placeholder="Enter message or upload file",
            show_label=False,
        )
        with gr.Group(visible=False):  # the demo's "Sampling Parameters" group
            d = SAMPLING_DEFAULTS
            temperature = gr.Slider(0, 1, value=d["temperature"], label="Temperature")
            repetition_penalty = gr.Slider(0, 2, value=d["repetition_penalty"],
                                           label="Repetition Penalty")
            top_p = gr.Slider(0, 1, value=d["top_p"], label="Top-p")
            top_k = gr.Slider(0, 1000, value=d["top_k"], label="Top-k")
            max_new_tokens = gr.Slider(1, d["max_new_tokens"], value=d["max_new_tokens"],
                                       label="Max New Tokens")
        # Hidden helpers (clear, UI toggles) fill fn_index 0..9 as on the Space.
        clear.click(lambda: ([], None), None, [chatbot, audio], **hidden)
        pad = gr.Button("refresh", visible=False)
        for _ in range(9 + shift):
            pad.click(lambda: None, None, None, **hidden)
        submit = chat_input.submit(
            add_message, [chatbot, chat_input, audio], [chatbot, chat_input, audio],
            queue=False, api_name="add_message",
        )
        submit.then(chat, [chatbot, top_p, top_k, temperature, repetition_penalty,
                           max_new_tokens], chatbot, api_name="chat")
    blocks: gr.Blocks = demo
    return blocks


