"""A LangChain agent (`create_agent`) calls `HFSpacesImageTool` against the replica.

The agent's model is scripted (a fake tool-calling chat model): ChatHFSpaces has no tool
calling, and the point here is the tool's round trip through a real agent graph."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain.agents import create_agent
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from langchain_hfspaces import HFSpacesImageTool


class ScriptedToolModel(GenericFakeChatModel):
    """Answers with the scripted messages in order; tool binding is accepted as is."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedToolModel:
        return self


def scripted(*args: dict[str, Any]) -> ScriptedToolModel:
    calls = [
        AIMessage("", tool_calls=[{"name": "generate_image", "args": a, "id": f"call-{i}"}])
        for i, a in enumerate(args)
    ]
    return ScriptedToolModel(messages=iter([*calls, AIMessage("Here is your picture.")]))


async def test_agent_gets_the_image_back(rep: Any, tmp_path: Path) -> None:
    tool = HFSpacesImageTool(output_dir=tmp_path)
    agent = create_agent(scripted({"prompt": "a red fox in snow", "seed": 21}), tools=[tool])
    result = await agent.ainvoke({"messages": [HumanMessage("Draw a red fox in snow")]})
    messages = result["messages"]
    (tool_message,) = [m for m in messages if isinstance(m, ToolMessage)]
    assert tool_message.status == "success" and tool_message.name == "generate_image"
    (image,) = tool_message.artifact["images"]
    assert (
        image["data"] and await asyncio.to_thread(Path(image["path"]).read_bytes) == image["data"]
    )
    assert tool_message.artifact["seed"] == 21
    assert image["path"] in tool_message.content  # what the agent's model reads
    assert messages[-1].content == "Here is your picture."
    await tool.aclose()


async def test_agent_sees_a_quota_error_and_carries_on(rep: Any) -> None:
    rep.configure(quota_error=True)
    tool = HFSpacesImageTool()
    agent = create_agent(scripted({"prompt": "a fox"}), tools=[tool])
    result = await agent.ainvoke({"messages": [HumanMessage("Draw a fox")]})
    await tool.aclose()
    (tool_message,) = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert tool_message.status == "error" and "try again in" in tool_message.content
    assert result["messages"][-1].content == "Here is your picture."
