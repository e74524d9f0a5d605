"""Finding the chat endpoint of a Space, pure, on the recorded gradio 5.50 and 6.31 configs
of a `gr.ChatInterface` with additional inputs (`tests/core/recordings/`, made by
`record.py`), and the gradio 5 tuple-history helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hfspaces.config import parse_config
from hfspaces.conversation import Message
from hfspaces.errors import EndpointNotFoundError
from hfspaces.schema import build_schema
from hfspaces.spaces.chat import _pairs, answer_of, find_chat_endpoint, history_answer

RECORDINGS = Path(__file__).parent / "recordings"


def recorded(version: int, app: str) -> tuple[Any, Any]:
    data: dict[str, Any] = json.loads((RECORDINGS / f"gradio{version}_{app}.json").read_text())
    config = parse_config(data["config"], "test/app")
    return config, build_schema(config, data["info"], space="test/app")


@pytest.mark.parametrize(("version", "api_name"), [(5, "chat"), (6, "respond")])
def test_chat_interface_found_in_both_majors(version: int, api_name: str) -> None:
    config, schema = recorded(version, "chat")
    chat = find_chat_endpoint(config, schema, None, "test/app")
    # gradio 5 names the API endpoint /chat, gradio 6 after the function; the UI's own
    # helpers (_submit_fn, _append_message_to_history, ...) are not public and not taken.
    assert chat.schema.api_name == api_name
    assert chat.output_kind == "json" and chat.output == 0
    assert chat.message == 0 and not chat.multimodal
    assert chat.history is None  # session State: history gets folded
    assert chat.system == 2  # "System prompt"
    assert chat.parameters == {}  # "Max new tokens" is not a sampling parameter we send
    assert chat.takes == frozenset({"text"})
    assert chat.gradio6 is (version == 6)
    # The same endpoint by name, with or without the slash.
    assert find_chat_endpoint(config, schema, f"/{api_name}", None).schema is chat.schema


@pytest.mark.parametrize("version", [5, 6])
def test_non_chat_apps_and_endpoints_are_refused(version: int) -> None:
    config, schema = recorded(version, "image")
    with pytest.raises(EndpointNotFoundError, match=r"no chat endpoint.*/infer"):
        find_chat_endpoint(config, schema, None, "test/app")
    with pytest.raises(EndpointNotFoundError, match="/infer is not a chat endpoint"):
        find_chat_endpoint(config, schema, "/infer", "test/app")
    with pytest.raises(EndpointNotFoundError, match="no endpoint '/nope'"):
        find_chat_endpoint(config, schema, "/nope", "test/app")


def test_answers_in_every_chat_output_shape() -> None:
    assert answer_of("plain") == "plain"
    assert answer_of({"role": "assistant", "content": "a dict"}) == "a dict"
    assert answer_of({"role": "assistant", "content": [{"type": "text", "text": "parts"}]}) == (
        "parts"
    )
    assert answer_of([{"role": "assistant", "content": "one"}, {"content": "two"}]) == (
        "one\n\ntwo"
    )
    history = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "thinking"},
        {"role": "assistant", "content": [{"type": "text", "text": "answer"}]},
    ]
    assert history_answer(history, tuples=False) == "thinking\n\nanswer"
    assert history_answer([*history, {"role": "user", "content": "q2"}], tuples=False) is None
    assert history_answer([["q", "a"], ["q2", "a2"]], tuples=True) == "a2"


def test_tuple_history_pairs_turns_and_names_files() -> None:
    from hfspaces.media import Media
    from media_samples import make_png

    conversation = [
        Message.system("Be brief"),
        Message.user("look", Media.of(make_png())),
        Message.assistant("red"),
        Message.user("and now"),
    ]
    assert _pairs(conversation) == [["Be brief\n\nlook [image]", "red"], ["and now", None]]
