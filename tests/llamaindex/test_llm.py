"""HFSpacesLLM against the replica: every method sync and async, streaming, blocks, errors."""

from __future__ import annotations

import copy
import inspect
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hfspaces import (
    AppError,
    ConnectError,
    GPUQuotaExceededError,
    InvalidInputError,
    UnsupportedInputError,
)
from llama_index.core.base.llms.types import (
    AudioBlock,
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    DocumentBlock,
    ImageBlock,
    MessageRole,
)
from llama_index.core.callbacks import CallbackManager, CBEventType, LlamaDebugHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.llms import LLM
from llamaindex_helpers import data_url, image, requests_made, user, wait_until

from llama_index_hfspaces import (
    HFSpacesInputError,
    HFSpacesJobEvent,
    HFSpacesLLM,
    HFSpacesMultiModal,
)

# -- the eight methods --------------------------------------------------------------------


def test_chat(phi4: HFSpacesLLM) -> None:
    response = phi4.chat([user("Hello there")])
    assert isinstance(response, ChatResponse)
    assert response.message.role == MessageRole.ASSISTANT
    assert response.message.content == 'Turn 1. You said: "Hello there".'
    assert response.delta is None
    # The run's metadata rides along: Space, queue wait, duration.
    assert response.raw["space"] == "microsoft/phi-4-multimodal"
    assert {"queue_wait", "duration", "endpoint"} <= response.raw.keys()
    assert response.additional_kwargs == response.raw


async def test_achat(phi4: HFSpacesLLM) -> None:
    response = await phi4.achat([user("Hello there")])
    assert response.message.content == 'Turn 1. You said: "Hello there".'
    assert response.raw["model"] == "phi-4-multimodal"


def _check_stream(chunks: list[Any], text_of: Any) -> None:
    assert len(chunks) > 1, "Phi-4 streams tokens: expected several chunks"
    assert all(chunk.delta for chunk in chunks), "every chunk carries a non-empty delta"
    texts = [text_of(chunk) for chunk in chunks]
    assert all(b.startswith(a) for a, b in itertools.pairwise(texts)), "cumulative"
    assert "".join(chunk.delta for chunk in chunks) == texts[-1]
    assert texts[-1] == 'Turn 1. You said: "Stream it".'
    assert chunks[-1].raw["space"] == "microsoft/phi-4-multimodal"


def test_stream_chat(phi4: HFSpacesLLM) -> None:
    chunks = list(phi4.stream_chat([user("Stream it")]))
    _check_stream(chunks, lambda c: c.message.content)


async def test_astream_chat(phi4: HFSpacesLLM) -> None:
    # An `async def` returning an async generator (what the callback decorator expects).
    assert inspect.iscoroutinefunction(HFSpacesLLM.astream_chat)
    stream = await phi4.astream_chat([user("Stream it")])
    assert inspect.isasyncgen(stream)
    _check_stream([chunk async for chunk in stream], lambda c: c.message.content)


def test_complete(phi4: HFSpacesLLM) -> None:
    response = phi4.complete("Hello there")
    assert isinstance(response, CompletionResponse)
    assert response.text == 'Turn 1. You said: "Hello there".'
    assert response.raw["space"] == "microsoft/phi-4-multimodal"


async def test_acomplete(phi4: HFSpacesLLM) -> None:
    response = await phi4.acomplete("Hello there")
    assert response.text == 'Turn 1. You said: "Hello there".'


def test_stream_complete(phi4: HFSpacesLLM) -> None:
    _check_stream(list(phi4.stream_complete("Stream it")), lambda c: c.text)


async def test_astream_complete(phi4: HFSpacesLLM) -> None:
    stream = await phi4.astream_complete("Stream it")
    _check_stream([chunk async for chunk in stream], lambda c: c.text)


async def test_sync_methods_work_inside_a_running_loop(phi4: HFSpacesLLM) -> None:
    # As in a notebook: sync calls from a coroutine run in hfspaces' background loop.
    assert phi4.chat([user("from a loop")]).message.content == 'Turn 1. You said: "from a loop".'
    assert "".join(c.delta or "" for c in phi4.stream_complete("again")).endswith('"again".')


CALLS = {
    "chat": lambda llm: llm.chat([user("hi")]),
    "stream_chat": lambda llm: list(llm.stream_chat([user("hi")])),
    "complete": lambda llm: llm.complete("hi"),
    "stream_complete": lambda llm: list(llm.stream_complete("hi")),
}
ACALLS = {
    "achat": lambda llm: llm.achat([user("hi")]),
    "astream_chat": lambda llm: llm.astream_chat([user("hi")]),
    "acomplete": lambda llm: llm.acomplete("hi"),
    "astream_complete": lambda llm: llm.astream_complete("hi"),
}


@pytest.mark.parametrize("method", [*CALLS, *ACALLS])
async def test_every_method_reports_one_llm_event_to_callbacks(
    phi4: HFSpacesLLM, method: str
) -> None:
    handler = LlamaDebugHandler()
    phi4.callback_manager = CallbackManager([handler])
    if method in CALLS:
        CALLS[method](phi4)
    else:
        result = await ACALLS[method](phi4)
        if inspect.isasyncgen(result):
            [chunk async for chunk in result]
    pairs = handler.get_event_pairs(CBEventType.LLM)
    assert len(pairs) == 1, "exactly one LLM event (completions do not nest a chat event)"
    assert pairs[0][1].payload is not None  # the end event: the call finished


def test_breaking_off_a_stream_cancels_the_job(phi4: HFSpacesLLM, fresh_replica: Any) -> None:
    # Slow tokens keep the job running while we leave it (the fault is cleared by reset).
    fresh_replica.configure(step_latency=0.2)
    stream = phi4.stream_chat([user("a long answer please")])
    assert next(stream).delta
    stream.close()  # leaving the stream cancels the job on the Space
    wait_until(lambda: fresh_replica.stats()["cancels"] >= 1, "the cancel to reach the Space")
    assert fresh_replica.stats()["jobs_completed"] == 0


# -- content blocks, system prompt, history ------------------------------------------------


def test_image_block_bytes(phi4: HFSpacesLLM, png_bytes: bytes) -> None:
    answer = phi4.chat([user("What is this?", image(png_bytes))]).message.content
    assert "Image 1 is a 32×24 image, mostly red and white." in answer


def test_image_block_path(phi4: HFSpacesLLM, png_bytes: bytes, tmp_path: Path) -> None:
    file = tmp_path / "picture.png"
    file.write_bytes(png_bytes)
    answer = phi4.chat([user("What is this?", ImageBlock(path=file))]).message.content
    assert "Image 1 is a 32×24 image, mostly red and white." in answer


def test_image_block_data_url(phi4: HFSpacesLLM, png_bytes: bytes) -> None:
    block = ImageBlock(url=data_url(png_bytes, "image/png"))
    answer = phi4.chat([user("What is this?", block)]).message.content
    assert "Image 1 is a 32×24 image, mostly red and white." in answer


def test_audio_block_for_phi4(phi4: HFSpacesLLM, wav_bytes: bytes, tmp_path: Path) -> None:
    answer = phi4.chat([user("Transcribe", AudioBlock(audio=wav_bytes))]).message.content
    assert "Audio 1 is a WAV audio clip of 1.00 seconds." in answer
    file = tmp_path / "clip.wav"
    file.write_bytes(wav_bytes)
    answer = phi4.chat([user("Transcribe", AudioBlock(path=file))]).message.content
    assert "Audio 1 is a WAV audio clip" in answer


def test_image_and_audio_in_one_message(
    phi4: HFSpacesLLM, png_bytes: bytes, wav_bytes: bytes
) -> None:
    message = user("Both", image(png_bytes), AudioBlock(audio=wav_bytes))
    answer = phi4.chat([message]).message.content
    assert "Image 1 is" in answer and "Audio 1 is" in answer


def test_system_prompt_and_history_reach_phi4(phi4: HFSpacesLLM) -> None:
    messages = [
        ChatMessage(role=MessageRole.SYSTEM, content="Answer in French."),
        user("Hello"),
        ChatMessage(role=MessageRole.ASSISTANT, content="Bonjour !"),
        user("How are you?"),
    ]
    answer = phi4.chat(messages).message.content
    # Multi-turn: the Space sees the earlier turn (this is its second user turn).
    assert answer.startswith("Turn 2.")
    assert "How are you?" in answer


async def test_system_prompt_and_history_are_folded_for_janus(
    janus: HFSpacesLLM, png_bytes: bytes
) -> None:
    messages = [
        ChatMessage(role=MessageRole.SYSTEM, content="You are a colour expert."),
        user("Hi"),
        ChatMessage(role=MessageRole.ASSISTANT, content="Hello!"),
        user("Which colour dominates?", image(png_bytes)),
    ]
    answer = (await janus.achat(messages)).message.content
    assert answer.startswith("This is a 32×24 image, mostly red and white.")
    # Janus is single-turn: the system prompt and history are folded into its question.
    assert "You are a colour expert." in answer
    assert "User: Hi" in answer and "Question: Which colour dominates?" in answer


def test_janus_answers_unstreamed_as_one_chunk(janus: HFSpacesLLM, png_bytes: bytes) -> None:
    chunks = list(janus.stream_chat([user("Colour?", image(png_bytes))]))
    assert len(chunks) == 1
    assert chunks[0].delta == chunks[0].message.content != ""
    assert chunks[0].raw["seed"] == 42  # the Space's default, reported back


def test_per_call_keyword_arguments_override_the_fields(
    janus: HFSpacesLLM, png_bytes: bytes
) -> None:
    response = janus.chat([user("Colour?", image(png_bytes))], seed=5, temperature=0.5)
    assert response.raw["seed"] == 5


# -- janus-pro-7b-image: images out -------------------------------------------------------


def test_generated_images_come_back_as_image_blocks(janus_image: HFSpacesLLM) -> None:
    response = janus_image.chat([user("a red fox in the snow")])
    blocks = response.message.blocks
    assert [b.block_type for b in blocks] == ["text", "image", "image"]
    assert response.message.content == "Generated 2 images for: a red fox in the snow"
    data = blocks[1].resolve_image().read()
    assert data[:4] in (b"RIFF", b"\x89PNG")  # real image bytes, downloaded
    assert response.raw["seed"] == 7 and response.raw["num_images"] == 2


async def test_generated_images_in_streams_and_completions(janus_image: HFSpacesLLM) -> None:
    chunks = [c async for c in await janus_image.astream_chat([user("a blue bird")])]
    assert sum(isinstance(b, ImageBlock) for b in chunks[-1].message.blocks) == 2
    completion = await janus_image.acomplete("a blue bird")
    assert completion.text == "Generated 2 images for: a blue bird"
    assert len(completion.additional_kwargs["images"]) == 2


# -- the legacy multimodal entry point ------------------------------------------------------


def test_complete_with_image_documents(janus: HFSpacesLLM, png_bytes: bytes) -> None:
    import base64

    from llama_index.core.schema import ImageNode

    node = ImageNode(image=base64.b64encode(png_bytes).decode())
    response = janus.complete("Which colour?", image_documents=[node])
    assert response.text == "This is a 32×24 image, mostly red and white. You asked: Which colour?"


def test_stream_complete_with_image_document_path(
    janus: HFSpacesLLM, png_bytes: bytes, tmp_path: Path
) -> None:
    from llama_index.core.schema import ImageDocument

    file = tmp_path / "doc.png"
    file.write_bytes(png_bytes)
    chunks = list(
        janus.stream_complete(
            "Which colour?", image_documents=[ImageDocument(image_path=str(file))]
        )
    )
    assert chunks[-1].text.startswith("This is a 32×24 image, mostly red and white.")


async def test_async_completions_with_image_blocks(phi4: HFSpacesLLM, png_bytes: bytes) -> None:
    response = await phi4.acomplete("What?", image_documents=[image(png_bytes)])
    assert "Image 1 is a 32×24 image" in response.text
    stream = await phi4.astream_complete("What?", image_documents=[image(png_bytes)])
    chunks = [c async for c in stream]
    assert all(c.delta for c in chunks) and "Image 1 is" in chunks[-1].text


def test_legacy_class_name_is_the_same_llm() -> None:
    assert HFSpacesMultiModal is HFSpacesLLM
    assert issubclass(HFSpacesMultiModal, LLM)


# -- errors -----------------------------------------------------------------------------------


@contextmanager
def refused(kind: type[InvalidInputError], match: str) -> Iterator[None]:
    """Input errors surface as HFSpacesInputError (not a ValueError: query engines swallow
    those), wrapping the core's typed error."""
    with pytest.raises(HFSpacesInputError, match=match) as caught:
        yield
    assert isinstance(caught.value.error, kind) and caught.value.__cause__ is caught.value.error


def test_audio_for_janus_fails_before_any_request(
    janus: HFSpacesLLM, fresh_replica: Any, png_bytes: bytes, wav_bytes: bytes
) -> None:
    before = requests_made(fresh_replica)
    message = user("Listen", image(png_bytes), AudioBlock(audio=wav_bytes))
    with refused(UnsupportedInputError, match="does not accept audio"):
        janus.chat([message])
    # Streams fail at the call, not at the first iteration.
    with refused(UnsupportedInputError, match="does not accept audio"):
        janus.stream_chat([message])
    assert requests_made(fresh_replica) == before


async def test_async_bad_input_fails_before_any_request(
    janus: HFSpacesLLM, phi4: HFSpacesLLM, fresh_replica: Any, png_bytes: bytes
) -> None:
    before = requests_made(fresh_replica)
    with refused(UnsupportedInputError, match="attach an image"):
        await janus.achat([user("no image here")])
    with refused(UnsupportedInputError, match="does not take seed"):
        await phi4.astream_chat([user("hi")], seed=3)  # Phi-4's Space has no seed input
    document = DocumentBlock(data=b"%PDF-1.4 x", document_mimetype="application/pdf")
    with refused(UnsupportedInputError, match="DocumentBlock"):
        await phi4.achat([user("read this", document)])
    assert requests_made(fresh_replica) == before


def test_images_to_the_image_generator_are_refused(
    janus_image: HFSpacesLLM, png_bytes: bytes
) -> None:
    with refused(UnsupportedInputError, match="does not accept images"):
        janus_image.chat([user("like this", image(png_bytes))])


def test_space_errors_surface_typed(phi4: HFSpacesLLM, fresh_replica: Any) -> None:
    fresh_replica.configure(app_error=True, app_error_message="model exploded")
    with pytest.raises(AppError, match="model exploded"):
        phi4.chat([user("hi")])
    with pytest.raises(AppError):
        list(phi4.stream_chat([user("hi")]))


async def test_gpu_quota_error_in_an_async_stream(
    janus: HFSpacesLLM, fresh_replica: Any, png_bytes: bytes
) -> None:
    fresh_replica.configure(quota_error=True)
    stream = await janus.astream_chat([user("hi", image(png_bytes))])
    with pytest.raises(GPUQuotaExceededError):
        [chunk async for chunk in stream]


def test_unknown_model_fails_at_construction() -> None:
    with pytest.raises(InvalidInputError, match="unknown model"):
        HFSpacesLLM(model="gpt-17")


def test_no_network_in_the_constructor_and_connect_errors_are_typed() -> None:
    # Nothing listens on port 9: building the LLM is fine, calling it fails cleanly.
    llm = HFSpacesLLM(endpoint="http://127.0.0.1:9", max_retries=0, timeout=5)
    with pytest.raises(ConnectError):
        llm.chat([user("hi")])


# -- settings, metadata, secrets ----------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "window", "output"),
    [("phi-4-multimodal", 128_000, 1024), ("janus-pro-7b", 4096, 512), ("janus-image", 4096, 0)],
)
def test_metadata_is_honest(model: str, window: int, output: int) -> None:
    metadata = HFSpacesLLM(model=model).metadata
    assert metadata.is_chat_model is True
    assert metadata.is_function_calling_model is False
    assert (metadata.context_window, metadata.num_output) == (window, output)
    assert metadata.model_name == HFSpacesLLM(model=model).model  # aliases resolved


def test_explicit_endpoint_string_and_mapping(
    fresh_replica: Any, phi4_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HFSPACES_ENDPOINTS")
    assert "Turn 1." in HFSpacesLLM(endpoint=phi4_url).complete("hi").text
    mapping = {"microsoft/phi-4-multimodal": phi4_url}
    assert "Turn 1." in HFSpacesLLM(endpoint=mapping).complete("hi").text


def test_the_token_reaches_the_hub_and_never_shows(
    fresh_replica: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_from_env_secret")
    from_env = HFSpacesLLM()
    assert from_env.hf_token is not None
    assert from_env.hf_token.get_secret_value() == "hf_from_env_secret"
    # The replica is not *.hf.space: the token goes there only with the per-endpoint opt-in.
    llm = HFSpacesLLM(hf_token="hf_pro", send_hf_token=True)
    handler = LlamaDebugHandler()
    llm.callback_manager = CallbackManager([handler])
    llm.chat([user("hi")])
    # The token was used for ZeroGPU: the proxy stand-in turned it into the user's identity.
    assert fresh_replica.stats()["proxy_user_tokens"] >= 1
    for shown in (
        repr(llm),
        str(llm),
        llm.to_json(),
        str(llm.to_dict()),
        str(llm.to_payload()),
        repr(from_env),
        from_env.to_json(),
        str(handler.get_event_pairs(CBEventType.LLM)[0][0].payload),
    ):
        assert "hf_pro" not in shown and "hf_from_env_secret" not in shown


# -- instrumentation --------------------------------------------------------------------------


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
async def test_queue_events_reach_instrumentation(
    phi4: HFSpacesLLM, collected: list[BaseEvent], sync: bool
) -> None:
    if sync:
        list(phi4.stream_chat([user("hi")]))
    else:
        [c async for c in await phi4.astream_chat([user("hi")])]
    jobs = [e for e in collected if isinstance(e, HFSpacesJobEvent)]
    kinds = [e.kind for e in jobs]
    assert "queued" in kinds and "started" in kinds
    assert kinds.index("queued") < kinds.index("started")
    assert all(e.space == "microsoft/phi-4-multimodal" for e in jobs)
    queued = jobs[kinds.index("queued")]
    assert {"rank", "queue_size", "eta"} <= queued.data.keys()
    # They belong to the LLM call's span, between its start and end events.
    names = [type(e).__name__ for e in collected]
    start, end = names.index("LLMChatStartEvent"), names.index("LLMChatEndEvent")
    assert start < names.index("HFSpacesJobEvent") < end
    assert queued.span_id == collected[start].span_id


def test_a_deep_copy_builds_its_own_connection(phi4: HFSpacesLLM) -> None:
    phi4.complete("hi")  # builds the SpaceModel (its token refuses to be copied)
    clone = copy.deepcopy(phi4)
    assert clone.space_model is not phi4.space_model
    assert "Turn 1." in clone.complete("hi").text


async def test_stop_sequences_cut_the_stream_and_the_answer(phi4: HFSpacesLLM) -> None:
    chunks = [c async for c in await phi4.astream_chat([user("Hello there")], stop=["said"])]
    assert all(c.delta for c in chunks)
    assert "".join(c.delta for c in chunks) == chunks[-1].message.content == "Turn 1. You "
    assert chunks[-1].raw["finish_reason"] == "stop_sequence"
    assert phi4.chat([user("Hello there")], stop="said").message.content == "Turn 1. You "
