"""The same operations written with each library: hfspaces, gradio_client, the seeds' g4f
providers, and the bare-aiohttp floor. Each op returns a dict of timings (seconds).

Ops (measure numbers of issue 6): `ask` (1), `stream` (2, 3), `many` (4), `t2i` (5),
`big` (6), `chat` (7), `first` (8). Methods may be sync (gradio_client) or async.
"""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path
from typing import Any

from common import JANUS, PHI4, PROMPT, QUESTION, photo_png

STORY = "Tell me a long story."
TURNS = ("What is in this image?", "Which colour dominates?", "Is there any text?",
         "Describe the top left corner.", "Summarise what you said.")


def unique_png(i: int) -> bytes:
    """A small PNG (64×64, a few hundred bytes) whose bytes differ per call, so no client
    can skip its upload through a cache."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (64, 64), (220, 30, 30))
    ImageDraw.Draw(img).rectangle((0, 40, 63, 63), fill=(255, 255, 255))
    img.putpixel((0, 0), (i % 256, (i // 256) % 256, 7))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def history_gradio6(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"type": "text", "text": text}]}]


# Phi-4 chat's sampling inputs at the replica's declared defaults (top_p, top_k, temperature,
# repetition_penalty, max_new_tokens): the floor sends every input, as gradio requires.
CHAT_DEFAULTS = [0.95, 50, 0.8, 1.05, 512]


# -- hfspaces ---------------------------------------------------------------------------


class HfSpaces:
    name = "hfspaces"

    def __init__(self, urls: dict[str, str]) -> None:
        import hfspaces

        self.hf = hfspaces
        self.urls = urls
        self.janus = hfspaces.SpaceModel("janus-pro-7b", endpoint=urls[JANUS])
        self.imagegen = hfspaces.SpaceModel("janus-pro-7b-image", endpoint=urls[JANUS])
        self.phi = hfspaces.SpaceClient(urls[PHI4], space_id=PHI4)

    async def ask(self, i: int) -> dict[str, float]:
        msg = self.hf.Message.user(QUESTION, self.hf.Media.of(unique_png(i)))
        t0 = time.perf_counter()
        await self.janus.generate([msg])
        return {"total": time.perf_counter() - t0}

    async def stream(self, i: int) -> dict[str, float]:
        from hfspaces.spaces.phi4 import answer_text

        t0, c0 = time.perf_counter(), time.process_time()
        job = await self.phi.submit("chat", [history_gradio6(STORY)], text_of=answer_text)
        ttft = None
        events = 0
        async for event in job:
            if isinstance(event, self.hf.Partial):
                events += 1
            elif ttft is None and isinstance(event, self.hf.TextDelta):
                ttft = time.perf_counter() - t0
        total = time.perf_counter() - t0
        return {"ttft": ttft or total, "total": total, "cpu": time.process_time() - c0,
                "events": events}

    async def many(self, n: int) -> dict[str, float]:
        async def one() -> None:
            job = await self.phi.submit("chat", [history_gradio6("hi")])
            await job.result()

        await asyncio.gather(*(one() for _ in range(n)))
        return {}

    async def t2i(self, i: int) -> dict[str, float]:
        t0 = time.perf_counter()
        gen = await self.imagegen.generate([self.hf.Message.user(PROMPT)])
        assert len(gen.images) == 5 and all(img.data for img in gen.images)
        return {"total": time.perf_counter() - t0}

    async def big(self, path: Path) -> dict[str, float]:
        msg = self.hf.Message.user(QUESTION, self.hf.Media.of(path))
        t0 = time.perf_counter()
        await self.janus.generate([msg])
        return {"total": time.perf_counter() - t0}

    async def chat(self, i: int) -> dict[str, float]:
        Message, Media = self.hf.Message, self.hf.Media
        photo = Media.of(photo_png(i))
        conversation = []
        t0 = time.perf_counter()
        for turn, question in enumerate(TURNS):
            conversation.append(Message.user(question, photo) if turn == 0 else
                                Message.user(question))
            gen = await self.janus.generate(conversation)
            conversation.append(Message.assistant(gen.text))
        return {"total": time.perf_counter() - t0}

    async def first(self, i: int) -> dict[str, float]:
        model = self.hf.SpaceModel("janus-pro-7b", endpoint=self.urls[JANUS])
        times = []
        for k in range(4):
            msg = self.hf.Message.user(QUESTION, self.hf.Media.of(unique_png(i * 10 + k)))
            t0 = time.perf_counter()
            await model.generate([msg])
            times.append(time.perf_counter() - t0)
            await asyncio.sleep(0.05)
        await model.aclose()
        return {"first": times[0], "later": sorted(times[1:])[1]}

    async def warm(self) -> None:
        await self.ask(999_999)
        await self.phi.config()
        await self.many(2)

    async def close(self) -> None:
        await self.janus.aclose()
        await self.imagegen.aclose()
        await self.phi.aclose()


# -- gradio_client ----------------------------------------------------------------------


class GradioClient:
    name = "gradio_client"

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls
        self.janus = self._client(JANUS)
        self.phi = self._client(PHI4)

    def _client(self, space: str) -> Any:
        from gradio_client import Client

        return Client(self.urls[space], verbose=False, analytics_enabled=False)

    def _ask(self, client: Any, image: Path, question: str = QUESTION) -> str:
        from gradio_client import handle_file

        answer: str = client.predict(
            handle_file(str(image)), question, 42, 0.95, 0.1, api_name="/multimodal_understanding"
        )
        return answer

    def ask(self, i: int) -> dict[str, float]:
        png = _write(unique_png(i))  # it takes paths or URLs only; the write is not timed
        t0 = time.perf_counter()
        self._ask(self.janus, png)
        return {"total": time.perf_counter() - t0}

    def stream(self, i: int) -> dict[str, float]:
        t0, c0 = time.perf_counter(), time.process_time()
        job = self.phi.submit(history_gradio6(STORY), api_name="/chat")
        ttft = None
        events = 0
        for out in job:
            events += 1
            if ttft is None and out and out[-1].get("role") == "assistant":
                ttft = time.perf_counter() - t0
        job.result()
        total = time.perf_counter() - t0
        return {"ttft": ttft or total, "total": total, "cpu": time.process_time() - c0,
                "events": events}

    def many(self, n: int) -> dict[str, float]:
        jobs = [self.phi.submit(history_gradio6("hi"), api_name="/chat") for _ in range(n)]
        for job in jobs:
            job.result()
        return {}

    def t2i(self, i: int) -> dict[str, float]:
        t0 = time.perf_counter()
        gallery = self.janus.predict(PROMPT, 12345, 5, 1, api_name="/generate_image")
        assert len(gallery) == 5 and all(Path(item["image"]).stat().st_size for item in gallery)
        return {"total": time.perf_counter() - t0}

    def big(self, path: Path) -> dict[str, float]:
        t0 = time.perf_counter()
        self._ask(self.janus, path)
        return {"total": time.perf_counter() - t0}

    def chat(self, i: int) -> dict[str, float]:
        photo = photo_png(i)
        history: list[str] = []
        t0 = time.perf_counter()
        for question in TURNS:
            folded = "\n".join([*history, f"User: {question}"])
            answer = self._ask(self.janus, photo, folded)
            history += [f"User: {question}", f"Assistant: {answer}"]
        return {"total": time.perf_counter() - t0}

    def first(self, i: int) -> dict[str, float]:
        times = []
        t0 = time.perf_counter()
        client = self._client(JANUS)
        for k in range(4):
            png = _write(unique_png(i * 10 + k))
            if k:
                t0 = time.perf_counter()
            self._ask(client, png)
            times.append(time.perf_counter() - t0)
            time.sleep(0.05)
        client.close()
        return {"first": times[0], "later": sorted(times[1:])[1]}

    def warm(self) -> None:
        self.ask(999_999)
        self.many(2)

    def close(self) -> None:
        self.janus.close()
        self.phi.close()


_TMP: str | None = None


def _write(data: bytes) -> Path:
    path = Path(_tmpdir()) / f"q-{time.monotonic_ns()}.png"
    path.write_bytes(data)
    return path


def _tmpdir() -> str:
    global _TMP
    if _TMP is None:
        import tempfile

        _TMP = tempfile.mkdtemp(prefix="bench-gc-")
    return _TMP


# -- the seeds' providers (g4f 0.5.7.0) -------------------------------------------------


class Seeds:
    """g4f's DeepseekAI_JanusPro7b and Microsoft_Phi_4_Multimodal, pointed at the replica.
    Its Phi-4 text-only path fails (HTTP 500: it sends `files: null`), so its Phi-4 calls
    carry the small PNG."""

    name = "seeds (g4f)"

    def __init__(self, urls: dict[str, str]) -> None:
        from g4f.Provider.hf_space import DeepseekAI_JanusPro7b, Microsoft_Phi_4_Multimodal

        DeepseekAI_JanusPro7b.api_url = urls[JANUS]
        Microsoft_Phi_4_Multimodal.api_url = urls[PHI4]
        self.janus = DeepseekAI_JanusPro7b
        self.phi = Microsoft_Phi_4_Multimodal
        self.png = unique_png(0)

    async def _run(self, provider: Any, model: str, messages: list[dict[str, str]],
                   media: list[tuple[bytes, str]] | None) -> tuple[Any, float]:
        """The last answer chunk and the time of the first one."""
        from g4f.providers.response import JsonConversation, Reasoning

        first = None
        answer = None
        async for chunk in provider.create_async_generator(
            model, messages, media=media, api_key="bench", return_conversation=False
        ):
            if isinstance(chunk, (JsonConversation, Reasoning)):
                continue
            first = first or time.perf_counter()
            answer = chunk
        assert answer is not None
        return answer, first or time.perf_counter()

    async def ask(self, i: int) -> dict[str, float]:
        png = unique_png(i)
        t0 = time.perf_counter()
        await self._run(self.janus, "janus-pro-7b", [{"role": "user", "content": QUESTION}],
                        [(png, "image.png")])
        return {"total": time.perf_counter() - t0}

    async def stream(self, i: int) -> dict[str, float]:
        t0, c0 = time.perf_counter(), time.process_time()
        _, first = await self._run(self.phi, "phi-4-multimodal",
                                   [{"role": "user", "content": STORY}], [(self.png, "a.png")])
        total = time.perf_counter() - t0
        return {"ttft": first - t0, "total": total, "cpu": time.process_time() - c0,
                "events": 0}

    async def many(self, n: int) -> dict[str, float]:
        messages = [{"role": "user", "content": "hi"}]
        await asyncio.gather(*(
            self._run(self.phi, "phi-4-multimodal", messages, [(self.png, "a.png")])
            for _ in range(n)
        ))
        return {}

    async def t2i(self, i: int) -> dict[str, float]:
        t0 = time.perf_counter()
        await self._run(self.janus, "janus-pro-7b-image", [{"role": "user", "content": PROMPT}],
                        None)  # URLs only: the provider downloads no image
        return {"total": time.perf_counter() - t0}

    async def big(self, path: Path) -> dict[str, float]:
        t0 = time.perf_counter()
        data = path.read_bytes()  # noqa: ASYNC240 - it takes bytes only: part of its cost
        await self._run(self.janus, "janus-pro-7b", [{"role": "user", "content": QUESTION}],
                        [(data, path.name)])
        return {"total": time.perf_counter() - t0}

    async def chat(self, i: int) -> dict[str, float]:
        photo = photo_png(i)
        messages: list[dict[str, str]] = []
        t0 = time.perf_counter()
        for question in TURNS:
            messages.append({"role": "user", "content": question})
            answer, _ = await self._run(self.janus, "janus-pro-7b", messages,
                                        [(photo.read_bytes(), photo.name)])
            messages.append({"role": "assistant", "content": str(answer)})
        return {"total": time.perf_counter() - t0}

    async def first(self, i: int) -> dict[str, float]:
        times = []
        for k in range(4):
            png = unique_png(i * 10 + k)
            t0 = time.perf_counter()
            await self._run(self.janus, "janus-pro-7b", [{"role": "user", "content": QUESTION}],
                            [(png, "image.png")])
            times.append(time.perf_counter() - t0)
            await asyncio.sleep(0.05)
        return {"first": times[0], "later": sorted(times[1:])[1]}

    async def warm(self) -> None:
        await self.ask(999_999)
        await self.many(2)

    async def close(self) -> None:
        pass


# -- the floor --------------------------------------------------------------------------


class FloorClient:
    name = "floor"

    def __init__(self, urls: dict[str, str]) -> None:
        from floor import Floor

        self.urls = urls
        self.janus = Floor(urls[JANUS])
        self.phi = Floor(urls[PHI4])

    async def _ask(self, floor: Any, image: bytes | Path, question: str = QUESTION) -> str:
        fd = await floor.upload(image)
        outputs, _, _ = await floor.call("multimodal_understanding",
                                         [fd, question, 42, 0.95, 0.1])
        answer: str = outputs[0]
        return answer

    async def ask(self, i: int) -> dict[str, float]:
        png = unique_png(i)
        t0 = time.perf_counter()
        await self._ask(self.janus, png)
        return {"total": time.perf_counter() - t0}

    async def stream(self, i: int) -> dict[str, float]:
        t0, c0 = time.perf_counter(), time.process_time()
        _, first, events = await self.phi.call("chat", [history_gradio6(STORY), *CHAT_DEFAULTS])
        total = time.perf_counter() - t0
        return {"ttft": (first or t0) - t0, "total": total, "cpu": time.process_time() - c0,
                "events": events}

    async def many(self, n: int) -> dict[str, float]:
        await asyncio.gather(*(self.phi.call("chat", [history_gradio6("hi"), *CHAT_DEFAULTS])
                               for _ in range(n)))
        return {}

    async def t2i(self, i: int, download: str = "") -> dict[str, float]:
        from floor import gather_bytes

        t0 = time.perf_counter()
        outputs, _, _ = await self.janus.call("generate_image", [PROMPT, 12345, 5.0, 1.0])
        urls = [self.janus.file_url(item["image"]) for item in outputs[0]]
        if download:
            blobs = await gather_bytes(self.janus, urls, parallel=download == "parallel")
            assert all(blobs)
        return {"total": time.perf_counter() - t0}

    async def t2i_seq(self, i: int) -> dict[str, float]:
        return await self.t2i(i, "sequential")

    async def t2i_par(self, i: int) -> dict[str, float]:
        return await self.t2i(i, "parallel")

    async def big(self, path: Path) -> dict[str, float]:
        t0 = time.perf_counter()
        await self._ask(self.janus, path)
        return {"total": time.perf_counter() - t0}

    async def chat(self, i: int) -> dict[str, float]:
        photo = photo_png(i)
        history: list[str] = []
        t0 = time.perf_counter()
        for question in TURNS:
            folded = "\n".join([*history, f"User: {question}"])
            answer = await self._ask(self.janus, photo, folded)  # re-uploads every turn
            history += [f"User: {question}", f"Assistant: {answer}"]
        return {"total": time.perf_counter() - t0}

    async def first(self, i: int) -> dict[str, float]:
        from floor import Floor

        floor = await Floor(self.urls[JANUS]).open()
        times = []
        for k in range(4):
            png = unique_png(i * 10 + k)
            t0 = time.perf_counter()
            await self._ask(floor, png)
            times.append(time.perf_counter() - t0)
            await asyncio.sleep(0.05)
        await floor.close()
        return {"first": times[0], "later": sorted(times[1:])[1]}

    async def warm(self) -> None:
        await self.janus.open()
        await self.phi.open()
        await self.ask(999_999)
        await self.many(2)

    async def close(self) -> None:
        await self.janus.close()
        await self.phi.close()


CLIENTS: dict[str, type[Any]] = {
    "hfspaces": HfSpaces,
    "gradio_client": GradioClient,
    "seeds": Seeds,
    "floor": FloorClient,
}
