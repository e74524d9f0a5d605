"""`HFSpacesImageTool`: text-to-image with Janus-Pro-7B, for LangChain agents."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from pathlib import Path
from typing import Any, Literal

from hfspaces import (
    Generation,
    GenerationParams,
    GPUQuotaExceededError,
    GPUUnavailableError,
    InvalidInputError,
    Message,
    QueueFullError,
    RateLimitError,
    SpaceError,
    SpaceTimeoutError,
)
from hfspaces.image_files import save_images
from hfspaces.space_tool import in_words
from hfspaces.sync import run_sync
from langchain_core.callbacks import (
    AsyncCallbackManager,
    AsyncCallbackManagerForToolRun,
    CallbackManager,
    CallbackManagerForToolRun,
)
from langchain_core.tools import BaseTool, ToolException
from pydantic import BaseModel, Field

from ._events import custom_event, run_event_sink
from ._settings import SpaceSettings

IMAGE_MODEL = "janus-pro-7b-image"

#: Sends one custom event (name, payload) to the tool run's handlers.
_Emit = Callable[[str, dict[str, Any]], Awaitable[None]]


class ImageToolInput(BaseModel):
    """Arguments the agent's model fills in."""

    prompt: str = Field(min_length=1, description="What the picture should show, in English.")
    seed: int | None = Field(
        default=None,
        ge=0,
        lt=2**31,
        description="Random seed; reuse one to reproduce an image. Omit for a new picture.",
    )
    guidance: float | None = Field(
        default=None, ge=1.0, le=10.0, description="Prompt adherence (CFG weight), default 5."
    )
    temperature: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Variety of the drawing, default 1."
    )
    num_images: int = Field(default=1, ge=1, le=5, description="How many images to make (1-5).")


class HFSpacesImageTool(SpaceSettings, BaseTool):
    """Draws images from a text prompt with DeepSeek Janus-Pro-7B on its Hugging Face Space.

    Returns `(content, artifact)`: the content tells the agent what was made and where
    it was saved (when `output_dir` is set); the artifact is a dict with `images`
    (each `{"data": bytes, "mime_type", "url", "path"}`), `seed`, `space`, `model`,
    `prompt`, `queue_wait`, `duration`. Space failures become `ToolException`s whose
    message says what to do (e.g. when to try again), so the agent gets an error
    `ToolMessage` instead of a crash.
    """

    name: str = "generate_image"
    description: str = (
        "Draw pictures from a text description with DeepSeek Janus-Pro-7B. "
        "Input: prompt, and optionally seed, guidance, temperature, num_images (1-5). "
        "Returns what was drawn and the seed; the images go to the user."
    )
    args_schema: type[BaseModel] = ImageToolInput
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: bool = True

    output_dir: Path | None = None
    """Directory to save the images in (created if missing). None: keep them in memory."""

    def _run(
        self,
        prompt: str,
        seed: int | None = None,
        guidance: float | None = None,
        temperature: float | None = None,
        num_images: int = 1,
        run_manager: CallbackManagerForToolRun | None = None,
    ) -> tuple[str, dict[str, Any]]:
        request = ImageToolInput(
            prompt=prompt, seed=seed, guidance=guidance, temperature=temperature,
            num_images=num_images,
        )  # fmt: skip
        emit: _Emit | None = None
        if run_manager is not None:
            manager, run_id = run_event_sink(CallbackManager, run_manager)

            async def emit(name: str, data: dict[str, Any]) -> None:
                manager.on_custom_event(name, data, run_id=run_id)

        return run_sync(self._draw(request, emit))

    async def _arun(
        self,
        prompt: str,
        seed: int | None = None,
        guidance: float | None = None,
        temperature: float | None = None,
        num_images: int = 1,
        run_manager: AsyncCallbackManagerForToolRun | None = None,
    ) -> tuple[str, dict[str, Any]]:
        request = ImageToolInput(
            prompt=prompt, seed=seed, guidance=guidance, temperature=temperature,
            num_images=num_images,
        )  # fmt: skip
        emit: _Emit | None = None
        if run_manager is not None:
            manager, run_id = run_event_sink(AsyncCallbackManager, run_manager)

            async def emit(name: str, data: dict[str, Any]) -> None:
                await manager.on_custom_event(name, data, run_id=run_id)

        return await self._draw(request, emit)

    async def _draw(
        self, request: ImageToolInput, emit: _Emit | None
    ) -> tuple[str, dict[str, Any]]:
        """Run the job; its queue/progress news goes out as the chat model's custom events
        (`hfspaces_queue`, `hfspaces_started`, `hfspaces_progress`, `hfspaces_log`)."""
        space_model = self._space_model(IMAGE_MODEL)
        spec = space_model.spec
        params = GenerationParams(
            seed=request.seed,
            guidance=request.guidance,
            temperature=request.temperature,
            num_images=request.num_images,
        )
        generation: Generation | None = None
        try:
            async with aclosing(
                space_model.stream([Message.user(request.prompt)], params)
            ) as items:
                async for item in items:
                    if isinstance(item, Generation):
                        generation = item
                    elif emit is not None and (
                        event := custom_event(item, model=spec.id, space=spec.space)
                    ):
                        await emit(*event)
        except (SpaceError, InvalidInputError) as exc:
            raise ToolException(tool_error_message(exc)) from exc
        if generation is None:  # pragma: no cover - a stream ends with its Generation or raises
            raise ToolException("Image generation ended without a result; try again.")
        paths = await asyncio.to_thread(self._save, generation, request.prompt)
        return describe(generation, request.prompt, paths), artifact(generation, request, paths)

    def _save(self, generation: Generation, prompt: str) -> list[Path | None]:
        if self.output_dir is None:
            return [None] * len(generation.images)
        return save_images(generation.images, self.output_dir, prompt, generation.seed)


def describe(generation: Generation, prompt: str, paths: list[Path | None]) -> str:
    """The content the agent's model reads."""
    count = len(generation.images)
    text = (
        f"Generated {count} image{'s' * (count != 1)} with Janus-Pro-7B for the prompt "
        f"{prompt!r} (seed {generation.seed}; reuse the seed to reproduce)."
    )
    saved = [str(p) for p in paths if p is not None]
    if saved:
        text += " Saved to: " + ", ".join(saved) + "."
    else:
        text += " The images are attached for the user."
    return text


def artifact(
    generation: Generation, request: ImageToolInput, paths: list[Path | None]
) -> dict[str, Any]:
    """What the application gets and the model does not see: bytes, paths, run data."""
    return {
        "images": [
            {
                "data": image.data,
                "mime_type": image.mime_type,
                "url": image.url,
                "path": str(path) if path is not None else None,
            }
            for image, path in zip(generation.images, paths, strict=True)
        ],
        "prompt": request.prompt,
        "seed": generation.seed,
        "model": generation.model,
        "space": generation.space,
        "queue_wait": generation.queue_wait,
        "duration": generation.duration,
    }


def tool_error_message(exc: SpaceError | InvalidInputError) -> str:
    """A failure in words an agent can act on (wait, change the arguments, give up)."""
    if isinstance(exc, InvalidInputError):
        return f"The image request is invalid: {exc}. Fix the arguments and call again."
    if isinstance(exc, GPUQuotaExceededError):
        wait = in_words(exc.retry_after)
        when = f"try again in {wait}" if wait else "try again later"
        return (
            # The core's message already says what this caller can do (a token, PRO, wait).
            f"The image Space's GPU quota is used up ({exc.message}); {when}, and tell "
            "the user what the message advises."
        )
    if isinstance(exc, (QueueFullError, RateLimitError, GPUUnavailableError)):
        return f"The image Space is busy ({exc.message}); try again in a minute."
    if isinstance(exc, SpaceTimeoutError):
        return f"The image Space did not answer in time ({exc.message}); try again later."
    hint = "try again" if exc.retryable else "do not retry with the same arguments"
    return f"Image generation failed on the Space: {exc}; {hint}."

