"""`Job`: one queued call. Iterate it for typed events; `await job.result()` for the outputs.

Leaving the `async for` early, `await job.cancel()`, or cancelling the task that reads it
cancels the job on the server and closes the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp

from . import errors, protocol
from .events import (
    Completed,
    Event,
    Log,
    Partial,
    Progress,
    Queued,
    QueueFullWait,
    Started,
    TextDelta,
)
from .waiting import Busy

if TYPE_CHECKING:
    from .client import SpaceClient
    from .config import Endpoint

log = logging.getLogger("hfspaces")

TextOf = Callable[[list[Any]], "str | None"]
#: Time kept for a join after a wait in a full queue (a join past the deadline is useless).
MIN_JOIN_TIME = 0.2


def first_text_output(outputs: list[Any]) -> str | None:
    """Default text extractor: the first output, when it is a string (a Textbox)."""
    return outputs[0] if outputs and isinstance(outputs[0], str) else None


class Job:
    """A call that has joined a Space's queue. Created by `SpaceClient.submit`."""

    def __init__(
        self,
        client: SpaceClient,
        endpoint: Endpoint,
        data: list[Any],
        *,
        session_hash: str,
        event_id: str,
        joined_at: float,
        deadline: float,
        text_of: TextOf | None,
        rejoin: Callable[[Job], Awaitable[Busy | None]],
    ) -> None:
        self.client = client
        self.endpoint = endpoint
        self.data = data
        self.session_hash = session_hash
        self.event_id = event_id
        self.deadline = deadline
        self._joined_at = joined_at
        self._text_of = text_of or first_text_output
        self._rejoin = rejoin
        self._iterated = False
        self._done = False
        self._cancelled = False
        self._outcome: Completed | BaseException | None = None
        self._response: aiohttp.ClientResponse | None = None
        #: The server finished this event (a failed completion): nothing to cancel there.
        self._ended_on_server = False
        #: A `queue/data` stream was requested for the current event: the server serves
        #: (or is about to serve) it, and dropping it makes the server drop the session's
        #: waiting events. Set before the request, so a cancel that lands while the stream
        #: is still opening counts it too.
        self._stream_requested = False
        #: Set while the Space turns the join away (full queue): no place yet.
        self.busy: Busy | None = None

    def __repr__(self) -> str:
        state = "done" if self._done else "cancelled" if self._cancelled else "running"
        return f"<Job {self.endpoint.api_name or self.endpoint.fn_index} {self.event_id} {state}>"

    @property
    def done(self) -> bool:
        return self._done

    # -- consuming ------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[Event]:
        if self._iterated:
            raise RuntimeError("a Job's events can be iterated once; use `await job.result()`")
        self._iterated = True
        return self._events()

    async def result(self) -> list[Any]:
        """The final outputs. Consumes the events if nobody iterated them."""
        if not self._iterated:
            async with contextlib.aclosing(self.__aiter__()) as events:  # type: ignore[type-var]
                async for _ in events:
                    pass
        outcome = self._outcome
        if isinstance(outcome, Completed):
            return outcome.outputs
        if isinstance(outcome, BaseException):
            raise outcome
        raise errors.CancelledJobError(
            "the job was cancelled before it produced a result", space=self.client.space_id
        )

    async def cancel(self) -> None:
        """Cancel on the server (queued or running) and close the stream. Idempotent."""
        if self._done or self._cancelled:
            return
        self._cancelled = True
        self.client._jobs.discard(self)
        self.client._waiting_line.leave(self)  # a job waiting for a place stops waiting
        self._close_stream()
        await self.client._cancel_on_server(self, listening=self._stream_requested)

    # -- the stream -----------------------------------------------------------

    async def _events(self) -> AsyncIterator[Event]:
        if self._cancelled:
            return  # cancelled before anyone read it: no stream for a session the Space dropped
        refreshed = False
        reuploaded = False
        quota_waited = 0.0
        try:
            while True:
                async for refusal in self._wait_for_place():
                    yield refusal
                if self._cancelled:
                    return  # cancelled while waiting for a place: nothing on the server
                produced = False
                try:
                    async for event in self._stream_once():
                        produced = produced or isinstance(event, (Partial, TextDelta))
                        yield event
                    return
                except errors.ZeroGPUTokenExpiredError:
                    if refreshed:
                        raise
                    refreshed = True  # one refresh and one retry, no loop
                    self.client.identity.invalidate()
                except errors.GPUQuotaExceededError as exc:
                    wait = exc.retry_after.total_seconds() if exc.retry_after else None
                    budget = self.client.max_quota_wait - quota_waited
                    if wait is None or wait > budget or self._remaining() <= wait:
                        raise
                    log.info("ZeroGPU quota exceeded; waiting %.0f s as allowed", wait)
                    quota_waited += wait
                    await asyncio.sleep(wait)
                except errors.AppError:  # after the subclasses handled above
                    # A Space that restarted lost the files we uploaded: one re-upload,
                    # one retry (the check costs a GET per file, on failures only).
                    again = (
                        None
                        if reuploaded or produced
                        else await self.client.reupload_lost(self.data)
                    )
                    if again is None:
                        raise
                    reuploaded = True
                    self.data = again
                self._ended_on_server = False
                self._stream_requested = False
                self.busy = await self._rejoin(self)
        except BaseException as exc:
            if self._outcome is None and not isinstance(exc, GeneratorExit):
                self._outcome = exc if isinstance(exc, Exception) else None
            raise
        finally:
            # Left early (break, task cancelled, error): stop the job on the server too.
            self._abandon()

    async def _wait_for_place(self) -> AsyncIterator[QueueFullWait]:
        """While the Space turns the join away, wait and join again, until a place,
        `max_queue_wait` or the deadline (then `QueueFullError`). One `QueueFullWait` per
        wait. The client's refused jobs wait in its `WaitingLine`: the head asks again
        after a backoff with jitter (`SpaceClient.queue_backoff`), the others wait their
        turn without a request."""
        if self.busy is None:
            return
        client = self.client
        loop = asyncio.get_running_loop()
        since = loop.time()
        line = client._waiting_line
        line.join(self)
        attempt = asks = 0
        try:
            while self.busy is not None and not self._cancelled:
                attempt += 1
                waited = loop.time() - since
                # A wait must leave time for the join after it.
                left = min(client.max_queue_wait - waited, self._remaining() - MIN_JOIN_TIME)
                if left <= 0:
                    deadline_hit = (
                        self._remaining() - MIN_JOIN_TIME < client.max_queue_wait - waited
                    )
                    raise client.queue_full_error(self.busy, attempt, waited, deadline_hit)
                ahead = line.ahead_of(self)
                if ahead:
                    delay = min(left, client.queue_backoff(attempt, None))
                    yield QueueFullWait(self.busy.reason, attempt, waited, delay, ahead)
                    await line.sleep(self, delay, until_moved=True)
                    continue
                asks += 1
                delay = min(left, client.queue_backoff(asks, self.busy.retry_after))
                log.info(
                    "the Space turned the join away (%s); retrying in %.1f s (attempt %d, %.0f s)",
                    self.busy.reason,
                    delay,
                    attempt,
                    waited,
                )
                yield QueueFullWait(self.busy.reason, attempt, waited, delay)
                await line.sleep(self, delay, until_moved=False)  # `cancel()` cuts it short
                if not self._cancelled:
                    self.busy = await self._rejoin(self)
        finally:
            line.leave(self)
        if not self._cancelled:
            self._joined_at = since  # the wait for a place is time spent in line too

    def _abandon(self) -> None:
        """Stop a job nobody will finish: close the stream, cancel on the server in the
        background (`SpaceClient.aclose()` waits for it, bounded)."""
        self.client._jobs.discard(self)
        if self._done or self._cancelled:
            return
        self._cancelled = True
        self.client._waiting_line.leave(self)
        self._close_stream()
        if not self._ended_on_server:
            cancel = self.client._cancel_on_server(self, listening=self._stream_requested)
            self.client._spawn(cancel)

    def _remaining(self) -> float:
        return self.deadline - asyncio.get_running_loop().time()

    def _close_stream(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None

    async def _stream_once(self) -> AsyncIterator[Event]:
        client = self.client
        space = client.space_id
        loop = asyncio.get_running_loop()
        self._stream_requested = True
        try:
            resp = await client._open_stream(self)
        except asyncio.TimeoutError as exc:
            raise self._timeout_error("opening the event stream") from exc
        self._response = resp
        idle = _IdleTimer(loop, resp, client.transport.timeouts.idle)
        decoder = protocol.SSEDecoder(client.transport.max_stream_bytes)
        budget = protocol.OutputBudget(client.transport.max_stream_bytes)
        outputs: list[Any] | None = None
        answer = _Answer(self._text_of)
        started_at: float | None = None
        got_output = False
        try:
            while True:
                try:
                    chunk = await resp.content.readany()
                except asyncio.TimeoutError as exc:
                    raise self._timeout_error("waiting for the Space") from exc
                except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as exc:
                    if self._cancelled:
                        return
                    raise self._cut_error(got_output) from exc
                payloads = decoder.feed(chunk) if chunk else decoder.flush()
                for payload in payloads:
                    body = protocol.parse_body(payload, space)
                    msg = body.get("msg")
                    event_id = body.get("event_id")
                    if event_id is not None and event_id != self.event_id:
                        continue  # not ours (a shared session); never happens with our hashes
                    if msg == "process_generating":
                        output = body.get("output")
                        if body.get("success") is False or not isinstance(output, dict):
                            raise protocol.error_from_output(output, space, client.caller)
                        data = output.get("data")
                        if not isinstance(data, list):
                            raise errors.ProtocolError("generating event without data", space=space)
                        if outputs is None:
                            budget.add(protocol.size_of(data))
                            outputs = data
                            partial = Partial(data)
                            delta = answer.after(outputs)
                        else:
                            if len(data) != len(outputs):
                                raise errors.ProtocolError("diff has the wrong arity", space=space)
                            # New containers along each edited path, shared text chunks:
                            # every Partial stays a snapshot even if the caller keeps it.
                            outputs = [
                                protocol.apply_diff_persistent(value, diff, budget)
                                for value, diff in zip(outputs, data, strict=True)
                            ]
                            partial = Partial(build=_snapshot(outputs))
                            delta = answer.after(outputs, data)
                        got_output = True
                        yield partial
                        if delta:
                            yield TextDelta(delta)
                    elif msg == "estimation":
                        if started_at is not None:
                            continue  # a late queue update: the job already left the queue
                        yield Queued(
                            protocol._int(body.get("rank")),
                            protocol._int(body.get("queue_size")),
                            protocol._num(body.get("rank_eta")),
                        )
                    elif msg == "process_starts":
                        started_at = loop.time()
                        yield Started(protocol._num(body.get("eta")))
                    elif msg == "progress":
                        units = protocol.progress_units(body)
                        if units:
                            u = units[-1]
                            yield Progress(
                                u.get("desc") if isinstance(u.get("desc"), str) else None,
                                protocol._num(u.get("index")),
                                protocol._num(u.get("length")),
                                u.get("unit") if isinstance(u.get("unit"), str) else None,
                                protocol._num(u.get("progress")),
                            )
                    elif msg == "log":
                        yield Log(
                            str(body.get("level") or "info"),
                            protocol.strip_html(str(body.get("log") or "")),
                            body.get("title") if isinstance(body.get("title"), str) else None,
                        )
                    elif msg == "process_completed":
                        output = body.get("output")
                        if body.get("success") is False or (
                            isinstance(output, dict) and "error" in output
                        ):
                            self._ended_on_server = True
                            raise protocol.error_from_output(output, space, client.caller)
                        if not isinstance(output, dict) or "data" not in output:
                            self._cancelled = True  # `output: {}`: cancelled on the server
                            return
                        data = output["data"]
                        if not isinstance(data, list):
                            raise errors.ProtocolError("completion without data", space=space)
                        delta = answer.after(data)
                        if delta:
                            yield TextDelta(delta)
                        now = loop.time()
                        completed = Completed(
                            data,
                            duration=now - started_at if started_at is not None else None,
                            queue_wait=(started_at or now) - self._joined_at,
                            event_id=self.event_id,
                        )
                        self._outcome = completed
                        self._done = True
                        yield completed
                        return
                    elif msg == "unexpected_error":
                        lost = " (session not found)" if body.get("session_not_found") else ""
                        raise errors.SessionLostError(
                            f"the Space dropped the session{lost}: "
                            f"{protocol.strip_html(str(body.get('message') or ''))}. The Space may "
                            "have restarted; submit the job again.",
                            space=space,
                        )
                    elif msg == "close_stream":
                        raise self._cut_error(got_output, "the Space closed the stream")
                    elif msg == "queue_full":
                        raise errors.QueueFullError("the Space's queue is full", space=space)
                    elif msg not in protocol.KNOWN_MESSAGES:
                        log.debug("ignoring unknown message %r", msg)
                if not chunk:
                    if self._cancelled:
                        return
                    raise self._cut_error(got_output)
        finally:
            idle.cancel()
            self._close_stream()

    def _timeout_error(self, what: str) -> errors.SpaceTimeoutError:
        timeouts = self.client.transport.timeouts
        if self._remaining() <= 0:
            msg = f"the job ran past its {timeouts.total:g} s deadline while {what}"
        else:
            msg = f"no data from the Space for {timeouts.idle:g} s while {what} (stalled stream)"
        return errors.SpaceTimeoutError(
            msg + "; the job was cancelled. Raise `timeout` for slow Spaces.",
            space=self.client.space_id,
        )

    def _cut_error(
        self, got_output: bool, why: str = "the stream was cut"
    ) -> errors.SessionLostError:
        tail = (
            " after partial output; the answer is incomplete and was not returned"
            if got_output
            else " before any output"
        )
        error = errors.SessionLostError(
            f"{why}{tail}. Submit the job again.", space=self.client.space_id
        )
        error.after_output = got_output
        return error


class _IdleTimer:
    """The event stream's idle timeout, checked a few times per idle period.

    aiohttp's `sock_read` timeout re-arms a timer on every chunk received: a fifth of a
    client's CPU per streamed event. Once the stream's headers are in, this takes over:
    every quarter of `idle` it looks whether bytes arrived (`total_bytes`, counted as
    aiohttp receives them, read or not), and after `idle` without any (to a quarter more)
    it fails the body with aiohttp's own timeout error, as `sock_read` would. Without the
    hook (another aiohttp), aiohttp's timer stays in charge.
    """

    CHECKS = 4

    __slots__ = ("_handle", "_loop", "_period", "_quiet", "_resp", "_seen")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, resp: aiohttp.ClientResponse, idle: float
    ) -> None:
        self._loop = loop
        self._resp = resp
        self._period = idle / self.CHECKS
        self._quiet = 0
        self._seen = resp.content.total_bytes
        self._handle: asyncio.TimerHandle | None = None
        conn = resp.connection
        handler = conn.protocol if conn is not None else None
        if handler is not None and hasattr(handler, "read_timeout"):
            handler.read_timeout = None  # as aiohttp does for websockets
            self._handle = loop.call_later(self._period, self._check)

    def _check(self) -> None:
        received = self._resp.content.total_bytes
        self._quiet = 0 if received != self._seen else self._quiet + 1
        self._seen = received
        if self._quiet < self.CHECKS:
            self._handle = self._loop.call_later(self._period, self._check)
            return
        self._handle = None
        self._resp.content.set_exception(
            aiohttp.ServerTimeoutError("Timeout on reading data from socket")
        )

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class _Answer:
    """The text a job has streamed so far (`text_of` of its outputs), found in linear time.

    Reading `text_of` of the whole outputs costs the answer's length, so it is done only
    until the text is seen to grow by exactly what one `append` diff on one string leaf
    added: from then on, a diff that only appends to that leaf is the delta itself. An
    append to a string changes no structure, so while `text_of` finds no text at all it
    is not asked again until another kind of edit (the completion always is)."""

    __slots__ = ("_chunks", "_leaf", "_no_text", "_text_of")

    def __init__(self, text_of: TextOf) -> None:
        self._text_of = text_of
        self._chunks: list[str] = []
        self._leaf: tuple[int, list[Any]] | None = None
        self._no_text = False

    def after(self, outputs: list[Any], diffs: list[Any] | None = None) -> str | None:
        """The text added by the update that produced `outputs` (`diffs`: its edits)."""
        edit = _lone_append(diffs) if diffs is not None else None
        if edit is not None and self._leaf == edit[:2]:
            self._chunks.append(edit[2])
            return edit[2]
        if edit is not None and self._no_text:
            return None
        emitted = "".join(self._chunks)
        self._chunks = [emitted] if emitted else []
        text = _safe_text(self._text_of, protocol.materialize(outputs))
        self._no_text = text is None
        delta = protocol.appended_text(emitted, text)
        if delta:
            self._chunks.append(delta)
        self._leaf = edit[:2] if edit is not None and delta == edit[2] else None
        return delta


def _lone_append(diffs: list[Any]) -> tuple[int, list[Any], str] | None:
    """(output index, path, text) when the update is one string append, else None."""
    found = None
    for index, diff in enumerate(diffs):
        if not diff:
            continue
        if found is not None or len(diff) != 1:
            return None
        action, path, value = diff[0]
        if action != "append" or not isinstance(value, str):
            return None
        found = (index, path, value)
    return found


def _snapshot(outputs: list[Any]) -> Callable[[], list[Any]]:
    return lambda: [protocol.materialize(v) for v in outputs]


def _safe_text(text_of: TextOf, outputs: list[Any]) -> str | None:
    try:
        return text_of(outputs)
    except (LookupError, TypeError, AttributeError):
        return None
