"""The neutral conversation both framework wrappers produce and the Space adapters read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .media import Media

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class TextPart:
    text: str


@dataclass(frozen=True)
class ImagePart:
    media: Media


@dataclass(frozen=True)
class AudioPart:
    media: Media


Part = TextPart | ImagePart | AudioPart


@dataclass(frozen=True)
class Message:
    role: Role
    parts: tuple[Part, ...]
    name: str | None = None

    @classmethod
    def user(cls, text: str = "", *media: Media, name: str | None = None) -> Message:
        """A user message from text plus images/audio (kind decided by the media's type)."""
        parts: list[Part] = [TextPart(text)] if text else []
        for m in media:
            parts.append(AudioPart(m) if m.kind == "audio" else ImagePart(m))
        return cls("user", tuple(parts), name)

    @classmethod
    def system(cls, text: str) -> Message:
        return cls("system", (TextPart(text),))

    @classmethod
    def assistant(cls, text: str) -> Message:
        return cls("assistant", (TextPart(text),))

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.parts if isinstance(p, TextPart))

    @property
    def images(self) -> list[Media]:
        return [p.media for p in self.parts if isinstance(p, ImagePart)]

    @property
    def audio(self) -> list[Media]:
        return [p.media for p in self.parts if isinstance(p, AudioPart)]


Conversation = Sequence[Message]


def last_user_text(conversation: Conversation) -> str:
    for message in reversed(conversation):
        if message.role == "user" and message.text.strip():
            return message.text
    return ""
