"""Run the async core from sync code — also from inside a running event loop (notebooks).

All sync calls share one background event loop in a daemon thread, so sessions and
cached state live in one loop, and a caller's own loop is never re-entered or blocked
by nested-loop hacks.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import threading
import weakref
from collections.abc import AsyncIterator, Coroutine, Generator
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def background_loop() -> asyncio.AbstractEventLoop:
    global _loop, _thread
    with _lock:
        if _loop is None or _loop.is_closed():
            _loop = asyncio.new_event_loop()
            _thread = threading.Thread(target=_loop.run_forever, name="hfspaces-sync", daemon=True)
            _thread.start()
        return _loop


class SupportsAclose(Protocol):
    async def aclose(self) -> None: ...


_to_close: weakref.WeakSet[SupportsAclose] = weakref.WeakSet()


def close_at_exit(obj: SupportsAclose) -> None:
    """Call `obj.aclose()` in the background loop at interpreter exit, so sessions that
    sync calls opened there are closed. Held weakly: `obj` can still be collected."""
    _to_close.add(obj)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion in the background loop and return its result.
    KeyboardInterrupt in the caller cancels it there."""
    future = asyncio.run_coroutine_threadsafe(coro, background_loop())
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise


def iterate_sync(agen: AsyncIterator[T]) -> Generator[T, None, None]:
    """Iterate an async iterator from sync code, one item at a time. Closing the sync
    iterator early (break) closes the async one, which cancels its job."""
    loop = background_loop()
    try:
        while True:
            future = asyncio.run_coroutine_threadsafe(_anext(agen), loop)
            try:
                done, item = future.result()
            except BaseException:
                future.cancel()
                raise
            if done:
                return
            yield item
    finally:
        aclose = getattr(agen, "aclose", None)
        if aclose is not None and not loop.is_closed():
            with _suppress():
                asyncio.run_coroutine_threadsafe(aclose(), loop).result(timeout=10)


async def _anext(agen: AsyncIterator[T]) -> tuple[bool, Any]:
    try:
        return False, await agen.__anext__()
    except StopAsyncIteration:
        return True, None


def _suppress() -> contextlib.suppress:
    """Cleanup is best effort: never let it mask the caller's own outcome."""
    return contextlib.suppress(Exception, concurrent.futures.CancelledError)


@atexit.register
def _shutdown() -> None:
    loop = _loop
    if loop is None or loop.is_closed() or not loop.is_running():
        return

    async def close_all() -> None:
        await asyncio.gather(*(obj.aclose() for obj in list(_to_close)), return_exceptions=True)

    with _suppress():
        asyncio.run_coroutine_threadsafe(close_all(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
