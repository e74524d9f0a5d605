"""Small media made in code for the tests: a PNG and a WAV tone (shared by every folder)."""

from __future__ import annotations

import io
import math
import struct
import wave


def make_png(
    width: int = 32, height: int = 24, colour: tuple[int, int, int] = (220, 20, 20)
) -> bytes:
    """A small PNG: a solid colour with a white top stripe."""
    from PIL import Image

    image = Image.new("RGB", (width, height), colour)
    for x in range(width):
        for y in range(height // 4):
            image.putpixel((x, y), (255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def make_wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A mono 16-bit sine tone."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
            for i in range(int(seconds * rate))
        )
        out.writeframes(frames)
    return buffer.getvalue()
