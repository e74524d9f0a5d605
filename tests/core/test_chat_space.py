"""Any chat Space as a chat model (`SpaceModel(space=...)`, `hfspaces.spaces.chat`), over
loopback against three real gradio apps:

- the replica's streaming multimodal `gr.ChatInterface` (history is session State: folded);
- a gradio-5-style Blocks chat written here: Chatbot + Textbox in, Chatbot out (history is
  an input: sent as Chatbot messages);
- a `gr.ChatInterface` with additional inputs written here, shaped like the Hub's default
  chat template (system message, max new tokens, temperature, top-p), text only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from _support import wait_until
from chat_apps import build_blocks_chat, build_template_chat
from hfspaces import (
    EndpointNotFoundError,
    Generation,
    GenerationParams,
    InvalidInputError,
    Media,
    Message,
    SpaceModel,
    TextDelta,
    UnsupportedInputError,
)
from hfspaces.replica import SPACES
from hfspaces.replica.config import CHAT_SPACE, FLUX_SPACE
from media_samples import make_png, make_wav
from space_apps import serve


@pytest.fixture(scope="module")
def blocks_chat_url() -> Iterator[str]:
    with serve(build_blocks_chat()) as url:
        yield url


@pytest.fixture(scope="module")
def template_chat_url() -> Iterator[str]:
    with serve(build_template_chat()) as url:
        yield url


@pytest.fixture
async def chat_space(fresh_replica: Any) -> AsyncIterator[SpaceModel]:
    model = SpaceModel(space=CHAT_SPACE)  # reached through HFSPACES_ENDPOINTS (the replica)
    yield model
    await model.aclose()


async def collect(
    model: SpaceModel, conversation: list[Message], params: GenerationParams | None = None
) -> tuple[list[str], Generation]:
    deltas: list[str] = []
    result: Generation | None = None
    async for item in model.stream(conversation, params):
        if isinstance(item, TextDelta):
            deltas.append(item.text)
        elif isinstance(item, Generation):
            result = item
    assert result is not None
    return deltas, result


# -- the replica's multimodal ChatInterface ------------------------------------------------------


async def test_replica_chat_streams_real_deltas(chat_space: SpaceModel) -> None:
    deltas, result = await collect(chat_space, [Message.user("hello there")])
    assert len(deltas) > 5 and "".join(deltas) == result.text
    assert result.text == (
        '[You are a helpful assistant.] Turn 1. You said: "hello there". (temperature 0.7)'
    )
    assert result.model == CHAT_SPACE and result.space == CHAT_SPACE


async def test_replica_chat_files_system_history_and_temperature(
    chat_space: SpaceModel, fresh_replica: Any
) -> None:
    conversation = [
        Message.system("Answer briefly"),
        Message.user("look", Media.of(make_png())),
        Message.assistant("a red picture"),
        Message.user("and listen", Media.of(make_wav())),
    ]
    _, result = await collect(chat_space, conversation, GenerationParams(temperature=1.5))
    # The system prompt went to the Space's system input; history (session State on the
    # Space) folded into the message; every file of the conversation attached.
    assert result.text == (
        '[Answer briefly] Turn 1. You said: "Conversation so far: User: look Assistant: a red '
        'picture Question: and listen". Image 1 is a 32×24 image, mostly red and white. '
        "Audio 1 is a WAV audio clip of 1.00 seconds. (temperature 1.5)"
    )
    assert fresh_replica.stats()["uploads"] == 2


async def test_replica_chat_validates_before_any_job(
    chat_space: SpaceModel, fresh_replica: Any
) -> None:
    with pytest.raises(UnsupportedInputError, match="guidance"):
        chat_space.validate([Message.user("hi")], GenerationParams(guidance=3.0))
    with pytest.raises(InvalidInputError, match="last message must be from the user"):
        chat_space.validate([Message.user("hi"), Message.assistant("yo")])
    with pytest.raises(InvalidInputError, match="temperature must be between 0 and 2"):
        await collect(
            chat_space, [Message.user("hi", Media.of(make_png()))], GenerationParams(temperature=3)
        )
    with pytest.raises(UnsupportedInputError, match="no top_p input"):
        await collect(chat_space, [Message.user("hi")], GenerationParams(top_p=0.5))
    stats = fresh_replica.stats()
    assert stats["joins"].get(CHAT_SPACE) is None and stats["uploads"] == 0


async def test_replica_chat_leaving_the_stream_cancels_the_job(
    chat_space: SpaceModel, fresh_replica: Any
) -> None:
    fresh_replica.configure(token_delay=0.05)
    async for item in chat_space.stream([Message.user("a long answer please")]):
        if isinstance(item, TextDelta):
            break
    await wait_until(
        lambda: fresh_replica.stats()["jobs_cancelled"] == 1, what="the Space's job cancelled"
    )


async def test_cancelling_the_task_cancels_the_job(
    chat_space: SpaceModel, fresh_replica: Any
) -> None:
    fresh_replica.configure(token_delay=0.05)
    first = asyncio.Event()

    async def consume() -> None:
        async for item in chat_space.stream([Message.user("go on")]):
            if isinstance(item, TextDelta):
                first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_until(
        lambda: fresh_replica.stats()["jobs_cancelled"] == 1, what="the Space's job cancelled"
    )


async def test_a_space_without_a_chat_endpoint_says_so(replica: Any) -> None:
    model = SpaceModel(space=replica.url_for(FLUX_SPACE))
    try:
        with pytest.raises(EndpointNotFoundError, match=r"no chat endpoint.*/infer"):
            await collect(model, [Message.user("hi")])
        named = SpaceModel(space=replica.url_for(FLUX_SPACE), api_name="infer")
        with pytest.raises(EndpointNotFoundError, match="/infer is not a chat endpoint"):
            await collect(named, [Message.user("hi")])
        await named.aclose()
    finally:
        await model.aclose()


def test_space_and_model_are_exclusive() -> None:
    with pytest.raises(InvalidInputError, match="not both"):
        SpaceModel("phi-4-multimodal", space=SPACES[-1])
    with pytest.raises(InvalidInputError, match="api_name goes with space="):
        SpaceModel("phi-4-multimodal", api_name="/chat")
    with pytest.raises(InvalidInputError, match="Space id"):
        SpaceModel(space="  ")


# -- Blocks chat: Chatbot + Textbox, history as an input ----------------------------------


async def test_blocks_chat_gets_history_as_chatbot_messages(blocks_chat_url: str) -> None:
    model = SpaceModel(space=blocks_chat_url)
    try:
        conversation = [
            Message.system("Be terse"),
            Message.user("first question"),
            Message.assistant("first answer"),
            Message.user("second question"),
        ]
        deltas, result = await collect(model, conversation)
    finally:
        await model.aclose()
    assert len(deltas) > 3 and "".join(deltas) == result.text
    # History arrived as messages (not folded); the system prompt went to its own input.
    assert result.text == (
        "(Be terse) 2 earlier: user:first question | assistant:first answer. You: second question"
    )


async def test_blocks_chat_keeps_its_system_default_and_refuses_files(
    blocks_chat_url: str,
) -> None:
    model = SpaceModel(space=blocks_chat_url, api_name="/respond")
    try:
        _, result = await collect(model, [Message.user("hi")])
        assert result.text == "(Be kind) 0 earlier: -. You: hi"
        with pytest.raises(UnsupportedInputError, match="does not take image"):
            await collect(model, [Message.user("see", Media.of(make_png()))])
    finally:
        await model.aclose()


# -- ChatInterface with additional inputs (the Hub's chat template) -----------------------


async def test_template_chat_fills_inputs_by_label(template_chat_url: str) -> None:
    model = SpaceModel(space=template_chat_url)
    try:
        conversation = [
            Message.system("Talk like a pirate"),
            Message.user("hi"),
            Message.assistant("arr"),
            Message.user("where?"),
        ]
        deltas, result = await collect(
            model, conversation, GenerationParams(temperature=1.2, top_p=0.5)
        )
        assert len(deltas) > 5 and "".join(deltas) == result.text
        assert result.text == (
            "sys=Talk like a pirate max=512 t=1.2 p=0.5 turns=0 "
            "msg=Conversation so far:\nUser: hi\nAssistant: arr\n\nQuestion: where?"
        )
        with pytest.raises(InvalidInputError, match=r"top_p must be between 0\.1 and 1"):
            await collect(model, [Message.user("x")], GenerationParams(top_p=0.01))
        with pytest.raises(UnsupportedInputError, match="does not take audio"):
            await collect(model, [Message.user("x", Media.of(make_wav()))])
        with pytest.raises(UnsupportedInputError, match="no seed input"):
            await collect(model, [Message.user("x")], GenerationParams(seed=1))
    finally:
        await model.aclose()


async def test_stop_sequences_cut_a_streaming_chat_space(template_chat_url: str) -> None:
    model = SpaceModel(space=template_chat_url)
    try:
        _, result = await collect(model, [Message.user("hi")], GenerationParams(stop=("t=",)))
    finally:
        await model.aclose()
    assert result.text == "sys=You are a friendly Chatbot. max=512 "
    assert result.finish_reason == "stop_sequence"


async def test_phi4_space_through_the_generic_adapter(fresh_replica: Any) -> None:
    """The seed Phi-4 Space needs no adapter of its own to chat: its queued `chat` endpoint
    (Chatbot in and out, sampling inputs with defaults) is found, and the history, with the
    new turn and its image, is sent as Chatbot messages. (Its unqueued `add_message` helper
    is not taken.)"""
    from hfspaces.replica import PHI4_SPACE

    model = SpaceModel(space=PHI4_SPACE)
    conversation = [
        Message.system("Be brief"),
        Message.user("hi"),
        Message.assistant("hello"),
        Message.user("and this?", Media.of(make_png())),
    ]
    try:
        deltas, result = await collect(model, conversation)
    finally:
        await model.aclose()
    assert len(deltas) > 3 and "".join(deltas) == result.text
    assert result.text == (
        'Turn 2. You said: "and this?". Image 1 is a 32×24 image, mostly red and white.'
    )
    assert fresh_replica.stats()["predicts_total"] == 0  # no add_message step
