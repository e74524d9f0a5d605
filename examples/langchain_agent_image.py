"""A LangChain agent draws with Janus-Pro through HFSpacesImageTool.

    python examples/langchain_agent_image.py

The agent's model must call tools, which the Spaces' models cannot; so that this runs
anywhere, a scripted tool-calling model stands in. With a real one, pass it instead:
`create_agent(ChatOpenAI(model="gpt-4o-mini"), tools=[tool])`.

Uses the Spaces named in `HFSPACES_ENDPOINTS` when set; otherwise it starts the embedded
replica (real Gradio apps on loopback) and points the tool at it.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _replica import settings  # also puts the sources on sys.path in a plain checkout
from langchain.agents import create_agent
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from langchain_hfspaces import HFSpacesImageTool


class ScriptedToolModel(GenericFakeChatModel):
    """Stands in for a tool-calling chat model: replies with scripted messages."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedToolModel:
        return self


def script() -> ScriptedToolModel:
    draw = {"prompt": "a watercolour fox in the snow", "seed": 2024, "num_images": 2}
    return ScriptedToolModel(
        messages=iter(
            [
                AIMessage("", tool_calls=[{"name": "generate_image", "args": draw, "id": "c1"}]),
                AIMessage("I drew two watercolour foxes for you."),
            ]
        )
    )


async def main(options: dict[str, Any]) -> None:
    out = Path(tempfile.mkdtemp(prefix="hfspaces-agent-"))
    tool = HFSpacesImageTool(output_dir=out, **options)
    agent = create_agent(script(), tools=[tool], system_prompt="You illustrate stories.")
    print("User: Draw me a fox in the snow, in watercolour.")
    result = await agent.ainvoke({"messages": [HumanMessage("Draw me a fox in the snow.")]})
    for message in result["messages"][1:]:
        if isinstance(message, AIMessage) and message.tool_calls:
            call = message.tool_calls[0]
            print(f"Agent calls {call['name']}({call['args']})")
        elif isinstance(message, ToolMessage):
            print(f"Tool ({message.status}): {message.content}")
            artifact = message.artifact or {}
            for image in artifact.get("images", []):
                print(
                    f"  artifact: {image['mime_type']}, {len(image['data'])} bytes, {image['path']}"
                )
            print(f"  seed {artifact.get('seed')}, space {artifact.get('space')}")
        elif isinstance(message, AIMessage):
            print(f"Agent: {message.text}")
    await tool.aclose()


if __name__ == "__main__":
    with settings() as found:
        asyncio.run(main(found))
    print("done")
