"""The replica over loopback: gradio_client, the seeds' raw request shapes, faults, hub, quota."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
from hfspaces.replica import JANUS_SPACE, PHI4_SPACE
from hfspaces.replica.samples import sample_image_path, sample_wav_path
from replica_wire import (
    TEXT_TAIL,
    chat_inputs,
    completed,
    file_message,
    join,
    message_text,
    new_session,
    read_events,
    run_job,
    text_message,
    upload,
)


async def _janus_understand(
    http: aiohttp.ClientSession, rep: Any, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    base = rep.url_for(JANUS_SPACE)
    image = await upload(http, base, str(sample_image_path()), "image/png")
    msgs = await run_job(http, base, 2, [image, "what is this?", 42, 0.95, 0.1], 10, headers)
    return completed(msgs)


# -- discovery and gradio_client ----------------------------------------------------------
def test_config_fn_indexes_and_trigger_ids(rep: Any) -> None:
    import urllib.request

    def config(space: str) -> dict[str, Any]:
        with urllib.request.urlopen(rep.url_for(space) + "/config") as resp:
            return json.load(resp)

    janus = {d["id"]: d for d in config(JANUS_SPACE)["dependencies"]}
    assert janus[2]["api_name"] == "multimodal_understanding" and janus[2]["queue"]
    assert janus[3]["api_name"] == "generate_image" and not janus[2]["types"]["generator"]
    assert janus[2]["targets"][0][0] == 10 and janus[3]["targets"][0][0] == 20
    assert not janus[0]["queue"] and not janus[1]["queue"]
    phi = {d["id"]: d for d in config(PHI4_SPACE)["dependencies"]}
    assert phi[10]["api_name"] == "add_message" and not phi[10]["queue"]
    assert phi[10]["targets"][0][0] == 8
    assert phi[11]["api_name"] == "chat" and phi[11]["types"]["generator"]


def test_gradio_client_calls_every_endpoint(rep: Any) -> None:
    from gradio_client import Client, handle_file

    janus = Client(rep.url_for(JANUS_SPACE), verbose=False)
    answer = janus.predict(
        handle_file(str(sample_image_path())),
        "what is it?",
        42,
        0.95,
        0.1,
        api_name="/multimodal_understanding",
    )
    assert answer == "This is a 64×48 image, mostly red and white. You asked: what is it?"
    gallery = janus.predict("a cat", 12345, 5, 1.0, api_name="/generate_image")
    assert len(gallery) == 5 and all(item["image"] for item in gallery)
    phi = Client(rep.url_for(PHI4_SPACE), verbose=False)
    message = {"text": "hello", "files": [handle_file(str(sample_image_path()))]}
    history, _, _ = phi.predict([], message, None, api_name="/add_message")
    assert [m["role"] for m in history] == ["user", "user"]
    # gradio_client fills chat's sampling inputs from their declared defaults. (The history
    # it returned holds downloaded local paths, which a strict Chatbot refuses as input.)
    final = phi.predict([text_message("hello")], api_name="/chat")
    assert final[-1]["role"] == "assistant"
    assert message_text(final[-1]) == 'Turn 1. You said: "hello".'


# -- the seeds' raw request shapes ----------------------------------------------------------
async def test_janus_understanding_raw_not_streamed(rep: Any, http: aiohttp.ClientSession) -> None:
    done = await _janus_understand(http, rep, {"x-zerogpu-uuid": "u-raw"})
    assert done["success"]
    assert done["output"]["data"] == [
        "This is a 64×48 image, mostly red and white. You asked: what is this?"
    ]
    assert rep.stats()["joins"][JANUS_SPACE] == {"2": 1}


async def test_janus_null_image_is_a_worker_error(rep: Any, http: aiohttp.ClientSession) -> None:
    msgs = await run_job(http, rep.url_for(JANUS_SPACE), 2, [None, "hi", 42, 0.95, 0.1], 10)
    out = completed(msgs)["output"]
    assert out["title"] == "ZeroGPU worker error" and out["error"] == "AttributeError"


async def test_generate_image_is_deterministic_and_downloadable(
    rep: Any, http: aiohttp.ClientSession
) -> None:
    base = rep.url_for(JANUS_SPACE)
    rep.configure(step_latency=0.1)  # slow enough for gradio to report progress, if any
    payloads = []
    for _ in range(2):
        msgs = await run_job(http, base, 3, ["a red fox", 7, 5, 1.0], 20)
        assert not any(m["msg"] == "progress" for m in msgs)  # the real app has no gr.Progress
        gallery = completed(msgs)["output"]["data"][0]
        assert len(gallery) == 5
        blobs = []
        for item in gallery:
            async with http.get(item["image"]["url"]) as resp:
                assert resp.status == 200
                blobs.append(await resp.read())
        payloads.append(blobs)
    assert payloads[0] == payloads[1] and len(set(payloads[0])) == 5
    from io import BytesIO

    from PIL import Image

    assert Image.open(BytesIO(payloads[0][0])).size == (64, 64)


async def test_phi4_add_message_and_append_diffs(rep: Any, http: aiohttp.ClientSession) -> None:
    base = rep.url_for(PHI4_SPACE)
    rep.configure(token_delay=0.001)
    image = await upload(http, base, str(sample_image_path()), "image/png")
    clip = await upload(http, base, str(sample_wav_path()), "audio/wav")
    session_hash = new_session()
    body = {
        "data": [[], {"text": "describe", "files": [image, clip]}, None],
        "event_data": None,
        "fn_index": 10,
        "trigger_id": 8,
        "session_hash": session_hash,
    }
    async with http.post(f"{base}/gradio_api/run/predict", json=body) as resp:
        assert resp.status == 200, await resp.text()
        assert len((await resp.json())["data"][0]) == 3
    history = [text_message("describe"), file_message(image), file_message(clip)]
    msgs = await run_job(http, base, 11, chat_inputs(history), None)
    generating = [m for m in msgs if m["msg"] == "process_generating"]
    assert len(generating) > 3
    diffs = generating[1]["output"]["data"][0]
    assert diffs[0][0] == "append" and diffs[0][1] == [3, *TEXT_TAIL]
    text = message_text(completed(msgs)["output"]["data"][0][-1])
    assert text.startswith('Turn 1. You said: "describe".')
    assert "64×48" in text and "0.50 seconds" in text
    assert rep.stats()["predicts"][PHI4_SPACE] == {"10": 1}


async def test_phi4_counts_turns(rep: Any, http: aiohttp.ClientSession) -> None:
    history = [text_message("one"), text_message("ok", "assistant"), text_message("two")]
    rep.configure(answer_words=200, phi4_stream=False)
    msgs = await run_job(http, rep.url_for(PHI4_SPACE), 11, chat_inputs(history))
    assert [m["msg"] for m in msgs].count("process_generating") == 1
    text = message_text(completed(msgs)["output"]["data"][0][-1])
    assert text.startswith('Turn 2. You said: "two".') and len(text.split()) == 200


async def test_upload_dedupe_visible_in_stats(rep: Any, http: aiohttp.ClientSession) -> None:
    base = rep.url_for(JANUS_SPACE)
    a = await upload(http, base, str(sample_image_path()), "image/png")
    b = await upload(http, base, str(sample_image_path()), "image/png")
    stats = rep.stats()
    assert a["path"] == b["path"] and stats["uploads"] == 2 and stats["upload_bytes"] > 0


# -- cancellation ----------------------------------------------------------------------------
async def test_cancel_stops_the_phi4_generator(rep: Any, http: aiohttp.ClientSession) -> None:
    base = rep.url_for(PHI4_SPACE)
    rep.configure(token_delay=0.02, answer_words=200)
    session_hash = new_session()
    resp = await join(http, base, 11, chat_inputs([text_message("long")]), session_hash)
    event_id = (await resp.json())["event_id"]
    seen = []
    async with http.get(
        f"{base}/gradio_api/queue/data", params={"session_hash": session_hash}
    ) as stream:
        async for msg in read_events(stream):
            seen.append(msg["msg"])
            if seen.count("process_generating") == 3:
                await http.post(
                    f"{base}/gradio_api/cancel",
                    json={"session_hash": session_hash, "fn_index": 11, "event_id": event_id},
                )
            if msg["msg"] == "process_completed":
                assert msg["output"] == {} or not msg["success"]
                break
    for _ in range(100):
        if rep.stats()["generator_stopped_early"]:
            break
        await asyncio.sleep(0.05)
    stats = rep.stats()
    assert stats["generator_stopped_early"] == 1 and stats["cancels"] >= 1
    assert stats["jobs_cancelled"] == 1 and stats["running"] == 0


async def test_dropping_the_stream_stops_the_generator(
    rep: Any, http: aiohttp.ClientSession
) -> None:
    base = rep.url_for(PHI4_SPACE)
    rep.configure(token_delay=0.02, answer_words=200)
    session_hash = new_session()
    await join(http, base, 11, chat_inputs([text_message("long")]), session_hash)
    generating = 0
    async with http.get(
        f"{base}/gradio_api/queue/data", params={"session_hash": session_hash}
    ) as stream:
        async for msg in read_events(stream):
            generating += msg["msg"] == "process_generating"
            if generating == 3:
                stream.close()  # drop the connection mid-answer
                break
    for _ in range(100):
        if rep.stats()["generator_stopped_early"]:
            break
        await asyncio.sleep(0.05)
    assert rep.stats()["generator_stopped_early"] == 1


# -- hub, identity, quota --------------------------------------------------------------------
async def test_hub_jwt_identity_and_expiry(rep: Any, http: aiohttp.ClientSession) -> None:
    url = f"{rep.hub_url}/api/spaces/{JANUS_SPACE}/jwt"
    assert rep.hub_url.split("//")[1].split(":")[0] != rep.base_url.split("//")[1].split(":")[0]
    async with http.get(url) as resp:
        assert resp.status == 401
    async with http.get(url, headers={"Authorization": "Bearer hf_invalid"}) as resp:
        assert resp.status == 401 and "error" in await resp.json()
    async with http.get(
        url, headers={"Authorization": "Bearer hf_alice"}, params={"include_pro_status": "true"}
    ) as resp:
        token = (await resp.json())["token"]
    done = await _janus_understand(http, rep, {"x-zerogpu-token": token})
    assert done["success"]
    call = rep.stats()["calls"][-1]
    assert call["identity"].startswith("user:user-") and call["token_status"] == "valid"
    # The proxy stand-in passed the Hub-issued JWT on as X-IP-Token, and only that.
    assert call["headers"]["x-ip-token"] == token and "x-zerogpu-token" not in call["headers"]
    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()
    async with http.get(
        url, headers={"Authorization": "Bearer hf_alice"}, params={"expiration": past}
    ) as resp:
        old = (await resp.json())["token"]
    out = (await _janus_understand(http, rep, {"x-zerogpu-token": old}))["output"]
    assert (out["title"], out["error"]) == ("ZeroGPU client error", "Expired ZeroGPU proxy token")


async def test_quota_exceeded_anonymous_keyed_by_ip(rep: Any, http: aiohttp.ClientSession) -> None:
    rep.configure(quota_seconds_anonymous=150)
    assert (await _janus_understand(http, rep))["success"]
    out = (await _janus_understand(http, rep))["output"]
    assert out["title"] == "ZeroGPU quota exceeded"
    assert out["error"].startswith(
        "You have exceeded your ZeroGPU quota (120s requested vs. 30s left). Try again in "
    )
    assert out["error"].endswith(
        ". Authenticate with a Hugging Face token for more quota - "
        "https://huggingface.co/settings/tokens"
    )
    # Another client address is another anonymous caller, with its own quota.
    other = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=other) as http2:
        assert (await _janus_understand(http2, rep))["success"]
    assert rep.stats()["quota_used"] == {"anon:127.0.0.1": 120.0, "anon:127.0.0.2": 120.0}
    rep.configure(quota_enforced=False)
    assert (await _janus_understand(http, rep))["success"]


# -- faults ------------------------------------------------------------------------------------
async def test_join_status_faults(rep: Any, http: aiohttp.ClientSession) -> None:
    base = rep.url_for(PHI4_SPACE)
    data = chat_inputs([text_message("x")])
    rep.configure(join_status=503, join_fail_count=1)
    resp = await join(http, base, 11, data, new_session())
    assert resp.status == 503 and "Queue is full" in (await resp.json())["detail"]
    rep.configure(join_status=429, join_fail_count=1, retry_after=3)
    resp = await join(http, base, 11, data, new_session())
    assert resp.status == 429 and resp.headers["Retry-After"] == "3"
    rep.configure(join_status=502, join_fail_count=1)
    assert (await join(http, base, 11, data, new_session())).status == 502
    assert (await join(http, base, 11, data, new_session())).status == 200
    assert rep.stats()["joins_rejected"] == 3


async def test_join_fail_rate_is_reproducible(
    lenient: Any, http: aiohttp.ClientSession
) -> None:
    # Ten joins at once: only without ZeroGPU's one slot are all 503s the injected ones.
    rep = lenient
    base = rep.url_for(JANUS_SPACE)
    runs = []
    for _ in range(2):
        rep.reset()
        rep.configure(join_fail_rate=0.3, fault_seed=5)
        statuses = []
        for _ in range(10):
            resp = await join(http, base, 3, ["x", 1, 5, 1.0], new_session())
            statuses.append(resp.status)
        runs.append(statuses)
    assert runs[0] == runs[1] and 503 in runs[0]


async def test_app_and_quota_errors(rep: Any, http: aiohttp.ClientSession) -> None:
    # Aimed at one function: jobs left queued by other tests must not take the fault.
    fn = "multimodal_understanding"
    rep.configure(
        app_error=1, app_error_title="Boom", app_error_message="it broke", app_error_fn=fn
    )
    out = (await _janus_understand(http, rep))["output"]
    assert (out["title"], out["error"]) == ("Boom", "it broke")
    rep.configure(app_error=1, app_error_hidden=True, app_error_fn=fn)
    assert (await _janus_understand(http, rep))["output"]["error"] is None
    rep.configure(quota_error=1, quota_error_fn=fn)
    out = (await _janus_understand(http, rep))["output"]
    assert out["title"] == "ZeroGPU quota exceeded" and "Try again in 0:09:48" in out["error"]
    assert (await _janus_understand(http, rep))["success"]


async def _stream_raw(
    http: aiohttp.ClientSession, base: str
) -> tuple[list[bytes], BaseException | None]:
    """Join a Phi-4 chat and collect raw ``data:`` lines until the stream ends or breaks."""
    session_hash = new_session()
    resp = await join(http, base, 11, chat_inputs([text_message("hi")]), session_hash)
    assert resp.status == 200
    lines: list[bytes] = []
    try:
        async with http.get(
            f"{base}/gradio_api/queue/data",
            params={"session_hash": session_hash},
            timeout=aiohttp.ClientTimeout(total=10, sock_read=3),
        ) as stream:
            async for raw in stream.content:
                if raw.startswith(b"data:"):
                    lines.append(raw.strip())
    except (aiohttp.ClientPayloadError, asyncio.TimeoutError, aiohttp.ClientError) as exc:
        return lines, exc
    return lines, None


async def test_stream_faults(rep: Any, http: aiohttp.ClientSession) -> None:
    base = rep.url_for(PHI4_SPACE)
    rep.configure(cut_stream_after=2, cut_stream_count=1)
    lines, exc = await _stream_raw(http, base)
    assert isinstance(exc, aiohttp.ClientPayloadError) and len(lines) == 2
    lines, exc = await _stream_raw(http, base)
    assert exc is None and b"close_stream" in lines[-1]
    rep.configure(unexpected_error=True, unexpected_error_count=1)
    lines, exc = await _stream_raw(http, base)
    assert exc is not None and json.loads(lines[-1][5:])["session_not_found"] is True
    rep.configure(malformed_after=1, malformed_count=1)
    lines, exc = await _stream_raw(http, base)
    assert exc is None and lines[1] == b"data: {not json"
    rep.configure(stall_after=1, stall_count=1, stall_timeout=30)
    lines, exc = await _stream_raw(http, base)
    assert isinstance(exc, asyncio.TimeoutError) and len(lines) == 1
    stats = rep.stats()
    assert (
        stats["streams_cut"],
        stats["unexpected_errors_sent"],
        stats["malformed_sent"],
        stats["streams_stalled"],
    ) == (1, 1, 1, 1)


async def test_upload_status_and_http_control(rep: Any, http: aiohttp.ClientSession) -> None:
    async with http.post(
        f"{rep.base_url}/_replica/configure", json={"upload_status": 413, "upload_fail_count": 1}
    ) as resp:
        assert resp.status == 200 and (await resp.json())["faults"]["upload_status"] == 413
    form = aiohttp.FormData()
    form.add_field("files", b"x" * 10, filename="a.png", content_type="image/png")
    async with http.post(f"{rep.url_for(JANUS_SPACE)}/gradio_api/upload", data=form) as resp:
        assert resp.status == 413
    async with http.post(f"{rep.base_url}/_replica/configure", json={"nope": 1}) as resp:
        assert resp.status == 400
    async with http.get(f"{rep.base_url}/_replica/stats") as resp:
        assert (await resp.json())["uploads_rejected"] == 1
    async with http.post(f"{rep.base_url}/_replica/reset") as resp:
        assert resp.status == 200
    assert rep.stats()["uploads_rejected"] == 0


async def test_config_changed_shifts_fn_indexes(rep: Any, http: aiohttp.ClientSession) -> None:
    base = rep.url_for(JANUS_SPACE)
    await asyncio.to_thread(rep.configure, config_changed=True)
    async with http.get(f"{base}/config") as resp:
        deps = {d["api_name"]: d["id"] for d in (await resp.json())["dependencies"]}
    assert deps["multimodal_understanding"] == 4 and deps["generate_image"] == 5
    resp = await join(http, base, 3, ["x", 1, 5, 1.0], new_session())
    assert resp.status == 500
    msgs = await run_job(http, base, 5, ["x", 1, 5, 1.0])
    assert completed(msgs)["success"]
    await asyncio.to_thread(rep.reset)
    async with http.get(f"{base}/config") as resp:
        deps = {d["api_name"]: d["id"] for d in (await resp.json())["dependencies"]}
    assert deps["generate_image"] == 3
