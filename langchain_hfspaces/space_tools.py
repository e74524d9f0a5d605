"""Any Space endpoint as a LangChain tool: `HFSpacesTool.from_space` and `HFSpacesToolkit`.

The argument schema is the endpoint's own (types, descriptions, defaults, enums, bounds,
read from the Space's `/config` and `/info`). A call returns `(content, artifact)`: the
content is a text block saying what came back (and where files were saved) plus standard
image/audio blocks a multimodal model can read; the artifact is `ToolResult.artifact()`
(raw outputs, file bytes and paths, timing). Queue and progress news arrives as the same
custom events as `ChatHFSpaces` (`hfspaces_queue`, `hfspaces_progress`, ...).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, Literal

from hfspaces import InvalidInputError, SpaceError
from hfspaces.schema import identifier
from hfspaces.space_tool import (
    SpaceConnection,
    SpaceTool,
    StatusEvent,
    ToolResult,
    agent_message,
    split_options,
)
from hfspaces.sync import run_sync
from hfspaces.tool_args import args_model
from langchain_core.callbacks import (
    AsyncCallbackManager,
    AsyncCallbackManagerForToolRun,
    CallbackManager,
    CallbackManagerForToolRun,
)
from langchain_core.tools import BaseTool, BaseToolkit, ToolException
from pydantic import ConfigDict, Field, ValidationError

from ._events import custom_event, run_event_sink


class HFSpacesTool(BaseTool):
    """One endpoint of a Space as a tool (sync and native async).

    Build it with `HFSpacesTool.from_space("owner/name", "/infer")` (or `afrom_space`):
    that reads the Space's API once. Options: `hf_token`, `hub_url`, `timeout`,
    `max_retries`, `max_quota_wait` (how to call the Space), `output_dir` (save returned
    files there, never overwriting), `input_dir` (the only folder local file arguments may
    come from; without it only URLs, data URLs and base64 are taken).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    space_tool: SpaceTool = Field(exclude=True)
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: bool = True
    handle_validation_error: Any = Field(default_factory=lambda: validation_message)

    @classmethod
    def from_space(
        cls,
        target: str | Sequence[str],
        api_name: str | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        **options: Any,
    ) -> HFSpacesTool:
        """The tool for `api_name` (default: the Space's first offered endpoint). `target`
        is a Space id or URL, or several copies of one Space (a list or `a|b`): a pool."""
        return run_sync(
            cls.afrom_space(target, api_name, name=name, description=description, **options)
        )

    @classmethod
    async def afrom_space(
        cls,
        target: str | Sequence[str],
        api_name: str | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        **options: Any,
    ) -> HFSpacesTool:
        connect, tool_options = split_options(options)
        connection = SpaceConnection(target, **connect)
        names = [api_name] if api_name is not None else None
        tools = await connection.tools(names, name=name, description=description, **tool_options)
        return cls.of(tools[0])

    @classmethod
    def of(cls, tool: SpaceTool) -> HFSpacesTool:
        """Wrap a neutral `SpaceTool`."""
        return cls(
            name=tool.name,
            description=tool.description,
            args_schema=args_model(tool),
            space_tool=tool,
        )

    def _run(
        self, run_manager: CallbackManagerForToolRun | None = None, **kwargs: Any
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        sink = run_event_sink(CallbackManager, run_manager) if run_manager else None

        def on_event(event: StatusEvent) -> None:
            out = custom_event(event, model=self.name, space=self.space_tool.connection.target)
            if sink is not None and out is not None:
                sink[0].on_custom_event(*out, run_id=sink[1])

        return run_sync(self._call(kwargs, on_event))

    async def _arun(
        self, run_manager: AsyncCallbackManagerForToolRun | None = None, **kwargs: Any
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        sink = run_event_sink(AsyncCallbackManager, run_manager) if run_manager else None

        async def on_event(event: StatusEvent) -> None:
            out = custom_event(event, model=self.name, space=self.space_tool.connection.target)
            if sink is not None and out is not None:
                await sink[0].on_custom_event(*out, run_id=sink[1])

        return await self._call(kwargs, on_event)

    async def _call(
        self, arguments: dict[str, Any], on_event: Any
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        what = f"The Space tool {self.name}"
        try:
            result = await self.space_tool.call(arguments, on_event)
        except (SpaceError, InvalidInputError) as exc:
            raise ToolException(agent_message(exc, what)) from exc
        return content_blocks(result), result.artifact()

    async def aclose(self) -> None:
        """Close the HTTP session this tool opened in the running event loop."""
        await self.space_tool.connection.aclose()


def content_blocks(result: ToolResult) -> list[dict[str, Any]]:
    """The text, then a standard block per returned image (`image`) or audio file
    (`file` with an audio MIME type: langchain-core keeps only text, image, file, json...
    blocks in a tool message, not `audio`)."""
    blocks: list[dict[str, Any]] = [{"type": "text", "text": result.text}]
    for f in result.files:
        if f.kind in ("image", "audio") and f.data is not None:
            fallback = "image/png" if f.kind == "image" else "audio/wav"
            blocks.append(
                {
                    "type": "image" if f.kind == "image" else "file",
                    "base64": base64.b64encode(f.data).decode("ascii"),
                    "mime_type": f.mime_type or fallback,
                }
            )
    return blocks


class HFSpacesToolkit(BaseToolkit):
    """One tool per offered endpoint (named, public, queued) of each Space in `targets`.

    `HFSpacesToolkit(targets=["owner/flux", "http://127.0.0.1:7860"]).get_tools()` reads
    each Space's API once (`aget_tools()` in async code). Tool names get the Space's name
    as a prefix when two Spaces have endpoints of the same name. Options as for
    `HFSpacesTool.from_space`, shared by all tools.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    targets: list[str]
    options: dict[str, Any] = Field(default_factory=dict)

    def __init__(self, targets: Sequence[str], **options: Any) -> None:
        split_options(options)  # unknown options fail here, not at get_tools()
        super().__init__(targets=list(targets), options=options)

    def get_tools(self) -> list[BaseTool]:
        return run_sync(self.aget_tools())

    async def aget_tools(self) -> list[BaseTool]:
        connect, tool_options = split_options(self.options)
        per_space = [
            await SpaceConnection(t, **connect).tools(**tool_options) for t in self.targets
        ]
        names = [t.name for tools in per_space for t in tools]
        out: list[BaseTool] = []
        for tools in per_space:
            for tool in tools:
                if names.count(tool.name) > 1:
                    prefix = identifier(tool.connection.target.rsplit("/", 1)[-1])
                    tool = SpaceTool(
                        tool.connection,
                        tool.schema,
                        name=f"{prefix}_{tool.name}",
                        description=tool.description,
                        output_dir=tool.output_dir,
                        input_dir=tool.input_dir,
                    )
                out.append(HFSpacesTool.of(tool))
        return out


def validation_message(exc: Exception) -> str:
    """What the agent's model reads when its arguments do not fit the schema."""
    problems = exc.errors() if isinstance(exc, ValidationError) else []
    said = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in problems)
    return f"Invalid arguments: {said or exc}. Fix the arguments and call again."
