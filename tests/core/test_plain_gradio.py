"""hfspaces calls a plain Gradio app it was never written for, by api_name: a text
generator, a plain function, an unqueued function, a file input and output, gr.Info logs,
gr.Progress, and a queue with real waiting (concurrency 1). Started in this module."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from _support import closed_port
from hfspaces import (
    Completed,
    Log,
    Media,
    Partial,
    Progress,
    Queued,
    SpaceClient,
    Started,
    TextDelta,
    errors,
)


def build_app() -> gr.Blocks:
    def stream_words(text: str, count: float) -> Iterator[str]:
        out = ""
        for i in range(int(count)):
            out += ("" if i == 0 else " ") + f"{text}{i}"
            time.sleep(0.01)
            yield out

    def shout(text: str) -> str:
        if text == "fail":
            raise gr.Error("You asked it to <b>fail</b>", title="Refused")
        return text.upper() + "!"

    def add(a: float, b: float) -> float:
        if a < 0:
            raise gr.Error("negative numbers are not allowed", title="Bad number")
        return a + b

    def describe_file(path: str) -> tuple[str, str]:
        return f"{os.path.basename(path)}: {os.path.getsize(path)} bytes", path

    def slow(seconds: float, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        gr.Info("starting the slow job")
        steps = 4
        for i in range(steps):
            progress((i, steps), desc="working")
            time.sleep(seconds / steps)
        gr.Warning("almost done")
        return "slow done"

    with gr.Blocks(analytics_enabled=False) as demo:
        text, count, out = gr.Textbox(), gr.Number(), gr.Textbox()
        a, b, total = gr.Number(), gr.Number(), gr.Number()
        file_in, file_desc, file_out = gr.File(type="filepath"), gr.Textbox(), gr.File()
        secs, slow_out = gr.Number(), gr.Textbox()
        btn = gr.Button()
        btn.click(stream_words, [text, count], out, api_name="stream_words")
        btn.click(shout, text, out, api_name="shout")
        btn.click(add, [a, b], total, api_name="add", queue=False)
        btn.click(describe_file, file_in, [file_desc, file_out], api_name="describe_file")
        btn.click(slow, secs, slow_out, api_name="slow", concurrency_limit=1)
    return demo


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    demo = build_app()
    port = closed_port()
    demo.queue().launch(
        prevent_thread_lock=True,
        server_name="127.0.0.1",
        server_port=port,
        show_error=True,
        quiet=True,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        demo.close()


@pytest.fixture
async def client(app_url: str) -> AsyncIterator[SpaceClient]:
    async with SpaceClient(app_url) as c:
        yield c


async def test_discovers_every_named_endpoint(client: SpaceClient) -> None:
    config = await client.config()
    names = set(config.api_names)
    assert {"stream_words", "shout", "add", "describe_file", "slow"} <= names
    assert (await client.endpoint("stream_words")).generator
    assert not (await client.endpoint("add")).queued


async def test_text_generator_streams_deltas(client: SpaceClient) -> None:
    job = await client.submit("stream_words", ["w", 6])
    events = [e async for e in job]
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    final = events[-1]
    assert isinstance(final, Completed)
    assert final.outputs == ["w0 w1 w2 w3 w4 w5"]
    assert "".join(deltas) == final.outputs[0] and len(deltas) >= 2
    assert next(p.outputs[0] for p in events if isinstance(p, Partial)) == "w0"


async def test_plain_function(client: SpaceClient) -> None:
    assert await client.run("shout", ["hey"]) == ["HEY!"]
    assert await client.run("/shout", ["you"]) == ["YOU!"]


async def test_plain_function_error(client: SpaceClient) -> None:
    with pytest.raises(errors.AppError) as info:
        await client.run("shout", ["fail"])
    assert info.value.title == "Refused"
    assert "You asked it to fail" in str(info.value)


async def test_unqueued_function(client: SpaceClient) -> None:
    assert await client.run("add", [2, 3.5]) == [5.5]
    assert await client.predict("add", [1, 1]) == [2]
    with pytest.raises(errors.AppError) as info:
        await client.run("add", [-1, 1])
    assert info.value.title == "Bad number" and "negative numbers" in str(info.value)


async def test_file_in_and_out(client: SpaceClient, tmp_path: Path, png_bytes: bytes) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(png_bytes)
    fd = await client.upload(Media.of(path))
    desc, out_file = await client.run("describe_file", [fd])
    assert desc == f"photo.png: {len(png_bytes)} bytes"
    assert await client.download(out_file) == png_bytes


async def test_logs_progress_and_queue(client: SpaceClient) -> None:
    jobs = [await client.submit("slow", [0.4]) for _ in range(3)]
    streams = await asyncio.gather(*(_collect(j) for j in jobs))
    for events in streams:
        assert isinstance(events[-1], Completed) and events[-1].outputs == ["slow done"]
        logs = [e for e in events if isinstance(e, Log)]
        assert [(log.level, log.message) for log in logs] == [
            ("info", "starting the slow job"),
            ("warning", "almost done"),
        ]
        assert any(isinstance(e, Progress) and e.desc == "working" for e in events)
        assert any(isinstance(e, Started) for e in events)
    ranks = [e.rank for events in streams for e in events if isinstance(e, Queued)]
    assert max(r for r in ranks if r is not None) >= 1  # someone really waited in line


async def _collect(job: Any) -> list[Any]:
    return [e async for e in job]


async def test_cancel_a_plain_generator(client: SpaceClient) -> None:
    job = await client.submit("stream_words", ["x", 2000])
    async for event in job:
        if isinstance(event, TextDelta):
            break
    with pytest.raises(errors.CancelledJobError):
        await job.result()
