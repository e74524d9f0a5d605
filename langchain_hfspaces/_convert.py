"""LangChain messages ↔ the neutral `hfspaces` layer, as small pure functions.

In: `BaseMessage.content_blocks` (LangChain's v1 view, which already turns legacy
`image_url`, OpenAI `input_audio` and v0 `source_type` blocks into standard ones) →
`hfspaces.Message`. Out: `hfspaces.Generation` / `TextDelta` → `AIMessageChunk`s.
No I/O: media strings become `Media` from base64 or http(s)/data URLs only, never paths.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hfspaces import (
    AudioPart,
    GeneratedImage,
    Generation,
    ImagePart,
    Media,
    MediaError,
    Message,
    TextDelta,
    TextPart,
    UnsupportedInputError,
)
from hfspaces.conversation import Part, Role
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.outputs import ChatGenerationChunk

from ._events import CustomEvent, custom_event

PROVIDER = "hfspaces"

_CHAT_ROLES: dict[str, Role] = {
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "ai": "assistant",
    "system": "system",
}
_TOOL_BLOCKS = frozenset({"tool_call", "tool_call_chunk", "invalid_tool_call"})

# -- input -------------------------------------------------------------------


def convert_messages(messages: Sequence[BaseMessage]) -> list[Message]:
    """LangChain messages → neutral messages. Raises `UnsupportedInputError` /
    `MediaError` (both `ValueError`s) for anything the Spaces cannot take."""
    converted = (convert_message(m) for m in messages)
    # A message without content (e.g. AIMessage("")) carries nothing to send.
    return [m for m in converted if m.parts]


def convert_message(message: BaseMessage) -> Message:
    role = role_of(message)
    if isinstance(message, AIMessage) and message.tool_calls:
        raise _no_tools(f"an AIMessage with tool calls ({message.tool_calls[0]['name']!r})")
    parts = tuple(p for p in (convert_block(b) for b in message.content_blocks) if p is not None)
    return Message(role, parts, message.name)


def role_of(message: BaseMessage) -> Role:
    if isinstance(message, SystemMessage):
        return "system"
    if isinstance(message, HumanMessage):
        return "user"
    if isinstance(message, AIMessage):
        return "assistant"
    if isinstance(message, ChatMessage) and message.role.lower() in _CHAT_ROLES:
        return _CHAT_ROLES[message.role.lower()]
    if message.type in ("tool", "function"):
        raise _no_tools(f"a {type(message).__name__}")
    raise UnsupportedInputError(
        f"ChatHFSpaces cannot take a {type(message).__name__} (type {message.type!r}); "
        "use system, human and AI messages"
    )


def convert_block(block: Mapping[str, Any]) -> Part | None:
    """One standard content block → a neutral part (None for empty text)."""
    kind = block.get("type")
    if kind == "text" or (kind == "text-plain" and isinstance(block.get("text"), str)):
        text = block.get("text") or ""
        return TextPart(text) if text else None
    if kind == "image":
        return ImagePart(media_from_block(block))
    if kind == "audio":
        return AudioPart(media_from_block(block))
    if kind == "non_standard":
        legacy = legacy_image_url(block.get("value"))
        if legacy is not None:
            return ImagePart(Media.from_url(legacy))
    if kind in _TOOL_BLOCKS:
        raise _no_tools(f"a {kind!r} content block")
    shown = kind if kind != "non_standard" else (block.get("value") or {}).get("type", kind)
    raise UnsupportedInputError(
        f"ChatHFSpaces cannot take {shown!r} content blocks: the Spaces accept text, image "
        "and audio (phi-4-multimodal) blocks"
    )


def media_from_block(block: Mapping[str, Any]) -> Media:
    """An image/audio block's media: base64 data, or an http(s)/data URL. A `url` that
    is anything else (a local path, file://) is refused, never read."""
    mime_type = block.get("mime_type")
    if isinstance(block.get("base64"), str):
        return Media.from_base64(block["base64"], mime_type=mime_type)
    if isinstance(block.get("url"), str):
        return Media.from_url(block["url"])
    if block.get("file_id") is not None:
        raise UnsupportedInputError(
            f"{block.get('type')} blocks with a file_id need a provider file store, which "
            "Spaces do not have: pass base64 data or an http(s) URL"
        )
    raise MediaError(f"{block.get('type')} block has no base64 data or url")


def legacy_image_url(value: Any) -> str | None:
    """The URL of an OpenAI-style `{"type": "image_url", "image_url": "<url>"}` block,
    the string form `content_blocks` leaves as non-standard."""
    if not isinstance(value, Mapping) or value.get("type") != "image_url":
        return None
    inner = value.get("image_url")
    url = inner.get("url") if isinstance(inner, Mapping) else inner
    return url if isinstance(url, str) else None


def _no_tools(what: str) -> UnsupportedInputError:
    return UnsupportedInputError(
        f"ChatHFSpaces has no tool calling, so it cannot take {what}; drive tools with a "
        "tool-calling model and give it HFSpacesImageTool"
    )


# -- output ------------------------------------------------------------------


def image_block(image: GeneratedImage) -> dict[str, Any]:
    """A standard image block: inline base64 when downloaded, else the Space's URL."""
    mime_type = image.mime_type or "image/png"
    if image.data is not None:
        encoded = base64.b64encode(image.data).decode("ascii")
        return {"type": "image", "base64": encoded, "mime_type": mime_type}
    return {"type": "image", "url": image.url, "mime_type": mime_type}


def response_metadata(generation: Generation) -> dict[str, Any]:
    """What a user can act on: model, Space, seed, queue wait, run duration, ..."""
    meta = generation.metadata()
    model = meta.pop("model")
    return {"model_name": model, "model_provider": PROVIDER, **meta}


@dataclass
class ChunkStream:
    """Turns one run's stream of `hfspaces` items into chunks and custom events.

    Text models: one chunk per `TextDelta`, then a last chunk with any text not yet sent
    (Spaces that answer only at the end) and the metadata. Image models: one last chunk
    whose content is a text block plus standard image blocks (each with an `index`).
    `model_name` and the other metadata go on the last chunk only, since metadata
    strings concatenate when chunks are merged.
    """

    model: str
    space: str
    image_output: bool = False
    sent: list[str] = field(default_factory=list)

    def feed(self, item: object) -> Iterable[ChatGenerationChunk | CustomEvent]:
        if isinstance(item, Generation):
            yield self.last(item)
        elif isinstance(item, TextDelta):
            if item.text and not self.image_output:
                self.sent.append(item.text)
                yield ChatGenerationChunk(message=AIMessageChunk(content=item.text))
        else:
            event = custom_event(item, model=self.model, space=self.space)
            if event is not None:
                yield event

    def last(self, generation: Generation) -> ChatGenerationChunk:
        sent = "".join(self.sent)
        tail = generation.text[len(sent) :] if generation.text.startswith(sent) else ""
        content: str | list[str | dict[str, Any]] = tail
        if self.image_output or generation.images:
            blocks: list[dict[str, Any]] = []
            if tail:
                blocks.append({"type": "text", "text": tail})
            blocks.extend(image_block(image) for image in generation.images)
            content = [{**block, "index": i} for i, block in enumerate(blocks)]
        message = AIMessageChunk(
            content=content,
            chunk_position="last",
            response_metadata=response_metadata(generation),
        )
        return ChatGenerationChunk(message=message)
