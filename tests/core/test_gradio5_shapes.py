"""The client reading gradio 5 payloads, pure (no server).

The default test environment runs gradio 6, so these pin what a gradio 5 Space sends. The
payloads are recorded shapes: captured from the embedded replica served by gradio 5.50.0
(`pip install "gradio==5.50.0"`, the latest 5.x), paths and URLs shortened, `duration`
fields dropped. The live Spaces may run any gradio 5.x; 5.x releases share these shapes.
"""

from __future__ import annotations

import json
from typing import Any

from hfspaces import protocol
from hfspaces.config import parse_config
from hfspaces.spaces.janus_pro import gallery_files
from hfspaces.spaces.phi4 import _entry_file, _entry_text, answer_text

FD = {
    "path": "/tmp/gradio/bab2/s.png",
    "url": "http://127.0.0.1:40563/spaces/microsoft/phi-4-multimodal/gradio_api/file=/tmp/gradio/bab2/s.png",
    "size": None,
    "orig_name": None,
    "mime_type": "image/png",
    "is_stream": False,
    "meta": {"_type": "gradio.FileData"},
}
# Output of `add_message` (fn 10, run/predict) for `[[], {"text": "hi", "files": [FD]}, None]`:
# gradio 5 message content is a string, or `{"file": FileData, "alt_text": ..}` for a file.
ADDED = [
    {"role": "user", "metadata": None, "content": {"file": FD, "alt_text": None}, "options": None},
    {"role": "user", "metadata": None, "content": "hi", "options": None},
]
# `queue/data` of the `chat` job (fn 11), generator: full value first, then `append` diffs
# whose path ends at the message's `content` (gradio 6: `[2, "content", 0, "text"]`).
STREAM = "".join(
    f"data: {json.dumps(m)}\n\n"
    for m in [
        {"msg": "estimation", "event_id": "e1", "rank": 0, "queue_size": 1, "rank_eta": None},
        {"msg": "process_starts", "event_id": "e1", "eta": None},
        {
            "msg": "process_generating",
            "event_id": "e1",
            "success": True,
            "output": {
                "data": [
                    [
                        *ADDED,
                        {"role": "assistant", "metadata": None, "content": "Turn", "options": None},
                    ]
                ],
                "is_generating": True,
            },
        },
        {
            "msg": "process_generating",
            "event_id": "e1",
            "success": True,
            "output": {"data": [[["append", [2, "content"], " 1."]]], "is_generating": True},
        },
        {
            "msg": "process_generating",
            "event_id": "e1",
            "success": True,
            "output": {"data": [[["append", [2, "content"], " You"]]], "is_generating": True},
        },
        {
            "msg": "process_completed",
            "event_id": "e1",
            "success": True,
            "title": None,
            "output": {
                "data": [
                    [
                        *ADDED,
                        {
                            "role": "assistant",
                            "metadata": None,
                            "content": "Turn 1. You",
                            "options": None,
                        },
                    ]
                ],
                "is_generating": False,
            },
        },
        {"msg": "close_stream", "event_id": None},
    ]
)
# Janus `generate_image` (fn 3) completion: a Gallery is a list of {image, caption}.
GALLERY = [
    {
        "image": {
            "path": f"/tmp/gradio/{i}/image.webp",
            "url": f"http://127.0.0.1:40563/spaces/deepseek-ai/janus-pro-7b/gradio_api/file=/tmp/gradio/{i}/image.webp",
            "size": None,
            "orig_name": None,
            "mime_type": None,
            "is_stream": False,
            "meta": {"_type": "gradio.FileData"},
        },
        "caption": None,
    }
    for i in range(5)
]
# `/config` (the parts the client reads); hidden helpers have `api_name: false`.
CONFIG = {
    "version": "5.50.0",
    "protocol": "sse_v3",
    "api_prefix": "/gradio_api",
    "components": [{"id": 4, "type": "chatbot", "props": {"type": "messages"}}],
    "dependencies": [
        {
            "id": 9,
            "api_name": False,
            "targets": [[9, "click"]],
            "queue": False,
            "types": {"generator": False, "cancel": False},
            "inputs": [],
            "outputs": [],
        },
        {
            "id": 10,
            "api_name": "add_message",
            "targets": [[8, "submit"]],
            "queue": False,
            "types": {"generator": False, "cancel": False},
            "inputs": [4, 8, 6],
            "outputs": [4, 8, 6],
        },
        {
            "id": 11,
            "api_name": "chat",
            "targets": [[None, "then"]],
            "queue": True,
            "types": {"generator": True, "cancel": False},
            "inputs": [4],
            "outputs": [4],
        },
    ],
}


def test_config_of_a_gradio5_space() -> None:
    config = parse_config(CONFIG, "microsoft/phi-4-multimodal")
    assert config.major_version == 5 and config.api_prefix == "/gradio_api"
    chat, add = config.find("chat"), config.find("add_message")
    assert chat is not None and chat.fn_index == 11 and chat.queued and chat.generator
    assert chat.trigger_id is None  # a `.then` step: no trigger component
    assert add is not None and add.fn_index == 10 and not add.queued and add.trigger_id == 8
    assert config.find(9) is not None and config.find(9).api_name is None  # type: ignore[union-attr]
    assert config.component_type(4) == "chatbot"


def test_added_turn_entries_read_in_gradio5_shape() -> None:
    assert _entry_file(ADDED[0]) == FD and _entry_text(ADDED[0]) is None
    assert _entry_text(ADDED[1]) == "hi" and _entry_file(ADDED[1]) is None


def test_chat_stream_replayed_as_the_job_reads_it() -> None:
    decoder = protocol.SSEDecoder()
    messages = [protocol.parse_message(p) for p in decoder.feed(STREAM.encode())]
    assert [m.msg for m in messages][-2:] == ["process_completed", "close_stream"]
    outputs: list[Any] | None = None
    deltas: list[str] = []
    for m in messages:
        if m.msg != "process_generating":
            continue
        data = m.body["output"]["data"]
        before = answer_text(outputs) if outputs is not None else None
        outputs = (
            data
            if outputs is None
            else [protocol.apply_diff(old, diff) for old, diff in zip(outputs, data, strict=True)]
        )
        after = answer_text(outputs)
        delta = after if before is None else protocol.appended_text(before, after)
        assert delta is not None
        deltas.append(delta)
    completed = messages[-2].body["output"]["data"]
    assert "".join(deltas) == answer_text(completed) == "Turn 1. You"
    assert outputs == completed


def test_gallery_in_gradio5_shape() -> None:
    files = gallery_files(GALLERY)
    assert len(files) == 5 and all(f["path"].endswith("image.webp") for f in files)
