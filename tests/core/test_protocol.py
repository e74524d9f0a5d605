"""Pure unit tests of the wire format (no I/O): SSE decoding, message parsing, diffs,
error mapping of failed completions, Space ids, FileData. Inputs are recorded lines."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from gradio.utils import diff as gradio_diff
from gradio_client.utils import apply_diff as gradio_apply_diff
from hfspaces import errors, protocol
from hfspaces.protocol import (
    SSEDecoder,
    apply_diff,
    apply_diff_shared,
    parse_message,
    space_host,
)
from hypothesis import given, settings
from hypothesis import strategies as st

# Recorded from a gradio 6.31 server (the Phi-4 replica streaming two words, then done).
RECORDED = (
    b'data: {"msg":"estimation","event_id":"e1","rank":0,"queue_size":1,"rank_eta":null}\n\n'
    b'data: {"msg":"process_starts","event_id":"e1","eta":null,"progress_data":null}\n\n'
    b'data: {"msg":"process_generating","event_id":"e1","output":{"data":[[{"role":"assistant",'
    b'"metadata":null,"content":[{"text":"Turn","type":"text"}],"options":null}]],'
    b'"is_generating":true},"success":true}\n\n'
    b'data: {"msg":"process_generating","event_id":"e1","output":{"data":[[["append",'
    b'[0,"content",0,"text"]," 1."]]],"is_generating":true},"success":true}\n\n'
    b'data: {"msg":"heartbeat"}\n\n'
    b'data: {"msg":"process_completed","event_id":"e1","output":{"data":[[{"role":"assistant",'
    b'"metadata":null,"content":[{"text":"Turn 1.","type":"text"}],"options":null}]]},'
    b'"success":true,"title":null}\n\n'
    b'data: {"msg":"close_stream","event_id":null}\n\n'
)


def decode_all(chunks: list[bytes]) -> list[str]:
    decoder = SSEDecoder()
    out: list[str] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    out.extend(decoder.flush())
    return out


EXPECTED = decode_all([RECORDED])


def test_recorded_stream_decodes_to_seven_messages() -> None:
    msgs = [parse_message(p).msg for p in EXPECTED]
    assert msgs == [
        "estimation",
        "process_starts",
        "process_generating",
        "process_generating",
        "heartbeat",
        "process_completed",
        "close_stream",
    ]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(RECORDED)), max_size=40))
def test_chunk_boundaries_anywhere(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    chunks = [RECORDED[a:b] for a, b in zip([0, *points], [*points, len(RECORDED)], strict=True)]
    assert decode_all(chunks) == EXPECTED


def test_one_byte_at_a_time_with_crlf() -> None:
    crlf = RECORDED.replace(b"\n", b"\r\n")
    assert decode_all([crlf[i : i + 1] for i in range(len(crlf))]) == EXPECTED


def test_crlf_split_between_cr_and_lf() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b'data: {"msg":"heartbeat"}\r') == []
    assert decoder.feed(b"\n\r") == []
    assert decoder.feed(b"\n") == ['{"msg":"heartbeat"}']


def test_comments_event_id_retry_fields_ignored() -> None:
    body = b': keep-alive\n\nevent: x\nid: 7\nretry: 10\ndata: {"msg":"heartbeat"}\n\n'
    assert decode_all([body]) == ['{"msg":"heartbeat"}']


def test_multi_line_data_joined_with_newline() -> None:
    body = b'data: {"msg":\ndata: "log", "log": "a"}\n\n'
    payloads = decode_all([body])
    assert payloads == ['{"msg":\n"log", "log": "a"}']
    assert parse_message(payloads[0]).msg == "log"


def test_data_without_space_and_last_event_without_blank_line() -> None:
    assert decode_all([b'data:{"msg":"close_stream"}']) == ['{"msg":"close_stream"}']


def test_utf8_split_across_chunks() -> None:
    line = 'data: {"msg":"log","log":"32×24 ✓"}\n\n'.encode()
    cut = line.index("×".encode()) + 1  # inside the multi-byte character
    assert json.loads(decode_all([line[:cut], line[cut:]])[0])["log"] == "32×24 ✓"


def test_invalid_utf8_is_protocol_error() -> None:
    with pytest.raises(errors.ProtocolError):
        SSEDecoder().feed(b"data: \xff\xfe\n\n")


def test_oversized_line_is_protocol_error() -> None:
    decoder = SSEDecoder(max_line=100)
    with pytest.raises(errors.ProtocolError, match="size limit"):
        decoder.feed(b"data: " + b"x" * 200)


# -- messages ----------------------------------------------------------------


def test_parse_message_fields() -> None:
    m = parse_message('{"msg":"estimation","event_id":"abc","rank":2,"queue_size":5}')
    assert (m.msg, m.event_id, m.body["rank"]) == ("estimation", "abc", 2)
    assert parse_message('{"msg":"heartbeat","event_id":null}').event_id is None


@pytest.mark.parametrize(
    "payload",
    [
        "{not json",
        "[1, 2]",
        '"text"',
        '{"event_id": "x"}',
        '{"msg": 3}',
        '{"msg":"x","event_id":5}',
    ],
)
def test_parse_message_malformed(payload: str) -> None:
    with pytest.raises(errors.ProtocolError):
        parse_message(payload)


# -- diffs -------------------------------------------------------------------

DIFF_CASES: list[tuple[str, Any, list[Any]]] = [
    ("textbox append", "image ", [["append", [], "of a cat"]]),
    ("root replace", "old", [["replace", [], "new"]]),
    ("list append to nested text", [["a", "b"]], [["append", [0, 1], "c"]]),
    ("add into list", [1, 2, 3], [["add", [1], 9]]),
    ("add at end", [1, 2], [["add", [2], 3]]),
    ("add dict key", {"a": 1}, [["add", ["b"], 2]]),
    ("delete from list, shifted", [0, 1, 2, 3], [["delete", [2], None], ["delete", [2], None]]),
    ("delete dict key", {"a": 1, "b": 2}, [["delete", ["a"], None]]),
    ("replace nested", {"x": [{"y": 1}]}, [["replace", ["x", 0, "y"], 5]]),
    (
        "gradio 6 chatbot token",
        [
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {"role": "user", "content": [{"type": "file", "file": {"path": "/a.png"}}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Turn"}]},
        ],
        [["append", [2, "content", 0, "text"], " 1."]],
    ),
    (
        "gradio 5 chatbot token and a new message",
        [{"role": "assistant", "content": "Hel"}],
        [
            ["append", [0, "content"], "lo"],
            ["add", [1], {"role": "assistant", "content": "more"}],
        ],
    ),
]


@pytest.mark.parametrize(("name", "value", "diff"), DIFF_CASES, ids=[c[0] for c in DIFF_CASES])
def test_apply_diff_matches_gradio_client(name: str, value: Any, diff: list[Any]) -> None:
    before = copy.deepcopy(value)
    expected = gradio_apply_diff(value, diff)
    assert apply_diff(value, diff) == expected
    assert apply_diff_shared(value, diff) == expected
    assert value == before  # neither mutates its input


def test_gradio6_chatbot_path() -> None:
    history = [{"role": "assistant", "content": [{"type": "text", "text": "i"}]}]
    out = apply_diff_shared(history, [["append", [0, "content", 0, "text"], "s"]])
    assert out[0]["content"][0]["text"] == "is"
    assert history[0]["content"][0]["text"] == "i"
    # Untouched siblings are shared, not copied (cheap per token).
    two = [{"role": "user", "content": "q"}, *history]
    out2 = apply_diff_shared(two, [["append", [1, "content", 0, "text"], "!"]])
    assert out2[0] is two[0]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values, json_values)
def test_diffs_made_by_gradio_apply_like_gradio_client(old: Any, new: Any) -> None:
    diff = gradio_diff(old, new)
    try:
        expected = gradio_apply_diff(old, diff)
    except (IndexError, KeyError, TypeError):
        # gradio's own diff and apply disagree on some nested deletes (e.g. old
        # [[None, None, None]] → new [[]]): then we fail loudly too, never silently.
        with pytest.raises(errors.ProtocolError):
            apply_diff(old, diff)
        with pytest.raises(errors.ProtocolError):
            apply_diff_shared(old, diff)
        return
    assert apply_diff(old, diff) == expected
    assert apply_diff_shared(old, diff) == expected


@pytest.mark.parametrize(
    ("value", "diff"),
    [
        ("x", "not a list"),
        ("x", [["append"]]),
        ("x", [["append", "nopath", "y"]]),
        (5, [["append", [], "y"]]),
        ([1], [["replace", [3, 1], 0]]),
        ({"a": 1}, [["delete", ["b"], None]]),
        ([1], [["frobnicate", [0], 1]]),
        ("x", [["add", [], "y"]]),
    ],
)
def test_bad_diffs_are_protocol_errors(value: Any, diff: Any) -> None:
    with pytest.raises(errors.ProtocolError):
        apply_diff(value, diff)
    with pytest.raises(errors.ProtocolError):
        apply_diff_shared(value, diff)


def test_appended_text() -> None:
    assert protocol.appended_text("ab", "abc") == "c"
    assert protocol.appended_text("ab", "xb") is None
    assert protocol.appended_text(None, "x") is None


def test_strip_html() -> None:
    assert protocol.strip_html("a <br/>\n <i>b</i> &lt;c&gt;") == "a b <c>"


# -- ids, payloads ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("space", "host"),
    [
        ("deepseek-ai/Janus-Pro-7B", "deepseek-ai-janus-pro-7b.hf.space"),
        ("microsoft/phi-4-multimodal", "microsoft-phi-4-multimodal.hf.space"),
        ("Some_User/my.app_v2", "some-user-my-app-v2.hf.space"),
    ],
)
def test_space_host(space: str, host: str) -> None:
    assert space_host(space) == host


@pytest.mark.parametrize("bad", ["noslash", "a/b/c", "/name", "owner/", ""])
def test_space_host_rejects(bad: str) -> None:
    with pytest.raises(errors.InvalidInputError):
        space_host(bad)


def test_is_space_id() -> None:
    assert protocol.is_space_id("owner/name")
    assert not protocol.is_space_id("http://host/owner/name")
    assert not protocol.is_space_id("owner/name/extra")


def test_file_data_shape() -> None:
    fd = protocol.file_data("/tmp/x.png", orig_name="x.png", size=3, mime_type="image/png")
    assert fd["meta"] == {"_type": "gradio.FileData"} and fd["is_stream"] is False
    assert protocol.is_file_data(fd)
    assert protocol.is_file_data({"path": "/x", "url": None})
    assert not protocol.is_file_data({"path": 3})


def test_sse_decoder_caps_an_event_of_many_lines() -> None:
    """The line cap alone is not enough: an event of endless short `data:` lines (no
    blank line) must be refused too, not buffered without bound."""
    decoder = SSEDecoder(max_line=1000)
    with pytest.raises(errors.ProtocolError, match="size limit"):
        for _ in range(1000):
            decoder.feed(b"data: " + b"x" * 50 + b"\n")
    # Events under the cap, split over many lines, still decode.
    ok = SSEDecoder(max_line=1000)
    assert ok.feed(b"data: a\ndata: b\n\n") == ["a\nb"]
