"""LangChain: `hf_token=False` is anonymous whatever HF_TOKEN says (no identity header, no
Hub call), and each wait in a full queue is a `hfspaces_queue_wait` custom event."""

from __future__ import annotations

from typing import Any

import pytest

from langchain_hfspaces import QUEUE_WAIT_EVENT, ChatHFSpaces, HFSpacesImageTool

IDENTITY = ("authorization", "x-hf-authorization", "x-zerogpu-token", "x-ip-token")


async def test_hf_token_false_sends_no_identity(rep: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_lc_user")
    model = ChatHFSpaces(hf_token=False, send_hf_token=True)
    assert (await model.ainvoke("hello")).content
    await model.aclose()
    sent = [r["received"] for r in rep.stats()["requests"]]
    assert sent and not any(h in headers for headers in sent for h in IDENTITY)
    assert rep.stats()["hub_jwt_issued"] == 0
    tool = HFSpacesImageTool(hf_token=False)
    assert tool._space_model("janus-pro-7b-image").client.caller == "anonymous"


async def test_the_opt_in_sends_the_token_to_the_replica(
    rep: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_lc_user")
    model = ChatHFSpaces(send_hf_token=True)
    assert (await model.ainvoke("hello")).content
    await model.aclose()
    calls = [c for c in rep.stats()["calls"] if c["fn"] == "chat"]
    assert calls and calls[-1]["identity"].startswith("user:")


async def test_queue_waits_are_custom_events(rep: Any) -> None:
    rep.configure(join_status=503, join_fail_count=2, retry_after=0)
    model = ChatHFSpaces()
    model._space_model("phi-4-multimodal").client.queue_backoff_range = (0.01, 0.05)
    waits = [
        event["data"]
        async for event in model.astream_events("hello", version="v2")
        if event["event"] == "on_custom_event" and event["name"] == QUEUE_WAIT_EVENT
    ]
    await model.aclose()
    assert [w["attempt"] for w in waits] == [1, 2]
    assert all("Queue is full" in w["reason"] and w["retry_in"] > 0 for w in waits)
