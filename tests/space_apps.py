"""Two plain Gradio apps written only for the tests (not in the replica), shaped like Spaces
users reach for: a FLUX-style text-to-image (`/infer`) and a Whisper-style speech-to-text
(`/transcribe`). Deterministic backends; run on gradio 5 and 6 (the recordings under
`tests/core/recordings/` come from them: `python tests/core/recordings/record.py`).

Each app also has what a tool builder must not offer: a hidden endpoint and an unqueued
helper.
"""

from __future__ import annotations

import hashlib
import socket
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import gradio as gr
import pytest

GRADIO6 = int(gr.__version__.split(".")[0]) >= 6
MAX_SEED = 2**31 - 1


def _hidden() -> dict[str, Any]:
    return {"api_visibility": "private"} if GRADIO6 else {"show_api": False}


def build_image_app() -> gr.Blocks:
    def infer(
        prompt: str,
        seed: float,
        randomize_seed: bool,
        width: float,
        height: float,
        num_inference_steps: float,
        style: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - gradio's injection idiom
    ) -> tuple[Any, int]:
        from PIL import Image

        if not prompt.strip():
            raise gr.Error("The prompt is empty.", title="Empty prompt")
        if randomize_seed:
            seed = 7  # deterministic "random" for tests
        for i in range(int(num_inference_steps)):
            progress((i, int(num_inference_steps)), desc="denoising")
            time.sleep(0.12)  # gradio sends progress at most every 0.1 s
        digest = hashlib.sha256(f"{prompt}|{int(seed)}|{style}".encode()).digest()
        image = Image.new("RGB", (int(width) // 8, int(height) // 8), tuple(digest[:3]))
        return image, int(seed)

    with gr.Blocks(title="FLUX.1 test app") as demo:
        prompt = gr.Textbox(label="Prompt", info="What the picture should show", max_lines=1)
        seed = gr.Slider(label="Seed", minimum=0, maximum=MAX_SEED, step=1, value=0)
        randomize = gr.Checkbox(label="Randomize seed", value=True)
        width = gr.Slider(label="Width", minimum=256, maximum=1024, step=32, value=512)
        height = gr.Slider(label="Height", minimum=256, maximum=1024, step=32, value=512)
        steps = gr.Slider(label="Number of inference steps", minimum=1, maximum=8, step=1, value=4)
        style = gr.Dropdown(["photo", "anime", "sketch"], value="photo", label="Style")
        result = gr.Image(label="Result")
        used_seed = gr.Number(label="Seed used")
        run = gr.Button("Run")
        run.click(
            infer,
            [prompt, seed, randomize, width, height, steps, style],
            [result, used_seed],
            api_name="infer",
        )
        scratch = gr.Textbox(visible=False)
        run.click(lambda s: s, scratch, scratch, api_name="internal_reset", **_hidden())
        run.click(lambda s: s, scratch, scratch, api_name="toggle_panel", queue=False)
    blocks: gr.Blocks = demo
    return blocks


def build_stt_app() -> gr.Blocks:
    def transcribe(audio: str | None, task: str, language: str) -> tuple[str, dict[str, Any]]:
        if audio is None:
            raise gr.Error("No audio was given.")
        with wave.open(audio, "rb") as wav:
            seconds = wav.getnframes() / float(wav.getframerate())
        verb = "translated" if task == "translate" else "transcribed"
        text = f"hello world ({verb} {seconds:.2f} s of {language} speech)"
        return text, {"duration": round(seconds, 2), "task": task}

    def slow_echo(text: str) -> Iterator[str]:
        for i in range(50):
            time.sleep(0.1)
            yield f"{text} {i}"

    with gr.Blocks(title="Whisper test app") as demo:
        gr.Markdown("Transcribe speech to text.")
        audio = gr.Audio(type="filepath", label="Audio file", sources=["upload"])
        task = gr.Radio(["transcribe", "translate"], value="transcribe", label="Task")
        language = gr.Dropdown(["english", "french", "german"], value="english", label="Language")
        text = gr.Textbox(label="Transcript")
        details = gr.JSON(label="Details")
        run = gr.Button("Transcribe")
        run.click(transcribe, [audio, task, language], [text, details], api_name="transcribe")
        echo_in, echo_out = gr.Textbox(label="Text"), gr.Textbox(label="Echo")
        run.click(slow_echo, echo_in, echo_out, api_name="slow_echo")
        run.click(lambda s: s, echo_in, echo_out, api_name="clear", queue=False)
    blocks: gr.Blocks = demo
    return blocks


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(demo: gr.Blocks) -> Iterator[str]:
    """Serve `demo` on loopback and yield its base URL; closed on exit."""
    port = free_port()
    demo.queue().launch(
        prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        demo.close()


@pytest.fixture(scope="session")
def image_app_url() -> Iterator[str]:
    """The FLUX-style app, served for the whole test session."""
    with serve(build_image_app()) as url:
        yield url


@pytest.fixture(scope="session")
def stt_app_url() -> Iterator[str]:
    """The speech-to-text app, served for the whole test session."""
    with serve(build_stt_app()) as url:
        yield url
