"""Parity: the official `gradio_client.Client` and hfspaces call every replica endpoint
with the same inputs and get equivalent outputs (the replica is deterministic). The
official client is synchronous: it runs in a worker thread."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from hfspaces import Media, SpaceClient
from hfspaces.spaces.phi4 import answer_text

gradio_client = pytest.importorskip("gradio_client")


def official(url: str, tmp: Path) -> Any:
    return gradio_client.Client(url, verbose=False, download_files=str(tmp))


async def test_janus_understanding(
    fresh_replica: Any, janus_url: str, png_bytes: bytes, tmp_path: Path
) -> None:
    image = tmp_path / "in.png"
    image.write_bytes(png_bytes)

    def theirs() -> Any:
        c = official(janus_url, tmp_path)
        return c.predict(
            gradio_client.handle_file(str(image)),
            "What is it?",
            42,
            0.95,
            0.1,
            api_name="/multimodal_understanding",
        )

    expected = await asyncio.to_thread(theirs)
    async with SpaceClient(janus_url) as client:
        fd = await client.upload(Media.of(image))
        ours = await client.run("multimodal_understanding", [fd, "What is it?", 42, 0.95, 0.1])
    assert ours == [expected]
    assert "32×24" in expected


async def test_janus_generate_image(fresh_replica: Any, janus_url: str, tmp_path: Path) -> None:
    def theirs() -> list[bytes]:
        gallery = official(janus_url, tmp_path).predict(
            "a green hill", 5, 5.0, 1.0, api_name="/generate_image"
        )
        return [Path(item["image"]).read_bytes() for item in gallery]

    their_bytes = await asyncio.to_thread(theirs)
    assert len(their_bytes) == 5
    async with SpaceClient(janus_url) as client:
        (gallery,) = await client.run("generate_image", ["a green hill", 5, 5.0, 1.0])
        ours = await asyncio.gather(*(client.download(item["image"]) for item in gallery))
    assert ours == their_bytes


async def test_phi4_add_message_and_chat(fresh_replica: Any, phi4_url: str, tmp_path: Path) -> None:
    message = {"text": "hello parity", "files": []}

    def theirs() -> tuple[Any, Any]:
        c = official(phi4_url, tmp_path)
        added = c.predict([], message, None, api_name="/add_message")
        history = added[0]
        return added, c.predict(history, api_name="/chat")

    their_added, their_chat = await asyncio.to_thread(theirs)
    async with SpaceClient(phi4_url) as client:
        ours_added = await client.run("add_message", [[], message, None])
        job = await client.submit("chat", [ours_added[0]], text_of=answer_text)
        ours_chat = await job.result()
    assert _texts(ours_added[0]) == _texts(their_added[0])
    assert answer_text(ours_chat) == answer_text([their_chat])
    assert 'said: "hello parity"' in (answer_text(ours_chat) or "")


def _texts(history: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    out = []
    for m in history:
        content = m["content"]
        parts = content if isinstance(content, list) else [content]
        out.append((m["role"], [p.get("text") if isinstance(p, dict) else p for p in parts]))
    return out


async def test_same_endpoints_visible(fresh_replica: Any, janus_url: str, phi4_url: str) -> None:
    for url in (janus_url, phi4_url):
        info = await asyncio.to_thread(
            lambda u=url: official(u, Path("/tmp")).view_api(print_info=False, return_format="dict")
        )
        theirs = {name.lstrip("/") for name in info["named_endpoints"]}
        async with SpaceClient(url) as client:
            ours = set((await client.config()).api_names)
        assert theirs <= ours
