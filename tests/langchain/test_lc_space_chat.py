"""`ChatHFSpaces(space=...)`: any chat Space as a LangChain chat model, over loopback — the
replica's multimodal ChatInterface and a test-only Blocks chat (history as an input)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from chat_apps import build_blocks_chat
from hfspaces import InvalidInputError, UnsupportedInputError
from hfspaces.replica.config import CHAT_SPACE
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from lc_support import await_until, b64
from media_samples import make_png, make_wav
from pydantic import ValidationError
from space_apps import serve

from langchain_hfspaces import ChatHFSpaces


@pytest.fixture
async def space_chat(rep: Any) -> AsyncIterator[ChatHFSpaces]:
    model = ChatHFSpaces(space=CHAT_SPACE)  # reached through HFSPACES_ENDPOINTS
    yield model
    await model.aclose()


@pytest.fixture(scope="module")
def blocks_chat_url() -> Iterator[str]:
    with serve(build_blocks_chat()) as url:
        yield url


def test_stream_gives_token_deltas(space_chat: ChatHFSpaces) -> None:
    chunks = [c.content for c in space_chat.stream("hello")]
    text = "".join(str(c) for c in chunks)
    assert len([c for c in chunks if c]) > 5
    assert text == '[You are a helpful assistant.] Turn 1. You said: "hello". (temperature 0.7)'
    assert space_chat.invoke("hello").content == text


async def test_files_history_and_system_go_in(space_chat: ChatHFSpaces, rep: Any) -> None:
    messages = [
        SystemMessage("Be brief"),
        HumanMessage(
            content_blocks=[
                {"type": "text", "text": "what is this"},
                {"type": "image", "base64": b64(make_png()), "mime_type": "image/png"},
            ]
        ),
        AIMessage("a picture"),
        HumanMessage(
            content_blocks=[
                {"type": "text", "text": "and this"},
                {"type": "audio", "base64": b64(make_wav()), "mime_type": "audio/wav"},
            ]
        ),
    ]
    chunks = [c async for c in space_chat.astream(messages, temperature=0.2)]
    text = "".join(str(c.content) for c in chunks)
    assert text == (
        '[Be brief] Turn 1. You said: "Conversation so far: User: what is this Assistant: a '
        'picture Question: and this". Image 1 is a 32×24 image, mostly red and white. '
        "Audio 1 is a WAV audio clip of 1.00 seconds. (temperature 0.2)"
    )
    assert chunks[-1].response_metadata["model_name"] == CHAT_SPACE
    assert rep.stats()["uploads"] == 2


async def test_invalid_input_fails_before_any_job(space_chat: ChatHFSpaces, rep: Any) -> None:
    with pytest.raises(UnsupportedInputError, match="guidance"):
        await space_chat.ainvoke("hi", guidance=2.0)
    with pytest.raises(InvalidInputError, match="temperature must be between 0 and 2"):
        await space_chat.ainvoke(
            [
                HumanMessage(
                    content_blocks=[
                        {"type": "text", "text": "x"},
                        {"type": "image", "base64": b64(make_png()), "mime_type": "image/png"},
                    ]
                )
            ],
            temperature=5.0,
        )
    stats = rep.stats()
    assert stats["joins_total"] == 0 and stats["uploads"] == 0


def test_space_and_model_are_exclusive() -> None:
    with pytest.raises(ValidationError, match="not both"):
        ChatHFSpaces(space=CHAT_SPACE, model="janus-pro-7b")
    with pytest.raises(ValidationError, match="api_name goes with space="):
        ChatHFSpaces(api_name="/respond")
    assert ChatHFSpaces(space=CHAT_SPACE, api_name="respond").profile["name"] == CHAT_SPACE  # type: ignore[index]


async def test_leaving_astream_cancels_the_job(space_chat: ChatHFSpaces, rep: Any) -> None:
    rep.configure(token_delay=0.05)
    async for chunk in space_chat.astream("talk for a while"):
        if chunk.content:
            break
    assert await await_until(lambda: rep.stats()["jobs_cancelled"] == 1)


async def test_task_cancel_cancels_the_job(space_chat: ChatHFSpaces, rep: Any) -> None:
    rep.configure(token_delay=0.05)
    started = asyncio.Event()

    async def consume() -> None:
        async for chunk in space_chat.astream("go on"):
            if chunk.content:
                started.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await await_until(lambda: rep.stats()["jobs_cancelled"] == 1)


def test_blocks_chat_takes_history_as_messages(blocks_chat_url: str) -> None:
    model = ChatHFSpaces(space=blocks_chat_url, api_name="/respond")
    messages = [HumanMessage("one"), AIMessage("two"), HumanMessage("three")]
    chunks = [str(c.content) for c in model.stream(messages)]
    assert len([c for c in chunks if c]) > 3
    assert "".join(chunks) == "(Be kind) 2 earlier: user:one | assistant:two. You: three"


def test_a_changed_api_name_takes_effect(blocks_chat_url: str) -> None:
    """Settings are state: after a first call, pointing the model at another endpoint is
    seen on the next call (here one the Space does not have), not served by the old one."""
    from hfspaces import EndpointNotFoundError

    model = ChatHFSpaces(space=blocks_chat_url, api_name="/respond")
    assert model.invoke("one").content
    model.api_name = "/no_such_chat"
    with pytest.raises((EndpointNotFoundError, InvalidInputError), match="no_such_chat"):
        model.invoke("two")
