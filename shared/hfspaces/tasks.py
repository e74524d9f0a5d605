"""Running several awaitables together without leaving any behind."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import TypeVar

T = TypeVar("T")


async def gather_all(aws: Iterable[Awaitable[T]]) -> list[T]:
    """`asyncio.gather` that stops the others when one fails, so no upload or download
    keeps running (and holding a connection) after the caller already has its error."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        # Each ends at its next await (aiohttp closes the request); bounded by that.
        if tasks:
            await asyncio.wait(tasks)
        raise
