"""`SpaceClient` against the replica over loopback: targets, discovery, endpoints, config
refresh, uploads (streamed, deduplicated), output files and downloads, sessions."""

from __future__ import annotations

import asyncio
import tracemalloc
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from _support import RequestLog
from hfspaces import Media, SpaceClient, errors
from hfspaces.replica import JANUS_SPACE

# -- targets (no network) ----------------------------------------------------------------


def test_space_id_target_and_no_network_in_constructor() -> None:
    client = SpaceClient("deepseek-ai/Janus-Pro-7B")
    assert client.base_url == "https://deepseek-ai-janus-pro-7b.hf.space"
    assert client.space_id == "deepseek-ai/Janus-Pro-7B"
    assert client.transport._session is None  # nothing opened yet


@pytest.mark.parametrize(
    ("target", "base"),
    [
        ("http://127.0.0.1:7860/", "http://127.0.0.1:7860"),
        ("https://proxy.example/apps/janus/", "https://proxy.example/apps/janus"),
        ("  http://host:1/x  ", "http://host:1/x"),
    ],
)
def test_url_targets(target: str, base: str) -> None:
    client = SpaceClient(target)
    assert client.base_url == base and client.space_id is None


@pytest.mark.parametrize("bad", ["ftp://host/x", "localhost:7860", "just-a-name", "http://"])
def test_bad_targets(bad: str) -> None:
    with pytest.raises(errors.InvalidInputError):
        SpaceClient(bad)


def test_bad_space_id_for_url_target() -> None:
    with pytest.raises(errors.InvalidInputError):
        SpaceClient("http://127.0.0.1:1", space_id="not-an-id")


# -- discovery -------------------------------------------------------------------------------


async def test_config_fetched_once_and_cached(
    fresh_replica: Any, janus_url: str, traced: tuple[aiohttp.ClientSession, RequestLog]
) -> None:
    session, log = traced
    client = SpaceClient(janus_url, session=session)
    first, *rest = await asyncio.gather(*(client.config() for _ in range(5)))
    assert all(c is first for c in rest)
    await client.endpoint("multimodal_understanding")
    await client.endpoint("/generate_image")
    await client.config()
    assert log.count("GET", "/config") == 1
    assert first.version.startswith(("5.", "6.")) and first.protocol == "sse_v3"
    assert first.api_prefix == "/gradio_api"
    await client.config(refresh=True)
    assert log.count("GET", "/config") == 2
    await client.aclose()
    assert not session.closed  # a session passed in belongs to the caller


async def test_endpoints_by_name_index_and_fallback(fresh_replica: Any, janus_url: str) -> None:
    async with SpaceClient(janus_url) as client:
        und = await client.endpoint("multimodal_understanding")
        assert (und.fn_index, und.queued, und.generator) == (2, True, False)
        assert await client.endpoint("/multimodal_understanding") == und
        assert await client.endpoint(2) == und
        gen = await client.endpoint("generate_image")
        assert gen.fn_index == 3 and gen.trigger_id is not None
        # Unknown name, known index: the fallback resolves it.
        assert await client.endpoint("renamed_endpoint", fallback=3) == gen


async def test_unknown_endpoint_lists_available(fresh_replica: Any, janus_url: str) -> None:
    async with SpaceClient(janus_url) as client:
        with pytest.raises(errors.EndpointNotFoundError) as info:
            await client.endpoint("nope")
    err = info.value
    assert "multimodal_understanding" in err.available and "generate_image" in err.available
    assert "/multimodal_understanding" in str(err) and "/generate_image" in str(err)


async def test_not_a_gradio_app(replica: Any) -> None:
    # The replica's root answers JSON that is not a Gradio config.
    async with SpaceClient(replica.base_url + "/_replica/stats") as client:
        with pytest.raises(errors.ServerError) as info:
            await client.config()
    assert info.value.status == 404


async def test_fn_index_moved_refreshes_config_once(
    fresh_replica: Any,
    janus_url: str,
    png_bytes: bytes,
    traced: tuple[aiohttp.ClientSession, RequestLog],
) -> None:
    session, log = traced
    client = SpaceClient(janus_url, session=session)
    old = await client.endpoint("multimodal_understanding")
    image = await client.upload(Media.of(png_bytes))
    fresh_replica.configure(config_changed=True)  # the Space gained events: indexes moved
    job = await client.submit("multimodal_understanding", [image, "what?", 42, 0.95, 0.1])
    outputs = await job.result()
    assert "You asked: what?" in outputs[0]
    assert job.endpoint.fn_index != old.fn_index
    joins = fresh_replica.stats()["joins"][JANUS_SPACE]
    assert joins == {str(old.fn_index): 1, str(job.endpoint.fn_index): 1}
    assert log.count("GET", "/config") == 2  # the original, then one refresh
    await client.aclose()


async def test_fn_index_moved_without_name_is_not_retried(
    fresh_replica: Any, janus_url: str, png_bytes: bytes
) -> None:
    async with SpaceClient(janus_url) as client:
        ep = await client.endpoint("generate_image")
        fresh_replica.configure(config_changed=True)
        with pytest.raises(errors.ServerError) as info:
            await client.submit(ep, ["x", 1, 5.0, 1.0])  # an Endpoint: no name to re-resolve
    assert info.value.status == 500
    assert fresh_replica.stats()["joins_total"] == 1


# -- uploads -------------------------------------------------------------------------------


async def test_upload_deduplicated_by_content(
    fresh_replica: Any, janus_url: str, png_bytes: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "picture.bin"
    path.write_bytes(png_bytes)
    async with SpaceClient(janus_url) as client:
        results = await asyncio.gather(
            client.upload(Media.of(png_bytes)),
            client.upload(Media.of(png_bytes)),
            client.upload(Media.of(path)),
        )
        again = await client.upload(Media.of(bytearray(png_bytes)))
    stats = fresh_replica.stats()
    assert stats["uploads"] == 1 and stats["upload_bytes"] > len(png_bytes)
    paths = {r["path"] for r in (*results, again)}
    assert len(paths) == 1
    fd = results[0]
    assert fd["meta"] == {"_type": "gradio.FileData"} and fd["mime_type"] == "image/png"
    assert fd["size"] == len(png_bytes)
    results[0]["path"] = "mutated"  # callers get copies, the cache is not affected
    async with SpaceClient(janus_url) as other:  # another client uploads again
        await other.upload(Media.of(png_bytes))
    assert fresh_replica.stats()["uploads"] == 2


async def test_upload_streams_a_large_file_from_disk(
    fresh_replica: Any, janus_url: str, tmp_path: Path, png_bytes: bytes
) -> None:
    size = 24 * 1024 * 1024
    path = tmp_path / "large.png"
    with path.open("wb") as fh:  # a PNG header, then filler
        fh.write(png_bytes)
        fh.write(b"\0" * (size - len(png_bytes)))
    media = Media.of(path)
    async with SpaceClient(janus_url) as client:
        await client.config()
        media.digest()
        tracemalloc.start()
        try:
            fd = await client.upload(media)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert fd["size"] == size
    assert fresh_replica.stats()["upload_bytes"] >= size
    assert peak < size // 4, f"upload peaked at {peak} bytes of Python memory"


async def test_upload_refused_is_upload_error(
    fresh_replica: Any, janus_url: str, png_bytes: bytes
) -> None:
    fresh_replica.configure(upload_status=413, upload_fail_count=1)
    async with SpaceClient(janus_url) as client:
        with pytest.raises(errors.UploadError, match="too large"):
            await client.upload(Media.of(png_bytes))
        # A failed upload is not cached: the next attempt uploads.
        fd = await client.upload(Media.of(png_bytes))
    assert fd["path"]
    assert fresh_replica.stats()["uploads"] == 1


async def test_url_media_not_uploaded(fresh_replica: Any, janus_url: str) -> None:
    async with SpaceClient(janus_url) as client:
        fd = await client.upload(Media.of("https://example.org/cat.png"))
    assert fd["path"] == "https://example.org/cat.png"
    assert fresh_replica.stats()["uploads"] == 0


# -- output files ------------------------------------------------------------------------------


async def gallery(client: SpaceClient) -> list[dict[str, Any]]:
    outputs = await client.run("generate_image", ["a red fox", 7, 5.0, 1.0])
    items = outputs[0]
    assert isinstance(items, list) and len(items) == 5
    return [item["image"] for item in items]


async def test_gallery_download_and_cap(fresh_replica: Any, janus_url: str) -> None:
    async with SpaceClient(janus_url) as client:
        files = await gallery(client)
        blobs = await asyncio.gather(*(client.download(f) for f in files))
        assert all(b[:4] == b"RIFF" and b[8:12] == b"WEBP" for b in blobs)
        assert len(set(blobs)) == 5  # five different images
        url = client.file_url(files[0])
        assert url.startswith(janus_url + "/gradio_api/file=")
        with pytest.raises(errors.DownloadError, match="cap"):
            await client.download(files[0], max_bytes=len(blobs[0]) - 1)
        assert await client.download(files[0], max_bytes=len(blobs[0])) == blobs[0]
        # Same prompt and seed: the same bytes (the replica draws deterministically).
        again = await gallery(client)
        assert await client.download(again[0]) == blobs[0]


async def test_download_missing_file(fresh_replica: Any, janus_url: str) -> None:
    async with SpaceClient(janus_url) as client:
        await client.config()
        with pytest.raises(errors.DownloadError):
            await client.download({"path": "/nonexistent/file.webp"})


def test_file_url_resolution() -> None:
    client = SpaceClient("http://127.0.0.1:9/prefix", file_origins=["https://cdn"])
    assert client.file_url({"path": "/tmp/a b.png"}) == (
        "http://127.0.0.1:9/prefix/gradio_api/file=/tmp/a%20b.png"
    )
    assert client.file_url({"path": "https://cdn/x.png"}) == "https://cdn/x.png"
    assert client.file_url({"path": "", "url": "https://cdn/y.png"}) == "https://cdn/y.png"
    # Other origins only when allowed (the rest: tests/reliability/test_hostile_answers.py).
    with pytest.raises(errors.DownloadError):
        SpaceClient("http://127.0.0.1:9/prefix").file_url({"path": "https://cdn/x.png"})
    with pytest.raises(errors.ProtocolError):
        client.file_url({"nothing": 1})


# -- session lifecycle ------------------------------------------------------------------------


async def test_owned_session_closed_by_aclose(fresh_replica: Any, janus_url: str) -> None:
    client = SpaceClient(janus_url)
    await client.config()
    session = client.transport.session
    await client.aclose()
    assert session.closed
    assert "anonymous" in repr(client)


async def test_run_on_unqueued_endpoint_uses_predict(fresh_replica: Any, phi4_url: str) -> None:
    async with SpaceClient(phi4_url) as client:
        outputs = await client.run("add_message", [[], {"text": "hi", "files": []}, None])
    assert outputs[0][-1]["role"] == "user"
    stats = fresh_replica.stats()
    assert stats["predicts_total"] == 1 and stats["joins_total"] == 0
