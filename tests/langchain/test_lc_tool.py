"""`HFSpacesImageTool` against the replica: content and artifact, saved files, sync use
inside a running loop, and Space failures turned into messages an agent can act on."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from PIL import Image
from pydantic import ValidationError

from langchain_hfspaces import HFSpacesImageTool


@pytest.fixture
async def image_tool(rep: Any) -> AsyncIterator[HFSpacesImageTool]:
    # A refused join fails at once; a full queue is waited through for 1 s at most.
    tool = HFSpacesImageTool(max_retries=0, max_queue_wait=1.0)
    yield tool
    await tool.aclose()


def call(args: dict[str, Any], call_id: str = "call-1") -> dict[str, Any]:
    return {"type": "tool_call", "id": call_id, "name": "generate_image", "args": args}


async def test_content_and_artifact(image_tool: HFSpacesImageTool) -> None:
    message = await image_tool.ainvoke(call({"prompt": "a red fox", "seed": 11, "num_images": 2}))
    assert isinstance(message, ToolMessage) and message.status == "success"
    assert "Generated 2 images" in message.content and "seed 11" in message.content
    artifact = message.artifact
    assert artifact["seed"] == 11 and artifact["space"] == "deepseek-ai/Janus-Pro-7B"
    assert artifact["prompt"] == "a red fox" and artifact["model"] == "janus-pro-7b-image"
    assert len(artifact["images"]) == 2
    for image in artifact["images"]:
        picture = Image.open(io.BytesIO(image["data"]))
        assert image["mime_type"] == f"image/{picture.format.lower()}"  # type: ignore[union-attr]
        assert image["path"] is None and image["url"].startswith("http://127.0.0.1")


async def test_saves_files_under_safe_names(rep: Any, tmp_path: Path) -> None:
    tool = HFSpacesImageTool(output_dir=tmp_path / "out")
    message = await tool.ainvoke(call({"prompt": "../../etc/passwd a cat", "seed": 3}))
    (image,) = message.artifact["images"]
    path = Path(image["path"])
    assert path.parent == tmp_path / "out"  # the prompt cannot steer where files go
    assert "/" not in path.name and await asyncio.to_thread(path.read_bytes) == image["data"]
    assert str(path) in message.content  # the agent is told where the file is
    await tool.aclose()


async def test_sync_run_inside_a_running_loop(rep: Any) -> None:
    tool = HFSpacesImageTool()
    content = tool.invoke({"prompt": "a small boat", "seed": 5})
    assert content.startswith("Generated 1 image")


def test_arguments_are_validated_by_the_schema() -> None:
    tool = HFSpacesImageTool()
    for bad in ({"prompt": "x", "num_images": 9}, {"prompt": ""}, {"prompt": "x", "seed": -1}):
        with pytest.raises(ValidationError):
            tool.invoke(bad)
    schema = tool.tool_call_schema.model_json_schema()  # type: ignore[union-attr]
    assert set(schema["properties"]) == {"prompt", "seed", "guidance", "temperature", "num_images"}
    assert schema["required"] == ["prompt"]


async def test_quota_error_says_when_to_retry(image_tool: HFSpacesImageTool, rep: Any) -> None:
    rep.configure(quota_error=True)
    message = await image_tool.ainvoke(call({"prompt": "a fox"}))
    assert message.status == "error"
    assert "quota" in message.content and "try again in 10 minutes" in message.content


async def test_busy_space_says_try_again(image_tool: HFSpacesImageTool, rep: Any) -> None:
    rep.configure(join_status=503, retry_after=0)  # the queue is full, and stays full
    image_tool.max_queue_wait = 0.5  # waited through, up to this bound
    message = await image_tool.ainvoke(call({"prompt": "a fox"}))
    assert message.status == "error" and "busy" in message.content


async def test_app_error_is_reported_not_raised(image_tool: HFSpacesImageTool, rep: Any) -> None:
    rep.configure(app_error=True, app_error_message="CUDA out of memory")
    message = await image_tool.ainvoke(call({"prompt": "a fox"}))
    assert message.status == "error" and "CUDA out of memory" in message.content
