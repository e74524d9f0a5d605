"""The Gradio queue wire format (sse_v3), pure: no I/O here.

- `SSEDecoder` turns body chunks into `data:` payloads (the WHATWG event-stream rules,
  https://html.spec.whatwg.org/multipage/server-sent-events.html, reduced to what Gradio
  sends: `data:` lines separated by blank lines).
- `parse_message` validates one payload into a `Message`.
- `apply_diff` applies streaming edits exactly as gradio's client does.
- `error_from_output` (from `app_errors`) maps a failed completion to a typed error.
- `space_host`/`file_data` build what requests need.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from . import errors
from .app_errors import Caller, error_from_output, parse_wait, strip_html

try:  # orjson parses event payloads several times faster when it is installed
    import orjson

    _loads: Callable[[str], Any] = orjson.loads
except ImportError:  # pragma: no cover
    _loads = json.loads

# ---------------------------------------------------------------------------
# Space ids and URLs


def space_host(space_id: str) -> str:
    """`owner/name` → the Space's `*.hf.space` host, by the Hub's rule."""
    if space_id.count("/") != 1 or not all(space_id.split("/")):
        raise errors.InvalidInputError(f"not a Space id (expected 'owner/name'): {space_id!r}")
    return re.sub(r"[/._]", "-", space_id.lower()) + ".hf.space"


def is_space_id(target: str) -> bool:
    return "://" not in target and re.fullmatch(r"[\w.\-]+/[\w.\-]+", target) is not None


# ---------------------------------------------------------------------------
# SSE decoding


class SSEDecoder:
    """Incremental decoder: feed bytes, get complete `data` payloads (str) back."""

    __slots__ = ("_buffer", "_data", "_max_line", "_size")

    def __init__(self, max_line: int = 64 * 1024 * 1024) -> None:
        self._buffer = b""
        self._data: list[str] = []
        self._size = 0  # bytes in `_data`: one event is capped like one line
        self._max_line = max_line

    def feed(self, chunk: bytes) -> list[str]:
        buffer = self._buffer + chunk if self._buffer else chunk
        out: list[str] = []
        start = 0
        while True:
            nl = buffer.find(b"\n", start)
            if nl < 0:
                break
            line = buffer[start:nl]
            start = nl + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            self._line(line, out)
        self._buffer = buffer[start:]
        if len(self._buffer) > self._max_line:
            raise errors.ProtocolError("server-sent event line exceeds the size limit")
        return out

    def flush(self) -> list[str]:
        """End of body: a last event not followed by a blank line still counts."""
        out: list[str] = []
        if self._buffer:
            self._line(self._buffer.rstrip(b"\r"), out)
            self._buffer = b""
        self._line(b"", out)
        return out

    def _line(self, line: bytes, out: list[str]) -> None:
        if not line:
            if self._data:
                out.append("\n".join(self._data))
                self._data = []
                self._size = 0
            return
        if line.startswith(b":"):
            return  # comment / keep-alive
        name, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            try:
                self._data.append(value.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise errors.ProtocolError("server-sent event is not valid UTF-8") from exc
            self._size += len(value) + 1
            if self._size > self._max_line:
                raise errors.ProtocolError("server-sent event exceeds the size limit")
        # `event:`, `id:`, `retry:` are not used by the queue protocol: ignore them.


# ---------------------------------------------------------------------------
# Messages

KNOWN_MESSAGES = frozenset(
    {
        "estimation",
        "process_starts",
        "progress",
        "log",
        "process_generating",
        "process_completed",
        "heartbeat",
        "close_stream",
        "unexpected_error",
        "send_hash",
        "send_data",
        "queue_full",
    }
)


@dataclass(frozen=True, slots=True)
class Message:
    msg: str
    event_id: str | None
    body: dict[str, Any]


def parse_body(payload: str, space: str | None = None) -> dict[str, Any]:
    """One `data:` payload as a JSON object (the stream's hot path: no further checks).
    Raises `ProtocolError` on anything that is not one."""
    try:
        body = _loads(payload)
    except (ValueError, RecursionError) as exc:
        raise errors.ProtocolError(
            f"malformed event from the Space: {payload[:200]!r}", space=space
        ) from exc
    if not isinstance(body, dict):
        raise errors.ProtocolError(f"event is not a JSON object: {payload[:200]!r}", space=space)
    return body


def parse_message(payload: str) -> Message:
    """Parse one `data:` payload. Raises `ProtocolError` on anything malformed."""
    body = parse_body(payload)
    msg = body.get("msg")
    if not isinstance(msg, str):
        raise errors.ProtocolError(f"event has no 'msg' field: {payload[:200]!r}")
    event_id = body.get("event_id")
    if event_id is not None and not isinstance(event_id, str):
        raise errors.ProtocolError(f"event_id is not a string: {payload[:200]!r}")
    return Message(msg=msg, event_id=event_id, body=body)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


# ---------------------------------------------------------------------------
# Diffs


def apply_diff(value: Any, diff: Any) -> Any:
    """Apply a list of `[op, path, value]` edits to `value` and return the new value.

    Mirrors gradio's `apply_diff` (gradio_client/utils.py). The input is not mutated.
    """
    return apply_diff_in_place(copy.deepcopy(value), diff)


def apply_diff_in_place(value: Any, diff: Any) -> Any:
    """`apply_diff` that may mutate `value` (the client owns its parsed outputs)."""
    for action, path, edit_value in _edits(diff):
        value = _apply_edit(value, path, action, edit_value)
    return value


def _edits(diff: Any) -> Iterator[tuple[Any, list[Any], Any]]:
    """The `[op, path, value]` edits of a diff, each checked for shape."""
    if not isinstance(diff, list):
        raise errors.ProtocolError(f"diff is not a list: {diff!r:.200}")
    for edit in diff:
        if not (isinstance(edit, (list, tuple)) and len(edit) == 3 and isinstance(edit[1], list)):
            raise errors.ProtocolError(f"malformed diff edit: {edit!r:.200}")
        yield edit[0], edit[1], edit[2]


def _apply_edit(target: Any, path: list[Any], action: Any, value: Any) -> Any:
    if not path:
        if action == "replace":
            return value
        if action == "append":
            try:
                return target + value
            except TypeError as exc:
                raise errors.ProtocolError(
                    f"cannot append {value!r:.80} to {target!r:.80}"
                ) from exc
        raise errors.ProtocolError(f"unsupported diff action at the root: {action!r}")
    parent = target
    try:
        for key in path[:-1]:
            parent = parent[key]
        last = path[-1]
        if action == "replace":
            parent[last] = value
        elif action == "append":
            # Not `+=`: a list leaf may be shared with an earlier snapshot.
            parent[last] = parent[last] + value
        elif action == "add":
            if isinstance(parent, list):
                parent.insert(int(last), value)
            else:
                parent[last] = value
        elif action == "delete":
            if isinstance(parent, list):
                del parent[int(last)]
            else:
                del parent[last]
        else:
            raise errors.ProtocolError(f"unknown diff action: {action!r:.80}")
    except errors.ProtocolError:
        raise
    except (KeyError, IndexError, TypeError, AttributeError, ValueError, OverflowError) as exc:
        raise errors.ProtocolError(f"diff path {path!r:.120} does not fit the value") from exc
    return target


def apply_diff_shared(value: Any, diff: Any) -> Any:
    """`apply_diff` that copies only the containers on each edited path (cheap per token)
    and never mutates `value`, so earlier snapshots handed to callers stay as they were."""
    for action, path, edit_value in _edits(diff):
        if path:
            value = _copy_path(value, path)
        value = _apply_edit(value, path, action, edit_value)
    return value


def _copy_path(value: Any, path: list[Any]) -> Any:
    """Shallow copies of `value` and of every container along `path[:-1]`."""

    def copy_one(node: Any) -> Any:
        return (
            list(node) if isinstance(node, list) else dict(node) if isinstance(node, dict) else node
        )

    root = copy_one(value)
    node = root
    try:
        for key in path[:-1]:
            child = copy_one(node[key])
            node[key] = child
            node = child
    except (KeyError, IndexError, TypeError) as exc:
        raise errors.ProtocolError(f"diff path {path!r:.120} does not fit the value") from exc
    return root


def appended_text(before: Any, after: Any) -> str | None:
    """The text added between two values of a streamed string, or None if not an append."""
    if isinstance(before, str) and isinstance(after, str) and after.startswith(before):
        return after[len(before) :]
    return None


# ---------------------------------------------------------------------------
# Payloads


def file_data(
    path: str,
    *,
    orig_name: str | None = None,
    size: int | None = None,
    mime_type: str | None = None,
) -> dict[str, Any]:
    """A FileData input value for a server path (from upload) or an http(s) URL."""
    return {
        "path": path,
        "url": None,
        "orig_name": orig_name,
        "size": size,
        "mime_type": mime_type,
        "is_stream": False,
        "meta": {"_type": "gradio.FileData"},
    }


def is_file_data(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("path"), str)
        and (
            (
                isinstance(value.get("meta"), dict)
                and value["meta"].get("_type") == "gradio.FileData"
            )
            or "url" in value
        )
    )


def progress_units(body: dict[str, Any]) -> list[dict[str, Any]]:
    data = body.get("progress_data")
    return [u for u in data if isinstance(u, dict)] if isinstance(data, list) else []


__all__ = [
    "KNOWN_MESSAGES",
    "Caller",
    "Message",
    "SSEDecoder",
    "_int",
    "_num",
    "appended_text",
    "apply_diff",
    "apply_diff_in_place",
    "apply_diff_shared",
    "error_from_output",
    "file_data",
    "is_file_data",
    "is_space_id",
    "parse_body",
    "parse_message",
    "parse_wait",
    "progress_units",
    "space_host",
    "strip_html",
]
