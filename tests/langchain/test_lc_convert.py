"""Pure conversions (messages in, chunks and custom events out) and up-front input checks.
No replica here, and sockets are disabled: none of this may touch the network."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hfspaces import (
    AudioPart,
    GeneratedImage,
    Generation,
    ImagePart,
    MediaError,
    Message,
    Progress,
    Queued,
    Started,
    TextDelta,
    TextPart,
    UnsupportedInputError,
)
from hfspaces.events import Log
from langchain_core.messages import (
    AIMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGenerationChunk
from lc_support import b64
from media_samples import make_png, make_wav
from pydantic import ValidationError

from langchain_hfspaces import ChatHFSpaces
from langchain_hfspaces._convert import ChunkStream, convert_messages, legacy_image_url
from langchain_hfspaces._events import custom_event

pytestmark = pytest.mark.usefixtures("no_network")

PNG = make_png()
WAV = make_wav(seconds=0.25)


def one_part(*blocks: Any) -> Any:
    (message,) = convert_messages([HumanMessage(content=list(blocks))])
    (part,) = message.parts
    return part


# -- roles, history, names -------------------------------------------------------


def test_roles_history_and_names() -> None:
    messages = convert_messages(
        [
            SystemMessage("be brief"),
            HumanMessage("hi", name="ada"),
            AIMessage("hello"),
            ChatMessage(role="user", content="again"),
        ]
    )
    assert messages == [
        Message("system", (TextPart("be brief"),)),
        Message("user", (TextPart("hi"),), name="ada"),
        Message("assistant", (TextPart("hello"),)),
        Message("user", (TextPart("again"),)),
    ]


def test_empty_messages_carry_nothing_and_are_left_out() -> None:
    messages = convert_messages([HumanMessage("q"), AIMessage(""), HumanMessage("r")])
    assert [m.text for m in messages] == ["q", "r"]


# -- every image and audio form ------------------------------------------------------


@pytest.mark.parametrize(
    "block",
    [
        {"type": "image", "base64": b64(PNG), "mime_type": "image/png"},
        {"type": "image", "url": f"data:image/png;base64,{b64(PNG)}"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64(PNG)}"}},
        {"type": "image", "source_type": "base64", "data": b64(PNG), "mime_type": "image/png"},
    ],
    ids=["standard-base64", "standard-data-url", "legacy-image_url-data-url", "v0-source_type"],
)
def test_inline_image_forms_become_image_bytes(block: dict[str, Any]) -> None:
    part = one_part(block)
    assert isinstance(part, ImagePart)
    assert part.media.data == PNG
    assert part.media.mime_type == "image/png"  # sniffed from the bytes


@pytest.mark.parametrize(
    "block",
    [
        {"type": "image", "url": "https://example.org/cat.png"},
        {"type": "image_url", "image_url": {"url": "https://example.org/cat.png"}},
        {"type": "image_url", "image_url": "https://example.org/cat.png"},
        {"type": "image", "source_type": "url", "url": "https://example.org/cat.png"},
    ],
    ids=["standard-url", "legacy-dict", "legacy-string", "v0-url"],
)
def test_image_urls_are_passed_on_not_fetched(block: dict[str, Any]) -> None:
    part = one_part(block)
    assert isinstance(part, ImagePart)
    assert part.media.url == "https://example.org/cat.png"
    assert part.media.data is None


@pytest.mark.parametrize(
    "block",
    [
        {"type": "audio", "base64": b64(WAV), "mime_type": "audio/wav"},
        {"type": "input_audio", "input_audio": {"data": b64(WAV), "format": "wav"}},
        {"type": "audio", "url": f"data:audio/wav;base64,{b64(WAV)}"},
    ],
    ids=["standard-base64", "openai-input_audio", "data-url"],
)
def test_audio_forms(block: dict[str, Any]) -> None:
    part = one_part(block)
    assert isinstance(part, AudioPart)
    assert part.media.data == WAV
    assert part.media.kind == "audio"


def test_text_with_media_keeps_order() -> None:
    (message,) = convert_messages(
        [
            HumanMessage(
                [
                    {"type": "text", "text": "compare"},
                    {"type": "image", "base64": b64(PNG), "mime_type": "image/png"},
                    {"type": "audio", "base64": b64(WAV), "mime_type": "audio/wav"},
                ]
            )
        ]
    )
    assert [type(p) for p in message.parts] == [TextPart, ImagePart, AudioPart]


# -- refused before anything is sent -----------------------------------------------


@pytest.mark.parametrize("url", ["/etc/passwd", "file:///etc/passwd", "~/.ssh/id_rsa"])
def test_media_strings_are_never_read_as_paths(url: str) -> None:
    with pytest.raises(MediaError, match="only http"):
        one_part({"type": "image", "url": url})


@pytest.mark.parametrize(
    ("block", "match"),
    [
        ({"type": "file", "base64": "JVBERi0=", "mime_type": "application/pdf"}, "'file'"),
        ({"type": "video", "url": "https://example.org/v.mp4"}, "'video'"),
        ({"type": "mystery"}, "'mystery'"),
        ({"type": "image", "file_id": "file-123"}, "file_id"),
    ],
)
def test_unsupported_blocks_raise(block: dict[str, Any], match: str) -> None:
    with pytest.raises(UnsupportedInputError, match=match):
        one_part(block)


def test_tool_messages_and_tool_calls_raise() -> None:
    with pytest.raises(UnsupportedInputError, match="no tool calling"):
        convert_messages([ToolMessage("42", tool_call_id="1")])
    call = {"name": "add", "args": {}, "id": "1"}
    with pytest.raises(UnsupportedInputError, match="'add'"):
        convert_messages([AIMessage("", tool_calls=[call])])


def test_unknown_chat_role_raises() -> None:
    with pytest.raises(UnsupportedInputError, match="ChatMessage"):
        convert_messages([ChatMessage(role="critic", content="meh")])


def test_legacy_image_url_reader() -> None:
    assert legacy_image_url({"type": "image_url", "image_url": "https://x.org/a"}) == (
        "https://x.org/a"
    )
    assert legacy_image_url({"type": "image_url", "image_url": {"url": "https://x.org/b"}}) == (
        "https://x.org/b"
    )
    assert legacy_image_url({"type": "other"}) is None


# -- what a model refuses up front (no network: sockets are off) ---------------------


def _audio_message() -> HumanMessage:
    return HumanMessage(
        [
            {"type": "text", "text": "what is this?"},
            {"type": "audio", "base64": b64(WAV), "mime_type": "audio/wav"},
            {"type": "image", "base64": b64(PNG), "mime_type": "image/png"},
        ]
    )


@pytest.mark.parametrize(
    ("model", "call", "messages", "match"),
    [
        ("janus-pro-7b", {}, [_audio_message()], "does not accept audio"),
        ("janus-pro-7b", {}, [HumanMessage("no picture")], "attach an image"),
        ("phi-4", {"temperature": 0.5}, [HumanMessage("hi")], "temperature"),
        ("phi-4", {"max_tokens": 10}, [HumanMessage("hi")], "max_tokens"),
        ("janus-pro-7b-image", {"num_images": 9}, [HumanMessage("x")], "num_images"),
    ],
)
def test_refused_before_any_request(
    model: str, call: dict[str, Any], messages: list[Any], match: str
) -> None:
    """Per-call options (the same settings on the constructor fail there: test_lc_wrappers)."""
    llm = ChatHFSpaces(endpoint="http://127.0.0.1:9/unused", model=model)
    with pytest.raises(ValueError, match=match):
        llm.invoke(messages, **call)


def test_unknown_call_option_raises() -> None:
    model = ChatHFSpaces(endpoint="http://127.0.0.1:9/unused")
    with pytest.raises(ValueError, match="does not take frequency_penalty"):
        model.invoke("hi", frequency_penalty=1.0)


def test_unknown_model_fails_at_construction() -> None:
    with pytest.raises(ValidationError, match="known models"):
        ChatHFSpaces(model="gpt-9")


def test_token_aliases_and_secret() -> None:
    model = ChatHFSpaces(hf_token="hf_secret")
    assert model.api_key is not None
    assert model.api_key.get_secret_value() == "hf_secret"
    assert "hf_secret" not in repr(model)
    assert ChatHFSpaces(api_key="hf_other").api_key.get_secret_value() == "hf_other"  # type: ignore[union-attr]


def test_profile_and_tracing_params() -> None:
    phi4 = ChatHFSpaces(model="phi4", stop=["END"])
    assert phi4.profile is not None
    assert phi4.profile["audio_inputs"] and phi4.profile["image_inputs"]
    assert not phi4.profile["tool_calling"] and not phi4.profile["image_outputs"]
    assert phi4._get_ls_params() == {
        "ls_provider": "hfspaces",
        "ls_model_name": "phi4",
        "ls_model_type": "chat",
        "ls_stop": ["END"],
    }
    assert phi4._identifying_params["model"] == "phi-4-multimodal"
    janus_image = ChatHFSpaces(model="janus-pro-7b-image")
    assert janus_image.profile is not None and janus_image.profile["image_outputs"]
    assert not janus_image.profile["audio_inputs"]


# -- output: chunks and custom events ------------------------------------------------


def _generation(**kwargs: Any) -> Generation:
    defaults: dict[str, Any] = {"model": "phi-4-multimodal", "space": "microsoft/phi-4-multimodal"}
    return Generation(**{**defaults, **kwargs})


def test_text_stream_sends_deltas_then_only_the_unsent_tail() -> None:
    stream = ChunkStream("phi-4-multimodal", "microsoft/phi-4-multimodal")
    out = [*stream.feed(TextDelta("Hel")), *stream.feed(TextDelta("lo"))]
    out += stream.feed(_generation(text="Hello", queue_wait=0.5, duration=1.25))
    chunks = [c for c in out if isinstance(c, ChatGenerationChunk)]
    assert [c.message.content for c in chunks] == ["Hel", "lo", ""]
    last = chunks[-1].message
    assert last.chunk_position == "last"  # type: ignore[attr-defined]
    assert last.response_metadata == {
        "model_name": "phi-4-multimodal",
        "model_provider": "hfspaces",
        "space": "microsoft/phi-4-multimodal",
        "finish_reason": "stop",
        "queue_wait": 0.5,
        "duration": 1.25,
    }
    assert all(not c.message.response_metadata for c in chunks[:-1])


def test_answer_only_at_the_end_is_one_chunk() -> None:
    stream = ChunkStream("janus-pro-7b", "deepseek-ai/Janus-Pro-7B")
    (chunk,) = stream.feed(_generation(model="janus-pro-7b", text="A red square.", seed=42))
    assert isinstance(chunk, ChatGenerationChunk)
    assert chunk.message.content == "A red square."
    assert chunk.message.response_metadata["seed"] == 42


def test_image_answer_is_text_plus_standard_image_blocks() -> None:
    stream = ChunkStream("janus-pro-7b-image", "deepseek-ai/Janus-Pro-7B", image_output=True)
    images = (
        GeneratedImage(url="http://s/a.png", mime_type="image/png", data=PNG),
        GeneratedImage(url="http://s/b.webp", mime_type="image/webp", data=None),
    )
    generation = _generation(model="janus-pro-7b-image", text="Generated 2 images", images=images)
    (chunk,) = stream.feed(generation)
    assert isinstance(chunk, ChatGenerationChunk)
    assert chunk.message.content == [
        {"type": "text", "text": "Generated 2 images", "index": 0},
        {"type": "image", "base64": base64.b64encode(PNG).decode(), "mime_type": "image/png",
         "index": 1},
        {"type": "image", "url": "http://s/b.webp", "mime_type": "image/webp", "index": 2},
    ]  # fmt: skip
    assert chunk.message.response_metadata["num_images"] == 2


def test_status_events_become_custom_events() -> None:
    where = {"model": "m", "space": "s"}
    assert custom_event(Queued(rank=2, queue_size=5, eta=20.0), **where) == (
        "hfspaces_queue",
        {**where, "rank": 2, "position": 3, "queue_size": 5, "eta": 20.0},
    )
    assert custom_event(Started(eta=3.0), **where) == ("hfspaces_started", {**where, "eta": 3.0})
    name, data = custom_event(Progress("Drawing", 1, 5, "images"), **where)  # type: ignore[misc]
    assert name == "hfspaces_progress" and data["index"] == 1 and data["length"] == 5
    name, data = custom_event(Log("warning", "Waiting for a GPU"), **where)  # type: ignore[misc]
    assert name == "hfspaces_log" and data["message"] == "Waiting for a GPU"
    assert custom_event(TextDelta("x"), **where) is None
