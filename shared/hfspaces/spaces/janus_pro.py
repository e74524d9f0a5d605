"""deepseek-ai/Janus-Pro-7B: image understanding (fn 2) and text-to-image (fn 3).

Understanding is single turn and not streamed: the newest image is sent, and the system
prompt and history are folded into the question.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

from ..client import SpaceClient
from ..conversation import Conversation, last_user_text
from ..errors import InvalidInputError, ProtocolError
from ..events import Completed, Event
from ..generation import GeneratedImage, Generation, GenerationParams
from ..media import sniff_mime
from .base import Adapter, Call, events, finished, gather_all, or_default

# image, question, seed, top_p, temperature -> answer
UNDERSTANDING = Call(
    "multimodal_understanding", 2, ("image", "textbox", "number", "slider", "slider"), ("textbox",)
)
# prompt, seed, CFG weight, temperature -> gallery of 5
GENERATE = Call("generate_image", 3, ("textbox", "number", "slider", "slider"), ("gallery",))


def fold_question(conversation: Conversation) -> str:
    """System prompt + history + last question → one question for a single-turn Space."""
    system = "\n".join(m.text for m in conversation if m.role == "system" and m.text)
    turns = [m for m in conversation if m.role != "system"]
    last = max((i for i, m in enumerate(turns) if m.role == "user"), default=-1)
    question = turns[last].text if last >= 0 else ""
    history = [
        f"{'User' if m.role == 'user' else 'Assistant'}: {m.text}" for m in turns[:last] if m.text
    ]
    if not system and not history:
        return question
    sections = [system] if system else []
    if history:
        sections.append("Conversation so far:\n" + "\n".join(history))
    sections.append(f"Question: {question}")
    return "\n\n".join(sections)


class JanusUnderstandingAdapter(Adapter):
    async def run(
        self, client: SpaceClient, conversation: Conversation, params: GenerationParams
    ) -> AsyncIterator[Event | Generation]:
        image = next((img for m in reversed(conversation) for img in reversed(m.images)), None)
        if image is None:  # validate() guarantees one; keep the promise explicit
            raise InvalidInputError("janus-pro-7b needs an image")
        question = fold_question(conversation)
        if not question.strip():
            raise InvalidInputError("the question is empty: add text to the last user message")
        data = [image, question, *map(or_default, (params.seed, params.top_p, params.temperature))]
        job = await UNDERSTANDING.submit(client, data)
        async for event in events(job):
            if isinstance(event, Completed):
                text = event.outputs[0] if event.outputs else ""
                if not isinstance(text, str):
                    raise ProtocolError(
                        "Janus answered with a non-text output", space=self.spec.space
                    )
                yield finished(self.spec, client, event, text=text, seed=int(job.data[2]))
            else:
                yield event


class JanusImageAdapter(Adapter):
    async def run(
        self, client: SpaceClient, conversation: Conversation, params: GenerationParams
    ) -> AsyncIterator[Event | Generation]:
        prompt = last_user_text(conversation)
        if not prompt.strip():
            raise InvalidInputError("the image prompt is empty: put it in the last user message")
        seed = params.seed if params.seed is not None else random.randrange(2**31)
        count = params.num_images or 5
        data = [prompt, seed, or_default(params.guidance), or_default(params.temperature)]
        job = await GENERATE.submit(client, data)
        async for event in events(job):
            if not isinstance(event, Completed):
                yield event
                continue
            files = gallery_files(event.outputs[0] if event.outputs else None)[:count]
            if not files:
                raise ProtocolError("Janus returned no images", space=self.spec.space)
            images = await fetch_images(client, files, download=self.download)
            yield finished(
                self.spec,
                client,
                event,
                text=f"Generated {len(images)} image{'s' * (len(images) != 1)} for: {prompt}",
                images=tuple(images),
                seed=seed,
            )


def gallery_files(value: Any) -> list[dict[str, Any]]:
    """FileData of each Gallery item, in gradio 4/5/6 shapes."""
    if not isinstance(value, list):
        return []
    files = []
    for item in value:
        if isinstance(item, dict) and isinstance(item.get("image"), dict):
            files.append(item["image"])  # gradio 5/6: {"image": FileData, "caption": ...}
        elif isinstance(item, (list, tuple)) and item and isinstance(item[0], dict):
            files.append(item[0])  # gradio 4: [FileData, caption]
        elif isinstance(item, dict) and "path" in item:
            files.append(item)
    return files


async def fetch_images(
    client: SpaceClient, files: list[dict[str, Any]], *, download: bool
) -> list[GeneratedImage]:
    """Resolve (and download, in parallel) the gallery's files."""
    urls = [client.file_url(f) for f in files]
    blobs: list[bytes | None] = (
        await gather_all(client.download(f) for f in files) if download else [None] * len(files)
    )
    return [
        GeneratedImage(
            url=url,
            mime_type=(sniff_mime(blob[:32]) if blob else None) or f.get("mime_type"),
            data=blob,
            name=f.get("orig_name"),
        )
        for url, f, blob in zip(urls, files, blobs, strict=True)
    ]
