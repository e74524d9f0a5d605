"""Tools from any Space (`HFSpacesToolSpec.from_space`) on two plain gradio apps written
for the tests (`tests/space_apps.py`), served on loopback; and a `FunctionAgent` driven by
a scripted tool-calling model."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hfspaces import InvalidInputError, MediaError
from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
from llama_index.core.base.llms.types import (
    AudioBlock,
    ChatMessage,
    ImageBlock,
    MessageRole,
    TextBlock,
    ToolCallBlock,
)
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.llms.mock import MockFunctionCallingLLM
from media_samples import make_wav
from space_apps import image_app_url, stt_app_url  # noqa: F401 - fixtures

from llama_index_hfspaces import HFSpacesJobEvent, HFSpacesToolSpec

WAV = make_wav()


def test_tool_list_with_the_space_schema(image_app_url: str, stt_app_url: str) -> None:  # noqa: F811
    spec = HFSpacesToolSpec.from_space(image_app_url)
    (infer,) = spec.to_tool_list()
    assert infer.metadata.name == "infer" and "FLUX.1 test app" in infer.metadata.description
    params = infer.metadata.get_parameters_dict()
    assert params["required"] == ["prompt"]
    assert params["properties"]["style"]["enum"] == ["photo", "anime", "sketch"]
    assert params["properties"]["num_inference_steps"]["maximum"] == 8
    names = [t.metadata.name for t in HFSpacesToolSpec.from_space(stt_app_url).to_tool_list()]
    assert names == ["transcribe", "slow_echo"]  # the unqueued `clear` is not offered
    chosen = HFSpacesToolSpec.from_space(stt_app_url, api_names=["/slow_echo"]).to_tool_list()
    assert [t.metadata.name for t in chosen] == ["slow_echo"]
    with pytest.raises(InvalidInputError, match="no endpoint"):
        HFSpacesToolSpec.from_space(stt_app_url, api_names=["/nope"]).to_tool_list()


class Collect(BaseEventHandler):
    events: list[HFSpacesJobEvent] = []  # noqa: RUF012 - pydantic field default

    def handle(self, event: Any, **kwargs: Any) -> None:
        if isinstance(event, HFSpacesJobEvent):
            self.events.append(event)


async def test_outputs_as_blocks_and_files(image_app_url: str, tmp_path: Path) -> None:  # noqa: F811
    spec = HFSpacesToolSpec.from_space(image_app_url, output_dir=tmp_path)
    (infer,) = await spec.to_tool_list_async()
    handler = Collect()
    get_dispatcher().add_event_handler(handler)
    try:
        output = await infer.acall(prompt="a lighthouse", style="sketch")
    finally:
        get_dispatcher().event_handlers.remove(handler)
    text, image = output.blocks
    assert isinstance(text, TextBlock) and isinstance(image, ImageBlock)
    assert "Seed used: 7" in text.text and "saved to" in text.text
    (saved,) = await asyncio.to_thread(lambda: list(tmp_path.iterdir()))
    assert image.resolve_image().read() == await asyncio.to_thread(saved.read_bytes)
    assert {"queued", "started", "progress"} <= {e.kind for e in handler.events}
    await spec.aclose()


async def test_audio_block_input_and_validation(stt_app_url: str, tmp_path: Path) -> None:  # noqa: F811
    (tmp_path / "a.wav").write_bytes(WAV)
    spec = HFSpacesToolSpec.from_space(stt_app_url, input_dir=tmp_path)
    transcribe = spec.to_tool_list()[0]
    for audio in (AudioBlock(audio=WAV, format="wav"), "a.wav", base64.b64encode(WAV).decode()):
        output = await transcribe.acall(audio=audio, task="translate")
        assert "translated 1.00 s of english speech" in output.content, audio
    with pytest.raises(InvalidInputError, match="must be one of 'transcribe', 'translate'"):
        await transcribe.acall(audio="a.wav", task="sing")
    with pytest.raises(MediaError, match="outside the allowed input folder"):
        await transcribe.acall(audio="/etc/hostname")
    # Sync call (runs in hfspaces' background loop).
    assert "transcribed" in transcribe.call(audio="a.wav").content
    await spec.aclose()


class ScriptedCalls:
    """Scripted tool-calling model: each reply is the next tool call, then a final text."""

    def __init__(self, calls: Sequence[tuple[str, dict[str, Any]]], final: str) -> None:
        self.replies = [
            ChatMessage(
                role=MessageRole.ASSISTANT,
                blocks=[ToolCallBlock(tool_call_id=f"c{i}", tool_name=name, tool_kwargs=args)],
            )
            for i, (name, args) in enumerate(calls)
        ] + [ChatMessage(role=MessageRole.ASSISTANT, content=final)]

    def __call__(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatMessage:
        return self.replies.pop(0)


async def test_function_agent_uses_speech_and_image_tools(
    image_app_url: str,  # noqa: F811
    stt_app_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    (tmp_path / "request.wav").write_bytes(WAV)
    tools = [
        *await HFSpacesToolSpec.from_space(
            stt_app_url, ["transcribe"], input_dir=tmp_path
        ).to_tool_list_async(),
        *await HFSpacesToolSpec.from_space(image_app_url).to_tool_list_async(),
    ]
    script = ScriptedCalls(
        [("transcribe", {"audio": "request.wav"}), ("infer", {"prompt": "hello world"})],
        "Done: transcribed and drew it.",
    )
    llm = MockFunctionCallingLLM(response_generator=script, is_chat_model=True)
    agent = FunctionAgent(tools=tools, llm=llm)
    handler = agent.run("Draw what I say in request.wav")
    results = [ev async for ev in handler.stream_events() if isinstance(ev, ToolCallResult)]
    answer = await handler
    transcript, image = (r.tool_output for r in results)
    assert not transcript.is_error and not image.is_error
    assert "hello world (transcribed 1.00 s of english speech)" in transcript.content
    assert any(isinstance(b, ImageBlock) for b in image.blocks)
    assert "Done: transcribed and drew it." in str(answer)


async def test_function_agent_on_the_replica_spaces(replica: Any) -> None:
    """The same round trip on chat13's replica STT and FLUX Spaces (by Space id)."""
    from hfspaces.replica.config import FLUX_SPACE, STT_SPACE

    tools = [
        *await HFSpacesToolSpec.from_space(STT_SPACE).to_tool_list_async(),
        *await HFSpacesToolSpec.from_space(FLUX_SPACE).to_tool_list_async(),
    ]
    audio = "data:audio/wav;base64," + base64.b64encode(WAV).decode()
    script = ScriptedCalls(
        [("transcribe", {"inputs": audio}), ("infer", {"prompt": "a harbour at dawn"})],
        "Here you go.",
    )
    agent = FunctionAgent(
        tools=tools, llm=MockFunctionCallingLLM(response_generator=script, is_chat_model=True)
    )
    handler = agent.run("Transcribe this, then draw a harbour")
    results = [ev async for ev in handler.stream_events() if isinstance(ev, ToolCallResult)]
    await handler
    transcript, image = (r.tool_output for r in results)
    assert not transcript.is_error and "Transcript:" in transcript.content
    assert not image.is_error and any(isinstance(b, ImageBlock) for b in image.blocks)
