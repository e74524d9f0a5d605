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

Message shapes: gradio 6's Chatbot only validates content as a list of parts
(``[{"type": "text", "text": ..}]``, ``[{"type": "file", "file": FileData}]``) and gradio 5's
only a single part (``"text"`` or ``{"file": FileData}``, the shape the seeds' library sends).
The Chatbot here keeps gradio's own class (so ``/config`` says ``chatbot``) but swaps its
``data_model`` for a subclass whose before-validator rewrites either shape, plus a bare
FileData (``{"path": ..}``) content, into the installed gradio's shape. Outputs are gradio's
own, so a gradio 6 replica answers with lists of parts, like a gradio 6 Space would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import gradio as gr
from gradio.components import chatbot as chatbot_module
from pydantic import model_validator

from . import backends
from .config import PHI4_SPACE
from .runtime import ReplicaState, gpu_guard, hidden_event_kwargs, queue_wait, tracked_job

_BaseMessages: Any = chatbot_module.ChatbotDataMessages
_content_annotation = str(chatbot_module.Message.model_fields["content"].annotation)
# Gradio 6 stores message content as a list of typed parts; gradio 5 as one part.
LIST_CONTENT = _content_annotation.startswith("list")


def _file(value: Any) -> Any:
    # gradio_client hands back downloaded files as bare local paths.
    if isinstance(value, str):
        return {"path": value, "meta": {"_type": "gradio.FileData"}}
    return value


def _part(content: Any) -> dict[str, Any]:
    """One content item in gradio 6's part shape."""
    if isinstance(content, str):
        return {"type": "text", "text": content}
    if isinstance(content, dict):
        if content.get("type") == "file" or ("file" in content and "type" not in content):
            return {"type": "file", "file": _file(content["file"]),
                    "alt_text": content.get("alt_text")}
        if content.get("type") in ("text", "component"):
            return content
        if "path" in content or "url" in content:
            return {"type": "file", "file": content, "alt_text": None}
        if "text" in content:
            return {"type": "text", "text": content["text"]}
    raise ValueError(f"unsupported chat message content: {content!r}")


def _legacy(part: dict[str, Any]) -> Any:
    """One part in gradio 5's shape."""
    if part["type"] == "text":
        return part["text"]
    if part["type"] == "file":
        return {"file": part["file"], "alt_text": part.get("alt_text")}
    return part


def normalize_history(messages: Any) -> Any:
    """Rewrite chat history in any accepted shape to the installed gradio's shape."""
    if not isinstance(messages, list):
        return messages
    out: list[Any] = []
    for msg in messages:
        if not isinstance(msg, dict) or "content" not in msg:
            out.append(msg)
            continue
        content = msg["content"]
        parts = [_part(c) for c in (content if isinstance(content, list) else [content])]
        if LIST_CONTENT:
            out.append({**msg, "content": parts})
        else:
            out.extend({**msg, "content": _legacy(p)} for p in parts)
    return out


class LenientChatMessages(_BaseMessages):  # type: ignore[misc]
    """gradio's chat history model, accepting both gradio 5 and 6 content shapes."""

    @model_validator(mode="before")
    @classmethod
    def _accept_both_shapes(cls, data: Any) -> Any:
        return normalize_history(data)


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
    bot.data_model = LenientChatMessages
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

    async def chat(history: list[dict[str, Any]],
                   request: gr.Request) -> AsyncIterator[list[dict[str, Any]]]:
        history = list(history or [])
        finished = False
        try:
            async with tracked_job(state):
                await queue_wait(state)
                gpu_guard(state, PHI4_SPACE, "chat", request)
                text, files, turn = _read_turn(history)
                answer = await asyncio.to_thread(
                    backends.phi4_answer, text, files, turn, state.config.answer_words
                )
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
        # Hidden helpers (clear, UI toggles) fill fn_index 0..9 as on the Space.
        clear.click(lambda: ([], None), None, [chatbot, audio], **hidden)
        pad = gr.Button("refresh", visible=False)
        for _ in range(9 + shift):
            pad.click(lambda: None, None, None, **hidden)
        submit = chat_input.submit(
            add_message, [chatbot, chat_input, audio], [chatbot, chat_input, audio],
            queue=False, api_name="add_message",
        )
        submit.then(chat, chatbot, chatbot, api_name="chat")
    blocks: gr.Blocks = demo
    return blocks


