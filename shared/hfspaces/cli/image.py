"""`hfspaces image`: draw images with Janus-Pro-7B, save them, print their paths."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from ..conversation import Message
from ..errors import DownloadError, InvalidInputError
from ..generation import GeneratedImage, Generation, GenerationParams
from ..image_files import write_new
from ..media import extension_for, safe_filename, sniff_mime
from ..space_model import SpaceModel
from .common import (
    AnonymousOpt,
    DebugOpt,
    EndpointOpt,
    JsonOpt,
    QuietOpt,
    SeedOpt,
    TimeoutOpt,
    emit_json,
    event_record,
    generation_record,
    run_async,
    run_guarded,
)
from .display import Display, make_display

IMAGE_MODEL = "janus-pro-7b-image"
DEFAULT_OUT = Path("hfspaces-images")


def file_stem(prompt: str, seed: int | None) -> str:
    """`a-red-fox-in-snow-1234`: readable, short, and safe whatever the prompt holds."""
    slug = re.sub(r"[^a-z0-9]+", "-", prompt.lower()).strip("-")[:48].rstrip("-") or "image"
    return safe_filename(f"{slug}-{seed}" if seed is not None else slug, default="image")


def save_images(images: tuple[GeneratedImage, ...], out: Path, stem: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, image in enumerate(images, start=1):
        if image.data is None:
            raise DownloadError(f"image {index} was not downloaded ({image.url})")
        mime = sniff_mime(image.data[:32]) or image.mime_type
        name = safe_filename(f"{stem}-{index}", default=f"image-{index}")
        # `name-2`, `name-3`... so an earlier run's images are never overwritten.
        paths.append(write_new(out, name, extension_for(mime), image.data))
    return paths


async def generate(
    model: SpaceModel,
    prompt: str,
    params: GenerationParams,
    display: Display,
    *,
    as_json: bool,
) -> Generation | None:
    result: Generation | None = None
    try:
        with display:
            async for item in model.stream([Message.user(prompt)], params):
                if isinstance(item, Generation):
                    result = item
                    display.done(item)
                    break
                display.event(item)
                if as_json:
                    emit_json(event_record(item))
    finally:
        await model.aclose()
    return result


def image(
    prompt: Annotated[str, typer.Argument(help="What to draw.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to save the images in.")
    ] = DEFAULT_OUT,
    seed: SeedOpt = None,
    guidance: Annotated[
        float | None,
        typer.Option(
            "--guidance", "-g", help="CFG weight, 1-10 (Space default 5).", show_default=False
        ),
    ] = None,
    n: Annotated[int, typer.Option("--n", "-n", help="How many images (1-5).")] = 5,
    endpoint: EndpointOpt = None,
    as_json: JsonOpt = False,
    timeout: TimeoutOpt = None,
    anonymous: AnonymousOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Draw images from a prompt; prints the path of each saved image."""

    def setup() -> tuple[SpaceModel, GenerationParams]:
        if not prompt.strip():
            raise InvalidInputError("the prompt is empty")
        if not 1 <= n <= 5:  # say it in the flag's name, not the library's
            raise InvalidInputError(f"--n must be between 1 and 5 (the Space draws 5), got {n}")
        params = GenerationParams(seed=seed, guidance=guidance, num_images=n)
        space_model = SpaceModel(
            IMAGE_MODEL,
            endpoint=endpoint,
            timeout=timeout,
            hf_token=False if anonymous else None,
        )
        space_model.validate([Message.user(prompt)], params)
        return space_model, params

    space_model, params = run_guarded(setup, debug=debug, as_json=as_json)
    display = make_display(quiet=quiet)
    display.note(f"{space_model.spec.id} at {space_model.endpoint}")

    def run() -> None:
        result = run_async(
            lambda: generate(space_model, prompt, params, display, as_json=as_json),
            debug=debug,
            as_json=as_json,
        )
        if result is None:
            return
        paths = save_images(result.images, out, file_stem(prompt, result.seed))
        if as_json:
            emit_json(generation_record(result, paths=[str(p) for p in paths]))
        else:
            for path in paths:
                print(path, flush=True)

    run_guarded(run, debug=debug, as_json=as_json)
