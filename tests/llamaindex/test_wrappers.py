"""HFSpacesLLM and HFSpacesToolSpec as LlamaIndex citizens (issue 12): settings are state,
copies and pickles, input limits (also in query engines), errors that surface from query
engines, settings checked at construction, MediaResource documents, tool events,
prompt-based structured output; and tool results are never overwritten (issue 11 #14).

Everything runs against the session replica over loopback; a dead loopback port
(127.0.0.1:9, nothing listens) shows where a call went.
"""

from __future__ import annotations

import base64
import copy
import pickle
from pathlib import Path
from typing import Any

import pytest
from hfspaces import ConnectError, InvalidInputError, UnsupportedInputError
from hfspaces.structured import StructuredOutputError
from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock
from llama_index.core.prompts import ChatPromptTemplate, PromptTemplate
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import (
    Document,
    ImageNode,
    MediaResource,
    TextNode,
)
from llamaindex_helpers import FixedRetriever, image, requests_made, user
from pydantic import ValidationError
from receipt_schema import Receipt

from llama_index_hfspaces import HFSpacesInputError, HFSpacesJobEvent, HFSpacesLLM, HFSpacesToolSpec

DEAD = "http://127.0.0.1:9"  # nothing listens: a call that goes there fails to connect
TOKEN = "hf_pickle_canary_7fc56270e7a70fa8"


def image_node(png: bytes) -> ImageNode:
    return ImageNode(image=base64.b64encode(png).decode())


# -- 1. settings are state --------------------------------------------------------------------


def test_copies_and_assignments_take_effect_on_the_next_call(phi4: HFSpacesLLM) -> None:
    assert "Turn 1" in phi4.complete("hi").text
    moved = phi4.model_copy(update={"endpoint": DEAD, "max_retries": 0})
    with pytest.raises(ConnectError):
        moved.complete("hi")
    assert "Turn 1" in phi4.complete("hi").text  # the copy did not leak back
    assert moved.space_model is not phi4.space_model
    phi4.endpoint, phi4.max_retries = DEAD, 0
    with pytest.raises(ConnectError):
        phi4.complete("hi")


# -- 2. deepcopy and pickle, never the token --------------------------------------------------


def test_llm_deepcopies_and_pickles_without_the_token(
    fresh_replica: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    llm = HFSpacesLLM()
    llm.complete("warm up")  # a live session: copies must not share or pickle it
    data = pickle.dumps(llm)
    assert TOKEN.encode() not in data and TOKEN not in llm.to_json()
    restored = pickle.loads(data)
    assert restored.hf_token is not None and restored.hf_token.get_secret_value() == TOKEN
    for other in (copy.deepcopy(llm), restored):
        assert "Turn 1" in other.complete("hi").text
        assert other.space_model is not llm.space_model
    with pytest.raises(TypeError, match="set HF_TOKEN"):
        pickle.dumps(HFSpacesLLM(hf_token="hf_someone_else"))


def test_tool_spec_deepcopies_and_pickles_without_the_token(
    fresh_replica: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    tools = HFSpacesToolSpec(output_dir=tmp_path)
    data = pickle.dumps(tools)
    assert TOKEN.encode() not in data
    for other in (copy.deepcopy(tools), pickle.loads(data)):
        assert other.image_model is not tools.image_model
        blocks = other.generate_image("a kite", seed=4)
        assert "Generated 1 image" in blocks[0].text  # type: ignore[union-attr]


# -- 3 and 7. input limits and user mistakes surface, also from query engines ----------------


def test_two_images_for_janus_are_refused_not_dropped(
    janus: HFSpacesLLM, fresh_replica: Any, png_bytes: bytes
) -> None:
    before = requests_made(fresh_replica)
    with pytest.raises(HFSpacesInputError, match="at most 1 image") as caught:
        janus.chat([user("compare", image(png_bytes), image(png_bytes))])
    assert isinstance(caught.value.error, UnsupportedInputError)
    assert requests_made(fresh_replica) == before


def test_multimodal_query_engine_with_two_images_for_janus_raises(
    fresh_replica: Any, png_bytes: bytes
) -> None:
    """The (deprecated, still shipped) SimpleMultiModalQueryEngine sends every retrieved
    image in one message: Janus would answer about one of them, so it is refused."""
    from llama_index.core.query_engine import SimpleMultiModalQueryEngine

    nodes = [image_node(png_bytes), image_node(png_bytes)]
    with pytest.warns(DeprecationWarning):
        engine = SimpleMultiModalQueryEngine(
            FixedRetriever(nodes),  # type: ignore[arg-type]
            multi_modal_llm=HFSpacesLLM(model="janus-pro-7b"),
        )
    with pytest.raises(HFSpacesInputError, match="at most 1 image per call"):
        engine.query("What is in the pictures?")


@pytest.mark.parametrize("mode", ["compact", "tree_summarize"])
def test_query_engine_raises_input_errors_instead_of_empty_response(
    fresh_replica: Any, mode: str
) -> None:
    """Janus needs an image and gets text nodes only: LlamaIndex's refine step turns a
    ValueError from the LLM into 'Empty Response'; HFSpacesInputError reaches the caller."""
    engine = RetrieverQueryEngine.from_args(
        FixedRetriever([TextNode(text="a red square")]),
        llm=HFSpacesLLM(model="janus-pro-7b"),
        response_mode=mode,
    )
    with pytest.raises(HFSpacesInputError, match="attach an image"):
        engine.query("What colour is it?")


def test_legacy_multimodal_complete_with_several_image_documents(
    janus: HFSpacesLLM, png_bytes: bytes
) -> None:
    docs = [image_node(png_bytes), image_node(png_bytes)]
    with pytest.raises(HFSpacesInputError, match="has 2"):
        janus.complete("compare", image_documents=docs)


def test_settings_are_checked_at_construction() -> None:
    for params, match in [
        ({"model": "phi-4", "temperature": 0.2}, "does not take temperature"),
        ({"model": "janus-pro-7b", "temperature": 7}, "temperature must be between 0 and 1"),
        ({"model": "phi-4", "max_tokens": 256}, "does not take max_tokens"),
    ]:
        with pytest.raises(ValidationError, match=match):
            HFSpacesLLM(**params)


def test_max_tokens_per_call_and_phi4_last_message_fail_at_the_call(phi4: HFSpacesLLM) -> None:
    with pytest.raises(HFSpacesInputError, match="does not take max_tokens"):
        phi4.chat([user("hi")], max_tokens=10)
    history = [user("hi"), ChatMessage(role=MessageRole.ASSISTANT, content="hello")]
    with pytest.raises(HFSpacesInputError, match="must end with one") as caught:
        phi4.stream_chat(history)  # at the call, before the stream is iterated
    assert isinstance(caught.value.error, InvalidInputError)


def test_document_with_a_media_resource_is_an_image_document(
    janus: HFSpacesLLM, png_bytes: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "red.png"
    path.write_bytes(png_bytes)
    for resource in (MediaResource(data=png_bytes, mimetype="image/png"), MediaResource(path=path)):
        document = Document(image_resource=resource)
        answer = janus.complete("Which colours?", image_documents=[document])
        assert "32×24 image, mostly red and white" in answer.text


# -- 4. tool events ---------------------------------------------------------------------------


def test_tool_spec_dispatches_job_events(
    spec: HFSpacesToolSpec, collected: list[Any], fresh_replica: Any
) -> None:
    # Two refused joins (a full ZeroGPU queue) waited through, then the queue and the start.
    fresh_replica.configure(join_status=503, join_fail_count=2, retry_after=0)
    spec.generate_image("a lighthouse", seed=1)
    jobs = [e for e in collected if isinstance(e, HFSpacesJobEvent)]
    kinds = [e.kind for e in jobs]
    assert kinds.count("queue_wait") == 2 and {"queued", "started"} <= set(kinds)
    assert kinds.index("queue_wait") < kinds.index("queued") < kinds.index("started")
    assert all(e.model == "janus-pro-7b-image" for e in jobs)


# -- 8. structured output ---------------------------------------------------------------------


def _receipt_prompt(png: bytes) -> ChatPromptTemplate:
    message = user("Read this receipt from {shop}.", image(png))
    return ChatPromptTemplate(message_templates=[message])


async def test_structured_predict_reads_an_image_into_a_schema(
    janus: HFSpacesLLM, png_bytes: bytes, collected: list[Any]
) -> None:
    receipt = janus.structured_predict(Receipt, _receipt_prompt(png_bytes), shop="a shop")
    names = [type(e).__name__ for e in collected]
    assert names.index("LLMStructuredPredictStartEvent") < names.index("LLMChatStartEvent")
    assert names[-1] == "LLMStructuredPredictEndEvent" and collected[-1].output == receipt
    assert receipt.paper_colour == "red" and receipt.total == 32.24
    assert [item.name for item in receipt.items] == ["red name", "white name"]
    again = await janus.astructured_predict(Receipt, _receipt_prompt(png_bytes), shop="x")
    assert again == receipt


def test_as_structured_llm_answers_with_the_object(phi4: HFSpacesLLM, png_bytes: bytes) -> None:
    structured = phi4.as_structured_llm(Receipt)
    response = structured.chat([user("Read this receipt.", image(png_bytes))])
    assert isinstance(response.raw, Receipt) and response.raw.items[0].name == "red name"
    text_only = phi4.structured_predict(Receipt, PromptTemplate("A receipt about {x}."), x="y")
    assert text_only.paper_colour == "none"  # no image: the replica derives nothing


def test_a_bad_answer_twice_raises_a_typed_error_with_the_raw_text(
    janus: HFSpacesLLM, png_bytes: bytes, fresh_replica: Any
) -> None:
    fresh_replica.configure(answer_words=3)  # the replica cuts its JSON after three words
    before = requests_made(fresh_replica)[0]
    with pytest.raises(StructuredOutputError, match="after 2 attempts") as caught:
        janus.structured_predict(Receipt, _receipt_prompt(png_bytes), shop="x")
    assert (
        caught.value.raw_text.startswith('{"merchant":')
        and caught.value.space == "deepseek-ai/Janus-Pro-7B"
    )
    assert requests_made(fresh_replica)[0] - before == 2  # the answer and one re-ask


# -- issue 11 #14: a second image never overwrites the first ------------------------------------


def test_same_prompt_and_seed_twice_writes_a_new_file(spec: HFSpacesToolSpec) -> None:
    first = spec.generate_image("a red fox", seed=42)
    second = spec.generate_image("a red fox", seed=42)
    assert spec.output_dir is not None
    names = sorted(p.name for p in spec.output_dir.iterdir())
    assert names == ["a-red-fox-seed42-1-2.webp", "a-red-fox-seed42-1.webp"]
    assert isinstance(second[0], TextBlock) and "a-red-fox-seed42-1-2.webp" in second[0].text
    assert isinstance(first[0], TextBlock) and "seed42-1.webp" in first[0].text
