"""Replica of the ``deepseek-ai/Janus-Pro-7B`` Space (its public ``demo/app_januspro.py``).

Same components in the same order, so the dependencies are: fn_index 0 and 1 the two
gr.Examples loaders (hidden, not queued), 2 ``multimodal_understanding`` (not a generator:
the answer comes at completion), 3 ``generate_image`` (a Gallery of 5 webp images). Like the
real functions, neither reports progress: the only messages besides the result are the
ZeroGPU runtime's logs. The image seed's default is 1234, the value the live Space shows
(its app.py copies and g4f's payload; the GitHub demo says 12345). ``shift`` prepends hidden
dependencies so every index moves by that much (the ``config_changed`` fault).

Both functions run under ``gpu_call`` (``@spaces.GPU(duration=120)`` on the Space): a missing
image fails inside the "worker" with AttributeError, which the runtime reports as
"ZeroGPU worker error" / "AttributeError".
"""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import gradio as gr
from PIL import Image

from . import backends
from .config import JANUS_SPACE
from .runtime import ReplicaState, gpu_call, hidden_event_kwargs
from .samples import sample_image_path


def build_janus(state: ReplicaState, shift: int = 0) -> gr.Blocks:
    async def multimodal_understanding(
        image: Image.Image | None, question: str, seed: float, top_p: float, temperature: float,
        request: gr.Request,
    ) -> str:
        async with gpu_call(state, JANUS_SPACE, "multimodal_understanding", request):
            # A None image raises AttributeError here, as Image.fromarray(None) does there.
            answer = await anyio.to_thread.run_sync(
                lambda: backends.understand(image, question or "", int(seed or 0), top_p,
                                            temperature, state.config.answer_words)
            )
            delay = state.step_delay()
            if delay > 0:
                # Not streamed, but takes as long as emitting every token would.
                await asyncio.sleep(delay * len(answer.split()))
            return answer

    async def generate_image(
        prompt: str, seed: float, guidance: float, t2i_temperature: float, request: gr.Request,
    ) -> list[Image.Image]:
        async with gpu_call(state, JANUS_SPACE, "generate_image", request):
            size = int(state.config.image_size)
            images: list[Image.Image] = []
            for i in range(5):
                img = await anyio.to_thread.run_sync(
                    backends.draw_image, prompt or "", int(seed or 0), float(guidance),
                    float(t2i_temperature), i, size,
                )
                images.append(img)
                delay = state.step_delay()
                if delay > 0:
                    await asyncio.sleep(delay)
            return images

    hidden: dict[str, Any] = {"queue": False, **hidden_event_kwargs(gr.Button.click)}
    with gr.Blocks(title="Janus-Pro-7B", analytics_enabled=False) as demo:
        if shift:
            pad = gr.Button("refresh", visible=False)
            for _ in range(shift):
                pad.click(lambda: None, None, None, **hidden)
        gr.Markdown(value="# Multimodal Understanding")
        with gr.Row():
            image_input = gr.Image(type="pil")
            with gr.Column():
                und_seed_input = gr.Number(label="Seed", precision=0, value=42)
                top_p = gr.Slider(minimum=0, maximum=1, value=0.95, step=0.05, label="top_p")
                temperature = gr.Slider(
                    minimum=0, maximum=1, value=0.1, step=0.05, label="temperature"
                )
        question_input = gr.Textbox(label="Question")
        understanding_button = gr.Button("Chat")
        understanding_output = gr.Textbox(label="Response")
        gr.Examples(
            label="Multimodal Understanding examples",
            examples=[["explain this image", str(sample_image_path())]],
            inputs=[question_input, image_input],
            cache_examples=False,
        )
        gr.Markdown(value="# Text-to-Image Generation")
        with gr.Row():
            cfg_weight_input = gr.Slider(
                minimum=1, maximum=10, value=5, step=0.5, label="CFG Weight"
            )
            t2i_temperature = gr.Slider(
                minimum=0, maximum=1, value=1.0, step=0.05, label="temperature"
            )
        prompt_input = gr.Textbox(
            label="Prompt. (Prompt in more detail can help produce better images!)"
        )
        seed_input = gr.Number(label="Seed (Optional)", precision=0, value=1234)
        generation_button = gr.Button("Generate Images")
        image_output = gr.Gallery(label="Generated Images", columns=2, rows=2, height=300)
        gr.Examples(
            label="Text to image generation examples.",
            examples=["Master shifu racoon wearing drip attire as a street gangster."],
            inputs=prompt_input,
            cache_examples=False,
        )
        understanding_button.click(
            multimodal_understanding,
            inputs=[image_input, question_input, und_seed_input, top_p, temperature],
            outputs=understanding_output,
            api_name="multimodal_understanding",
        )
        generation_button.click(
            fn=generate_image,
            inputs=[prompt_input, seed_input, cfg_weight_input, t2i_temperature],
            outputs=image_output,
            api_name="generate_image",
        )
    blocks: gr.Blocks = demo
    return blocks
