"""HFSpacesToolSpec against the replica, on its own and driven by a ReAct agent."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hfspaces import GPUQuotaExceededError, InvalidInputError, MediaError
from hfspaces.media import sniff_mime
from llama_index.core.agent.workflow import ReActAgent, ToolCallResult
from llama_index.core.base.llms.types import (
    CompletionResponse,
    CompletionResponseGen,
    ImageBlock,
    LLMMetadata,
    TextBlock,
)
from llama_index.core.llms import CustomLLM
from llama_index.core.llms.callbacks import llm_completion_callback
from llamaindex_helpers import data_url, requests_made

from llama_index_hfspaces import HFSpacesToolSpec

# -- the tool list LlamaIndex builds ----------------------------------------------------------


def test_tool_list_has_sync_and_async_functions_and_a_documented_schema() -> None:
    tools = {t.metadata.name: t for t in HFSpacesToolSpec().to_tool_list()}
    assert set(tools) == {"generate_image", "describe_image"}
    for tool in tools.values():
        assert tool.fn is not None and tool.async_fn is not None
    schema = tools["generate_image"].metadata.get_parameters_dict()
    assert schema["required"] == ["prompt"]
    assert schema["properties"]["seed"]["description"].startswith("Random seed")
    described = tools["describe_image"].metadata.get_parameters_dict()["properties"]
    assert set(described) == {"image", "question", "path"}
    assert "data: URL" in described["image"]["description"]


# -- generate_image ---------------------------------------------------------------------------


def test_generate_image_saves_and_returns_text_then_image(
    spec: HFSpacesToolSpec, tmp_path: Path
) -> None:
    blocks = spec.generate_image("a red fox / in the snow", seed=7)
    assert [type(b) for b in blocks] == [TextBlock, ImageBlock]
    text = blocks[0].text
    saved = Path(re.search(r"saved to (\S+\.\w+)", text).group(1))  # type: ignore[union-attr]
    assert saved.parent == tmp_path / "images"  # the prompt's "/" never makes a directory
    assert saved.name == "a-red-fox-in-the-snow-seed7-1.webp"
    assert "seed 7" in text and "deepseek-ai/Janus-Pro-7B" in text
    image_bytes = blocks[1].resolve_image().read()
    assert saved.read_bytes() == image_bytes
    assert sniff_mime(image_bytes[:32]) == blocks[1].image_mimetype


async def test_agenerate_image_several_without_output_dir(fresh_replica: Any) -> None:
    tools = HFSpacesToolSpec()
    blocks = await tools.agenerate_image("three birds", seed=1, num_images=3)
    await tools.aclose()
    assert [b.block_type for b in blocks] == ["text", "image", "image", "image"]
    assert "Generated 3 images" in blocks[0].text and "not saved" in blocks[0].text


def test_generate_image_bad_arguments_fail_before_any_request(
    spec: HFSpacesToolSpec, fresh_replica: Any
) -> None:
    before = requests_made(fresh_replica)
    with pytest.raises(InvalidInputError, match="num_images"):
        spec.generate_image("x", num_images=9)
    assert requests_made(fresh_replica) == before


async def test_space_errors_reach_the_caller(spec: HFSpacesToolSpec, fresh_replica: Any) -> None:
    fresh_replica.configure(quota_error=True)
    with pytest.raises(GPUQuotaExceededError):
        await spec.agenerate_image("a cat")


# -- describe_image -----------------------------------------------------------------------------


def test_describe_image_from_a_data_url(spec: HFSpacesToolSpec, png_bytes: bytes) -> None:
    blocks = spec.describe_image(data_url(png_bytes, "image/png"), "Which colour?")
    assert len(blocks) == 1
    assert "32×24 image, mostly red and white. You asked: Which colour?" in blocks[0].text
    assert "data:image/png;base64,…" in blocks[0].text  # not the whole payload again


async def test_adescribe_image_from_an_explicit_path(
    spec: HFSpacesToolSpec, png_bytes: bytes, tmp_path: Path
) -> None:
    file = tmp_path / "red.png"
    file.write_bytes(png_bytes)
    blocks = await spec.adescribe_image(path=str(file), question="Which colour?")
    assert "mostly red and white" in blocks[0].text and str(file) in blocks[0].text


def test_a_string_is_never_read_as_a_local_path(
    spec: HFSpacesToolSpec, fresh_replica: Any, png_bytes: bytes, tmp_path: Path
) -> None:
    file = tmp_path / "red.png"
    file.write_bytes(png_bytes)
    before = requests_made(fresh_replica)
    # The message speaks in the tool's own arguments (an agent cannot pass a pathlib.Path).
    with pytest.raises(MediaError, match=r"as path=") as refused:
        spec.describe_image(str(file))
    assert "pathlib" not in str(refused.value)
    with pytest.raises(InvalidInputError, match="exactly one"):
        spec.describe_image()
    with pytest.raises(InvalidInputError, match="exactly one"):
        spec.describe_image(data_url(png_bytes, "image/png"), path=str(file))
    assert requests_made(fresh_replica) == before


def test_paths_are_checked_before_any_request(
    fresh_replica: Any, png_bytes: bytes, tmp_path: Path
) -> None:
    inside, outside = tmp_path / "in", tmp_path / "out"
    inside.mkdir()
    outside.mkdir()
    (outside / "red.png").write_bytes(png_bytes)
    (inside / "notes.png").write_text("not an image, whatever the name says")
    spec = HFSpacesToolSpec(input_dir=inside)
    before = requests_made(fresh_replica)
    with pytest.raises(MediaError, match="outside the allowed input directory"):
        spec.describe_image(path=str(outside / "red.png"))
    with pytest.raises(MediaError, match="could not recognise the media as image"):
        spec.describe_image(path=str(inside / "notes.png"))
    assert requests_made(fresh_replica) == before


# -- an agent run ------------------------------------------------------------------------------


class ScriptedReActLLM(CustomLLM):
    """Stands in for the agent's model (no real model decides here): first asks for
    `generate_image`, then answers with the tool's observation it was shown."""

    prompts: list[str] = []  # noqa: RUF012 - a pydantic field (copied per instance)

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(is_chat_model=False, model_name="scripted-react")

    def _reply(self, prompt: str) -> str:
        self.prompts.append(prompt)
        # Only the conversation: the ReAct instructions above it show an example observation.
        conversation = prompt.split("## Current Conversation")[-1]
        observations = re.findall(r"Observation: (.*)", conversation)
        if not observations:
            action = {"prompt": "a red fox in the snow", "seed": 7}
            return (
                "Thought: I need to draw the picture with a tool.\n"
                f"Action: generate_image\nAction Input: {json.dumps(action)}"
            )
        return f"Thought: I can answer without using any more tools.\nAnswer: {observations[-1]}"

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self._reply(prompt))

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        text = self._reply(prompt)

        def chunks() -> CompletionResponseGen:
            for end in range(0, len(text), 16):
                yield CompletionResponse(text=text[: end + 16], delta=text[end : end + 16])

        return chunks()


# llama-index-core's workflow internals inspect pydantic models and trip deprecation warnings.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_react_agent_calls_the_tool_spec_and_reads_its_result(
    spec: HFSpacesToolSpec, fresh_replica: Any, tmp_path: Path
) -> None:
    llm = ScriptedReActLLM()
    agent = ReActAgent(tools=spec.to_tool_list(), llm=llm)
    handler = agent.run(user_msg="Please draw a red fox in the snow.")
    results = [ev async for ev in handler.stream_events() if isinstance(ev, ToolCallResult)]
    output = await handler

    assert [r.tool_name for r in results] == ["generate_image"]
    result = results[0]
    assert result.tool_kwargs == {"prompt": "a red fox in the snow", "seed": 7}
    assert not result.tool_output.is_error
    # The image block is in the tool output (for agents that pass images on) ...
    assert [b.block_type for b in result.tool_output.blocks] == ["text", "image"]
    # ... while the ReAct model was shown the text, and answered from it.
    saved = tmp_path / "images" / "a-red-fox-in-the-snow-seed7-1.webp"
    assert saved.is_file()
    assert (
        "Observation: Generated 1 image of 'a red fox in the snow' with seed 7" in llm.prompts[-1]
    )
    answer = str(output.response.content)
    assert str(saved) in answer and "seed 7" in answer
    assert fresh_replica.stats()["joins"]["deepseek-ai/Janus-Pro-7B"] == {"3": 1}
