"""Saving generated images to a directory without overwriting anything already there."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from .generation import GeneratedImage
from .media import extension_for, safe_filename


def image_stem(prompt: str, seed: int | None, index: int) -> str:
    """E.g. `a-red-fox-in-snow-seed42-1`: readable, and safe whatever the prompt says."""
    slug = re.sub(r"\W+", "-", prompt.lower()).strip("-")[:40] or "image"
    return f"{slug}-seed{seed if seed is not None else 'x'}-{index}"


def save_images(
    images: Sequence[GeneratedImage], directory: Path, prompt: str, seed: int | None
) -> list[Path | None]:
    """Write each downloaded image to `directory` (created if missing); None for an image
    that was not downloaded. A name already taken gets a `-2`, `-3`, ... suffix, so a
    second call with the same prompt and seed never overwrites an earlier result."""
    directory.mkdir(parents=True, exist_ok=True)
    paths: list[Path | None] = []
    for index, image in enumerate(images, start=1):
        if image.data is None:
            paths.append(None)
            continue
        name = safe_filename(image_stem(prompt, seed, index), default=f"image-{index}")
        paths.append(write_new(directory, name, extension_for(image.mime_type), image.data))
    return paths


def write_new(directory: Path, stem: str, suffix: str, data: bytes) -> Path:
    """Create `stem+suffix` (or the first free `stem-N+suffix`) and write `data` to it.
    Exclusive creation: two concurrent calls cannot pick the same name."""
    for n in range(1, 10_000):
        path = directory / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
        try:
            with path.open("xb") as file:
                file.write(data)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no free file name for {stem}{suffix} in {directory}")
