"""`LoopClients`: the `SpaceClient`s of one owner (a `SpaceModel`, a Space tool's
connection), one per target and per running event loop, since an aiohttp session is bound to
the loop that opened it. Framework users call from `asyncio.run()` after `asyncio.run()`, from
threads and from the sync bridge's loop, and rarely call `aclose()`: clients close with their
loop, and a loop closed without that is forgotten on the next lookup, so none pile up.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncGenerator, Callable

from .client import SpaceClient


class LoopClients:
    def __init__(self, factory: Callable[[str], SpaceClient]) -> None:
        self._factory = factory
        # Weak keys alone do not free a closed loop (its clients' sessions refer to it),
        # so closed loops are also dropped on lookup.
        self._clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, SpaceClient]
        ] = weakref.WeakKeyDictionary()
        self._guards: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, AsyncGenerator[None, None]
        ] = weakref.WeakKeyDictionary()

    def __len__(self) -> int:
        """How many loops have clients."""
        return len(self._clients)

    def __contains__(self, loop: object) -> bool:
        return loop in self._clients

    def get(self, target: str) -> SpaceClient:
        """The client of `target` for the running event loop."""
        loop = asyncio.get_running_loop()
        clients = self._clients.get(loop)
        if clients is None:
            self._forget_closed_loops()
            clients = self._clients[loop] = {}
            self._guards[loop] = _close_with_loop(loop, clients)
        client = clients.get(target)
        if client is None:
            client = clients[target] = self._factory(target)
        return client

    async def aclose(self) -> None:
        """Close the clients of the running loop (others close with their loop)."""
        loop = asyncio.get_running_loop()
        clients = self._clients.pop(loop, None)
        guard = self._guards.pop(loop, None)
        if clients:
            await asyncio.gather(*(c.aclose() for c in list(clients.values())))
        if guard is not None:
            await guard.aclose()

    def _forget_closed_loops(self) -> None:
        for old in [old for old in self._clients if old.is_closed()]:
            # Normally closed by its guard at the end of `asyncio.run()`; if the loop was
            # closed without that, its sessions can only be abandoned now.
            for client in self._clients.pop(old).values():
                client.transport.abandon()
            self._guards.pop(old, None)


def _close_with_loop(
    loop: asyncio.AbstractEventLoop, clients: dict[str, SpaceClient]
) -> AsyncGenerator[None, None]:
    """A parked async generator is closed by the loop at `asyncio.run()`'s end
    (`shutdown_asyncgens`), or when its owner is collected: either way its `finally` closes
    the clients' sessions, so none is left open."""

    async def guard() -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            await asyncio.gather(*(c.aclose() for c in list(clients.values())))

    agen = guard()
    # Starting it registers it with the loop's async-generator hooks.
    loop.create_task(agen.__anext__())
    return agen
