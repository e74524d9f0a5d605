"""Waiting for a place in a full queue.

A ZeroGPU Space runs one job and holds one more; a third concurrent join gets
`503 Queue is full`. That is the normal state of a shared Space, so a refused join is
tried again with backoff (`SpaceClient.queue_backoff`), not failed.

One client's refused jobs wait in a `WaitingLine`, first come first served: only the
head asks the Space again, the others wait for their turn without a request. However
many of its calls are waiting, a client then sends about one join per backoff period,
not one per waiting call (the bench's one-slot measure counts joins per completed job).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Busy:
    """A join the Space turned away with a 503 (full queue): `reason` is its detail,
    `retry_after` its `Retry-After` hint when it gave one."""

    reason: str
    retry_after: float | None = None


class WaitingLine:
    """The order in which one client's refused jobs ask the Space again."""

    def __init__(self) -> None:
        self._members: list[object] = []
        #: Members sleeping now: their wake-up, and whether the line moving wakes them.
        self._sleeping: dict[object, tuple[asyncio.Event, bool]] = {}

    def join(self, member: object) -> None:
        self._members.append(member)

    def leave(self, member: object) -> None:
        """`member` got a place, gave up or was cancelled: its own sleep ends, and the
        others waiting for their turn look again."""
        if member not in self._members:
            return
        self._members.remove(member)
        for other, (event, on_move) in list(self._sleeping.items()):
            if other is member or on_move:
                event.set()

    def ahead_of(self, member: object) -> int:
        """How many wait before `member` (0: it is the head and may ask)."""
        return self._members.index(member)

    async def sleep(self, member: object, seconds: float, *, until_moved: bool) -> None:
        """Sleep up to `seconds`; less when `member` leaves the line (cancelled), or, with
        `until_moved`, when anyone leaves it (its turn may have come)."""
        event = asyncio.Event()
        self._sleeping[member] = (event, until_moved)
        try:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), seconds)
        finally:
            self._sleeping.pop(member, None)
