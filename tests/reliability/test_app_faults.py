"""Fault matrix, part 3: the Space answers, but with an error — app errors, hidden errors,
each ZeroGPU error, an expired ZeroGPU token, a config that changed under us, uploads
refused as too large, output files larger than the download cap.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from hfspaces import errors
from hfspaces.media import Media
from hfspaces.replica import JANUS_SPACE, PHI4_SPACE
from rel_support import (
    LeakGuard,
    chat_text,
    completed,
    fast_client,
    history,
    send_sse,
    until,
)


async def chat(client: Any) -> list[Any]:
    job = await client.submit("chat", history(), text_of=chat_text)
    return await job.result()


async def test_app_error_success_false(rep: Any, phi4_url: str) -> None:
    rep.configure(
        app_error=True,
        app_error_title="Invalid input",
        app_error_message='The prompt is <b>too long</b>. <a href="https://x.example">Help</a>',
    )
    client = fast_client(phi4_url, space_id=PHI4_SPACE)
    with pytest.raises(errors.AppError) as info:
        await chat(client)
    err = info.value
    assert type(err) is errors.AppError
    assert err.title == "Invalid input"
    assert "The prompt is too long. Help" in str(err)
    assert "<" not in str(err)  # HTML stripped
    assert rep.stats()["joins_total"] == 1  # an app error is not retried
    await client.aclose()


async def test_hidden_app_error(rep: Any, phi4_url: str) -> None:
    rep.configure(app_error=True, app_error_hidden=True, app_error_message="secret stack")
    client = fast_client(phi4_url, space_id=PHI4_SPACE)
    with pytest.raises(errors.AppError) as info:
        await chat(client)
    text = str(info.value)
    assert "hides its error messages" in text
    assert "secret stack" not in text
    await client.aclose()


async def test_quota_exceeded_with_wait(rep: Any, phi4_url: str) -> None:
    rep.configure(quota_error=True)
    client = fast_client(phi4_url, space_id=PHI4_SPACE)
    with pytest.raises(errors.GPUQuotaExceededError) as info:
        await chat(client)
    assert info.value.retry_after == timedelta(minutes=9, seconds=48)
    assert info.value.title == "ZeroGPU quota exceeded"
    assert rep.stats()["joins_total"] == 1  # not retried: the caller allowed no wait
    await client.aclose()


async def test_quota_wait_allowed_then_retried(fake_space: Any) -> None:
    """With `max_quota_wait`, a quota error whose wait fits is waited out and retried once."""
    space = await fake_space()
    streams = 0

    async def stream(request: web.Request) -> web.StreamResponse:
        nonlocal streams
        streams += 1
        if streams == 1:
            failure = {
                "msg": "process_completed",
                "event_id": "ev1",
                "success": False,
                "output": {
                    "error": "You have exceeded your free ZeroGPU quota (60s requested vs. 56s "
                    "left). Try again in 0:00:01.",
                    "title": "ZeroGPU quota exceeded",
                },
            }
            return await send_sse(request, failure)
        return await send_sse(request, completed(["after the wait"]))

    space.stream = stream
    client = fast_client(space.url, max_quota_wait=5)
    job = await client.submit("predict", ["x"])
    assert await job.result() == ["after the wait"]
    assert len(space.hits("/gradio_api/queue/join")) == 2
    await client.aclose()


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("gpu_limit", errors.GPUQuotaExceededError),
        ("queue_timeout", errors.GPUUnavailableError),
        ("worker_error", errors.GPUWorkerError),
        ("aborted", errors.GPUWorkerError),
        ("runs_limit", errors.GPUQuotaExceededError),
    ],
)
async def test_zerogpu_errors(rep: Any, phi4_url: str, kind: str, expected: type) -> None:
    rep.configure(gpu_error=kind)
    client = fast_client(phi4_url, space_id=PHI4_SPACE)
    with pytest.raises(expected) as info:
        await chat(client)
    assert isinstance(info.value, errors.AppError)
    assert info.value.title
    assert rep.stats()["joins_total"] == 1
    await client.aclose()


async def test_expired_zerogpu_token_refreshed_once_and_retried(rep: Any, phi4_url: str) -> None:
    rep.configure(gpu_error="expired_token", gpu_error_count=1)
    client = fast_client(
        phi4_url,
        space_id=PHI4_SPACE,
        hf_token="hf_reliability_user",
        hub_url=rep.hub_url,
        zerogpu_jwt=True,
    )
    outputs = await chat(client)
    assert chat_text(outputs)
    stats = rep.stats()
    assert stats["hub_jwt_issued"] == 2  # the first token, then one refresh
    assert stats["joins_total"] == 2
    await client.aclose()


async def test_expired_zerogpu_token_twice_is_an_error(rep: Any, phi4_url: str) -> None:
    rep.configure(gpu_error="expired_token")
    client = fast_client(
        phi4_url,
        space_id=PHI4_SPACE,
        hf_token="hf_reliability_user",
        hub_url=rep.hub_url,
        zerogpu_jwt=True,
    )
    with pytest.raises(errors.ZeroGPUTokenExpiredError):
        await chat(client)
    stats = rep.stats()
    assert stats["hub_jwt_issued"] == 2  # one refresh, no loop
    assert stats["joins_total"] == 2
    await client.aclose()


async def test_config_changed_fn_index_moved(rep: Any, phi4_url: str) -> None:
    client = fast_client(phi4_url, space_id=PHI4_SPACE)
    before = (await client.endpoint("chat")).fn_index
    rep.configure(config_changed=True)  # the Space now has two more hidden functions
    outputs = await chat(client)
    assert chat_text(outputs)
    after = (await client.endpoint("chat")).fn_index
    assert after == before + 2
    joins = rep.stats()["joins"][PHI4_SPACE]
    assert joins == {str(before): 1, str(after): 1}  # the stale join, then one after refresh
    await client.aclose()


async def test_upload_413_too_large(rep: Any, janus_url: str, png_bytes: bytes) -> None:
    rep.configure(upload_status=413)
    guard = LeakGuard()
    client = fast_client(janus_url, space_id=JANUS_SPACE)
    with pytest.raises(errors.UploadError) as info:
        await client.upload(Media.from_bytes(png_bytes))
    assert "too large" in str(info.value)
    assert "413" in str(info.value)
    assert rep.stats()["uploads_rejected"] == 1
    await guard.check(client)


async def test_output_file_over_download_cap(rep: Any, janus_url: str) -> None:
    guard = LeakGuard()
    client = fast_client(janus_url, space_id=JANUS_SPACE)
    job = await client.submit("generate_image", ["a red fox", 7, 5, 1.0])
    gallery = (await job.result())[0]
    image = gallery[0]["image"]
    data = await client.download(image)  # under the default cap: fine
    assert data[:4] == b"RIFF" or data[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(errors.DownloadError) as info:
        await client.download(image, max_bytes=len(data) - 1)
    assert "cap" in str(info.value)
    await guard.check(client)


async def test_huge_streamed_output_file_stops_at_cap(fake_space: Any) -> None:
    """No Content-Length (chunked) and far more data than the cap: stopped at the cap."""
    space = await fake_space()
    sent = 0
    ended = False

    async def huge(request: web.Request) -> web.StreamResponse:
        nonlocal sent, ended
        resp = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await resp.prepare(request)
        chunk = b"\0" * (1 << 20)
        try:
            for _ in range(256):  # up to 256 MiB, bounded
                await resp.write(chunk)
                sent += len(chunk)
        except (ConnectionError, RuntimeError):
            pass
        finally:
            ended = True
        return resp

    space.routes["/gradio_api/file=big.bin"] = huge
    guard = LeakGuard()
    client = fast_client(space.url)
    await client.config()
    with pytest.raises(errors.DownloadError) as info:
        await client.download(
            {"path": "big.bin", "meta": {"_type": "gradio.FileData"}}, max_bytes=2 << 20
        )
    assert "cap" in str(info.value)
    await until(lambda: ended, "the server to see the download abandoned")
    assert sent < 256 << 20
    await guard.check(client)


async def test_declared_content_length_over_cap(fake_space: Any) -> None:
    space = await fake_space()

    async def big(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"x" * 5000, content_type="image/png")

    space.routes["/gradio_api/file=big.png"] = big
    client = fast_client(space.url)
    with pytest.raises(errors.DownloadError) as info:
        await client.download({"path": "big.png"}, max_bytes=1000)
    assert "5000 bytes" in str(info.value)
    await client.aclose()


async def test_output_file_cut_mid_download_is_download_error(fake_space: Any) -> None:
    """The server declares a length, sends part of it and drops the connection: a typed
    `DownloadError`, not aiohttp's `ClientPayloadError`."""

    async def cut(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "image/png"})
        resp.content_length = 100_000
        await resp.prepare(request)
        await resp.write(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
        assert request.transport is not None
        request.transport.close()
        return resp

    space = await fake_space(routes={"/gradio_api/file=out.png": cut})
    client = fast_client(space.url)
    try:
        with pytest.raises(errors.DownloadError, match="cut"):
            await client.download({"path": "out.png"})
    finally:
        await client.aclose()
