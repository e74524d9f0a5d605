"""ChatHFSpaces tour: chat with Phi-4-multimodal (text, image, audio, streaming with queue
news), ask Janus-Pro about an image, draw with Janus-Pro, and run an LCEL chain.

    python examples/langchain_chat.py

Uses the Spaces named in `HFSPACES_ENDPOINTS` when set; otherwise it starts the embedded
replica (real Gradio apps on loopback) and points the model at it.
"""

from __future__ import annotations

import asyncio
import base64
import io
import math
import struct
import tempfile
import wave
from pathlib import Path
from typing import Any

from _replica import settings  # also puts the sources on sys.path in a plain checkout
from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from langchain_hfspaces import ChatHFSpaces


class QueueNews(AsyncCallbackHandler):
    """What an app would show while a Space works: queue position, progress."""

    async def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        if name == "hfspaces_queue":
            print(f"  [queue] position {data['position']} of {data['queue_size']}")
        elif name == "hfspaces_progress":
            print(f"  [progress] {data['desc']}: {data['index']}/{data['length']} {data['unit']}")
        elif name == "hfspaces_log":
            print(f"  [{data['level']}] {data['message']}")


def sample_png() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (96, 64), (30, 90, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def sample_wav(seconds: float = 1.5, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        tone = (
            int(6000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(seconds * rate))
        )
        out.writeframes(b"".join(struct.pack("<h", v) for v in tone))
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


async def main(options: dict[str, Any]) -> None:
    phi4 = ChatHFSpaces(model="phi-4-multimodal", **options)
    janus = ChatHFSpaces(model="janus-pro-7b", **options)
    painter = ChatHFSpaces(model="janus-pro-7b-image", num_images=2, seed=1234, **options)
    news = {"callbacks": [QueueNews()]}

    print("\n1. Phi-4, a system prompt and a question:")
    answer = await phi4.ainvoke([SystemMessage("Be brief."), HumanMessage("What is a Space?")])
    meta = answer.response_metadata
    print(f"  {answer.text}\n  (space {meta['space']}, queue wait {meta.get('queue_wait')} s, "
          f"run {meta.get('duration')} s)")  # fmt: skip

    print("\n2. Streaming, with queue news through LangChain callbacks:")
    first = True
    async for chunk in phi4.astream("Tell me about otters", config=news):
        print(("  " if first else "") + chunk.text, end="", flush=True)
        first = False
    print()

    print("\n3. An image and an audio clip in one message (base64 content blocks):")
    message = HumanMessage(
        [
            {"type": "text", "text": "What do you see and hear?"},
            {"type": "image", "base64": b64(sample_png()), "mime_type": "image/png"},
            {"type": "audio", "base64": b64(sample_wav()), "mime_type": "audio/wav"},
        ]
    )
    print(f"  {(await phi4.ainvoke([message])).text}")

    print("\n4. Janus-Pro answers a question about the image:")
    question = HumanMessage(
        [
            {"type": "text", "text": "Which colour dominates?"},
            {
                "type": "image_url",
                "image_url": {"url": f"data:image/png;base64,{b64(sample_png())}"},
            },
        ]
    )
    print(f"  {(await janus.ainvoke([question])).text}")

    print("\n5. Janus-Pro draws (the answer holds standard image blocks):")
    drawing = await painter.ainvoke("a lighthouse on a cliff at dusk", config=news)
    folder = Path(tempfile.mkdtemp(prefix="hfspaces-"))
    for i, block in enumerate(b for b in drawing.content if isinstance(b, dict)):
        if block["type"] == "text":
            print(f"  {block['text']}")
        elif block["type"] == "image":
            path = folder / f"lighthouse-{i}.{block['mime_type'].split('/')[-1]}"
            path.write_bytes(base64.b64decode(block["base64"]))
            print(f"  saved {path}")

    print("\n6. An LCEL chain: prompt | model | StrOutputParser")
    prompt = ChatPromptTemplate.from_messages([("system", "Answer in one line."), ("human", "{q}")])
    chain = prompt | phi4 | StrOutputParser()
    print(f"  {await chain.ainvoke({'q': 'Why are ZeroGPU queues short at night?'})}")

    for model in (phi4, janus, painter):
        await model.aclose()


if __name__ == "__main__":
    with settings(token_delay=0.03) as found:
        asyncio.run(main(found))
    print("\ndone")
