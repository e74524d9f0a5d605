"""A Whisper-style speech-to-text Space (the shape of hf-audio/whisper-large-v3's app).

`/transcribe(inputs: audio, task: "transcribe" | "translate") → text`. The "model" is
`tones.listen`: a clip made by the replica's text-to-speech comes back as its text; any
other clip is described by duration and pitch. `translate` answers in "English" (marked).
"""

from __future__ import annotations

import wave
from pathlib import Path

import anyio
import gradio as gr

from . import tones
from .config import STT_SPACE
from .runtime import ReplicaState, app_error, gpu_call

TASKS = ("transcribe", "translate")


def transcript(wav: bytes, task: str) -> str:
    heard = tones.listen(wav)
    return f"[translated to English] {heard.text}" if task == "translate" else heard.text


def build_speech_to_text(state: ReplicaState, shift: int = 0) -> gr.Blocks:
    async def transcribe(inputs: str | None, task: str, request: gr.Request) -> str:
        async with gpu_call(state, STT_SPACE, "transcribe", request):
            if inputs is None:
                # What the real app raises when no audio is given.
                raise app_error(
                    "No audio file submitted! Please upload or record an audio "
                    "file before submitting your request."
                )
            data = await anyio.to_thread.run_sync(Path(inputs).read_bytes)
            try:
                return await anyio.to_thread.run_sync(transcript, data, task)
            except (EOFError, wave.Error) as exc:
                raise app_error(f"could not read the audio as WAV: {exc}") from None

    with gr.Blocks(title="Whisper Large V3", analytics_enabled=False) as demo:
        gr.Markdown(
            "# Whisper Large V3: Transcribe Audio\nTranscribe long-form microphone "
            "or audio inputs (replica: reads the replica TTS's tones)."
        )
        audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Audio file")
        task = gr.Radio(
            list(TASKS), label="Task", value="transcribe", info="Translate answers in English"
        )
        button = gr.Button("Submit")
        text = gr.Textbox(label="Transcript")
        button.click(transcribe, [audio, task], text, api_name="transcribe")
    blocks: gr.Blocks = demo
    return blocks
