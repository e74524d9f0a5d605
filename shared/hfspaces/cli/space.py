"""`hfspaces info TARGET` (each endpoint's typed parameters and outputs) and
`hfspaces call TARGET /api_name --param value ...` (run one, save its files)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ..client import SpaceClient
from ..errors import InvalidInputError
from ..pool import EndpointPool, split_endpoints
from ..schema import EndpointSchema, Parameter, SpaceSchema
from ..space_model import endpoints_from_env
from ..space_tool import SpaceConnection, SpaceTool, ToolResult
from .common import (
    DebugOpt,
    JsonOpt,
    QuietOpt,
    TimeoutOpt,
    emit_json,
    media_argument,
    run_async,
    run_guarded,
)
from .display import make_display
from .models import endpoint_line

DEFAULT_OUT = Path("hfspaces-outputs")
TargetArg = Annotated[str, typer.Argument(help="Space id (owner/name) or URL of a Gradio app.")]


def info(
    target: TargetArg,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also endpoints tools leave out (hidden, unqueued).")
    ] = False,
    as_json: JsonOpt = False,
    timeout: TimeoutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Print each endpoint's typed parameters and outputs."""
    connection = run_guarded(lambda: SpaceConnection(target, timeout=timeout), debug=debug)

    async def read() -> tuple[SpaceSchema, list[dict[str, Any]]]:
        try:
            return await connection.client.schema(), await copies_health(target, timeout)
        finally:
            await connection.aclose()

    schema, copies = run_async(read, debug=debug, as_json=as_json)
    endpoints = [
        e
        for e in schema.endpoints
        if (show_all and e.api_name and e.endpoint.visibility != "private") or e.offered
    ]
    if as_json:
        emit_json({"title": schema.title, "version": schema.version,
                   "endpoints": [endpoint_record(e) for e in endpoints],
                   **({"copies": copies} if copies else {})})  # fmt: skip
        return
    print(f"{schema.title or target} (gradio {schema.version})")
    if copies:
        Console(highlight=False).print("\n".join(endpoint_line(c) for c in copies))
    for endpoint in endpoints:
        print()
        print(endpoint_text(endpoint))


async def copies_health(target: str, timeout: float | None) -> list[dict[str, Any]]:
    """Each copy's health when `HFSPACES_ENDPOINTS` names several for `target` (a pool;
    `hfspaces info` reads the first): reachable, same app, queue size. Else []."""
    copies = split_endpoints(endpoints_from_env().get(target.strip(), ""))
    if len(copies) < 2:
        return []
    clients = {c: SpaceClient(c, timeout=timeout, max_retries=0) for c in copies}
    try:
        return await EndpointPool(copies, space=target).check(
            lambda member: clients[member.target].config(),
            lambda member: clients[member.target].queue_size(),
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in clients.values()))


def endpoint_record(e: EndpointSchema) -> dict[str, Any]:
    return {
        "api_name": "/" + (e.api_name or ""),
        "description": e.description,
        "visibility": e.endpoint.visibility,
        "queued": e.endpoint.queued,
        "parameters": e.json_schema(),
        "outputs": [
            {"name": o.name, "label": o.label, "kind": o.kind} for o in e.outputs if not o.hidden
        ],
    }


def endpoint_text(e: EndpointSchema) -> str:
    flags = (
        [] if e.offered else [e.endpoint.visibility, "queued" if e.endpoint.queued else "unqueued"]
    )
    lines = [f"{e.label}{'  [' + ', '.join(flags) + ']' if flags else ''}", f"  {e.description}"]
    for p in e.parameters:
        lines.append(f"  --{p.name.replace('_', '-')}  {parameter_text(p)}")
    outs = ", ".join(f"{o.label or o.name} ({o.kind})" for o in e.outputs if not o.hidden)
    lines.append(f"  -> {outs or 'nothing'}")
    return "\n".join(lines)


def parameter_text(p: Parameter) -> str:
    kind = f"{p.file_kind} file" if p.file_kind else p.json_type
    parts = [f"{kind}{'[]' if p.multiple else ''}"]
    if p.enum is not None:
        parts.append("one of " + "|".join(map(str, p.enum)))
    if p.minimum is not None or p.maximum is not None:
        step = f" step {_num(p.step)}" if p.step is not None else ""
        parts.append(f"{_num(p.minimum)}..{_num(p.maximum)}{step}")
    parts.append("required" if p.required else f"default {json.dumps(p.default, default=str)}")
    if p.description:
        parts.append(p.description)
    return ", ".join(parts)


def call(
    ctx: typer.Context,
    target: TargetArg,
    api_name: Annotated[str, typer.Argument(help="The endpoint, e.g. /infer.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to save returned files in.")
    ] = DEFAULT_OUT,
    as_json: JsonOpt = False,
    timeout: TimeoutOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Run one endpoint: `--param value` per parameter (see `hfspaces info`); prints the
    outputs and the paths of saved files."""
    connection = run_guarded(lambda: SpaceConnection(target, timeout=timeout), debug=debug)
    display = make_display(quiet=quiet or as_json)

    async def run() -> ToolResult:
        try:
            (tool,) = await connection.tools([api_name], output_dir=out)
            arguments = parse_arguments(tool, ctx.args)
            with display:
                return await tool.call(arguments, display.event)
        finally:
            await connection.aclose()

    result = run_async(run, debug=debug, as_json=as_json)
    if as_json:
        record = result.artifact()
        for f in record["files"]:
            f.pop("data")
        emit_json({"event": "done", "text": result.text, **record})
    else:
        print(result.text, flush=True)


def parse_arguments(tool: SpaceTool, args: list[str]) -> dict[str, Any]:
    """`--name value` pairs → typed arguments (a list parameter may repeat its flag)."""
    out: dict[str, Any] = {}
    i = 0
    while i < len(args):
        flag = args[i]
        if not flag.startswith("--") or i + 1 >= len(args):
            raise InvalidInputError(f"expected --parameter value pairs, got {flag!r}")
        p = tool.schema.parameter(flag[2:].replace("-", "_"))
        value = _convert(p, args[i + 1])
        if p.multiple:
            out.setdefault(p.name, []).append(value)
        else:
            out[p.name] = value
        i += 2
    return out


def _convert(p: Parameter, text: str) -> Any:
    try:
        if p.file_kind:
            # On the command line a value that is not a URL names a file the user chose.
            kind = p.file_kind if p.file_kind in ("image", "audio") else None
            return media_argument(text, kind) if kind else _any_file(text)
        if p.json_type == "integer" and p.enum is None:
            return int(text)
        if p.json_type == "number" and p.enum is None:
            return float(text)
        if p.json_type == "boolean":
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return text.lower() in ("true", "1", "yes")
        if p.json_type in ("object", "array") and not p.multiple:
            return json.loads(text)
    except ValueError as exc:
        raise InvalidInputError(
            f"--{p.name.replace('_', '-')}: cannot read {text!r} as {p.json_type}"
        ) from exc
    if p.enum is not None and text not in p.enum:
        numbers = [c for c in p.enum if str(c) == text]
        return numbers[0] if numbers else text
    return text


def _any_file(text: str) -> Any:
    from ..media import Media

    lowered = text.strip().lower()
    if lowered.startswith(("http://", "https://", "data:")):
        return Media.from_url(text.strip())
    return Media.from_path(Path(text).expanduser())


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() else f"{value:g}"
