"""Tools from any Space (`HFSpacesTool.from_space`, `HFSpacesToolkit`) on two plain gradio
apps written for the tests (`tests/space_apps.py`: FLUX-style `/infer`, Whisper-style
`/transcribe`), served on loopback; and a `create_agent` driven by a scripted model."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from lc_support import Recorder
from media_samples import make_wav
from space_apps import image_app_url, stt_app_url  # noqa: F401 - fixtures

from langchain_hfspaces.space_tools import HFSpacesTool, HFSpacesToolkit

WAV = make_wav()


def call(tool: HFSpacesTool, **args: Any) -> dict[str, Any]:
    return {"type": "tool_call", "id": "call-1", "name": tool.name, "args": args}


def test_schema_from_the_space(image_app_url: str) -> None:  # noqa: F811
    tool = HFSpacesTool.from_space(image_app_url)
    assert tool.name == "infer" and "FLUX.1 test app" in tool.description
    schema = tool.tool_call_schema.model_json_schema()  # type: ignore[union-attr]
    props = schema["properties"]
    assert schema["required"] == ["prompt"]
    assert props["style"]["enum"] == ["photo", "anime", "sketch"]
    assert props["style"]["default"] == "photo"
    assert (props["width"]["minimum"], props["width"]["maximum"]) == (256, 1024)
    assert props["seed"]["type"] == "integer" and props["randomize_seed"]["type"] == "boolean"
    assert props["prompt"]["description"] == "Prompt. What the picture should show"


def test_overrides_and_toolkit(image_app_url: str, stt_app_url: str) -> None:  # noqa: F811
    tool = HFSpacesTool.from_space(
        stt_app_url, "/slow_echo", name="echo it", description="Echo text slowly."
    )
    assert (tool.name, tool.description) == ("echo_it", "Echo text slowly.")
    tools = HFSpacesToolkit([image_app_url, stt_app_url]).get_tools()
    # hidden (`internal_reset`) and unqueued (`toggle_panel`, `clear`) endpoints are left out
    assert [t.name for t in tools] == ["infer", "transcribe", "slow_echo"]
    with pytest.raises(TypeError, match="unknown option"):
        HFSpacesToolkit([image_app_url], output_folder="x")


async def test_image_comes_back_as_block_and_file(
    image_app_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    tool = await HFSpacesTool.afrom_space(image_app_url, "/infer", output_dir=tmp_path)
    recorder = Recorder()
    messages = [
        await tool.ainvoke(
            call(tool, prompt="a fox", randomize_seed=False, seed=3), {"callbacks": [recorder]}
        )
        for _ in range(2)
    ]
    for message in messages:
        assert isinstance(message, ToolMessage) and message.status == "success"
        text, image = message.content
        assert isinstance(text, dict) and isinstance(image, dict)
        assert image["type"] == "image" and image["mime_type"] == "image/webp"
        assert "Seed used: 3" in text["text"]
        (file,) = message.artifact["files"]
        assert base64.b64decode(image["base64"]) == file["data"]
        assert await asyncio.to_thread(Path(file["path"]).read_bytes) == file["data"]
        assert file["path"] in text["text"] and message.artifact["outputs"][1] == 3
    # Same output twice: the second file does not overwrite the first.
    assert sorted(await asyncio.to_thread(lambda: [p.name for p in tmp_path.iterdir()])) == [
        "infer-result-2.webp",
        "infer-result.webp",
    ]
    progress = recorder.events("hfspaces_progress")
    assert progress and {e["desc"] for e in progress} == {"denoising"}
    assert [e["length"] for e in progress] == [4] * len(progress)
    assert "hfspaces_queue" in recorder.names()
    await tool.aclose()


async def test_audio_inputs_in_every_form(
    stt_app_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    (tmp_path / "speech.wav").write_bytes(WAV)
    tool = await HFSpacesTool.afrom_space(stt_app_url, "transcribe", input_dir=tmp_path)
    b64 = base64.b64encode(WAV).decode()
    forms = [
        b64,
        f"data:audio/wav;base64,{b64}",
        {"type": "audio", "base64": b64, "mime_type": "audio/wav"},
        {"type": "input_audio", "input_audio": {"data": b64, "format": "wav"}},
        "speech.wav",
        str(tmp_path / "speech.wav"),
    ]
    for form in forms:
        message = await tool.ainvoke(call(tool, audio=form, task="translate", language="french"))
        assert message.status == "success", (form, message.content)
        assert (
            "Transcript: hello world (translated 1.00 s of french speech)"
            in (message.content[0]["text"])
        )
        assert message.artifact["outputs"][1] == {"duration": 1.0, "task": "translate"}
    await tool.aclose()


async def test_bad_arguments_fail_before_any_request(
    stt_app_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    # Built in the background loop: this test's loop has no client until a request.
    tool = HFSpacesTool.from_space(stt_app_url, "transcribe", input_dir=tmp_path)
    b64 = base64.b64encode(WAV).decode()
    cases = {
        "task: Input should be 'transcribe' or 'translate'": {"audio": b64, "task": "sing"},
        "audio: Field required": {"task": "translate"},
        "outside the allowed input folder": {"audio": "../../etc/passwd"},
        "not a usable file|could not recognise the media as audio": {"audio": "x" * 80},
    }
    for expected, args in cases.items():
        message = await tool.ainvoke(call(tool, **args))
        assert message.status == "error" and any(
            e in message.content for e in expected.split("|")
        ), message.content
        assert "Fix the arguments" in message.content
    # Still no client in this loop: nothing reached the Space.
    assert asyncio.get_running_loop() not in tool.space_tool.connection.copies._clients
    no_folder = await HFSpacesTool.afrom_space(stt_app_url, "transcribe")
    message = await no_folder.ainvoke(call(no_folder, audio="speech.wav"))
    assert "local files are not allowed" in message.content


def test_sync_invoke_and_space_error(image_app_url: str) -> None:  # noqa: F811
    tool = HFSpacesTool.from_space(image_app_url)
    message = tool.invoke(call(tool, prompt="   "))
    assert message.status == "error"
    assert (
        "failed while running: the Space reported an error: Empty prompt: The prompt is empty."
        in message.content
    )
    ok = tool.invoke(call(tool, prompt="cat"))
    assert ok.status == "success" and ok.content[1]["type"] == "image"


async def test_cancelling_the_call_stops_it(stt_app_url: str) -> None:  # noqa: F811
    tool = await HFSpacesTool.afrom_space(stt_app_url, "slow_echo")
    task = asyncio.ensure_future(tool.ainvoke({"text": "hi"}))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)
    client = tool.space_tool.connection.client
    assert not client._jobs  # the job was cancelled (on the server too), not left running
    await tool.aclose()


class ScriptedToolModel(GenericFakeChatModel):
    """Answers with the scripted messages in order; tool binding is accepted as is."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedToolModel:
        return self


async def test_agent_uses_speech_and_image_tools(
    image_app_url: str,  # noqa: F811
    stt_app_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    (tmp_path / "request.wav").write_bytes(WAV)
    toolkit = HFSpacesToolkit([stt_app_url, image_app_url], input_dir=tmp_path)
    tools = await toolkit.aget_tools()
    script = [
        AIMessage(
            "", tool_calls=[{"name": "transcribe", "args": {"audio": "request.wav"}, "id": "c1"}]
        ),
        AIMessage(
            "", tool_calls=[{"name": "infer", "args": {"prompt": "hello world"}, "id": "c2"}]
        ),
        AIMessage("Done: transcribed and drew it."),
    ]
    agent = create_agent(ScriptedToolModel(messages=iter(script)), tools=tools)
    result = await agent.ainvoke({"messages": [HumanMessage("Draw what I say in request.wav")]})
    transcript, image = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert transcript.status == image.status == "success"
    assert "hello world (transcribed 1.00 s of english speech)" in transcript.content[0]["text"]
    assert image.content[1]["type"] == "image" and base64.b64decode(image.content[1]["base64"])
    assert result["messages"][-1].content == "Done: transcribed and drew it."


async def test_replica_spaces_text_to_speech_to_text(replica: Any) -> None:
    """chat13's replica Spaces by id (HFSPACES_ENDPOINTS maps them): the TTS tool's audio
    block goes straight into the STT tool."""
    from hfspaces.replica.config import CHAT_SPACE, FLUX_SPACE, STT_SPACE, TTS_SPACE

    tools = await HFSpacesToolkit([TTS_SPACE, STT_SPACE, FLUX_SPACE, CHAT_SPACE]).aget_tools()
    by_name = {t.name: t for t in tools}
    assert set(by_name) == {"generate", "transcribe", "infer", "respond"}
    speech = await by_name["generate"].ainvoke(call(by_name["generate"], text="good morning"))
    audio = speech.content[1]
    assert audio["type"] == "file" and audio["mime_type"] == "audio/wav"
    heard = await by_name["transcribe"].ainvoke(call(by_name["transcribe"], inputs=audio))
    assert "good morning" in heard.content[0]["text"]
    picture = await by_name["infer"].ainvoke(call(by_name["infer"], prompt="a cat"))
    assert picture.content[1]["type"] == "image"
    answer = await by_name["respond"].ainvoke(call(by_name["respond"], message="hello"))
    assert answer.status == "success" and "Response:" in answer.content[0]["text"]
    for tool in tools:
        await tool.aclose()  # type: ignore[attr-defined]


async def test_quota_error_tells_the_agent_when_to_come_back(fresh_replica: Any) -> None:
    from hfspaces.replica.config import FLUX_SPACE

    fresh_replica.configure(quota_error=True)
    tool = await HFSpacesTool.afrom_space(FLUX_SPACE)
    message = await tool.ainvoke(call(tool, prompt="a cat"))
    await tool.aclose()
    assert message.status == "error"
    assert "ran out of GPU quota" in message.content and "HF_TOKEN" in message.content
    assert "called again in" in message.content and "retry" not in message.content.lower()


def test_options_reach_the_client(image_app_url: str, monkeypatch: Any) -> None:  # noqa: F811
    monkeypatch.setenv("HF_TOKEN", "hf_" + "x" * 30)
    anonymous = HFSpacesTool.from_space(image_app_url, hf_token=False, max_queue_wait=5)
    options = anonymous.space_tool.connection.copies.options
    assert options["hf_token"] is False and options["max_queue_wait"] == 5
    with pytest.raises(TypeError, match="unknown option"):
        HFSpacesTool.from_space(image_app_url, colour="red")


async def test_a_full_queue_is_waited_through(fresh_replica: Any) -> None:
    """Two 503 'Queue is full' answers: the tool waits (reporting each wait) and succeeds;
    the agent never sees a 'retry' message."""
    from hfspaces.replica.config import FLUX_SPACE

    fresh_replica.configure(join_status=503, join_fail_count=2, retry_after=0)
    tool = await HFSpacesTool.afrom_space(FLUX_SPACE)
    tool.space_tool.connection.client.queue_backoff_range = (0.01, 0.05)
    recorder = Recorder()
    message = await tool.ainvoke(call(tool, prompt="a cat"), {"callbacks": [recorder]})
    await tool.aclose()
    assert message.status == "success" and message.content[1]["type"] == "image"
    waits = recorder.events("hfspaces_queue_wait")
    assert [w["attempt"] for w in waits] == [1, 2]
