"""A LlamaIndex ReAct agent with the Space image tools: it draws a picture with Janus-Pro-7B
(`generate_image`), then asks Janus about the saved file (`describe_image`).

    python examples/llamaindex_agent_image.py [--out DIR] [--llm scripted|phi-4-multimodal]

The agent's reasoning comes from `--llm`: "scripted" (default) is a stand-in that follows a
fixed plan, so the example runs anywhere, the embedded replica included; pass
"phi-4-multimodal" to let the real Phi-4 Space reason (it has no tool calling, so LlamaIndex
drives it with ReAct prompts). The tools always call the Spaces.

Uses `HFSPACES_ENDPOINTS` when set (e.g. the real Spaces), else starts the embedded replica.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _replica import endpoints
from llama_index.core.agent.workflow import ReActAgent, ToolCall, ToolCallResult
from llama_index.core.base.llms.types import (
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.llms import LLM, CustomLLM
from llama_index.core.llms.callbacks import llm_completion_callback

from llama_index_hfspaces import HFSpacesLLM, HFSpacesToolSpec

TASK = "Draw a lighthouse at dusk, then tell me what colours the picture has."


class ScriptedPlanner(CustomLLM):
    """A stand-in for a reasoning model: draw, then describe the saved file, then answer
    with what the tools reported. It reads the observations the agent feeds back."""

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="scripted-planner")

    def _next_step(self, prompt: str) -> str:
        # Only the conversation: the ReAct instructions above it contain example steps.
        observations = re.findall(r"Observation: (.*)", prompt.split("## Current Conversation")[-1])
        if not observations:
            return _action(
                "I should draw the picture first.",
                "generate_image",
                {"prompt": "a lighthouse at dusk", "seed": 1234},
            )
        saved = re.search(r"saved to (\S+?\.\w+)\b", observations[0])
        if len(observations) == 1 and saved:
            return _action(
                "Now I look at the saved picture.",
                "describe_image",
                {"path": saved.group(1), "question": "Which colours dominate?"},
            )
        return "Thought: I can answer without using any more tools.\nAnswer: " + " | ".join(
            observations
        )

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self._next_step(prompt))

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        text = self._next_step(prompt)
        yield CompletionResponse(text=text, delta=text)


def _action(thought: str, tool: str, arguments: dict[str, Any]) -> str:
    return f"Thought: {thought}\nAction: {tool}\nAction Input: {json.dumps(arguments)}"


async def run(llm: LLM, out: Path) -> None:
    tools = HFSpacesToolSpec(output_dir=out)
    agent = ReActAgent(tools=tools.to_tool_list(), llm=llm)
    print(f"Task: {TASK}\n(agent reasoning: {llm.metadata.model_name}; images go to {out})")
    handler = agent.run(user_msg=TASK)
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            images = sum(block.block_type == "image" for block in event.tool_output.blocks)
            print(f"  <- {event.tool_output.content}" + (f" [+{images} image]" if images else ""))
        elif isinstance(event, ToolCall):
            print(f"  -> {event.tool_name}({json.dumps(event.tool_kwargs)})")
    result = await handler
    print(f"Answer: {result.response.content}")
    await tools.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="where to save the images")
    parser.add_argument("--llm", default="scripted", choices=["scripted", "phi-4-multimodal"])
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="hfspaces-agent-"))

    with endpoints():
        llm: LLM = ScriptedPlanner() if args.llm == "scripted" else HFSpacesLLM(model=args.llm)
        asyncio.run(run(llm, out))


if __name__ == "__main__":
    main()
