"""The demo's "unknown Space" step: an agent gets tools from two Spaces it was never told
about (`HFSpacesToolkit`: one tool per endpoint, typed from each Space's own API) and uses
them — text to speech, then speech to text of what it said.

No language model runs offline, so the agent's model is `SchemaPlanner`: it knows nothing
of these Spaces and plans from what an LLM would read — the tools' names, descriptions and
JSON schemas: the tool whose parameter is an audio file listens, a tool that speaks (says
"audio") and takes a required text speaks.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .demo import DemoContext, StepSkipped

QUOTED = re.compile(r"[\"'“](.+?)[\"'”]")


def text_of(message: Any) -> str:
    """The text blocks of a message (a tool's answer also carries audio blocks)."""
    content = message.content
    if isinstance(content, str) and content.startswith('[{"type"'):
        # Some agent runtimes hand a block list on as its JSON text.
        with contextlib.suppress(ValueError):
            content = json.loads(content)
    if isinstance(content, str):
        return content
    return "\n".join(b["text"] for b in content if isinstance(b, dict) and b.get("type") == "text")


def _planner_class() -> Any:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
    from langchain_core.outputs import ChatGeneration, ChatResult
    from langchain_core.utils.function_calling import convert_to_openai_tool
    from pydantic import Field

    class SchemaPlanner(BaseChatModel):
        """An agent's model that plans only from the bound tools' schemas."""

        tools: list[dict[str, Any]] = Field(default_factory=list)

        @property
        def _llm_type(self) -> str:
            return "hfspaces-demo-schema-planner"

        def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
            specs = [convert_to_openai_tool(t)["function"] for t in tools]
            return self.model_copy(update={"tools": specs})

        def _generate(
            self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
            **kwargs: Any,
        ) -> ChatResult:  # fmt: skip
            results = [m for m in messages if isinstance(m, ToolMessage)]
            request = next(text_of(m) for m in messages if isinstance(m, HumanMessage))
            reply = self._next(request, results)
            return ChatResult(generations=[ChatGeneration(message=reply)])

        def _next(self, request: str, results: list[Any]) -> Any:
            listener, listen_arg = self._find(audio_file=True)
            speaker, say_arg = self._find(audio_file=False)
            if not results:
                phrase = QUOTED.search(request)
                args = {say_arg: phrase.group(1) if phrase else request}
                return AIMessage("", tool_calls=[{"name": speaker, "args": args, "id": "say"}])
            if len(results) == 1:
                files = (results[0].artifact or {}).get("files") or []
                audio = next((f["path"] for f in files if f.get("kind") == "audio"), None)
                if audio is None:
                    said = text_of(results[0])
                    return AIMessage(f"The speaking tool returned no audio: {said}")
                call = {"name": listener, "args": {listen_arg: audio}, "id": "listen"}
                return AIMessage("", tool_calls=[call])
            heard = text_of(results[-1]).split("returned:", 1)[-1].strip()
            return AIMessage(f"I said it and listened back. {heard}")

        def _find(self, *, audio_file: bool) -> tuple[str, str]:
            """(tool, argument): the tool with a required audio-file argument, or a tool
            about audio with a required plain-text argument."""
            for spec in self.tools:
                props = spec["parameters"].get("properties", {})
                for name in spec["parameters"].get("required", []):
                    about = str(props.get(name, {}).get("description", "")).lower()
                    is_file = "file (audio)" in about
                    says_audio = "audio" in str(spec.get("description", "")).lower()
                    plain_text = props.get(name, {}).get("type") == "string" and "file" not in about
                    if (audio_file and is_file) or (not audio_file and says_audio and plain_text):
                        return spec["name"], name
            raise LookupError(f"no tool {'listens to' if audio_file else 'speaks'} audio")

    return SchemaPlanner


def step_unknown_space_agent(ctx: DemoContext) -> None:
    """create_agent(SchemaPlanner, HFSpacesToolkit([TTS Space, STT Space]).get_tools())."""
    try:
        from langchain.agents import create_agent
        from langchain_core.messages import HumanMessage, ToolMessage

        from langchain_hfspaces.space_tools import HFSpacesToolkit
    except ImportError as exc:
        raise StepSkipped(f"LangChain agents / HFSpacesToolkit not available ({exc})") from exc
    from ..replica.config import STT_SPACE, TTS_SPACE  # served by the demo's replica

    folder = Path(ctx.out).resolve() / "speech"  # the clip it says, then hears
    toolkit = HFSpacesToolkit([TTS_SPACE, STT_SPACE], output_dir=folder, input_dir=folder)
    tools = toolkit.get_tools()
    for tool in tools:
        ctx.track(tool)
    ctx.say(f"toolkit: HFSpacesToolkit([{TTS_SPACE!r}, {STT_SPACE!r}])")
    for tool in tools:
        ctx.say(f"  tool {tool.name}: {tool.description.split(' [Space:')[0]}")
    agent = create_agent(_planner_class()(), tools=tools)
    request = "Say 'hello from a space you never saw' and tell me what you hear."
    ctx.say(f"user: {request}")
    with ctx.display():
        result = agent.invoke({"messages": [HumanMessage(request)]})
    for message in result["messages"]:
        if isinstance(message, ToolMessage):
            ctx.say(f"  {message.name} → {text_of(message).splitlines()[-1]}")
    ctx.say(f"agent: {text_of(result['messages'][-1])}", style="bold")
