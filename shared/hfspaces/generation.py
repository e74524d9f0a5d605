"""What a model call returns: `Generation` (text and/or images plus run metadata)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

FinishReason = Literal["stop", "stop_sequence", "cancelled"]


@dataclass(frozen=True)
class GeneratedImage:
    """One output image: `data` when downloaded, always the Space's `url`."""

    url: str
    mime_type: str | None = None
    data: bytes | None = field(default=None, repr=False)
    name: str | None = None

    def __repr__(self) -> str:
        size = f"{len(self.data)} bytes" if self.data is not None else "not downloaded"
        return f"GeneratedImage({self.mime_type or 'image'}, {size}, url={self.url[:60]!r})"


@dataclass(frozen=True)
class GenerationParams:
    """Sampling controls. None means the Space's own default (see `ModelSpec.defaults`)."""

    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    guidance: float | None = None
    num_images: int | None = None
    stop: tuple[str, ...] = ()

    def set_fields(self) -> set[str]:
        return {
            name
            for name in ("temperature", "top_p", "seed", "guidance", "num_images")
            if getattr(self, name) is not None
        }


@dataclass(frozen=True)
class Generation:
    """The result of one model call, and what a user can act on afterwards."""

    model: str
    space: str
    text: str = ""
    images: tuple[GeneratedImage, ...] = ()
    seed: int | None = None
    finish_reason: FinishReason = "stop"
    queue_wait: float | None = None
    duration: float | None = None
    endpoint: str | None = None
    event_id: str | None = None
    raw_outputs: list[Any] | None = field(default=None, repr=False, compare=False)

    def metadata(self) -> dict[str, Any]:
        """Flat metadata for framework responses (no secrets, JSON-serialisable)."""
        meta: dict[str, Any] = {
            "model": self.model,
            "space": self.space,
            "finish_reason": self.finish_reason,
        }
        for key in ("seed", "queue_wait", "duration", "endpoint", "event_id"):
            value = getattr(self, key)
            if value is not None:
                meta[key] = round(value, 3) if isinstance(value, float) else value
        if self.images:
            meta["num_images"] = len(self.images)
        return meta
