"""`HFSpacesToolSpec`: image generation (Janus-Pro-7B) and image questions as agent tools.

Each tool returns content blocks: the text says what was made and where it was saved (a
ReAct agent's model sees only that), the image blocks go to agents that pass images on.
"""

# No `from __future__ import annotations` here: LlamaIndex builds each tool's description
# from `inspect.signature`, which would then show every annotation as a quoted string.
import asyncio
from collections.abc import Sequence
from contextlib import aclosing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hfspaces import (
    Generation,
    GenerationParams,
    InvalidInputError,
    Media,
    MediaError,
    Message,
    SpaceModel,
    get_model,
)
from hfspaces.image_files import save_images
from hfspaces.settings_cache import ModelCache, token_for_pickle
from hfspaces.sync import run_sync
from llama_index.core.base.llms.types import ImageBlock, TextBlock
from llama_index.core.instrumentation.span import active_span_id
from llama_index.core.tools.tool_spec.base import BaseToolSpec

from .events import announce
from .utils import generated_image_block

if TYPE_CHECKING:
    from .space_tools import SpaceToolSpec

DEFAULT_QUESTION = "Describe this image in detail."


class HFSpacesToolSpec(BaseToolSpec):
    """Tools over Hugging Face Spaces: `generate_image` and `describe_image` (with async
    twins `agenerate_image` / `adescribe_image`).

    `output_dir`: where generated images are saved (None: not saved, only returned).
    `input_dir`: if set, `describe_image(path=...)` only reads files inside it.
    No network I/O happens until a tool is called.
    """

    spec_functions = [  # noqa: RUF012 - BaseToolSpec reads it as a class attribute
        ("generate_image", "agenerate_image"),
        ("describe_image", "adescribe_image"),
    ]

    def __init__(
        self,
        *,
        image_model: str = "janus-pro-7b-image",
        vision_model: str = "janus-pro-7b",
        endpoint: str | list[str] | dict[str, str | list[str]] | None = None,
        hf_token: Any = None,
        send_hf_token: bool | None = None,
        max_queue_wait: float = 600.0,
        hub_url: str | None = None,
        timeout: float | None = None,
        max_retries: int = 3,
        output_dir: str | Path | None = None,
        input_dir: str | Path | None = None,
    ) -> None:
        self._image_model_id = get_model(image_model).id
        self._vision_model_id = get_model(vision_model).id
        self._settings: dict[str, Any] = {
            "endpoint": endpoint,
            "hf_token": hf_token,
            "send_hf_token": send_hf_token,
            "max_queue_wait": max_queue_wait,
            "hub_url": hub_url,
            "timeout": timeout,
            "max_retries": max_retries,
        }
        self._models = ModelCache(self)
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.input_dir = Path(input_dir).resolve() if input_dir is not None else None
        for model in (self._image_model_id, self._vision_model_id):
            self._model(model)  # built now (validates the settings); no session opens yet

    @property
    def image_model(self) -> SpaceModel:
        return self._model(self._image_model_id)

    @property
    def vision_model(self) -> SpaceModel:
        return self._model(self._vision_model_id)

    def _model(self, model: str) -> SpaceModel:
        # Per instance: a copy (deepcopy, pickle) builds its own, with its own sessions.
        self._models = ModelCache.owned(self, self._models)
        return self._models.get(model, self._settings)

    @classmethod
    def from_space(
        cls, target: str | Sequence[str], api_names: Sequence[str] | None = None, **options: Any
    ) -> "SpaceToolSpec":
        """Tools from any Space's own API: one `FunctionTool` per endpoint (see
        `llama_index_hfspaces.space_tools.SpaceToolSpec`)."""
        from .space_tools import SpaceToolSpec

        return SpaceToolSpec(target, api_names, **options)

    def __repr__(self) -> str:
        return (
            f"HFSpacesToolSpec(image_model={self._image_model_id!r}, "
            f"vision_model={self._vision_model_id!r}, output_dir={self.output_dir!s})"
        )

    # -- copies and pickles: the settings, never a session; pickles never the token ----------

    def _init_args(self) -> dict[str, Any]:
        return {
            **self._settings,
            "image_model": self._image_model_id,
            "vision_model": self._vision_model_id,
            "output_dir": self.output_dir,
            "input_dir": self.input_dir,
        }

    def __deepcopy__(self, memo: dict[int, Any]) -> "HFSpacesToolSpec":
        return type(self)(**self._init_args())  # in memory: the token is kept

    def __getstate__(self) -> dict[str, Any]:
        args = self._init_args()
        # None: the unpickled copy reads HF_TOKEN again (settings_cache.token_for_pickle).
        args["hf_token"] = token_for_pickle(args["hf_token"])
        return args

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    async def aclose(self) -> None:
        """Close the HTTP sessions the tools opened in the running event loop."""
        await ModelCache.owned(self, self._models).aclose()

    # -- generate_image ---------------------------------------------------------------------

    def generate_image(
        self,
        prompt: str,
        seed: int | None = None,
        num_images: int = 1,
        guidance: float | None = None,
    ) -> list[TextBlock | ImageBlock]:
        """Draw images from a text description with DeepSeek Janus-Pro-7B.

        Returns a text saying what was drawn, the seed and where each image was saved,
        followed by the images.

        Args:
            prompt (str): What to draw, in plain words (e.g. "a red fox in the snow").
            seed (int | None): Random seed; the same prompt and seed give the same images.
            num_images (int): How many images to return, 1 to 5.
            guidance (float | None): How closely to follow the prompt, 1 to 10 (default 5).
        """
        return run_sync(self.agenerate_image(prompt, seed, num_images, guidance))

    async def agenerate_image(
        self,
        prompt: str,
        seed: int | None = None,
        num_images: int = 1,
        guidance: float | None = None,
    ) -> list[TextBlock | ImageBlock]:
        """Draw images from a text description with DeepSeek Janus-Pro-7B.

        Returns a text saying what was drawn, the seed and where each image was saved,
        followed by the images.

        Args:
            prompt (str): What to draw, in plain words (e.g. "a red fox in the snow").
            seed (int | None): Random seed; the same prompt and seed give the same images.
            num_images (int): How many images to return, 1 to 5.
            guidance (float | None): How closely to follow the prompt, 1 to 10 (default 5).
        """
        params = GenerationParams(seed=seed, num_images=num_images, guidance=guidance)
        generation = await _run(self.image_model, [Message.user(prompt)], params)
        saved: list[Path | None] = []
        if self.output_dir is not None:
            saved = await asyncio.to_thread(
                save_images, generation.images, self.output_dir, prompt, generation.seed
            )
        paths = [p for p in saved if p is not None]
        text = generated_text(prompt, len(generation.images), generation.seed, paths)
        text += f" (model {generation.model}, Space {generation.space})."
        return [TextBlock(text=text), *map(generated_image_block, generation.images)]

    # -- describe_image ---------------------------------------------------------------------

    def describe_image(
        self,
        image: str | None = None,
        question: str = DEFAULT_QUESTION,
        path: str | None = None,
    ) -> list[TextBlock | ImageBlock]:
        """Answer a question about an image with DeepSeek Janus-Pro-7B.

        Give the image either as `image` (an http(s) URL or a data: URL) or as `path`
        (a local image file). Returns the answer as text.

        Args:
            image (str | None): The image as an http(s) URL or a base64 data: URL.
            question (str): What to ask about the image.
            path (str | None): A local image file, instead of `image`.
        """
        return run_sync(self.adescribe_image(image, question, path))

    async def adescribe_image(
        self,
        image: str | None = None,
        question: str = DEFAULT_QUESTION,
        path: str | None = None,
    ) -> list[TextBlock | ImageBlock]:
        """Answer a question about an image with DeepSeek Janus-Pro-7B.

        Give the image either as `image` (an http(s) URL or a data: URL) or as `path`
        (a local image file). Returns the answer as text.

        Args:
            image (str | None): The image as an http(s) URL or a base64 data: URL.
            question (str): What to ask about the image.
            path (str | None): A local image file, instead of `image`.
        """
        media = await asyncio.to_thread(self._image_input, image, path)  # file I/O: off the loop
        generation = await _run(self.vision_model, [Message.user(question, media)])
        where = path if path is not None else _short(image or "")
        text = f"Answer about the image {where} (model {generation.model}): {generation.text}"
        return [TextBlock(text=text)]

    def _image_input(self, image: str | None, path: str | None) -> Media:
        """The image to describe. A string in `image` is only ever a URL; a local file is
        read only when named in `path` (and inside `input_dir`, when one is set)."""
        if (image is None) == (path is None):
            raise InvalidInputError("give exactly one of image (a URL) or path (a local file)")
        if image is not None:
            if not image.strip().lower().startswith(("http://", "https://", "data:")):
                # The core's message speaks to Python callers (pathlib.Path); an agent
                # needs to hear about this tool's own `path` argument.
                raise MediaError(
                    f"image must be an http(s) URL or a data: URL, not {_short(image)!r}; "
                    "to describe a local file, give it as path=... instead"
                )
            return Media.from_url(image).require("image")
        file = Path(path).expanduser().resolve()  # type: ignore[arg-type]
        if self.input_dir is not None and not file.is_relative_to(self.input_dir):
            raise MediaError(f"{path} is outside the allowed input directory {self.input_dir}")
        return Media.from_path(file).require("image")


async def _run(
    model: SpaceModel, conversation: list[Message], params: GenerationParams | None = None
) -> Generation:
    """Run a tool's job; its queue/progress/log news goes out as `HFSpacesJobEvent`s of
    the tool call's span, as the LLM's do."""
    span_id = active_span_id.get()
    result: Generation | None = None
    async with aclosing(model.stream(conversation, params)) as items:
        async for item in items:
            if isinstance(item, Generation):
                result = item
            else:
                announce(item, model=model.spec.id, space=model.spec.space, span_id=span_id)
    if result is None:  # pragma: no cover - a stream ends with its Generation or raises
        raise RuntimeError("the Space stream ended without a result")
    return result


def generated_text(prompt: str, count: int, seed: int | None, saved: Sequence[Path]) -> str:
    """What an agent reads about a generation: what, how many, the seed, where saved."""
    made = f"Generated {count} image{'s' * (count != 1)} of {prompt!r} with seed {seed}"
    if not saved:
        return made + "; not saved to disk (no output_dir set)"
    return made + "; saved to " + ", ".join(str(p) for p in saved)


def _short(url: str) -> str:
    return url if not url.startswith("data:") else url[: url.find(",")] + ",…"
