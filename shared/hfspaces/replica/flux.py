"""A FLUX-style text-to-image Space (the shape of black-forest-labs/FLUX.1-schnell's app).

`/infer(prompt, seed, randomize_seed, width, height, num_inference_steps) → (image, seed)`,
with gr.Progress steps. The picture is `backends.draw_image` of the prompt and seed at the
asked size; a randomised seed is derived from the prompt and sizes, so a run is reproducible.
"""

from __future__ import annotations

import asyncio

import anyio
import gradio as gr
from PIL import Image

from . import backends
from .config import FLUX_SPACE
from .runtime import ReplicaState, gpu_call

MAX_SEED = 2**31 - 1
MAX_IMAGE_SIZE = 2048


def build_flux(state: ReplicaState, shift: int = 0) -> gr.Blocks:
    async def infer(
        prompt: str,
        seed: float,
        randomize_seed: bool,
        width: float,
        height: float,
        num_inference_steps: float,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008 - gradio's idiom
    ) -> tuple[Image.Image, int]:
        async with gpu_call(state, FLUX_SPACE, "infer", request):
            if randomize_seed:
                seed = backends._rng(prompt, width, height).randrange(MAX_SEED)
            steps = max(1, int(num_inference_steps))
            for step in range(steps):
                progress((step, steps), desc="Denoising", unit="steps")
                delay = state.step_delay()
                if delay > 0:
                    await asyncio.sleep(delay)
            square = await anyio.to_thread.run_sync(
                backends.draw_image, prompt or "", int(seed), 3.5, 1.0, 0, 64
            )
            image = square.resize((int(width), int(height)), Image.Resampling.NEAREST)
            return image, int(seed)

    with gr.Blocks(title="FLUX.1 [schnell]", analytics_enabled=False) as demo:
        gr.Markdown(
            "# FLUX.1 [schnell]\n12B param rectified flow transformer distilled "
            "for fast generation (replica: a deterministic drawing)."
        )
        with gr.Row():
            prompt = gr.Text(
                label="Prompt", show_label=False, max_lines=1, placeholder="Enter your prompt"
            )
            run_button = gr.Button("Run", scale=0)
        result = gr.Image(label="Result", show_label=False, format="png")
        with gr.Accordion("Advanced Settings", open=False):
            seed = gr.Slider(label="Seed", minimum=0, maximum=MAX_SEED, step=1, value=0)
            randomize_seed = gr.Checkbox(label="Randomize seed", value=True)
            with gr.Row():
                width = gr.Slider(
                    label="Width", minimum=256, maximum=MAX_IMAGE_SIZE, step=32, value=1024
                )
                height = gr.Slider(
                    label="Height", minimum=256, maximum=MAX_IMAGE_SIZE, step=32, value=1024
                )
            num_inference_steps = gr.Slider(
                label="Number of inference steps", minimum=1, maximum=50, step=1, value=4
            )
        gr.on(
            triggers=[run_button.click, prompt.submit],
            fn=infer,
            inputs=[prompt, seed, randomize_seed, width, height, num_inference_steps],
            outputs=[result, seed],
            api_name="infer",
        )
    blocks: gr.Blocks = demo
    return blocks
