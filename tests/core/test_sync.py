"""`hfspaces.sync`: the sync bridge runs the async core in one background loop, from plain
code and from inside a running loop; leaving a sync iteration early cancels the job."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from _support import wait_until
from hfspaces import Generation, Message, SpaceModel, TextDelta, errors
from hfspaces.sync import background_loop, iterate_sync, run_sync


async def add(a: int, b: int) -> int:
    await asyncio.sleep(0)
    return a + b


async def fail() -> None:
    raise errors.AppError("boom", title="t")


def test_run_sync_plain() -> None:
    assert run_sync(add(1, 2)) == 3
    with pytest.raises(errors.AppError, match="boom"):
        run_sync(fail())


async def test_run_sync_inside_a_running_loop() -> None:
    # A notebook cell: the caller's loop is running; the work runs in the background loop.
    assert run_sync(add(2, 3)) == 5
    ran_in: list[str] = []

    async def where() -> None:
        ran_in.append(threading.current_thread().name)

    run_sync(where())
    assert ran_in == ["hfspaces-sync"]
    assert background_loop() is not asyncio.get_running_loop()


def test_one_background_loop() -> None:
    assert background_loop() is background_loop()


def test_iterate_sync_plain() -> None:
    async def numbers() -> Any:
        for i in range(3):
            yield i

    assert list(iterate_sync(numbers())) == [0, 1, 2]


def test_sync_generate_and_stream(fresh_replica: Any) -> None:
    model = SpaceModel("phi-4-multimodal")
    gen = run_sync(model.generate([Message.user("sync hello")]))
    events = list(iterate_sync(model.stream([Message.user("sync stream")])))
    assert isinstance(gen, Generation) and 'said: "sync hello"' in gen.text
    final = events[-1]
    assert isinstance(final, Generation)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == final.text
    assert len(model.copies._clients) == 1  # one client, for the one background loop
    run_sync(model.aclose())


def test_break_out_of_sync_iteration_cancels(fresh_replica: Any) -> None:
    fresh_replica.configure(token_delay=0.05, answer_words=300)
    model = SpaceModel("phi-4-multimodal")
    stream = iterate_sync(model.stream([Message.user("long story")]))
    for event in stream:
        if isinstance(event, TextDelta):
            break
    stream.close()  # what a `for` loop's cleanup does when the generator is dropped
    run_sync(wait_until(lambda: fresh_replica.stats()["generator_stopped_early"] == 1, what="stop"))
    run_sync(model.aclose())
    stats = fresh_replica.stats()
    assert stats["cancels"] == 1 and stats["jobs_completed"] == 0
