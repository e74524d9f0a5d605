"""ChatHFSpaces and HFSpacesImageTool as LangChain citizens (issue 12): settings are state,
copies and pickles, input limits, tool events, what is unsupported, token counts,
prompt-based structured output; and tool results are never overwritten (issue 11 #14).

Everything runs against the session replica over loopback; a dead loopback port
(127.0.0.1:9, nothing listens) shows where a call went.
"""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any

import pytest
from hfspaces import ConnectError, SpaceTimeoutError, UnsupportedInputError
from hfspaces.structured import StructuredOutputError
from langchain_core.load import dumps
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, trim_messages
from langchain_core.runnables import ConfigurableField
from lc_support import Recorder, b64
from media_samples import make_png
from pydantic import BaseModel, ValidationError, field_validator
from receipt_schema import Receipt
from typing_extensions import TypedDict

from langchain_hfspaces import ChatHFSpaces, HFSpacesImageTool

PNG = make_png()  # 32×24, red with a white top stripe
DEAD = "http://127.0.0.1:9"  # nothing listens: a call that goes there fails to connect
TOKEN = "hf_pickle_canary_5d41402abc4b2a76"


def picture(text: str, count: int = 1) -> HumanMessage:
    image = {"type": "image", "base64": b64(PNG), "mime_type": "image/png"}
    return HumanMessage([{"type": "text", "text": text}, *[image] * count])


# -- 1. settings are state --------------------------------------------------------------------


async def test_a_copy_with_another_endpoint_calls_there_and_leaves_the_original(
    phi4: ChatHFSpaces,
) -> None:
    assert "Turn 1" in (await phi4.ainvoke("hi")).text  # the original's model is built
    moved = phi4.model_copy(update={"endpoint": DEAD, "max_retries": 0})
    with pytest.raises(ConnectError):
        await moved.ainvoke("hi")
    assert "Turn 1" in (await phi4.ainvoke("hi")).text  # the copy did not leak back
    assert moved._space_model("phi-4") is not phi4._space_model("phi-4")
    await moved.aclose()


async def test_assigned_settings_take_effect_on_the_next_call(phi4: ChatHFSpaces, rep: Any) -> None:
    await phi4.ainvoke("hi")
    phi4.endpoint, phi4.max_retries = DEAD, 0
    with pytest.raises(ConnectError):
        await phi4.ainvoke("hi")
    phi4.endpoint = None  # back to HFSPACES_ENDPOINTS (the replica)
    rep.configure(token_delay=0.2, answer_words=60)  # ~12 s of streaming
    phi4.timeout = 0.5
    with pytest.raises(SpaceTimeoutError):
        await phi4.ainvoke("slow")


async def test_a_mapping_changed_in_place_takes_effect(rep: Any, phi4_url: str) -> None:
    llm = ChatHFSpaces(endpoint={"microsoft/phi-4-multimodal": phi4_url}, max_retries=0)
    assert "Turn 1" in (await llm.ainvoke("hi")).text
    assert isinstance(llm.endpoint, dict)
    llm.endpoint["microsoft/phi-4-multimodal"] = DEAD  # the same dict, changed in place
    with pytest.raises(ConnectError):
        await llm.ainvoke("hi")
    await llm.aclose()


async def test_configurable_fields_variants_use_their_own_settings(phi4: ChatHFSpaces) -> None:
    configurable = phi4.configurable_fields(
        endpoint=ConfigurableField(id="endpoint"), max_retries=ConfigurableField(id="retries")
    )
    assert "Turn 1" in (await configurable.ainvoke("first")).text
    dead = configurable.with_config(configurable={"endpoint": DEAD, "retries": 0})
    with pytest.raises(ConnectError):
        await dead.ainvoke("hi")
    assert "Turn 1" in (await configurable.ainvoke("again")).text


# -- 2. deepcopy and pickle, never the token --------------------------------------------------


async def test_deepcopy_and_pickle_make_working_independent_models(
    phi4: ChatHFSpaces, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    model = ChatHFSpaces()
    await model.ainvoke("warm up")  # a live session: copies must not share or pickle it
    twin = copy.deepcopy(model)
    assert twin.api_key is not None and twin.api_key.get_secret_value() == TOKEN
    data = pickle.dumps(model)
    assert TOKEN.encode() not in data
    assert TOKEN not in dumps(model) and TOKEN not in model.model_dump_json()
    restored = pickle.loads(data)
    assert restored.api_key is not None and restored.api_key.get_secret_value() == TOKEN
    for other in (twin, restored):
        assert "Turn 1" in (await other.ainvoke("hi")).text
        assert other._space_model("phi-4") is not model._space_model("phi-4")
        await other.aclose()
    await model.aclose()


def test_pickling_an_explicit_token_that_is_not_hf_token_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    model = ChatHFSpaces(hf_token=TOKEN)
    with pytest.raises(TypeError, match="set HF_TOKEN"):
        pickle.dumps(model)
    assert pickle.loads(pickle.dumps(ChatHFSpaces())).api_key is None  # no token anywhere
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    anonymous = pickle.dumps(ChatHFSpaces(hf_token=False))  # anonymous on purpose: kept
    assert TOKEN.encode() not in anonymous and pickle.loads(anonymous).api_key is False


async def test_image_tool_deepcopies_and_pickles(
    rep: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    tool = HFSpacesImageTool(output_dir=tmp_path)
    data = pickle.dumps(tool)
    assert TOKEN.encode() not in data
    for other in (copy.deepcopy(tool), pickle.loads(data)):
        message = await other.ainvoke(_tool_call({"prompt": "a fox", "seed": 3}))
        assert "Generated 1 image" in message.content
        await other.aclose()


# -- 3. input limits --------------------------------------------------------------------------


@pytest.mark.usefixtures("no_network")
def test_two_images_for_janus_are_refused_not_dropped() -> None:
    janus = ChatHFSpaces(model="janus-pro-7b", endpoint=DEAD)
    with pytest.raises(UnsupportedInputError, match=r"at most 1 image per call.* has 2"):
        janus.invoke([picture("compare these", count=2)])
    # Also across turns: Janus would only see the newest one.
    with pytest.raises(UnsupportedInputError, match="has 2"):
        janus.invoke([picture("this"), AIMessage("ok"), picture("and this")])


@pytest.mark.usefixtures("no_network")
def test_phi4_takes_its_declared_maximum_of_images() -> None:
    phi4 = ChatHFSpaces(endpoint=DEAD)
    with pytest.raises(UnsupportedInputError, match=r"at most 8 images per call.* has 9"):
        phi4.invoke([picture("so many", count=9)])


@pytest.mark.usefixtures("no_network")
def test_phi4_refuses_a_conversation_that_does_not_end_with_the_user() -> None:
    phi4 = ChatHFSpaces(endpoint=DEAD)
    with pytest.raises(ValueError, match="must end with one"):
        phi4.invoke([HumanMessage("hi"), AIMessage("hello")])


# -- 4. the image tool reports queue and progress ----------------------------------------------


def _tool_call(args: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_call", "id": "call-1", "name": "generate_image", "args": args}


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_image_tool_sends_queue_events(rep: Any, recorder: Recorder, mode: str) -> None:
    """The tool's job news reaches the tool run's handlers, as the chat model's does: two
    refused joins (a full ZeroGPU queue) waited through, the queue, the start, and
    ZeroGPU's log lines while it waits for a GPU. (The real Janus Space reports no
    gr.Progress; progress would take the same path.)"""
    rep.configure(join_status=503, join_fail_count=2, retry_after=0, queue_delay=0.1)
    tool = HFSpacesImageTool()
    config: Any = {"callbacks": [recorder]}
    args = _tool_call({"prompt": "a lighthouse", "seed": 5, "num_images": 2})
    if mode == "sync":
        message = tool.invoke(args, config)
    else:
        message = await tool.ainvoke(args, config)
    assert "Generated 2 images" in message.content
    names = recorder.names()
    assert names.count("hfspaces_queue_wait") == 2
    assert names.index("hfspaces_queue_wait") < names.index("hfspaces_queue")
    assert names.index("hfspaces_queue") < names.index("hfspaces_started")
    logs = recorder.events("hfspaces_log")
    assert logs[0]["model"] == "janus-pro-7b-image" and logs[0]["title"] == "ZeroGPU queue"
    assert len(recorder.run_ids) == 1
    await tool.aclose()


async def test_image_tool_events_appear_in_astream_events(rep: Any) -> None:
    rep.configure(queue_delay=0.1)
    tool = HFSpacesImageTool()
    events = [
        e
        async for e in tool.astream_events({"prompt": "a boat", "seed": 1}, version="v2")
        if e["event"] == "on_custom_event"
    ]
    assert {"hfspaces_queue", "hfspaces_started", "hfspaces_log"} <= {e["name"] for e in events}
    await tool.aclose()


# -- 5. what is not supported says what to do instead -----------------------------------------


@pytest.mark.usefixtures("no_network")
def test_bind_tools_and_create_agent_explain_the_alternative() -> None:
    from langchain.agents import create_agent

    llm = ChatHFSpaces(endpoint=DEAD)
    with pytest.raises(NotImplementedError, match="HFSpacesImageTool"):
        llm.bind_tools([HFSpacesImageTool()])
    agent = create_agent(llm, tools=[HFSpacesImageTool()])
    with pytest.raises(NotImplementedError, match="tool-calling chat model"):
        agent.invoke({"messages": [HumanMessage("draw a cat")]})
    with pytest.raises(NotImplementedError, match="method='xml'"):
        llm.with_structured_output({"type": "object"}, method="xml")
    with pytest.raises(UnsupportedInputError, match="cannot give structured output"):
        ChatHFSpaces(model="janus-pro-7b-image").with_structured_output({"type": "object"})


# -- 6. token counts without transformers ------------------------------------------------------


@pytest.mark.usefixtures("no_network")
def test_token_counts_are_approximated_per_model() -> None:
    phi4, janus = ChatHFSpaces(endpoint=DEAD), ChatHFSpaces(model="janus", endpoint=DEAD)
    text = "The quick brown fox jumps over the lazy dog. " * 10  # 450 characters
    assert phi4.get_num_tokens(text) == 108  # 4.2 characters per token
    assert janus.get_num_tokens(text) == 119  # 3.8
    with_image = phi4.get_num_tokens_from_messages([picture("hi")])
    assert with_image == 4 + 1 + 1024  # template + text + one image
    history = [SystemMessage("be brief"), *[HumanMessage(text), AIMessage(text)] * 5]
    kept = trim_messages(history, max_tokens=300, token_counter=phi4, include_system=True)
    assert kept[0] == history[0] and 1 < len(kept) < len(history)
    assert phi4.get_num_tokens_from_messages(kept) <= 300
    with pytest.raises(NotImplementedError, match="get_num_tokens"):
        phi4.get_token_ids("x")


# -- 7/8. settings checked at construction -----------------------------------------------------


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"model": "phi-4", "temperature": 0.2}, "does not take temperature"),
        ({"model": "janus-pro-7b", "temperature": 7}, "temperature must be between 0 and 1"),
        ({"model": "janus-pro-7b-image", "guidance": 20}, "guidance must be between"),
    ],
)
def test_settings_are_checked_at_construction(params: dict[str, Any], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        ChatHFSpaces(**params)


# -- structured output from images ------------------------------------------------------------


async def test_structured_output_reads_an_image_into_a_schema(janus: ChatHFSpaces) -> None:
    extract = janus.with_structured_output(Receipt)
    receipt = await extract.ainvoke([picture("Read this receipt.")])
    # The replica derives the instance from what it sees: 32×24, red and white.
    assert isinstance(receipt, Receipt)
    assert receipt.paper_colour == "red" and receipt.total == 32.24
    assert [item.name for item in receipt.items] == ["red name", "white name"]


def test_structured_output_include_raw_and_dict_schemas(phi4: ChatHFSpaces) -> None:
    class Colours(TypedDict):
        main_colour: str
        width: int

    out = phi4.with_structured_output(Colours, include_raw=True).invoke([picture("colours?")])
    assert out["parsing_error"] is None and isinstance(out["raw"], AIMessage)
    assert out["parsed"] == {"main_colour": "red", "width": 32}
    schema = {"title": "Size", "type": "object", "properties": {"height": {"type": "integer"}},
              "required": ["height"]}  # fmt: skip
    assert phi4.with_structured_output(schema).invoke([picture("size?")]) == {"height": 24}


async def test_structured_output_asks_again_once_after_an_invalid_answer(
    janus: ChatHFSpaces, recorder: Recorder
) -> None:
    seen: list[str] = []

    class Picky(BaseModel):
        colour: str

        @field_validator("colour")
        @classmethod
        def _second_time(cls, value: str) -> str:
            seen.append(value)
            if len(seen) == 1:
                raise ValueError("say it again")  # the first answer is refused
            return value

    result = await janus.with_structured_output(Picky).ainvoke(
        [picture("colour?")], {"callbacks": [recorder]}
    )
    assert isinstance(result, Picky) and result.colour == "red" and len(seen) == 2
    assert len(recorder.model_runs) == 2  # the answer and one re-ask, each a model run


async def test_a_bad_answer_twice_raises_a_typed_error_with_the_raw_text(
    janus: ChatHFSpaces, rep: Any
) -> None:
    rep.configure(answer_words=3)  # the replica cuts its JSON after three words
    with pytest.raises(StructuredOutputError, match="after 2 attempts") as caught:
        await janus.with_structured_output(Receipt).ainvoke([picture("read it")])
    assert (
        caught.value.raw_text.startswith('{"merchant":')
        and caught.value.space == "deepseek-ai/Janus-Pro-7B"
        and "JSON is invalid" in str(caught.value)
    )
    raw = await janus.with_structured_output(Receipt, include_raw=True).ainvoke(
        [picture("read it")]
    )
    assert raw["parsed"] is None and isinstance(raw["parsing_error"], StructuredOutputError)


# -- issue 11 #14: a second image never overwrites the first ------------------------------------


def test_same_prompt_and_seed_twice_writes_a_new_file(rep: Any, tmp_path: Path) -> None:
    tool = HFSpacesImageTool(output_dir=tmp_path)
    first = tool.invoke(_tool_call({"prompt": "a red fox", "seed": 42}))
    first_path = Path(first.artifact["images"][0]["path"])
    first_bytes = first_path.read_bytes()
    second = tool.invoke(_tool_call({"prompt": "a red fox", "seed": 42}))
    second_path = Path(second.artifact["images"][0]["path"])
    assert first_path.name == "a-red-fox-seed42-1.webp"
    assert second_path.name == "a-red-fox-seed42-1-2.webp"
    assert first_path.read_bytes() == first_bytes and str(second_path) in second.content
