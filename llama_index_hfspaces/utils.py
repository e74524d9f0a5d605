"""LlamaIndex ⇄ `hfspaces` conversions: content blocks → neutral `Message`s, and a model's
streamed events → `ChatResponse` chunks. Pure functions, no I/O (paths are checked, not
read: `Media.from_path` streams the file on upload).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hfspaces import (
    GeneratedImage,
    Generation,
    InvalidInputError,
    Media,
    MediaError,
    Message,
    TextDelta,
    UnsupportedInputError,
)
from hfspaces.conversation import AudioPart, ImagePart, Part, Role, TextPart
from llama_index.core.base.llms.types import (
    AudioBlock,
    CachePoint,
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    ImageBlock,
    MessageRole,
    TextBlock,
)

#: LlamaIndex roles → neutral roles. Tool/function results have no place in a Space's chat
#: (the model does not call tools), so they are refused rather than guessed at.
_ROLES: dict[MessageRole, Role] = {
    MessageRole.SYSTEM: "system",
    MessageRole.DEVELOPER: "system",
    MessageRole.USER: "user",
    MessageRole.ASSISTANT: "assistant",
    MessageRole.CHATBOT: "assistant",
    MessageRole.MODEL: "assistant",
}


# -- input errors that LlamaIndex cannot swallow ------------------------------------------


class HFSpacesInputError(Exception):
    """Input `HFSpacesLLM` cannot send (raised before any request).

    Deliberately not a `ValueError`: LlamaIndex's response synthesizers (refine, compact,
    tree summarize) catch `ValueError` and `TypeError` from the LLM, log a warning and
    answer "Empty Response", so a user's mistake inside a query engine would vanish. The
    `hfspaces.InvalidInputError` (a `ValueError`) is `.error` and `__cause__`."""

    def __init__(self, error: InvalidInputError) -> None:
        super().__init__(str(error))
        self.error = error


@contextmanager
def input_errors() -> Iterator[None]:
    """Re-raise `InvalidInputError`s as `HFSpacesInputError`s."""
    try:
        yield
    except InvalidInputError as exc:
        raise HFSpacesInputError(exc) from exc


# -- input: blocks → neutral parts ----------------------------------------------------------


def image_media(block: ImageBlock) -> Media:
    """An `ImageBlock` as `Media`: inline bytes, then the explicit `path`, then `url`
    (http(s) is passed on to the Space, `data:` is decoded)."""
    if block.image is not None:
        # The block keeps bytes base64-encoded; resolve_image() gives the raw content back.
        data = block.resolve_image().read()
        return Media.from_bytes(data, mime_type=block.image_mimetype)
    if block.path is not None:
        return Media.from_path(block.path)
    if block.url is not None:
        return Media.from_url(str(block.url))
    raise MediaError("ImageBlock has no image: set one of image (bytes), path or url")


def audio_media(block: AudioBlock) -> Media:
    """An `AudioBlock` as `Media` (same precedence as `image_media`)."""
    if block.audio is not None:
        data = block.resolve_audio().read()
        mime = f"audio/{block.format}" if block.format else None
        return Media.from_bytes(data, mime_type=mime)
    if block.path is not None:
        return Media.from_path(block.path)
    if block.url is not None:
        return Media.from_url(str(block.url))
    raise MediaError("AudioBlock has no audio: set one of audio (bytes), path or url")


def block_to_part(block: Any) -> Part | None:
    """One content block → one neutral part; None for blocks that carry no content
    (cache hints). Anything else the Spaces cannot take raises `UnsupportedInputError`."""
    if isinstance(block, TextBlock):
        return TextPart(block.text) if block.text else None
    if isinstance(block, ImageBlock):
        return ImagePart(image_media(block))
    if isinstance(block, AudioBlock):
        return AudioPart(audio_media(block))
    if isinstance(block, CachePoint):
        return None  # a prompt-caching hint for other providers, not content
    kind = getattr(block, "block_type", type(block).__name__)
    raise UnsupportedInputError(
        f"HFSpacesLLM cannot send a {type(block).__name__} ({kind!r} block): the Spaces take "
        "text, image and (Phi-4 only) audio blocks; convert it to one of those first"
    )


def role_of(message: ChatMessage) -> Role:
    role = _ROLES.get(MessageRole(message.role))
    if role is None:
        raise UnsupportedInputError(
            f"HFSpacesLLM cannot send a {message.role.value!r} message: the Spaces have no tool "
            "calling; use a ReAct agent (it sends tool results as user messages)"
        )
    return role


def to_message(message: ChatMessage) -> Message | None:
    """A `ChatMessage` → a neutral `Message`, or None when it has no content at all."""
    role = role_of(message)
    parts = tuple(p for p in (block_to_part(b) for b in message.blocks) if p is not None)
    return Message(role, parts) if parts else None


def to_conversation(messages: Sequence[ChatMessage]) -> list[Message]:
    """Chat history (system prompt included) → the neutral conversation."""
    conversation = [m for m in (to_message(msg) for msg in messages) if m is not None]
    if not conversation:
        raise InvalidInputError("the messages are empty: send at least one with content")
    return conversation


# -- the legacy multimodal entry point --------------------------------------------------------


def image_document_block(document: Any) -> ImageBlock:
    """An `ImageBlock`, a `Document`/node with an `image_resource` (a `MediaResource`), or
    a legacy `ImageNode`/`ImageDocument` as an `ImageBlock` (no I/O: URLs are left for the
    Space to fetch, paths are only the ones the document names explicitly)."""
    if isinstance(document, ImageBlock):
        return document
    resource = getattr(document, "image_resource", None)
    if resource is not None:
        return _resource_block(resource)
    image = getattr(document, "image", None)
    path = getattr(document, "image_path", None)
    url = getattr(document, "image_url", None)
    mime = getattr(document, "image_mimetype", None)
    if isinstance(image, str) and image:  # ImageNode keeps base64 text
        return ImageBlock(image=base64.b64decode(image), image_mimetype=mime)
    if path:
        return ImageBlock(path=os.fspath(path), image_mimetype=mime)
    if url:
        return ImageBlock(url=str(url), image_mimetype=mime)
    raise MediaError(
        f"cannot use {type(document).__name__} as an image document: pass an ImageBlock, a "
        "Document with image_resource=MediaResource(data=..., path=... or url=...), or an "
        "ImageNode/ImageDocument with image, image_path or image_url set"
    )


def _resource_block(resource: Any) -> ImageBlock:
    """A `MediaResource` (it keeps `data` base64-encoded) as an `ImageBlock`."""
    mime = resource.mimetype
    if resource.data:
        return ImageBlock(image=base64.b64decode(resource.data), image_mimetype=mime)
    if resource.path is not None:
        return ImageBlock(path=os.fspath(resource.path), image_mimetype=mime)
    if resource.url is not None:
        return ImageBlock(url=str(resource.url), image_mimetype=mime)
    raise MediaError("the document's image_resource has no data, path or url")


def with_instructions(messages: Sequence[ChatMessage], text: str) -> list[ChatMessage]:
    """The conversation with `text` added to its last user message (a new one if it does
    not end with one): single-turn Spaces read only that turn."""
    out = list(messages)
    if out and out[-1].role == MessageRole.USER:
        last = out[-1]
        out[-1] = last.model_copy(update={"blocks": [*last.blocks, TextBlock(text=text)]})
    else:
        out.append(ChatMessage(role=MessageRole.USER, content=text))
    return out


def prompt_message(prompt: str, image_documents: Iterable[Any] | None = None) -> ChatMessage:
    """A completion prompt (plus legacy `image_documents`) as one user `ChatMessage`."""
    blocks: list[Any] = [image_document_block(d) for d in image_documents or ()]
    blocks.append(TextBlock(text=prompt))
    return ChatMessage(role=MessageRole.USER, blocks=blocks)


# -- output: a Generation → blocks and responses -----------------------------------------


def generated_image_block(image: GeneratedImage) -> ImageBlock:
    """A generated image as an `ImageBlock`: the bytes when downloaded, else the Space URL."""
    if image.data is not None:
        return ImageBlock(image=image.data, image_mimetype=image.mime_type)
    return ImageBlock(url=image.url, image_mimetype=image.mime_type)


def generation_blocks(generation: Generation, text: str) -> list[Any]:
    """The answer's blocks: its text (if any), then one `ImageBlock` per generated image."""
    blocks: list[Any] = [TextBlock(text=text)] if text or not generation.images else []
    blocks.extend(generated_image_block(image) for image in generation.images)
    return blocks


def assistant_message(blocks: list[Any]) -> ChatMessage:
    return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks)


def completion_response(response: ChatResponse) -> CompletionResponse:
    """A chat response as a completion: the text, and generated images (which a
    `CompletionResponse` has no field for) under `additional_kwargs["images"]`."""
    images = [b for b in response.message.blocks if isinstance(b, ImageBlock)]
    extra = dict(response.additional_kwargs)
    if images:
        extra["images"] = images
    return CompletionResponse(
        text=response.message.content or "",
        delta=response.delta,
        raw=response.raw,
        additional_kwargs=extra,
    )


@dataclass
class ChatStream:
    """Turns a model's stream (events, text deltas, then the `Generation`) into chunks.

    Every chunk carries the cumulative message and a non-empty `delta`. The newest delta
    is held back until the next one arrives, so the last chunk can carry the text's tail
    together with the run's metadata and any generated images.
    """

    text: str = ""
    pending: str = ""

    def feed(self, item: object) -> list[ChatResponse]:
        """The chunks to yield for one item of `SpaceModel.stream()` (events yield none)."""
        if isinstance(item, TextDelta) and item.text:
            out = [self._chunk(self.pending)] if self.pending else []
            self.pending = item.text
            return out
        if isinstance(item, Generation):
            return [self._final(item)]
        return []

    def _chunk(self, delta: str) -> ChatResponse:
        self.text += delta
        message = assistant_message([TextBlock(text=self.text)])
        return ChatResponse(message=message, delta=delta)

    def _final(self, generation: Generation) -> ChatResponse:
        streamed = self.text + self.pending
        # The final answer normally equals what was streamed; when the Space sent it only at
        # the end (Janus) or changed it (stop sequence), the remainder is the last delta.
        text = generation.text
        tail = text[len(self.text) :] if text.startswith(self.text) else text
        if streamed == text:
            tail = self.pending
        self.text, self.pending = text, ""
        meta = generation.metadata()
        return ChatResponse(
            message=assistant_message(generation_blocks(generation, text)),
            delta=tail or None,
            raw=meta,
            additional_kwargs=dict(meta),
        )
