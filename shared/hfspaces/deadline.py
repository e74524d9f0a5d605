"""One overall deadline per call.

A model call is several requests (config, uploads, an add-turn predict, the join, the
event stream, downloads), each with its own bound. `scope(deadline)` makes every request
started inside it end by `deadline` too (the transport caps each request's timeout by
what is left), so the caller's `timeout` bounds the whole call, not each step.

A context variable carries it: set around each step of a streamed call only (never across
a `yield` to the caller, whose context it would leak into).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar

from . import errors

#: Slack after the deadline before the backstop cancels: the request bounds (which end
#: at the deadline itself) normally fire first, with their more precise errors.
GRACE = 0.25

_DEADLINE: ContextVar[float | None] = ContextVar("hfspaces_deadline", default=None)


def current() -> float | None:
    """The running call's deadline (event-loop time), if any."""
    return _DEADLINE.get()


def earliest(*deadlines: float | None) -> float | None:
    """The nearest of the given deadlines and the running call's."""
    found = [d for d in (*deadlines, _DEADLINE.get()) if d is not None]
    return min(found) if found else None


def remaining(deadline: float | None = None) -> float | None:
    """Seconds left before `earliest(deadline)`, or None when there is no deadline."""
    end = earliest(deadline)
    return None if end is None else end - asyncio.get_running_loop().time()


@contextlib.contextmanager
def scope(deadline: float) -> Iterator[None]:
    """Run the block under `deadline` (an enclosing, earlier deadline still wins)."""
    token = _DEADLINE.set(earliest(deadline))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


@contextlib.asynccontextmanager
async def bounded(deadline: float, total: float, space: str | None) -> AsyncIterator[None]:
    """`scope(deadline)`, plus a backstop: whatever the block still awaits just after
    the deadline (a lock held by another call, a slow upload) is cancelled, and the
    block ends in `SpaceTimeoutError`. (`asyncio.timeout_at` is 3.11+.)"""
    task = asyncio.current_task()
    assert task is not None
    fired = False

    def fire() -> None:
        nonlocal fired
        fired = True
        task.cancel()

    handle = asyncio.get_running_loop().call_at(deadline + GRACE, fire)
    try:
        with scope(deadline):
            yield
    except asyncio.CancelledError as exc:
        if not fired:
            raise
        uncancel = getattr(task, "uncancel", None)  # 3.11+: the cancel was ours, not a caller's
        if uncancel is not None:
            uncancel()
        raise errors.SpaceTimeoutError(
            f"the call ran past its {total:g} s deadline (config, uploads, queue, stream "
            "and downloads included); raise `timeout` for slow Spaces.",
            space=space,
        ) from exc
    finally:
        handle.cancel()
