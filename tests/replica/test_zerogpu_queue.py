"""ZeroGPU mode's queue, over raw HTTP: one waiting slot per Space, one job per function,
queued functions refused on run/predict; ``zerogpu=False`` lifts all three."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from hfspaces.replica import JANUS_SPACE, PHI4_SPACE, Replica, ReplicaConfig
from replica_wire import chat_inputs, completed, join, new_session, read_events, run_job
from replica_wire import text_message as msg

QUEUE_FULL = {"detail": "Queue is full. Max size is 1 and size is 1."}
PREDICT_REFUSED = {
    "detail": "This API endpoint does not accept direct HTTP POST requests. "
    "Please join the queue to use this API."
}


async def _wait_running(rep: Any, n: int) -> None:
    for _ in range(200):
        if rep.stats()["running"] >= n:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{n} job(s) never started: {rep.stats()['running']}")


async def _drain(http: aiohttp.ClientSession, base: str, session_hash: str) -> dict[str, Any]:
    async with http.get(
        f"{base}/gradio_api/queue/data", params={"session_hash": session_hash}
    ) as stream:
        async for m in read_events(stream):
            if m["msg"] == "process_completed":
                return m
    raise AssertionError("stream ended without process_completed")


async def test_third_join_gets_gradios_queue_full(rep: Any, http: aiohttp.ClientSession) -> None:
    base = rep.url_for(PHI4_SPACE)
    rep.configure(token_delay=0.05, answer_words=20)
    data = chat_inputs([msg("hi")])
    first, second = new_session(), new_session()
    assert (await join(http, base, 11, data, first)).status == 200
    await _wait_running(rep, 1)
    assert (await join(http, base, 11, data, second)).status == 200  # the one waiting slot
    third = await join(http, base, 11, data, new_session())
    assert third.status == 503 and await third.json() == QUEUE_FULL
    assert rep.stats()["joins_rejected"] == 0  # gradio's own answer, not an injected fault
    done = await asyncio.gather(_drain(http, base, first), _drain(http, base, second))
    assert all(m["success"] for m in done)
    assert completed(await run_job(http, base, 11, data))["success"]  # the slot is free again


async def test_one_job_per_function_other_function_runs(
    rep: Any, http: aiohttp.ClientSession
) -> None:
    base = rep.url_for(JANUS_SPACE)
    rep.configure(step_latency=0.2)
    slow, waiting = new_session(), new_session()
    assert (await join(http, base, 3, ["a", 1, 5, 1.0], slow, 20)).status == 200
    await _wait_running(rep, 1)
    assert (await join(http, base, 3, ["b", 1, 5, 1.0], waiting, 20)).status == 200
    await asyncio.sleep(0.3)
    assert rep.stats()["running"] == 1  # the second generate_image waits for the first
    rep.configure(step_latency=0.0)
    results = await asyncio.gather(_drain(http, base, slow), _drain(http, base, waiting))
    assert all(m["success"] for m in results)
    # Another function has its own concurrency slot: it runs while generate_image runs.
    rep.configure(step_latency=0.2)
    assert (await join(http, base, 3, ["c", 1, 5, 1.0], slow, 20)).status == 200
    await _wait_running(rep, 1)
    msgs = await run_job(http, base, 2, [None, "q", 42, 0.95, 0.1], 10, None)
    assert "AttributeError" in completed(msgs)["output"]["error"]  # ran, in the worker
    assert (await _drain(http, base, slow))["success"]


async def test_queued_function_refused_on_run_predict(
    rep: Any, http: aiohttp.ClientSession
) -> None:
    base = rep.url_for(PHI4_SPACE)
    body = {"data": chat_inputs([msg("x")]), "fn_index": 11, "session_hash": new_session(),
            "event_data": None, "trigger_id": None}
    async with http.post(f"{base}/gradio_api/run/predict", json=body) as resp:
        assert resp.status == 404 and await resp.json() == PREDICT_REFUSED
    # The unqueued add_message is what run/predict is for.
    body = {"data": [[], {"text": "x", "files": []}, None], "fn_index": 10,
            "session_hash": new_session(), "event_data": None, "trigger_id": 8}
    async with http.post(f"{base}/gradio_api/run/predict", json=body) as resp:
        assert resp.status == 200


async def test_zerogpu_false_lifts_the_limits(lenient: Any, http: aiohttp.ClientSession) -> None:
    base = lenient.url_for(PHI4_SPACE)
    lenient.configure(token_delay=0.05, answer_words=10)
    sessions = [new_session() for _ in range(4)]
    for sh in sessions:
        assert (await join(http, base, 11, chat_inputs([msg("hi")]), sh)).status == 200
    await _wait_running(lenient, 4)  # all four run at once
    done = await asyncio.gather(*(_drain(http, base, sh) for sh in sessions))
    assert all(m["success"] for m in done)
    body = {"data": chat_inputs([msg("x")]), "fn_index": 11, "session_hash": new_session(),
            "event_data": None, "trigger_id": None}
    async with http.post(f"{base}/gradio_api/run/predict", json=body) as resp:
        assert resp.status == 200


async def test_service_time_is_a_minimum_per_gpu_call() -> None:
    # A lower bound (the images take milliseconds; the call must still last 0.3 s): load on
    # the machine can only lengthen it, so this is a check of behaviour, not of speed.
    with Replica(ReplicaConfig(image_size=16, service_time=0.3)) as rep:
        base = rep.url_for(JANUS_SPACE)
        async with aiohttp.ClientSession() as http:
            sh = new_session()
            started = asyncio.get_running_loop().time()
            assert (await join(http, base, 3, ["a", 1, 5, 1.0], sh, 20)).status == 200
            assert (await _drain(http, base, sh))["success"]
            assert asyncio.get_running_loop().time() - started >= 0.3
        assert rep.stats()["jobs_completed"] == 1
