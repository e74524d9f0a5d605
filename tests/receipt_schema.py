"""The receipt schema the structured-output tests of both frameworks extract (shared)."""

from __future__ import annotations

from pydantic import BaseModel


class LineItem(BaseModel):
    name: str
    price: float


class Receipt(BaseModel):
    """A receipt read from a photo."""

    merchant: str
    total: float
    paper_colour: str
    items: list[LineItem]
