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
        self._moved: asyncio.Event | None = None

    def join(self, member: object) -> None:
        self._members.append(member)

    def leave(self, member: object) -> None:
        if member in self._members:
            head = self._members[0] is member
            self._members.remove(member)
            if head and self._moved is not None:
                self._moved.set()  # wake the next in line at once
                self._moved = None

    def ahead_of(self, member: object) -> int:
        """How many wait before `member` (0: it is the head and may ask)."""
        return self._members.index(member)

    async def wait_turn(self, timeout: float) -> None:
        """Wait until the head leaves, or `timeout` seconds."""
        if self._moved is None:
            self._moved = asyncio.Event()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._moved.wait(), timeout)
