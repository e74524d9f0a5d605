"""Block ⇄ neutral conversions (pure: no replica, no network)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hfspaces import (
    GeneratedImage,
    Generation,
    InvalidInputError,
    MediaError,
    TextDelta,
    UnsupportedInputError,
)
from hfspaces.conversation import AudioPart, ImagePart, TextPart
from hfspaces.events import Queued
from llama_index.core.base.llms.types import (
    AudioBlock,
    CacheControl,
    CachePoint,
    ChatMessage,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
)
from llama_index.core.schema import ImageDocument, ImageNode

from llama_index_hfspaces.utils import (
    ChatStream,
    block_to_part,
    completion_response,
    generation_blocks,
    image_document_block,
    prompt_message,
    to_conversation,
)


def _data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


# -- blocks → parts --------------------------------------------------------------------------


def test_text_block_becomes_text_part() -> None:
    assert block_to_part(TextBlock(text="hi")) == TextPart("hi")
    assert block_to_part(TextBlock(text="")) is None  # empty text carries nothing


def test_image_block_from_bytes_is_sniffed(png_bytes: bytes) -> None:
    part = block_to_part(ImageBlock(image=png_bytes))
    assert isinstance(part, ImagePart)
    assert part.media.data == png_bytes  # the block stores base64; we send the raw bytes
    assert part.media.mime_type == "image/png"


def test_image_block_from_explicit_path(tmp_path: Path, png_bytes: bytes) -> None:
    file = tmp_path / "picture.png"
    file.write_bytes(png_bytes)
    part = block_to_part(ImageBlock(path=file))
    assert isinstance(part, ImagePart)
    assert part.media.path == file and part.media.mime_type == "image/png"


def test_image_block_from_data_url_and_http_url(png_bytes: bytes) -> None:
    part = block_to_part(ImageBlock(url=_data_url(png_bytes, "image/png")))
    assert isinstance(part, ImagePart) and part.media.data == png_bytes
    part = block_to_part(ImageBlock(url="https://example.org/cat.png"))
    assert isinstance(part, ImagePart)
    assert part.media.url == "https://example.org/cat.png"  # passed on, never fetched here


def test_image_block_with_a_file_url_is_refused() -> None:
    with pytest.raises(MediaError, match="http"):
        block_to_part(ImageBlock(url="file:///etc/passwd"))


def test_empty_image_block_is_refused() -> None:
    with pytest.raises(MediaError, match="ImageBlock has no image"):
        block_to_part(ImageBlock())


def test_audio_block_from_bytes_and_path(tmp_path: Path, wav_bytes: bytes) -> None:
    part = block_to_part(AudioBlock(audio=wav_bytes))
    assert isinstance(part, AudioPart) and part.media.mime_type == "audio/wav"
    file = tmp_path / "clip.wav"
    file.write_bytes(wav_bytes)
    part = block_to_part(AudioBlock(path=file))
    assert isinstance(part, AudioPart) and part.media.path == file


@pytest.mark.parametrize(
    "block",
    [
        DocumentBlock(data=b"%PDF-1.4 hello", document_mimetype="application/pdf"),
        ThinkingBlock(content="hmm"),
    ],
    ids=["document", "thinking"],
)
def test_unsupported_blocks_raise_not_dropped(block: object) -> None:
    with pytest.raises(UnsupportedInputError, match=type(block).__name__):
        block_to_part(block)


def test_cache_point_is_a_hint_not_content() -> None:
    assert block_to_part(CachePoint(cache_control=CacheControl(type="ephemeral"))) is None


# -- messages → conversation ---------------------------------------------------------------


def test_system_and_history_map_to_neutral_roles(png_bytes: bytes) -> None:
    conversation = to_conversation(
        [
            ChatMessage(role=MessageRole.SYSTEM, content="Be brief."),
            ChatMessage(role=MessageRole.USER, content="Hello"),
            ChatMessage(role=MessageRole.ASSISTANT, content="Hi!"),
            ChatMessage(
                role=MessageRole.USER,
                blocks=[TextBlock(text="And this?"), ImageBlock(image=png_bytes)],
            ),
        ]
    )
    assert [m.role for m in conversation] == ["system", "user", "assistant", "user"]
    assert conversation[0].text == "Be brief."
    assert conversation[-1].text == "And this?" and len(conversation[-1].images) == 1


def test_tool_role_is_refused() -> None:
    with pytest.raises(UnsupportedInputError, match="tool"):
        to_conversation([ChatMessage(role=MessageRole.TOOL, content="42")])


def test_no_content_at_all_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        to_conversation([ChatMessage(role=MessageRole.USER, content="")])


# -- legacy image_documents ------------------------------------------------------------------


def test_image_documents_of_every_kind(tmp_path: Path, png_bytes: bytes) -> None:
    file = tmp_path / "a.png"
    file.write_bytes(png_bytes)
    encoded = base64.b64encode(png_bytes).decode()
    blocks = [
        image_document_block(ImageNode(image=encoded)),
        image_document_block(ImageNode(image_path=str(file))),
        image_document_block(ImageNode(image_url="https://example.org/x.png")),
        image_document_block(ImageDocument(image_path=str(file))),
        image_document_block(ImageBlock(image=png_bytes)),
    ]
    parts = [block_to_part(b) for b in blocks]
    assert all(isinstance(p, ImagePart) for p in parts)
    assert parts[0].media.data == png_bytes  # type: ignore[union-attr]
    assert parts[1].media.path == file  # type: ignore[union-attr]
    assert parts[2].media.url == "https://example.org/x.png"  # type: ignore[union-attr]


def test_a_non_image_document_is_refused() -> None:
    with pytest.raises(MediaError, match="image document"):
        image_document_block(ImageNode(text="no image here"))


def test_prompt_message_puts_images_before_the_prompt(png_bytes: bytes) -> None:
    message = prompt_message("what is it?", [ImageBlock(image=png_bytes)])
    assert message.role == MessageRole.USER
    assert [b.block_type for b in message.blocks] == ["image", "text"]


# -- stream → chunks -------------------------------------------------------------------------


def _generation(text: str, **kw: object) -> Generation:
    return Generation(model="phi-4-multimodal", space="microsoft/phi-4-multimodal", text=text, **kw)  # type: ignore[arg-type]


def test_chat_stream_chunks_are_cumulative_with_non_empty_deltas() -> None:
    stream = ChatStream()
    items = [
        Queued(0, 1, None),
        TextDelta("Hel"),
        TextDelta("lo"),
        TextDelta("!"),
        _generation("Hello!", seed=3),
    ]
    chunks = [c for item in items for c in stream.feed(item)]
    assert [c.delta for c in chunks] == ["Hel", "lo", "!"]
    assert [c.message.content for c in chunks] == ["Hel", "Hello", "Hello!"]
    assert chunks[-1].raw == {
        "model": "phi-4-multimodal",
        "space": "microsoft/phi-4-multimodal",
        "finish_reason": "stop",
        "seed": 3,
    }
    assert chunks[-1].additional_kwargs == chunks[-1].raw


def test_chat_stream_of_an_unstreamed_answer_is_one_chunk() -> None:
    chunks = ChatStream().feed(_generation("All at once."))
    assert [(c.delta, c.message.content) for c in chunks] == [("All at once.", "All at once.")]


def test_generated_images_become_image_blocks(png_bytes: bytes) -> None:
    generation = _generation(
        "Generated 2 images",
        images=(
            GeneratedImage(url="http://space/file=a.png", mime_type="image/png", data=png_bytes),
            GeneratedImage(url="http://space/file=b.png", mime_type="image/png"),
        ),
    )
    blocks = generation_blocks(generation, generation.text)
    assert [b.block_type for b in blocks] == ["text", "image", "image"]
    assert blocks[1].resolve_image().read() == png_bytes
    assert str(blocks[2].url) == "http://space/file=b.png"  # not downloaded: the Space URL
    response = completion_response(ChatStream().feed(generation)[0])
    assert response.text == "Generated 2 images"
    assert len(response.additional_kwargs["images"]) == 2
