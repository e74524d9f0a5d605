"""`hfspaces models`: the registry and what each model can take and give."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..models import MODELS, ModelSpec
from ..space_model import SpaceModel, resolve_endpoint, resolve_endpoints
from ..transport import public_url
from .common import JsonOpt

_ORDER = ("text", "image", "audio")


def _modalities(values: frozenset[str]) -> list[str]:
    return [m for m in _ORDER if m in values]


def model_record(spec: ModelSpec) -> dict[str, Any]:
    """A JSON-ready description of one model (where it is reached included)."""
    return {
        "id": spec.id,
        "space": spec.space,
        "endpoint": resolve_endpoint(spec, None),
        "endpoints": [{"endpoint": public_url(e)} for e in resolve_endpoints(spec, None)],
        "description": spec.description,
        "inputs": _modalities(spec.inputs),
        "outputs": _modalities(spec.outputs),
        "requires_image": spec.requires_image,
        "streams_tokens": spec.streams_tokens,
        "multi_turn": spec.multi_turn,
        "parameters": sorted(spec.parameters),
        "defaults": spec.defaults,
        "max_images": spec.max_images,
        "context_window": spec.context_window,
        "max_output_tokens": spec.max_output_tokens,
        "aliases": list(spec.aliases),
    }


def models_table(records: list[dict[str, Any]]) -> Table:
    table = Table(title="hfspaces models", show_lines=True)
    # Endpoint URLs can be long: fold them rather than squeeze out the description.
    table.add_column("model / Space", overflow="fold", max_width=36)
    table.add_column("in → out", no_wrap=True)
    table.add_column("what it does", min_width=20, overflow="fold")
    for r in records:
        where = f"[dim]{escape(r['space'])}[/dim]"
        if len(r["endpoints"]) > 1 or "state" in r["endpoints"][0]:
            where += "".join(f"\n{endpoint_line(e)}" for e in r["endpoints"])
        elif r["endpoint"] != r["space"]:
            where += f"\n[dim]at {escape(r['endpoint'])}[/dim]"
        caps = [
            c
            for c, on in (
                ("streams tokens", r["streams_tokens"]),
                ("multi-turn", r["multi_turn"]),
                ("needs an image", r["requires_image"]),
            )
            if on
        ]
        if r["parameters"]:
            caps.append("takes " + ", ".join(r["parameters"]))
        notes = escape(r["description"])
        if caps:
            notes += "\n[green]" + escape(" · ".join(caps)) + "[/green]"
        notes += "\n[dim]aliases: " + escape(", ".join(r["aliases"])) + "[/dim]"
        table.add_row(
            f"[bold]{escape(r['id'])}[/bold]\n{where}",
            f"{', '.join(r['inputs'])}\n→ {', '.join(r['outputs'])}",
            notes,
        )
    return table


_STATE_STYLE = {"ready": "green", "single": "green", "unreachable": "red", "refused": "red"}


def endpoint_line(entry: dict[str, Any]) -> str:
    """One copy of a pool: where, and (checked) its state and queue."""
    line = f"[dim]at {escape(entry['endpoint'])}[/dim]"
    state = entry.get("state")
    if state is None:
        return line
    style = _STATE_STYLE.get(state.split()[0], "yellow")
    line += f" [{style}]{escape(state)}[/{style}]"
    if entry.get("queue_size") is not None:
        line += f" [dim]queue {entry['queue_size']}[/dim]"
    problem = entry.get("error") or entry.get("refused")
    if problem:
        line += f"\n  [dim]{escape(problem)}[/dim]"
    return line


async def _check(records: list[dict[str, Any]]) -> None:
    """Ask every endpoint (pools: every copy) now; fill in each one's health."""

    async def one(record: dict[str, Any]) -> None:
        model = SpaceModel(record["id"], timeout=15.0, max_retries=0)
        try:
            record["endpoints"] = await model.check_endpoints()
        finally:
            await model.aclose()

    await asyncio.gather(*(one(r) for r in records))


CheckOpt = Annotated[
    bool,
    typer.Option(
        "--check",
        help="Ask each endpoint now (every copy of a pool): reachable, same app, queue size.",
    ),
]


def models(as_json: JsonOpt = False, check: CheckOpt = False) -> None:
    """List the models, the Space that serves each (every copy of a pool), and their
    capabilities; `--check` asks each endpoint for its health."""
    records = [model_record(spec) for spec in MODELS.values()]
    if check:
        asyncio.run(_check(records))
    if as_json:
        for record in records:
            print(json.dumps(record))
        return
    Console().print(models_table(records))
