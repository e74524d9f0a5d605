"""`HFSpacesLLM(space=...)`: any chat Space as a LlamaIndex LLM, over loopback — the replica's
multimodal ChatInterface and a test-only ChatInterface with the Hub template's inputs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from chat_apps import build_template_chat
from hfspaces import InvalidInputError, UnsupportedInputError
from hfspaces.replica.config import CHAT_SPACE
from llama_index.core.base.llms.types import AudioBlock, ChatMessage, MessageRole
from llamaindex_helpers import image, requests_made, user, wait_until
from media_samples import make_png, make_wav
from space_apps import serve

from llama_index_hfspaces import HFSpacesInputError, HFSpacesLLM


@pytest.fixture
async def space_llm(fresh_replica: Any) -> AsyncIterator[HFSpacesLLM]:
    llm = HFSpacesLLM(space=CHAT_SPACE)  # reached through HFSPACES_ENDPOINTS
    yield llm
    await llm.aclose()


@pytest.fixture(scope="module")
def template_chat_url() -> Iterator[str]:
    with serve(build_template_chat()) as url:
        yield url


def test_stream_chat_gives_token_deltas(space_llm: HFSpacesLLM) -> None:
    chunks = list(space_llm.stream_chat([user("hello")]))
    assert len(chunks) > 5 and all(c.delta for c in chunks)
    text = "".join(c.delta or "" for c in chunks)
    assert text == '[You are a helpful assistant.] Turn 1. You said: "hello". (temperature 0.7)'
    assert chunks[-1].message.content == text
    assert space_llm.metadata.model_name == CHAT_SPACE


async def test_files_history_and_system_go_in(space_llm: HFSpacesLLM, fresh_replica: Any) -> None:
    messages = [
        ChatMessage(role=MessageRole.SYSTEM, content="Be brief"),
        user("what is this", image(make_png())),
        ChatMessage(role=MessageRole.ASSISTANT, content="a picture"),
        user("and this", AudioBlock(audio=make_wav(), format="wav")),
    ]
    response = await space_llm.achat(messages, temperature=0.2)
    assert response.message.content == (
        '[Be brief] Turn 1. You said: "Conversation so far: User: what is this Assistant: a '
        'picture Question: and this". Image 1 is a 32×24 image, mostly red and white. '
        "Audio 1 is a WAV audio clip of 1.00 seconds. (temperature 0.2)"
    )
    assert requests_made(fresh_replica)[2] == 2  # two uploads


async def test_invalid_input_fails_before_any_job(
    space_llm: HFSpacesLLM, fresh_replica: Any
) -> None:
    # HFSpacesInputError (not a ValueError, so query engines cannot swallow it) wraps the
    # core's InvalidInputError.
    with pytest.raises(HFSpacesInputError, match="guidance") as info:
        await space_llm.achat([user("hi")], guidance=2.0)
    assert isinstance(info.value.error, UnsupportedInputError)
    with pytest.raises(HFSpacesInputError, match="temperature must be between 0 and 2"):
        await space_llm.achat([user("x", image(make_png()))], temperature=5.0)
    assert requests_made(fresh_replica) == (0, 0, 0)


def test_space_and_model_are_exclusive() -> None:
    with pytest.raises(InvalidInputError, match="not both"):
        HFSpacesLLM(space=CHAT_SPACE, model="janus-pro-7b")
    with pytest.raises(InvalidInputError, match="api_name goes with space="):
        HFSpacesLLM(api_name="/respond")


async def test_leaving_the_stream_cancels_the_job(
    space_llm: HFSpacesLLM, fresh_replica: Any
) -> None:
    fresh_replica.configure(token_delay=0.05)
    stream = await space_llm.astream_chat([user("talk for a while")])
    async for chunk in stream:
        if chunk.delta:
            break
    await stream.aclose()  # type: ignore[attr-defined]
    for _ in range(500):
        if fresh_replica.stats()["jobs_cancelled"] == 1:
            break
        await asyncio.sleep(0.02)
    assert fresh_replica.stats()["jobs_cancelled"] == 1


def test_sync_stream_close_cancels_the_job(space_llm: HFSpacesLLM, fresh_replica: Any) -> None:
    fresh_replica.configure(token_delay=0.05)
    stream = space_llm.stream_chat([user("go on")])
    assert next(stream).delta
    stream.close()
    wait_until(lambda: fresh_replica.stats()["jobs_cancelled"] == 1, "the job cancelled")


def test_template_chat_inputs_filled_by_label(template_chat_url: str) -> None:
    llm = HFSpacesLLM(space=template_chat_url, top_p=0.5)
    response = llm.chat(
        [
            ChatMessage(role=MessageRole.SYSTEM, content="Pirate"),
            user("hi"),
            ChatMessage(role=MessageRole.ASSISTANT, content="arr"),
            user("where?"),
        ]
    )
    assert response.message.content == (
        "sys=Pirate max=512 t=0.7 p=0.5 turns=0 "
        "msg=Conversation so far:\nUser: hi\nAssistant: arr\n\nQuestion: where?"
    )
    with pytest.raises(HFSpacesInputError, match="does not take image"):
        llm.chat([user("x", image(make_png()))])
