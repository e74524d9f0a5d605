"""An endpoint's parameters as a pydantic model: the argument schema both frameworks' tools
declare (LangChain `args_schema`, LlamaIndex `fn_schema`). Needs pydantic, which either
framework installs; the core does not import this module."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from .space_tool import SpaceTool

_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list[Any],
    "object": dict[str, Any],
}


def args_model(tool: SpaceTool) -> type[BaseModel]:
    """A model whose JSON schema carries types, descriptions, defaults, enums and bounds.
    Omitted arguments take the Space's defaults (the tool fills them, not the model)."""
    fields: dict[str, Any] = {}
    for p in tool.schema.parameters:
        kind: Any = (
            str | dict[str, Any]
            if p.file_kind
            else Literal[p.enum]
            if p.enum
            else _TYPES.get(p.json_type, Any)
        )
        if p.multiple:
            kind = list[kind]
        whole = int if p.json_type == "integer" else float
        constraints: dict[str, Any] = {}
        if p.minimum is not None and not p.multiple:
            constraints["ge"] = whole(p.minimum)
        if p.maximum is not None and not p.multiple:
            constraints["le"] = whole(p.maximum)
        # An omitted argument takes the Space's default; the schema shows it (files: none).
        default = p.default if p.has_default and not p.file_kind else None
        spec = Field(description=tool.parameter_help(p), **constraints)
        if not p.required:
            spec = Field(default=default, description=tool.parameter_help(p), **constraints)
        fields[p.name] = (kind, spec)
    model: type[BaseModel] = create_model(
        f"{tool.name}_arguments",
        __config__=ConfigDict(extra="forbid"),
        __doc__=tool.description,
        **fields,
    )
    return model
