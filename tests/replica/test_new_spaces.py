"""The replica's Space shapes users reach for, over loopback: FLUX-style `/infer`,
Whisper-style `/transcribe`, Kokoro-style `/generate` and a streaming multimodal
`gr.ChatInterface` — called with gradio_client (an independent client) and raw HTTP."""

from __future__ import annotations

import asyncio
import io
import json
import wave
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hfspaces.replica.config import CHAT_SPACE, FLUX_SPACE, STT_SPACE, TTS_SPACE
from hfspaces.replica.tones import listen, synthesize
from media_samples import make_png, make_wav
from PIL import Image
from replica_wire import join, new_session, read_events, run_job, upload


def _client(rep: Any, space: str) -> Any:
    from gradio_client import Client

    return Client(rep.url_for(space), verbose=False)


def _seconds(path: str) -> float:
    with wave.open(path, "rb") as w:
        return w.getnframes() / float(w.getframerate())


async def _fn_index(http: aiohttp.ClientSession, base: str, api_name: str) -> int:
    async with http.get(f"{base}/config") as resp:
        config = await resp.json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == api_name)


# -- served and described ---------------------------------------------------------------------


async def test_served_under_their_made_up_ids(rep: Any, http: aiohttp.ClientSession) -> None:
    for space, api_name, names in (
        (
            FLUX_SPACE,
            "/infer",
            ["prompt", "seed", "randomize_seed", "width", "height", "num_inference_steps"],
        ),
        (STT_SPACE, "/transcribe", ["inputs", "task"]),
        (TTS_SPACE, "/generate", ["text", "voice", "speed"]),
        (CHAT_SPACE, "/respond", ["message", "system_prompt", "temperature"]),
    ):
        assert space.startswith("hfspaces-replica/")
        async with http.get(f"{rep.url_for(space)}/gradio_api/info") as resp:
            assert resp.status == 200
            info = await resp.json()
        params = info["named_endpoints"][api_name]["parameters"]
        assert [p["parameter_name"] for p in params] == names, space


async def test_schema_carries_enums_bounds_defaults(rep: Any, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{rep.url_for(TTS_SPACE)}/config") as resp:
        config = await resp.json()
    by_label = {c["props"].get("label"): c for c in config["components"] if "props" in c}
    assert by_label["Voice"]["props"]["choices"][0][1] == "af_heart"
    assert by_label["Speed"]["props"]["minimum"] == 0.5
    assert by_label["Speed"]["props"]["maximum"] == 2
    async with http.get(f"{rep.url_for(STT_SPACE)}/config") as resp:
        config = await resp.json()
    task = next(c for c in config["components"] if c["props"].get("label") == "Task")
    assert [c[1] for c in task["props"]["choices"]] == ["transcribe", "translate"]
    assert task["props"]["value"] == "transcribe"


# -- text to image ------------------------------------------------------------------------


def test_flux_draws_at_the_asked_size_and_returns_the_seed(rep: Any) -> None:
    flux = _client(rep, FLUX_SPACE)
    path, seed = flux.predict("a red fox", 7, False, 256, 320, 2, api_name="/infer")
    assert seed == 7
    with Image.open(path) as image:
        assert image.size == (256, 320)
    again, _ = flux.predict("a red fox", 7, False, 256, 320, 2, api_name="/infer")
    other, _ = flux.predict("a red fox", 8, False, 256, 320, 2, api_name="/infer")
    data = Path(path).read_bytes()
    assert Path(again).read_bytes() == data  # deterministic
    assert Path(other).read_bytes() != data  # and the seed matters


def test_flux_randomized_seed_is_reported_and_reproducible(rep: Any) -> None:
    flux = _client(rep, FLUX_SPACE)
    _, first = flux.predict("a boat", 0, True, 256, 256, 1, api_name="/infer")
    _, second = flux.predict("a boat", 0, True, 256, 256, 1, api_name="/infer")
    assert first == second != 0
    assert 0 <= first < 2**31


async def test_flux_reports_progress_per_step(rep: Any, http: aiohttp.ClientSession) -> None:
    base = rep.url_for(FLUX_SPACE)
    rep.configure(token_delay=0.15)  # gradio reports progress at most every 0.1 s
    msgs = await run_job(
        http, base, await _fn_index(http, base, "infer"), ["a cat", 3, False, 256, 256, 3]
    )
    steps = [m["progress_data"][0] for m in msgs if m["msg"] == "progress"]
    assert steps and {(s["length"], s["desc"]) for s in steps} == {(3, "Denoising")}
    assert [s["index"] for s in steps] == sorted({s["index"] for s in steps})
    assert msgs[-1]["msg"] == "process_completed" and msgs[-1]["success"]
    calls = [c for c in rep.stats()["calls"] if c["space"] == FLUX_SPACE]
    assert [c["fn"] for c in calls] == ["infer"]  # through the ZeroGPU guard, like the seeds


# -- speech ---------------------------------------------------------------------------------


def test_tts_clip_length_follows_text_and_speed(rep: Any) -> None:
    tts = _client(rep, TTS_SPACE)
    normal, tokens = tts.predict("Hello world 42", "af_heart", 1.0, api_name="/generate")
    fast, _ = tts.predict("Hello world 42", "af_heart", 2.0, api_name="/generate")
    longer, _ = tts.predict("Hello world 42 and more", "af_heart", 1.0, api_name="/generate")
    assert tokens == "hello world 42"
    assert _seconds(fast) == pytest.approx(_seconds(normal) / 2, rel=0.1)
    assert _seconds(longer) > _seconds(normal)
    assert listen(Path(normal).read_bytes()).text == "hello world 42"


def test_tts_voice_is_an_enum_the_server_enforces(rep: Any) -> None:
    from gradio_client.exceptions import AppError

    tts = _client(rep, TTS_SPACE)
    with pytest.raises((AppError, ValueError)):
        tts.predict("hi", "nobody", 1.0, api_name="/generate")


def test_stt_reads_back_what_tts_said(rep: Any, tmp_path: Path) -> None:
    from gradio_client import handle_file

    clip = tmp_path / "speech.wav"
    clip.write_bytes(synthesize("the quick brown fox", speed=1.3))
    stt = _client(rep, STT_SPACE)
    assert stt.predict(handle_file(str(clip)), "transcribe", api_name="/transcribe") == (
        "the quick brown fox"
    )
    translated = stt.predict(handle_file(str(clip)), "translate", api_name="/transcribe")
    assert translated == "[translated to English] the quick brown fox"


def test_stt_describes_audio_it_cannot_read(rep: Any, tmp_path: Path) -> None:
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    tone = tmp_path / "tone.wav"
    tone.write_bytes(make_wav(seconds=1.0))
    stt = _client(rep, STT_SPACE)
    assert stt.predict(handle_file(str(tone)), "transcribe", api_name="/transcribe") == (
        "[a 1.00 s tone at 440 Hz]"
    )
    with pytest.raises(AppError, match="No audio file submitted"):
        stt.predict(None, "transcribe", api_name="/transcribe")


# -- streaming multimodal ChatInterface ------------------------------------------------------------


async def test_chat_streams_word_diffs_with_files(
    rep: Any, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    base = rep.url_for(CHAT_SPACE)
    image = tmp_path / "red.png"
    image.write_bytes(make_png())
    fd = await upload(http, base, str(image), "image/png")
    fn = await _fn_index(http, base, "respond")
    msgs = await run_job(http, base, fn, [{"text": "what is it?", "files": [fd]}, None, "", 0.5])
    generating = [m for m in msgs if m["msg"] == "process_generating"]
    assert len(generating) > 5
    # After the first full value, gradio sends only `append` diffs of the answer.
    assert all(op[0] == "append" for m in generating[1:] for op in m["output"]["data"][0]), (
        json.dumps(generating[1])
    )
    final = msgs[-1]["output"]["data"][0]
    assert final == (
        'Turn 1. You said: "what is it?". Image 1 is a 32×24 image, mostly red and white. '
        "(temperature 0.5)"
    )


def test_chat_interface_keeps_history_per_session_only(rep: Any) -> None:
    # One gradio_client session: its second call sees the first turn (server-side State).
    chat = _client(rep, CHAT_SPACE)
    first = chat.predict({"text": "hi", "files": []}, "Be brief", 0.7, api_name="/respond")
    second = chat.predict({"text": "again", "files": []}, "Be brief", 0.7, api_name="/respond")
    assert first.startswith("[Be brief] Turn 1.")
    assert second.startswith("[Be brief] Turn 2.")
    # A new session starts over: why an API caller cannot send history to a ChatInterface.
    fresh = _client(rep, CHAT_SPACE)
    assert fresh.predict({"text": "x", "files": []}, "", 0.7, api_name="/respond").startswith(
        "Turn 1."
    )


async def test_chat_cancel_stops_the_generator(rep: Any, http: aiohttp.ClientSession) -> None:
    base = rep.url_for(CHAT_SPACE)
    rep.configure(token_delay=0.05)
    fn = await _fn_index(http, base, "respond")
    session = new_session()
    body = {
        "data": [{"text": "long", "files": []}, None, "", 0.5],
        "fn_index": fn,
        "session_hash": session,
        "event_data": None,
        "trigger_id": None,
    }
    async with http.post(f"{base}/gradio_api/queue/join", json=body) as resp:
        event_id = (await resp.json())["event_id"]
    async with http.get(
        f"{base}/gradio_api/queue/data", params={"session_hash": session}
    ) as stream:
        async for msg in read_events(stream):
            if msg["msg"] == "process_generating":
                break
        cancel = {"event_id": event_id, "session_hash": session, "fn_index": fn}
        async with http.post(f"{base}/gradio_api/cancel", json=cancel) as resp:
            assert resp.status == 200
    for _ in range(100):
        if rep.stats()["jobs_cancelled"]:
            break
        await asyncio.sleep(0.05)
    assert rep.stats()["jobs_cancelled"] == 1


def test_tones_codec_round_trip_is_exact() -> None:
    for speed in (0.5, 1.0, 2.0):
        clip = synthesize("Spaces, as tools! 2026", speed=speed)
        heard = listen(clip)
        assert heard.decoded and heard.text == "spaces, as tools! 2026"
        with wave.open(io.BytesIO(clip)) as w:
            assert w.getframerate() == 16_000


async def test_shapes_run_in_zerogpu_mode_one_slot(rep: Any, http: aiohttp.ClientSession) -> None:
    base = rep.url_for(CHAT_SPACE)
    rep.configure(token_delay=0.05)
    fn = await _fn_index(http, base, "respond")
    data = [{"text": "a long reply", "files": []}, None, "", 0.5]
    sessions = [new_session(), new_session()]
    # One running, then one in the single waiting slot.
    assert (await join(http, base, fn, data, sessions[0])).status == 200
    for _ in range(250):
        if rep.stats()["running"]:
            break
        await asyncio.sleep(0.02)
    assert (await join(http, base, fn, data, sessions[1])).status == 200
    third = await join(http, base, fn, data, new_session())
    assert third.status == 503
    assert await third.json() == {"detail": "Queue is full. Max size is 1 and size is 1."}
    for session in sessions:
        async with http.get(
            f"{base}/gradio_api/queue/data", params={"session_hash": session}
        ) as stream:
            async for msg in read_events(stream):
                if msg["msg"] == "process_completed":
                    assert msg["success"]
                    break
    calls = [c["fn"] for c in rep.stats()["calls"] if c["space"] == CHAT_SPACE]
    assert calls == ["respond", "respond"]  # both through the ZeroGPU runtime
