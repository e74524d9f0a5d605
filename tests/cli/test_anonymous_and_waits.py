"""CLI: `--anonymous` calls without identity even with HF_TOKEN set; a wait in a full
queue shows as "queue full, retrying in … (attempt N, … s)"."""

from __future__ import annotations

import pytest
from hfspaces.cli.chat import prepare
from hfspaces.cli.display import describe
from hfspaces.conversation import Message
from hfspaces.events import QueueFullWait
from hfspaces.generation import GenerationParams


async def test_anonymous_flag_drops_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_cli_user")
    conversation = [Message.user("hi")]
    params = GenerationParams()
    signed = prepare("phi-4-multimodal", "microsoft/phi-4-multimodal", None, conversation, params)
    assert signed.client.caller == "token"
    anonymous = prepare(
        "phi-4-multimodal",
        "microsoft/phi-4-multimodal",
        None,
        conversation,
        params,
        anonymous=True,
    )
    assert anonymous.client.caller == "anonymous" and anonymous.client._space_headers() == {}


def test_queue_wait_line() -> None:
    line = describe(QueueFullWait("Queue is full. Max size is 1 and size is 1.", 4, 35.2, 12.0))
    assert line == "queue full, retrying in 12s (attempt 4, 35s)"
