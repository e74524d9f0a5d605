"""Several replicas, one per copy of a Space, for the pool tests (real Gradio servers on
loopback, in the replica's default ZeroGPU mode: one job at a time, one waiting)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hfspaces import Message, Rerouted, SpaceModel
from hfspaces.replica import JANUS_SPACE, Replica, ReplicaConfig


def replica_config(**changes: Any) -> ReplicaConfig:
    return ReplicaConfig(**{"image_size": 32, **changes})


@contextmanager
def replicas(n: int, **changes: Any) -> Iterator[list[Any]]:
    started: list[Any] = []
    try:
        for _ in range(n):
            started.append(Replica(replica_config(**changes)).start())
        yield started
    finally:
        for rep in started:
            rep.stop()


def urls(reps: list[Any], space: str = JANUS_SPACE) -> list[str]:
    return [r.url_for(space) for r in reps]


def joins(rep: Any) -> int:
    return int(rep.stats()["joins_total"])


def completed(rep: Any) -> int:
    return int(rep.stats()["jobs_completed"])


async def draw(model: SpaceModel, prompt: str = "a cat") -> list[Any]:
    """Every item a job streams (events, reroutes, the Generation last)."""
    return [item async for item in model.stream([Message.user(prompt)])]


def reroutes(items: list[Any]) -> list[Rerouted]:
    return [i for i in items if isinstance(i, Rerouted)]


async def gather_draws(model: SpaceModel, n: int) -> list[Any]:
    return await asyncio.gather(
        *(draw(model, f"cat {i}") for i in range(n)), return_exceptions=True
    )
