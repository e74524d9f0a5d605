"""Shared by the receipt examples: the schema to extract, and a receipt-like photo."""

from __future__ import annotations

import io

from pydantic import BaseModel, Field


class LineItem(BaseModel):
    name: str = Field(description="What was bought, as printed")
    price: float = Field(description="Its price")


class Receipt(BaseModel):
    """The fields to read from a shop receipt."""

    merchant: str = Field(description="The shop's name, from the header")
    total: float = Field(description="The amount paid")
    paper_colour: str = Field(description="Colour of the paper")
    items: list[LineItem]


def receipt_png() -> bytes:
    """A receipt-like picture: white paper, a red header, a few printed lines."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (200, 300), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 200, 60), fill=(220, 30, 30))
    draw.text((60, 20), "CORNER SHOP", fill=(255, 255, 255))
    for row, line in enumerate(["apples      2.40", "bread       3.10", "TOTAL       5.50"]):
        draw.text((20, 90 + 30 * row), line, fill=(0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
