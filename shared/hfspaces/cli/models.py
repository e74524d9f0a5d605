"""`hfspaces models`: the registry and what each model can take and give."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..models import MODELS, ModelSpec
from ..space_model import resolve_endpoint
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
        if r["endpoint"] != r["space"]:
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


def models(as_json: JsonOpt = False) -> None:
    """List the models, the Space that serves each, and their capabilities."""
    records = [model_record(spec) for spec in MODELS.values()]
    if as_json:
        for record in records:
            print(json.dumps(record))
        return
    Console().print(models_table(records))
