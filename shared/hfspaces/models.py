"""The model registry: which Space serves each model and what it can take.

Wrappers read `ModelSpec` to validate input before any request and to fill their
metadata (LangChain profile, LlamaIndex `LLMMetadata`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .errors import InvalidInputError, UnknownModelError

Modality = Literal["text", "image", "audio"]

JANUS_SPACE = "deepseek-ai/Janus-Pro-7B"
PHI4_SPACE = "microsoft/phi-4-multimodal"


@dataclass(frozen=True)
class ModelSpec:
    id: str
    space: str
    adapter: Literal["janus_understanding", "janus_image", "phi4", "chat"]
    description: str
    inputs: frozenset[Modality]
    outputs: frozenset[Modality]
    #: An image must be present in the conversation (Janus understanding fails without one).
    requires_image: bool = False
    #: The Space streams tokens as it generates them.
    streams_tokens: bool = False
    #: The Space keeps multi-turn history natively (others get history folded into text).
    multi_turn: bool = False
    aliases: tuple[str, ...] = ()
    #: Default sampling values of the Space's own UI.
    defaults: dict[str, float | int] = field(default_factory=dict)
    #: Parameters the Space's API takes (anything else is rejected up front).
    parameters: frozenset[str] = frozenset()
    context_window: int = 4096
    max_output_tokens: int = 512
    #: Most images one call may carry, over the whole conversation (the Space reads no more:
    #: Janus answers about one image; Phi-4's 8 is this registry's declared limit).
    max_images: int = 1
    #: The conversation must end with a user message (the Space answers the last turn).
    last_from_user: bool = False
    #: Characters per text token, to count tokens without the tokenizer (see `tokens.py`).
    chars_per_token: float = 3.8
    #: Tokens one input image costs in the model's context (an approximation, documented).
    image_tokens: int = 576
    #: ZeroGPU duration the Space declares per call, seconds (what quota is charged).
    gpu_duration: int = 60
    #: The endpoint to call, for a Space reached by `space=` (None: found in its /config).
    api_name: str | None = None


MODELS: dict[str, ModelSpec] = {
    m.id: m
    for m in (
        ModelSpec(
            id="janus-pro-7b",
            space=JANUS_SPACE,
            adapter="janus_understanding",
            description="DeepSeek Janus-Pro-7B: answers a question about an image (single turn).",
            inputs=frozenset({"text", "image"}),
            outputs=frozenset({"text"}),
            requires_image=True,
            streams_tokens=False,
            aliases=("janus-pro", "janus", "deepseek-ai/janus-pro-7b", "janus-pro-7b-vision"),
            defaults={"seed": 42, "top_p": 0.95, "temperature": 0.1},
            parameters=frozenset({"seed", "top_p", "temperature"}),
            context_window=4096,
            max_output_tokens=512,
            max_images=1,
            gpu_duration=120,
        ),
        ModelSpec(
            id="janus-pro-7b-image",
            space=JANUS_SPACE,
            adapter="janus_image",
            description="DeepSeek Janus-Pro-7B: draws 5 images (768x768) from a text prompt.",
            inputs=frozenset({"text"}),
            outputs=frozenset({"image"}),
            aliases=("janus-image", "janus-pro-image", "janus-pro-7b-t2i"),
            defaults={"seed": 12345, "guidance": 5.0, "temperature": 1.0, "num_images": 5},
            parameters=frozenset({"seed", "guidance", "temperature", "num_images"}),
            context_window=4096,
            max_output_tokens=0,
            gpu_duration=120,
        ),
        ModelSpec(
            id="phi-4-multimodal",
            space=PHI4_SPACE,
            adapter="phi4",
            description="Microsoft Phi-4-multimodal: chat over text, images and audio.",
            inputs=frozenset({"text", "image", "audio"}),
            outputs=frozenset({"text"}),
            streams_tokens=True,
            multi_turn=True,
            aliases=(
                "phi-4",
                "phi4",
                "phi-4-mm",
                "microsoft/phi-4-multimodal",
                "phi-4-multimodal-instruct",
            ),
            defaults={},
            parameters=frozenset(),
            context_window=128_000,
            max_output_tokens=1024,
            max_images=8,
            last_from_user=True,
            # Phi-4-mini's tokenizer is o200k_base (200 k vocabulary): longer tokens.
            chars_per_token=4.2,
            # Dynamic HD crops of 448 px, 256 tokens each (+ a global view): ~1 k typical.
            image_tokens=1024,
            gpu_duration=60,
        ),
    )
}


def chat_space_spec(target: str, api_name: str | None = None) -> ModelSpec:
    """A chat model for any chat Space (`space=`): a Space id or URL, no registry entry.
    What it takes is known only from the Space's /config, read before the first job."""
    target = target.strip()
    if not target:
        raise InvalidInputError("space must be a Space id ('owner/name') or a URL")
    return ModelSpec(
        id=target,
        space=target,
        adapter="chat",
        description=f"The chat endpoint of {target}.",
        inputs=frozenset({"text", "image", "audio"}),
        outputs=frozenset({"text"}),
        streams_tokens=True,
        multi_turn=True,
        parameters=frozenset({"temperature", "top_p", "seed"}),
        context_window=32_768,
        max_output_tokens=4096,
        max_images=8,
        api_name=("/" + api_name.strip().lstrip("/")) if api_name and api_name.strip() else None,
    )


_ALIASES = {alias: m.id for m in MODELS.values() for alias in (m.id, *m.aliases)}


def get_model(name: str | ModelSpec) -> ModelSpec:
    """Look a model up by id or alias (case-insensitive). Raises `UnknownModelError`."""
    if isinstance(name, ModelSpec):
        return name
    key = _ALIASES.get(name.strip().lower())
    if key is None:
        raise UnknownModelError(
            f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}"
        )
    return MODELS[key]
