"""Two chat apps written only for the tests (not in the replica), in the shapes a generic
chat adapter must recognise: a gradio-5-style Blocks chat (Chatbot + Textbox in, Chatbot
out: history is an input) and a `gr.ChatInterface` with the additional inputs of the Hub's
default chat template (history is session State). Deterministic, streaming generators."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr


def build_blocks_chat() -> gr.Blocks:
    """Chatbot + Textbox, history in and out, a streaming generator (gradio 5 tutorials'
    shape; the Chatbot uses the messages format on both gradio 5 and 6)."""

    def respond(
        message: str, history: list[dict[str, Any]], system: str
    ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        earlier = [
            f"{m['role']}:{_text(m['content'])}"
            for m in history
            if m["role"] in ("user", "assistant")
        ]
        answer = f"({system}) {len(history)} earlier: {' | '.join(earlier) or '-'}. You: {message}"
        history = [*history, {"role": "user", "content": message}]
        reply = ""
        for word in answer.split(" "):
            reply = f"{reply} {word}".strip()
            yield "", [*history, {"role": "assistant", "content": reply}]

    kwargs: dict[str, Any] = {} if int(gr.__version__.split(".")[0]) >= 6 else {"type": "messages"}
    with gr.Blocks(title="Blocks chat") as demo:
        chatbot = gr.Chatbot(label="Chat", **kwargs)
        msg = gr.Textbox(label="Message")
        system = gr.Textbox("Be kind", label="System message")
        msg.submit(respond, [msg, chatbot, system], [msg, chatbot], api_name="respond")
    blocks: gr.Blocks = demo
    return blocks


def build_template_chat() -> gr.ChatInterface:
    """The Hub's default chat Space: `respond(message, history, system_message, max_tokens,
    temperature, top_p)` streaming its answer a few characters at a time."""

    def respond(
        message: str,
        history: list[dict[str, Any]],
        system_message: str,
        max_tokens: int,
        temperature: float,
        top_p: float,
    ) -> Iterator[str]:
        answer = (
            f"sys={system_message} max={int(max_tokens)} t={temperature:g} p={top_p:g} "
            f"turns={len(history)} msg={message}"
        )
        for end in range(4, len(answer) + 4, 4):
            yield answer[:end]

    return gr.ChatInterface(
        respond,
        additional_inputs=[
            gr.Textbox(value="You are a friendly Chatbot.", label="System message"),
            gr.Slider(minimum=1, maximum=2048, value=512, step=1, label="Max new tokens"),
            gr.Slider(minimum=0.1, maximum=4.0, value=0.7, step=0.1, label="Temperature"),
            gr.Slider(
                minimum=0.1, maximum=1.0, value=0.95, step=0.05, label="Top-p (nucleus sampling)"
            ),
        ],
    )


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)
