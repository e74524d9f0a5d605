"""Any Space endpoint as a LlamaIndex `FunctionTool`: `SpaceToolSpec` (what
`HFSpacesToolSpec.from_space` returns).

Each tool's `fn_schema` is the endpoint's own schema (types, descriptions, defaults, enums,
bounds). A call returns content blocks: a `TextBlock` saying what came back (and where
files were saved), an `ImageBlock` / `AudioBlock` per returned image / audio. Queue and
progress news is dispatched as `HFSpacesJobEvent` instrumentation events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hfspaces.space_tool import (
    SpaceConnection,
    SpaceTool,
    StatusEvent,
    ToolResult,
    split_options,
)
from hfspaces.sync import run_sync
from hfspaces.tool_args import args_model
from llama_index.core.base.llms.types import AudioBlock, ImageBlock, TextBlock
from llama_index.core.tools import FunctionTool
from llama_index.core.tools.tool_spec.base import BaseToolSpec

from .events import announce


class SpaceToolSpec(BaseToolSpec):
    """The endpoints of one Space as tools. Nothing is read from the Space until
    `to_tool_list()` / `to_tool_list_async()`, which read its API once.

    `api_names`: the endpoints to offer (default: every named, public, queued one).
    Options: `hf_token`, `hub_url`, `timeout`, `max_retries`, `max_quota_wait`,
    `output_dir` (save returned files there, never overwriting), `input_dir` (the only
    folder local file arguments may come from)."""

    spec_functions: list[Any] = []  # noqa: RUF012 - the tools come from the Space

    def __init__(
        self, target: str | Sequence[str], api_names: Sequence[str] | None = None, **options: Any
    ) -> None:
        connect, self.tool_options = split_options(options)
        self.connection = SpaceConnection(target, **connect)
        self.api_names = list(api_names) if api_names is not None else None

    def __repr__(self) -> str:
        return f"SpaceToolSpec({self.connection.target!r}, api_names={self.api_names!r})"

    def to_tool_list(self, *args: Any, **kwargs: Any) -> list[FunctionTool]:  # type: ignore[override]
        return run_sync(self.to_tool_list_async())

    async def to_tool_list_async(self, *args: Any, **kwargs: Any) -> list[FunctionTool]:  # type: ignore[override]
        tools = await self.connection.tools(self.api_names, **self.tool_options)
        return [function_tool(t) for t in tools]

    async def aclose(self) -> None:
        """Close the HTTP session the tools opened in the running event loop."""
        await self.connection.aclose()


def function_tool(tool: SpaceTool) -> FunctionTool:
    """A `FunctionTool` (sync and async) over a neutral `SpaceTool`."""
    space = tool.connection.target

    def on_event(event: StatusEvent) -> None:
        announce(event, model=tool.name, space=space, span_id=None)

    async def acall(**kwargs: Any) -> list[Any]:
        return result_blocks(await tool.call(kwargs, on_event))

    def call(**kwargs: Any) -> list[Any]:
        return run_sync(acall(**kwargs))

    return FunctionTool.from_defaults(
        fn=call,
        async_fn=acall,
        name=tool.name,
        description=tool.description,
        fn_schema=args_model(tool),
    )


def result_blocks(result: ToolResult) -> list[Any]:
    """The text, then an `ImageBlock` / `AudioBlock` per returned image / audio file."""
    blocks: list[Any] = [TextBlock(text=result.text)]
    for f in result.files:
        if f.data is None:
            continue
        if f.kind == "image":
            blocks.append(ImageBlock(image=f.data, image_mimetype=f.mime_type))
        elif f.kind == "audio":
            audio_format = (f.mime_type or "audio/wav").split("/")[-1]
            blocks.append(AudioBlock(audio=f.data, format=audio_format))
    return blocks
