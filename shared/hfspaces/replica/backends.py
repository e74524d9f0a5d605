"""Deterministic stand-ins for the models: pure functions of their inputs (Pillow only)."""

from __future__ import annotations

import hashlib
import io
import json
import random
import wave
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from ..structured import SCHEMA_MARKER

# Named reference colours; each pixel is binned to the nearest one.
PALETTE: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "gray": (128, 128, 128),
    "red": (220, 30, 30),
    "green": (40, 170, 60),
    "blue": (30, 60, 220),
    "yellow": (240, 220, 40),
    "orange": (245, 140, 20),
    "purple": (130, 50, 170),
    "pink": (245, 150, 190),
    "brown": (130, 80, 40),
    "cyan": (40, 210, 220),
}

FILLER_WORDS: tuple[str, ...] = (
    "lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit",
)

AUDIO_SUFFIXES = {".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aac", ".opus", ".webm"}


def nearest_colour(rgb: tuple[int, int, int]) -> str:
    r, g, b = rgb
    return min(
        PALETTE,
        key=lambda n: (
            (PALETTE[n][0] - r) ** 2 + (PALETTE[n][1] - g) ** 2 + (PALETTE[n][2] - b) ** 2
        ),
    )


def dominant_colours(image: Image.Image, limit: int = 3, min_share: float = 0.1) -> list[str]:
    """Names of the most common colours (at least ``min_share`` of pixels, at least one)."""
    thumb = image.convert("RGB").resize((32, 32), Image.Resampling.NEAREST)
    raw = thumb.tobytes()  # getdata() is deprecated in recent Pillow
    counts = Counter(
        nearest_colour((raw[i], raw[i + 1], raw[i + 2])) for i in range(0, len(raw), 3)
    )
    total = sum(counts.values())
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    names = [name for name, n in ranked if n / total >= min_share][:limit]
    return names or [ranked[0][0]]


def join_names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def describe_image(image: Image.Image) -> str:
    """E.g. ``a 64×48 image, mostly red and white``."""
    return f"a {image.width}×{image.height} image, mostly {join_names(dominant_colours(image))}"


def describe_image_file(path: str | Path) -> str:
    with Image.open(path) as img:
        return describe_image(img)


def describe_audio_file(path: str | Path) -> str:
    """Duration for WAV (read with ``wave``); format and byte size for anything else."""
    p = Path(path)
    size = p.stat().st_size
    try:
        with wave.open(str(p), "rb") as w:
            seconds = w.getnframes() / float(w.getframerate() or 1)
        return f"a WAV audio clip of {seconds:.2f} seconds"
    except (wave.Error, EOFError):
        fmt = (p.suffix.lstrip(".") or "unknown").upper()
        return f"an {fmt} audio file of {size} bytes"


def is_audio_path(path: str | Path, mime_type: str | None = None) -> bool:
    if mime_type:
        return mime_type.startswith("audio/")
    return Path(path).suffix.lower() in AUDIO_SUFFIXES


def fit_words(text: str, words: int | None) -> str:
    """Pad (with fixed filler words) or cut ``text`` to exactly ``words`` words."""
    if words is None:
        return text
    parts = text.split()
    i = 0
    while len(parts) < words:
        parts.append(FILLER_WORDS[i % len(FILLER_WORDS)])
        i += 1
    return " ".join(parts[: max(words, 0)])


def understand(image: Image.Image, question: str, seed: int = 42, top_p: float = 0.95,
               temperature: float = 0.1, words: int | None = None) -> str:
    """Janus ``multimodal_understanding``: describe the image and restate the question
    (or, asked for JSON of a schema, an instance of it: ``structured_answer``)."""
    structured = structured_answer(question, image)
    if structured is not None:
        return fit_words(structured, words)
    q = " ".join(question.split()) or "(no question)"
    text = f"This is {describe_image(image)}. You asked: {q}"
    return fit_words(text, words)


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("|".join(repr(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return tuple(rng.randrange(256) for _ in range(3))  # type: ignore[return-value]


def draw_image(prompt: str, seed: int, guidance: float, temperature: float, index: int,
               size: int) -> Image.Image:
    """One picture: background plus shapes whose colours and places come from a hash."""
    rng = _rng(prompt, int(seed), float(guidance), float(temperature), index)
    img = Image.new("RGB", (size, size), _colour(rng))
    draw = ImageDraw.Draw(img)
    # Higher temperature: more shapes; more guidance: larger ones.
    shapes = 3 + int(float(temperature) * 6)
    scale = 0.15 + float(guidance) / 20
    for _ in range(shapes):
        w = max(2, int(size * scale * (0.5 + rng.random())))
        x, y = rng.randrange(size), rng.randrange(size)
        box = (x - w // 2, y - w // 2, x + w // 2, y + w // 2)
        kind = rng.randrange(3)
        if kind == 0:
            draw.rectangle(box, fill=_colour(rng))
        elif kind == 1:
            draw.ellipse(box, fill=_colour(rng))
        else:
            pts = [(rng.randrange(size), rng.randrange(size)) for _ in range(3)]
            draw.polygon(pts, fill=_colour(rng))
    return img


def generate_images(prompt: str, seed: int = 1234, guidance: float = 5.0,
                    temperature: float = 1.0, size: int = 768, count: int = 5) -> list[Image.Image]:
    """Janus ``generate_image``: ``count`` distinct, reproducible images."""
    return [draw_image(prompt, seed, guidance, temperature, i, size) for i in range(count)]


def image_bytes(image: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt)
    return buf.getvalue()


@dataclass(frozen=True)
class Attachment:
    """A file in a chat turn, as the Phi-4 backend sees it."""

    path: str
    mime_type: str | None = None


def phi4_answer(text: str, attachments: Sequence[Attachment], turn: int,
                words: int | None = None) -> str:
    """Phi-4 chat: mention the turn, the user's text and each attachment (or, asked for
    JSON of a schema, an instance of it about the first image: ``structured_answer``)."""
    images = [a for a in attachments if not is_audio_path(a.path, a.mime_type)]
    if SCHEMA_MARKER in text:
        try:
            with Image.open(images[0].path) as first:
                structured = structured_answer(text, first)
        except (IndexError, OSError):
            structured = structured_answer(text, None)
        if structured is not None:
            return fit_words(structured, words)
    parts = [f"Turn {turn}."]
    q = " ".join(text.split())
    parts.append(f'You said: "{q}".' if q else "You sent no text.")
    n_img = n_aud = 0
    for att in attachments:
        if is_audio_path(att.path, att.mime_type):
            n_aud += 1
            parts.append(f"Audio {n_aud} is {describe_audio_file(att.path)}.")
        else:
            n_img += 1
            try:
                parts.append(f"Image {n_img} is {describe_image_file(att.path)}.")
            except OSError:
                size = Path(att.path).stat().st_size
                parts.append(f"Attachment {n_img} is a file of {size} bytes.")
    return fit_words(" ".join(parts), words)


def make_sample_image(size: tuple[int, int] = (64, 48)) -> Image.Image:
    """The bundled sample: red with a white right third (``mostly red and white``)."""
    img = Image.new("RGB", size, PALETTE["red"])
    ImageDraw.Draw(img).rectangle((size[0] * 2 // 3, 0, size[0], size[1]), fill=PALETTE["white"])
    return img


def make_wav(seconds: float = 0.5, rate: int = 8000) -> bytes:
    """A short silent-ish mono 16-bit WAV (a quiet square wave)."""
    frames = int(seconds * rate)
    samples = bytearray()
    for i in range(frames):
        v = 1000 if (i // 20) % 2 else -1000
        samples += int(v).to_bytes(2, "little", signed=True)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(samples))
    return buf.getvalue()


# -- structured answers --------------------------------------------------------
# Asked for "JSON schema:" + a schema (what hfspaces.structured sends), the stand-ins answer
# with a valid instance built from what they compute about the image: its size, its
# dominant colours and their description. Deterministic: the same image and schema give
# the same JSON. (Not OCR: a receipt's total is derived from the image size.)


@dataclass(frozen=True)
class ImageFacts:
    width: int
    height: int
    colours: tuple[str, ...]
    description: str

    @classmethod
    def of(cls, image: Image.Image | None) -> ImageFacts:
        if image is None:
            return cls(0, 0, (), "no image")
        return cls(image.width, image.height, tuple(dominant_colours(image)),
                   describe_image(image))


def structured_answer(text: str, image: Image.Image | None) -> str | None:
    """A JSON instance of the schema that follows ``SCHEMA_MARKER`` in ``text``, or None."""
    at = text.find(SCHEMA_MARKER)
    if at < 0:
        return None
    start = text.find("{", at)
    try:
        schema, _ = json.JSONDecoder().raw_decode(text, start)
    except (ValueError, json.JSONDecodeError):
        return None
    if not isinstance(schema, dict):
        return None
    defs = schema.get("$defs") or schema.get("definitions") or {}
    return json.dumps(_instance(schema, "", 0, ImageFacts.of(image), defs))


def _instance(schema: Mapping[str, Any], name: str, index: int, facts: ImageFacts,
              defs: Mapping[str, Any]) -> Any:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        schema = defs.get(ref.rsplit("/", 1)[-1], {})
    if "const" in schema:
        return schema["const"]
    options = [o for o in schema.get("anyOf") or schema.get("oneOf") or []
               if o.get("type") != "null"]
    if options:
        return _instance(options[0], name, index, facts, defs)
    if schema.get("enum"):
        enum = schema["enum"]
        return next((c for c in facts.colours if c in enum), enum[0])
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    lowered = name.lower()
    colour = facts.colours[index % len(facts.colours)] if facts.colours else "none"
    if kind == "object":
        props = schema.get("properties") or {}
        return {key: _instance(sub, key, index, facts, defs) for key, sub in props.items()}
    if kind == "array":
        low = int(schema.get("minItems", 1))
        high = int(schema.get("maxItems", max(low, len(facts.colours), 1)))
        count = min(max(low, len(facts.colours), 1), high)
        items = schema.get("items") or {}
        return [_instance(items, name, i, facts, defs) for i in range(count)]
    if kind == "integer" or kind == "number":
        if "width" in lowered:
            value: float = facts.width
        elif "height" in lowered:
            value = facts.height
        elif any(w in lowered for w in ("count", "number", "quantity", "qty")):
            value = len(facts.colours)
        elif kind == "integer":
            value = facts.width + index
        else:  # a price, a total: a number with cents, from the size
            value = round(facts.width + facts.height / 100 + index, 2)
        if "minimum" in schema:
            value = max(value, schema["minimum"])
        if "maximum" in schema:
            value = min(value, schema["maximum"])
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return bool(facts.colours)
    if kind == "null":
        return None
    if "colo" in lowered:
        return colour
    if any(w in lowered for w in ("desc", "summary", "caption", "text")):
        return facts.description
    return f"{colour} {name or 'item'}".strip()
