"""Property tests (hypothesis): whatever bytes or JSON a server sends, the SSE decoder, the
message parser, the diff appliers and the error mapper end in parsed values or a
`ProtocolError` — never another exception, never a hang (bounded sizes and examples).
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import pytest
from hfspaces import errors, protocol
from hypothesis import given, settings
from hypothesis import strategies as st

BOUNDED = settings(max_examples=150, deadline=2000, database=None)

# -- SSE ----------------------------------------------------------------------------------

# Pieces that make SSE-looking input likelier than random bytes alone.
SSE_PIECES = st.sampled_from(
    [
        b"data: ",
        b"data:",
        b"data",
        b": keep-alive",
        b"event: message",
        b"id: 7",
        b"retry: 10",
        b"\n",
        b"\r\n",
        b"\r",
        b"\n\n",
        b'{"msg": "heartbeat", "event_id": null}',
        b'{"msg": "process_completed", "event_id": "e", "success": true, "output": {"data": []}}',
        b"{not json",
        b"\xff\xfe",
        b"\xe2\x82",  # a UTF-8 sequence cut in half
        "é".encode(),
    ]
)
SSE_BYTES = st.lists(st.one_of(SSE_PIECES, st.binary(max_size=40)), max_size=40).map(b"".join)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    out, last = [], 0
    for p in points:
        out.append(data[last:p])
        last = p
    out.append(data[last:])
    return out


def decode_all(chunks: list[bytes], max_line: int | None = None) -> list[str]:
    decoder = protocol.SSEDecoder() if max_line is None else protocol.SSEDecoder(max_line)
    payloads: list[str] = []
    for chunk in chunks:
        payloads += decoder.feed(chunk)
    payloads += decoder.flush()
    return payloads


@BOUNDED
@given(data=SSE_BYTES, cuts=st.lists(st.integers(min_value=0), max_size=8))
def test_sse_decoder_any_bytes(data: bytes, cuts: list[int]) -> None:
    try:
        payloads = decode_all(split(data, cuts))
    except errors.ProtocolError:
        return
    assert all(isinstance(p, str) for p in payloads)
    for payload in payloads:  # and each payload parses or is a ProtocolError
        try:
            message = protocol.parse_message(payload)
        except errors.ProtocolError:
            continue
        assert isinstance(message.msg, str)
        assert message.event_id is None or isinstance(message.event_id, str)


@BOUNDED
@given(data=SSE_BYTES, cuts=st.lists(st.integers(min_value=0), max_size=8))
def test_sse_decoder_chunking_does_not_matter(data: bytes, cuts: list[int]) -> None:
    """Where the network splits the body never changes what is decoded."""

    def outcome(chunks: list[bytes]) -> Any:
        try:
            return decode_all(chunks)
        except errors.ProtocolError:
            return "error"

    whole = outcome([data])
    if whole != "error":
        assert outcome(split(data, cuts)) == whole


@BOUNDED
@given(data=st.binary(min_size=65, max_size=400))
def test_sse_decoder_line_cap(data: bytes) -> None:
    """An endless line is refused once it passes the cap, not buffered forever."""
    line = data.replace(b"\n", b"x").replace(b"\r", b"x")
    with pytest.raises(errors.ProtocolError):
        protocol.SSEDecoder(max_line=64).feed(line)


@BOUNDED
@given(payload=st.one_of(st.text(max_size=200), SSE_BYTES.map(lambda b: b.decode("latin-1"))))
def test_job_message_parser_any_text(payload: str) -> None:
    # The stream's own parser (Job reads every payload through it).
    try:
        body = protocol.parse_body(payload, None)
    except errors.ProtocolError:
        return
    assert isinstance(body, dict)


# -- diffs --------------------------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = st.one_of(
    st.integers(-3, 5),
    st.text(max_size=3),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2),
)
EDIT = st.one_of(
    st.tuples(
        st.sampled_from(["replace", "append", "add", "delete", "explode", ""]),
        st.lists(KEYS, max_size=4),
        JSON,
    ).map(list),
    JSON,  # not an edit at all
)
DIFF = st.one_of(st.lists(EDIT, max_size=5), JSON)

APPLIERS = [protocol.apply_diff, protocol.apply_diff_in_place]
if hasattr(protocol, "apply_diff_shared"):
    APPLIERS.append(protocol.apply_diff_shared)


@pytest.mark.parametrize("apply", APPLIERS, ids=lambda f: f.__name__)
@BOUNDED
@given(value=JSON, diff=DIFF)
def test_diff_any_input(apply: Any, value: Any, diff: Any) -> None:
    with contextlib.suppress(errors.ProtocolError):
        apply(value, diff)


@pytest.mark.parametrize(
    "apply",
    [f for f in APPLIERS if f is not protocol.apply_diff_in_place],
    ids=lambda f: f.__name__,
)
@BOUNDED
@given(value=JSON, diff=DIFF)
def test_diff_never_mutates_its_input(apply: Any, value: Any, diff: Any) -> None:
    before = copy.deepcopy(value)
    with contextlib.suppress(errors.ProtocolError):
        apply(value, diff)
    assert value == before  # (no NaN in the strategy, so equality is exact)


@BOUNDED
@given(text=st.text(max_size=50), extra=st.text(max_size=50))
def test_text_append_diff_matches_concatenation(text: str, extra: str) -> None:
    assert protocol.apply_diff(text, [["append", [], extra]]) == text + extra


# -- error mapping ------------------------------------------------------------------------


@BOUNDED
@given(output=st.one_of(JSON, st.dictionaries(st.sampled_from(["error", "title"]), JSON)))
def test_error_mapping_any_output(output: Any) -> None:
    err = protocol.error_from_output(output, "owner/name")
    assert isinstance(err, errors.SpaceError)
    assert str(err)
