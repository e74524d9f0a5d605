"""The core client on its own: stream a Phi-4 answer with queue and progress events, ask
Janus about an image, draw images, and cancel a job mid-stream.

    python examples/core_stream.py
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _replica import endpoints
from hfspaces import (
    Generation,
    GenerationParams,
    Log,
    Media,
    Message,
    Progress,
    Queued,
    SpaceModel,
    Started,
    TextDelta,
)


def sample_image() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (96, 64), (30, 90, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


async def main() -> None:
    picture = Media.of(sample_image())

    phi = SpaceModel("phi-4-multimodal")
    print("phi-4-multimodal, streamed:")
    async for event in phi.stream([Message.user("Describe this picture.", picture)]):
        if isinstance(event, Queued):
            print(f"  [queue: position {(event.rank or 0) + 1} of {event.queue_size}]")
        elif isinstance(event, Started):
            print("  [running]")
        elif isinstance(event, (Progress, Log)):
            print(f"  [{event}]")
        elif isinstance(event, TextDelta):
            print(event.text, end="", flush=True)
        elif isinstance(event, Generation):
            print(f"\n  metadata: {event.metadata()}")

    janus = SpaceModel("janus-pro-7b")
    answer = await janus.generate([Message.user("What colour dominates?", picture)])
    print(f"janus-pro-7b: {answer.text}")

    painter = SpaceModel("janus-pro-7b-image")
    drawn = await painter.generate([Message.user("a lighthouse at dusk")], GenerationParams(seed=7))
    print(
        f"janus-pro-7b-image: {len(drawn.images)} images, seed {drawn.seed}, "
        f"{[len(i.data or b'') for i in drawn.images]} bytes"
    )

    # Leaving the loop early cancels the job on the Space (aclosing makes it immediate).
    async with contextlib.aclosing(phi.stream([Message.user("Tell me a long story.")])) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                print(f"first words: {event.text!r} … cancelling")
                break

    for model in (phi, janus, painter):
        await model.aclose()


if __name__ == "__main__":
    with endpoints():
        asyncio.run(main())
