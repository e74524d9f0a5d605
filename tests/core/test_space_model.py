"""`SpaceModel` for all three models against the replica (endpoints come from
`HFSPACES_ENDPOINTS`, set by the session fixture): validation before any request, results,
streaming with stop sequences, and a time-to-first-token measurement (printed with -s)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from _support import wait_until
from hfspaces import (
    Completed,
    Generation,
    GenerationParams,
    Media,
    Message,
    SpaceModel,
    Started,
    TextDelta,
    errors,
)
from hfspaces.space_model import resolve_endpoint

NOTHING_SENT = {"joins_total": 0, "predicts_total": 0, "uploads": 0}


def traffic(replica: Any) -> dict[str, int]:
    stats = replica.stats()
    return {k: stats[k] for k in NOTHING_SENT}


# -- endpoints ---------------------------------------------------------------------------------


def test_endpoint_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    from hfspaces import get_model

    spec = get_model("janus")
    monkeypatch.delenv("HFSPACES_ENDPOINTS", raising=False)
    assert resolve_endpoint(spec, None) == "deepseek-ai/Janus-Pro-7B"
    assert resolve_endpoint(spec, " http://x/ ") == "http://x/"
    assert resolve_endpoint(spec, {"janus-pro-7b": "http://by-model"}) == "http://by-model"
    assert resolve_endpoint(spec, {"deepseek-ai/Janus-Pro-7B": "http://by-space"}) == (
        "http://by-space"
    )
    monkeypatch.setenv("HFSPACES_ENDPOINTS", "deepseek-ai/Janus-Pro-7B=http://env , a=b")
    assert resolve_endpoint(spec, None) == "http://env"
    with pytest.raises(errors.UnknownModelError):
        SpaceModel("nope")


def test_endpoints_from_replica_environment(replica: Any, janus_url: str, phi4_url: str) -> None:
    assert SpaceModel("janus-pro-7b").endpoint == janus_url
    assert SpaceModel("janus-image").endpoint == janus_url
    assert SpaceModel("phi4").endpoint == phi4_url


# -- validation before any request ----------------------------------------------------------------


def bad_requests(png: bytes, wav: bytes) -> list[tuple[str, list[Message], GenerationParams]]:
    image, audio = Media.of(png), Media.of(wav)
    plain = GenerationParams()
    return [
        ("janus-pro-7b", [Message.user("no image here")], plain),
        ("janus-pro-7b", [Message.user("audio?", image, audio)], plain),
        ("janus-pro-7b", [Message.user("hot", image)], GenerationParams(temperature=1.5)),
        ("janus-pro-7b", [Message.user("g", image)], GenerationParams(guidance=3.0)),
        ("janus-pro-7b", [], plain),
        ("janus-pro-7b", [Message.user("q", Media.of(b"text, not an image at all"))], plain),
        ("janus-pro-7b-image", [Message.user("cat", image)], plain),
        ("janus-pro-7b-image", [Message.user("cat")], GenerationParams(num_images=6)),
        ("janus-pro-7b-image", [Message.user("cat")], GenerationParams(seed=-1)),
        ("phi-4-multimodal", [Message.user("hi")], GenerationParams(top_p=0.5)),
        ("phi-4-multimodal", [Message.user("hi", Media.of(b"\x00\x01 not media"))], plain),
    ]


async def test_validation_errors_before_any_request(
    fresh_replica: Any, png_bytes: bytes, wav_bytes: bytes
) -> None:
    for model_id, convo, params in bad_requests(png_bytes, wav_bytes):
        model = SpaceModel(model_id)
        with pytest.raises(errors.InvalidInputError):
            model.validate(convo, params)
        with pytest.raises(errors.InvalidInputError) as info:
            await model.generate(convo, params)
        assert isinstance(info.value, ValueError), model_id
        await model.aclose()
    assert traffic(fresh_replica) == NOTHING_SENT


async def test_empty_prompt_for_images_rejected_before_join(fresh_replica: Any) -> None:
    model = SpaceModel("janus-pro-7b-image")
    with pytest.raises(errors.InvalidInputError, match="empty"):
        await model.generate([Message.user("   ")])
    await model.aclose()
    assert fresh_replica.stats()["joins_total"] == 0


# -- the three models ----------------------------------------------------------------------------


async def test_janus_understanding(fresh_replica: Any, png_bytes: bytes) -> None:
    model = SpaceModel("janus-pro-7b")
    gen = await model.generate([Message.user("What colour is it?", Media.of(png_bytes))])
    await model.aclose()
    assert isinstance(gen, Generation) and gen.model == "janus-pro-7b"
    assert "red" in gen.text and "What colour is it?" in gen.text
    assert gen.seed == 42 and gen.finish_reason == "stop" and gen.duration is not None
    assert fresh_replica.stats()["joins"]["deepseek-ai/Janus-Pro-7B"] == {"2": 1}


async def test_janus_images(fresh_replica: Any) -> None:
    model = SpaceModel("janus-pro-7b-image")
    gen = await model.generate([Message.user("a lighthouse")], GenerationParams(seed=11))
    two = await model.generate(
        [Message.user("a lighthouse")], GenerationParams(seed=11, num_images=2)
    )
    await model.aclose()
    assert len(gen.images) == 5 and gen.seed == 11
    assert all(i.data and i.mime_type == "image/webp" for i in gen.images)
    assert [i.data for i in two.images] == [i.data for i in gen.images[:2]]  # deterministic
    assert gen.metadata()["num_images"] == 5


async def test_janus_images_urls_only(fresh_replica: Any, janus_url: str) -> None:
    model = SpaceModel("janus-pro-7b-image", download_images=False)
    gen = await model.generate([Message.user("a lighthouse")], GenerationParams(seed=1))
    await model.aclose()
    assert all(i.data is None and i.url.startswith(janus_url) for i in gen.images)


async def test_phi4_image_and_audio(fresh_replica: Any, png_bytes: bytes, wav_bytes: bytes) -> None:
    model = SpaceModel("phi-4-multimodal")
    convo = [Message.user("Describe these.", Media.of(png_bytes), Media.of(wav_bytes))]
    events = [e async for e in model.stream(convo)]
    await model.aclose()
    gen = events[-1]
    assert isinstance(gen, Generation)
    deltas = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert deltas == gen.text
    assert "32×24" in gen.text and "1.00 seconds" in gen.text and "Describe these." in gen.text
    assert any(isinstance(e, Started) for e in events)
    assert not any(isinstance(e, Completed) for e in events)  # replaced by the Generation
    stats = fresh_replica.stats()
    assert stats["uploads"] == 2 and stats["predicts_total"] == 1 and stats["joins_total"] == 1


async def test_stop_sequence_cancels_the_stream(fresh_replica: Any) -> None:
    fresh_replica.configure(token_delay=0.02, answer_words=200)
    model = SpaceModel("phi-4-multimodal")
    events = [
        e
        async for e in model.stream([Message.user("stop early")], GenerationParams(stop=("said:",)))
    ]
    gen = events[-1]
    assert isinstance(gen, Generation) and gen.finish_reason == "stop_sequence"
    assert gen.text == "Turn 1. You "
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == gen.text
    await wait_until(lambda: fresh_replica.stats()["generator_stopped_early"] == 1, what="stop")
    await model.aclose()
    assert fresh_replica.stats()["cancels"] == 1


async def test_leaving_the_stream_early_cancels(fresh_replica: Any) -> None:
    fresh_replica.configure(token_delay=0.02, answer_words=200)
    model = SpaceModel("phi-4-multimodal")
    stream = model.stream([Message.user("long")])
    async for event in stream:
        if isinstance(event, TextDelta):
            break
    await stream.aclose()
    await wait_until(lambda: fresh_replica.stats()["cancels"] == 1, what="cancel")
    await wait_until(lambda: fresh_replica.stats()["running"] == 0, what="stopped")
    await model.aclose()


async def test_phi4_multi_turn(fresh_replica: Any, png_bytes: bytes) -> None:
    model = SpaceModel("phi4")
    first = [Message.system("Be brief."), Message.user("What is this?", Media.of(png_bytes))]
    a1 = await model.generate(first)
    a2 = await model.generate([*first, Message.assistant(a1.text), Message.user("And now?")])
    await model.aclose()
    assert a1.text.startswith("Turn 1.") and a2.text.startswith("Turn 2.")
    assert "And now?" in a2.text
    assert fresh_replica.stats()["uploads"] == 1  # the image went up once (hash cache)


async def test_one_client_per_loop() -> None:
    model = SpaceModel("phi4")
    here = model.client
    assert model.client is here
    other = await asyncio.to_thread(lambda: asyncio.run(_client_of(model)))
    assert other is not here
    await model.aclose()


async def _client_of(model: SpaceModel) -> object:
    client = model.client
    await model.aclose()
    return client


# -- time to first token (measured, printed, not asserted) -------------------------------------


async def test_measure_time_to_first_token(fresh_replica: Any) -> None:
    fresh_replica.configure(token_delay=0.02, answer_words=100)
    model = SpaceModel("phi-4-multimodal")
    await model.client.config()  # discovery is not part of the measurement
    loop = asyncio.get_running_loop()
    runs = []
    for _ in range(3):
        start = loop.time()
        first: float | None = None
        async for event in model.stream([Message.user("measure me")]):
            if isinstance(event, TextDelta) and first is None:
                first = loop.time() - start
        runs.append((first, loop.time() - start))
    await model.aclose()
    ttft = sorted(r[0] for r in runs if r[0] is not None)
    total = sorted(r[1] for r in runs)
    print(
        f"\n[TTFT] phi-4-multimodal via SpaceModel.stream, replica token_delay=0.02 s, "
        f"100 words, 3 runs: time to first token median {ttft[1] * 1000:.0f} ms "
        f"(min {ttft[0] * 1000:.0f}), whole answer median {total[1] * 1000:.0f} ms "
        f"(min {total[0] * 1000:.0f})"
    )
    assert len(ttft) == 3
