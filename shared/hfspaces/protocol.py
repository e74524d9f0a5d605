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
    """Incremental decoder: feed bytes, get complete `data` payloads (str) back.

    Linear in the bytes fed, however long a line: an unfinished line is kept as a list of
    chunks, joined once when its end arrives (a 60 MB payload is not re-copied per chunk)."""

    __slots__ = ("_data", "_max_line", "_pending", "_pending_size", "_size")

    def __init__(self, max_line: int = 64 * 1024 * 1024) -> None:
        self._pending: list[bytes] = []  # the start of an unfinished line
        self._pending_size = 0
        self._data: list[str] = []
        self._size = 0  # bytes in `_data`: one event is capped like one line
        self._max_line = max_line

    def feed(self, chunk: bytes) -> list[str]:
        out: list[str] = []
        start = 0
        nl = chunk.find(b"\n")
        if nl >= 0 and self._pending:
            self._pending.append(chunk[:nl])
            line = b"".join(self._pending)
            self._pending.clear()
            self._pending_size = 0
            self._line(line[:-1] if line.endswith(b"\r") else line, out)
            start = nl + 1
            nl = chunk.find(b"\n", start)
        while nl >= 0:
            line = chunk[start:nl]
            self._line(line[:-1] if line.endswith(b"\r") else line, out)
            start = nl + 1
            nl = chunk.find(b"\n", start)
        if start < len(chunk):
            self._pending.append(chunk[start:] if start else chunk)
            self._pending_size += len(chunk) - start
            if self._pending_size > self._max_line:
                raise errors.ProtocolError("server-sent event line exceeds the size limit")
        return out

    def flush(self) -> list[str]:
        """End of body: a last event not followed by a blank line still counts."""
        out: list[str] = []
        if self._pending:
            line = b"".join(self._pending)
            self._pending.clear()
            self._pending_size = 0
            self._line(line.rstrip(b"\r"), out)
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
    return materialize(value)


def _edits(diff: Any) -> Iterator[tuple[Any, list[Any], Any]]:
    """The `[op, path, value]` edits of a diff, each checked for shape."""
    if not isinstance(diff, list):
        raise errors.ProtocolError(f"diff is not a list: {diff!r:.200}")
    for edit in diff:
        if not (isinstance(edit, (list, tuple)) and len(edit) == 3 and isinstance(edit[1], list)):
            raise errors.ProtocolError(f"malformed diff edit: {edit!r:.200}")
        yield edit[0], edit[1], edit[2]


def _apply_edit(
    target: Any, path: list[Any], action: Any, value: Any, budget: OutputBudget | None = None
) -> Any:
    if not path:
        if action == "replace":
            if budget is not None:
                budget.add(size_of(value) - size_of(target))
            return value
        if action == "append":
            if budget is not None:
                budget.add(size_of(value))
            return _append(target, value)
        raise errors.ProtocolError(f"unsupported diff action at the root: {action!r}")
    parent = target
    try:
        for key in path[:-1]:
            parent = parent[key]
        last = path[-1]
        if action == "replace":
            old = parent.get(last) if isinstance(parent, dict) else parent[last]
            parent[last] = value
            grown = size_of(value) - size_of(old) if budget is not None else 0
        elif action == "append":
            # Never in place: a list leaf may be shared with an earlier snapshot.
            parent[last] = _append(parent[last], value)
            grown = size_of(value) if budget is not None else 0
        elif action == "add":
            if isinstance(parent, list):
                parent.insert(int(last), value)
            else:
                parent[last] = value
            grown = size_of(value) if budget is not None else 0
        elif action == "delete":
            index = int(last) if isinstance(parent, list) else last
            grown = -size_of(parent[index]) if budget is not None else 0
            del parent[index]
        else:
            raise errors.ProtocolError(f"unknown diff action: {action!r:.80}")
        if budget is not None:
            budget.add(grown)
    except errors.ProtocolError:
        raise
    except (KeyError, IndexError, TypeError, AttributeError, ValueError, OverflowError) as exc:
        raise errors.ProtocolError(f"diff path {path!r:.120} does not fit the value") from exc
    return target


def apply_diff_shared(value: Any, diff: Any) -> Any:
    """`apply_diff` that copies only the containers on each edited path and never mutates
    `value`, so earlier snapshots handed to callers stay as they were."""
    return materialize(apply_diff_persistent(value, diff))


def apply_diff_persistent(value: Any, diff: Any, budget: OutputBudget | None = None) -> Any:
    """The streaming form of `apply_diff`: linear work per edit. Containers on each edited
    path are copied (earlier versions stay intact) and appended strings become `Text`
    leaves sharing their chunks, so a token costs its own length, not the answer's.
    `materialize` turns a version into plain values. `budget` counts the growth."""
    for action, path, edit_value in _edits(diff):
        if path:
            value = _copy_path(value, path)
        value = _apply_edit(value, path, action, edit_value, budget)
    return value


class Text:
    """A streamed string: chunks appended by diffs, shared by every version of it.

    A version is the first `count` chunks; only the newest version is extended in place,
    an older one is copied first, so every version handed out stays what it was."""

    __slots__ = ("_chunks", "_count", "_length")

    def __init__(self, chunks: list[str], count: int, length: int) -> None:
        self._chunks = chunks
        self._count = count
        self._length = length

    def plus(self, more: str) -> Text:
        chunks = self._chunks
        if len(chunks) != self._count:
            chunks = chunks[: self._count]
        chunks.append(more)
        return Text(chunks, self._count + 1, self._length + len(more))

    def __len__(self) -> int:
        return self._length

    def __str__(self) -> str:
        return "".join(self._chunks[: self._count])

    def __repr__(self) -> str:
        return f"Text({self._length} characters)"


def _append(target: Any, value: Any) -> Any:
    if isinstance(value, str) and isinstance(target, (str, Text)):
        base = target if isinstance(target, Text) else Text([target], 1, len(target))
        return base.plus(value)
    try:
        return materialize(target) + value
    except TypeError as exc:
        raise errors.ProtocolError(f"cannot append {value!r:.80} to {target!r:.80}") from exc


def materialize(value: Any) -> Any:
    """A value with every `Text` leaf turned back into a `str` (containers copied only
    where they hold one)."""
    if isinstance(value, Text):
        return str(value)
    if isinstance(value, list):
        items = [materialize(v) for v in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    if isinstance(value, dict):
        fixed = {k: materialize(v) for k, v in value.items()}
        return fixed if any(fixed[k] is not value[k] for k in value) else value
    return value


def size_of(value: Any) -> int:
    """Roughly the bytes `value` holds: characters of strings, plus one per item."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (str, Text, bytes)):
            total += len(item)
        elif isinstance(item, dict):
            total += len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            total += len(item)
            stack.extend(item)
        else:
            total += 8
    return total


class OutputBudget:
    """The size of a job's accumulated output, refused past `limit` like the stream."""

    __slots__ = ("limit", "size")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0

    def add(self, delta: int) -> None:
        self.size += delta
        if self.size > self.limit:
            raise errors.ProtocolError(
                f"the Space's output grew past the {self.limit}-byte cap; the answer was "
                "refused (raise the client's transport.max_stream_bytes to accept it)"
            )


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
    "apply_diff_persistent",
    "apply_diff_shared",
    "error_from_output",
    "file_data",
    "is_file_data",
    "is_space_id",
    "materialize",
    "parse_body",
    "parse_message",
    "parse_wait",
    "progress_units",
    "size_of",
    "space_host",
    "strip_html",
]
