"""A Kokoro-style text-to-speech Space (the shape of hexgrad/Kokoro-TTS's app).

`/generate(text, voice, speed) → (audio, phonemes)`. The "voice" is `tones.synthesize`:
the clip's length follows the text and 1/speed, its loudness the voice, and the replica's
speech-to-text reads the text back from it.
"""

from __future__ import annotations

import anyio
import gradio as gr
import numpy as np

from . import tones
from .config import TTS_SPACE
from .runtime import ReplicaState, app_error, gpu_call

#: Voice → loudness of the tones (the clip's length does not depend on the voice).
VOICES: dict[str, int] = {
    "af_heart": 9000,
    "af_bella": 8000,
    "am_michael": 11000,
    "bf_emma": 7000,
}
MAX_CHARS = 500


def phonemes(text: str) -> str:
    """What the codec says aloud: the text, lower-cased, without characters it skips."""
    kept = "".join(c for c in " ".join(text.lower().split()) if c == " " or c in tones.ALPHABET)
    return " ".join(kept.split())


def build_text_to_speech(state: ReplicaState, shift: int = 0) -> gr.Blocks:
    async def generate(
        text: str, voice: str, speed: float, request: gr.Request
    ) -> tuple[tuple[int, np.ndarray], str]:
        async with gpu_call(state, TTS_SPACE, "generate", request):
            text = (text or "").strip()[:MAX_CHARS]
            if not phonemes(text):
                raise app_error("Nothing to say: enter some text (letters or digits).")
            samples = await anyio.to_thread.run_sync(
                lambda: tones.voice(text, speed=float(speed), amplitude=VOICES.get(voice, 9000))
            )
            # (rate, samples): gradio writes the WAV into its own cache (no temp file here).
            return (tones.RATE, np.asarray(samples, dtype=np.int16)), phonemes(text)

    with gr.Blocks(title="Kokoro TTS", analytics_enabled=False) as demo:
        gr.Markdown(
            "# Kokoro TTS\nAn 82M-parameter TTS model (replica: tones that the "
            "replica's Whisper reads back)."
        )
        text = gr.Textbox(label="Input Text", info=f"Up to ~{MAX_CHARS} characters")
        with gr.Row():
            voice = gr.Dropdown(
                list(VOICES),
                value="af_heart",
                label="Voice",
                info="Quality and availability vary by language",
            )
            speed = gr.Slider(minimum=0.5, maximum=2, value=1, step=0.1, label="Speed")
        button = gr.Button("Generate")
        audio = gr.Audio(label="Output Audio", interactive=False, format="wav")
        tokens = gr.Textbox(label="Output Tokens", interactive=False)
        button.click(generate, [text, voice, speed], [audio, tokens], api_name="generate")
    blocks: gr.Blocks = demo
    return blocks
